package mpc

import (
	"fmt"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/secure/aby3"
)

// aby3Engine is the engine over aby3's share types.
type aby3Engine = engine[*aby3.Shared, *aby3.BoolShared, *aby3.Unreduced]

// aby3 returns b's engine when it runs aby3.
func (b *Backend) aby3(op string) (*aby3Engine, error) {
	e, ok := b.ops.(*aby3Engine)
	if !ok {
		return nil, fmt.Errorf("mpc: %s: the backend runs %s, not aby3", op, b.Name())
	}
	return e, nil
}

// FromShared wraps an aby3 sharing built outside the backend (from the components an outside
// client sent, say) as a tensor of b. The tensor takes ownership of s. The backend must run
// aby3.
func (b *Backend) FromShared(s *aby3.Shared) (backend.Tensor, error) {
	e, err := b.aby3("FromShared")
	if err != nil {
		return nil, err
	}
	e.p.Begin("FromShared", s.Shape())
	return &tensor[*aby3.Shared, *aby3.Unreduced]{s: s}, nil
}

// SharedOf returns the aby3 sharing of t, completing a pending product first (two rounds).
// The backend must run aby3.
func (b *Backend) SharedOf(t backend.Tensor) (*aby3.Shared, error) {
	e, err := b.aby3("SharedOf")
	if err != nil {
		return nil, err
	}
	e.p.Begin("SharedOf", e.shape(t))
	return e.get("SharedOf", t)
}

// UnreducedOf returns t as the terms of a product before its truncation: a pending product's
// own terms (no communication), or a sharing lifted. The backend must run aby3.
func (b *Backend) UnreducedOf(t backend.Tensor) (*aby3.Unreduced, error) {
	e, err := b.aby3("UnreducedOf")
	if err != nil {
		return nil, err
	}
	e.p.Begin("UnreducedOf", e.shape(t))
	tt, err := e.tensor("UnreducedOf", t)
	if err != nil {
		return nil, err
	}
	return e.terms(tt)
}

// Aby3Party returns the aby3 party behind b, for protocol steps outside the backend's
// operations (sharing with an outside client). The backend must run aby3.
func (b *Backend) Aby3Party() (*aby3.Party, error) {
	e, err := b.aby3("Aby3Party")
	if err != nil {
		return nil, err
	}
	p, ok := e.p.(*aby3.Party)
	if !ok {
		return nil, fmt.Errorf("mpc: Aby3Party: the protocol is %T", e.p)
	}
	return p, nil
}

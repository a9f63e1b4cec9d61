package mpc

import (
	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/secure/aby3"
)

// FromShared wraps a sharing built outside the backend (from the components an outside client
// sent, say) as a tensor of b. The tensor takes ownership of s.
func (b *Backend) FromShared(s *aby3.Shared) backend.Tensor {
	b.p.Begin("FromShared", s.Shape())
	return &Tensor{s: s}
}

// SharedOf returns the sharing of t, completing a pending product first (two rounds).
func (b *Backend) SharedOf(t backend.Tensor) (*aby3.Shared, error) {
	b.p.Begin("SharedOf", tensorShape(t))
	return b.get("SharedOf", t)
}

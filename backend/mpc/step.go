package mpc

import (
	"math"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/secure/session"
)

var (
	_ backend.Stepper      = (*Backend)(nil)
	_ backend.PublicRandom = (*Backend)(nil)
)

// Step runs fn between two checks with the other parties (see [backend.Stepper]): an
// agreement on what and params before (one round), and a confirmation that fn succeeded
// everywhere after (one round). A party whose fn fails tells the others at once, without
// waiting for them.
func (b *engine[S, B, U]) Step(what string, params []backend.Param, failed error, fn func() error) error {
	ps := make([]session.Param, len(params))
	for i, p := range params {
		ps[i] = session.Param{Name: p.Name, Value: p.Value}
	}
	if err := b.p.Agree(what, ps, failed); err != nil {
		return err
	}
	if err := fn(); err != nil {
		b.p.NotifyFailure(what, err)
		return err
	}
	return b.p.Agree(what+": done", nil, nil)
}

// PublicUint64 draws a value from the randomness the three parties share.
func (b *engine[S, B, U]) PublicUint64() uint64 {
	b.p.Begin("PublicUint64", nil)
	var v [1]uint64
	b.p.PublicRandom(v[:])
	return v[0]
}

var _ backend.InputLimiter = (*Backend)(nil)

// InputLimit is the largest magnitude of data the engine takes: 2^(20-f), 16 at the default 16
// fractional bits. A product is exact while its value stays below 2^(62-2f) (2^30 at f = 16;
// see the aby3 package on truncation), and Adam keeps the squares of gradients scaled by 2^10
// below 2^28 (gradients up to 16; see the optimizers package). A first-layer gradient is of
// the order of the inputs times the loss's gradient (at most 1 for cross-entropies), so inputs
// up to 2^(20-f) keep it there; weights and activations of that order keep their products far
// below 2^30.
func (b *engine[S, B, U]) InputLimit() float64 {
	return math.Ldexp(1, 20-b.p.Encoding().FracBits)
}

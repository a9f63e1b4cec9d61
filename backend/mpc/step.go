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

// InputLimit is the largest magnitude of data the engine takes: 2^(22-f), 64 at the default 16
// fractional bits. A product is exact while its value stays below 2^(62-2f) (2^30 at f = 16;
// see the aby3 package on truncation); an input of magnitude L times a weight or gradient of
// the same order, scaled by Adam's 2^6, squares to (2^6·L²)... with L = 2^(22-f) the largest
// such square, (2^6·L)², is 2^(56-2f): a factor 2^6 below the limit, left for fan-in sums and
// for gradients that grow while training.
func (b *engine[S, B, U]) InputLimit() float64 {
	return math.Ldexp(1, 22-b.p.Encoding().FracBits)
}

package mpc

import (
	"github.com/gotfe/gotfe/keras/backend"
	"github.com/gotfe/gotfe/secure/aby3"
)

var (
	_ backend.Stepper      = (*Backend)(nil)
	_ backend.PublicRandom = (*Backend)(nil)
)

// Step runs fn between two checks with the other parties (see [backend.Stepper]): an
// agreement on what and params before (one round), and a confirmation that fn succeeded
// everywhere after (one round). A party whose fn fails tells the others at once, without
// waiting for them.
func (b *Backend) Step(what string, params []backend.Param, failed error, fn func() error) error {
	ps := make([]aby3.Param, len(params))
	for i, p := range params {
		ps[i] = aby3.Param{Name: p.Name, Value: p.Value}
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
func (b *Backend) PublicUint64() uint64 {
	b.p.Begin("PublicUint64", nil)
	var v [1]uint64
	b.p.PublicRandom(v[:])
	return v[0]
}

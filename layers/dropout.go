package layers

import (
	"fmt"
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// DropoutConfig is the configuration of a [DropoutLayer].
type DropoutConfig struct {
	Name string  `json:"name"`
	Rate float64 `json:"rate"`
	Seed *uint64 `json:"seed,omitempty"`
}

// DropoutLayer sets a fraction rate of its inputs to zero during training and scales the
// others by 1/(1-rate); at inference it is the identity. Masks come from the backend's
// DropoutMask with a public seed derived from the layer's seed and a step counter, so every
// party of a secure computation draws the same mask.
type DropoutLayer struct {
	base
	cfg DropoutConfig
}

// Dropout returns a dropout layer dropping a fraction rate (0 <= rate < 1) of its inputs.
// Options: Seed (default: derived from the model's seed and the layer's position), Name.
func Dropout(rate float64, opts ...Option) *DropoutLayer {
	l := &DropoutLayer{cfg: DropoutConfig{Rate: rate}}
	o, err := collect("Dropout", opts, "Seed")
	if o.has("Seed") {
		s := o.seed
		l.cfg.Seed = &s
	}
	l.name, l.err = o.name, err
	if l.err == nil {
		l.err = l.cfg.check()
	}
	return l
}

func newDropout(c DropoutConfig) *DropoutLayer {
	l := &DropoutLayer{cfg: c}
	l.name, l.err = c.Name, c.check()
	return l
}

func (c DropoutConfig) check() error {
	if !(c.Rate >= 0 && c.Rate < 1) {
		return fmt.Errorf("rate %v not in [0, 1)", c.Rate)
	}
	return nil
}

// ClassName returns "Dropout".
func (l *DropoutLayer) ClassName() string { return "Dropout" }

// Config returns a DropoutConfig.
func (l *DropoutLayer) Config() any { c := l.cfg; c.Name = l.name; return c }

// OutputShape returns in.
func (l *DropoutLayer) OutputShape(in []int) ([]int, error) {
	if l.err != nil {
		return nil, wrap(l, l.err)
	}
	return slices.Clone(in), nil
}

// Weights returns no weights.
func (l *DropoutLayer) Weights(in []int) ([]WeightSpec, error) {
	_, err := l.OutputShape(in)
	return nil, err
}

// Build returns an instance drawing its masks from seed unless the layer fixes its own.
func (l *DropoutLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, seed uint64) (Instance, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	if len(vars) != 0 {
		return nil, wrap(l, fmt.Errorf("built with %d variables, want none", len(vars)))
	}
	if l.cfg.Seed != nil {
		seed = *l.cfg.Seed
	}
	return &dropoutInst{l: l, b: b, in: slices.Clone(in), seed: seed}, nil
}

type dropoutInst struct {
	l    *DropoutLayer
	b    backend.Backend
	in   []int
	seed uint64
	step uint64
	mask backend.Tensor // nil when the last forward pass was the identity
}

// Steps returns the number of training passes, from which the next mask's seed derives.
func (i *dropoutInst) Steps() uint64 { return i.step }

// SetSteps sets the number of training passes (when training resumes from a checkpoint).
func (i *dropoutInst) SetSteps(n uint64) { i.step = n }

func (i *dropoutInst) Forward(x backend.Tensor, training bool) (backend.Tensor, error) {
	if err := checkInput(x, i.in); err != nil {
		return nil, wrap(i.l, err)
	}
	i.mask = nil
	if !training || i.l.cfg.Rate == 0 {
		return x, nil
	}
	m, err := i.b.DropoutMask(x.Shape(), i.l.cfg.Rate, backend.DeriveSeed(i.seed, i.step))
	if err != nil {
		return nil, wrap(i.l, err)
	}
	i.step++
	i.mask = m
	y, err := i.b.Mul(x, m)
	return y, wrap(i.l, err)
}

func (i *dropoutInst) Backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if !needDX {
		return nil, nil
	}
	if i.mask == nil {
		return dy, nil
	}
	dx, err := i.b.Mul(dy, i.mask)
	return dx, wrap(i.l, err)
}

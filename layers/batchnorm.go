package layers

import (
	"fmt"
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// BatchNormalizationConfig is the configuration of a [BatchNormalizationLayer].
type BatchNormalizationConfig struct {
	Name     string  `json:"name"`
	Momentum float64 `json:"momentum"`
	Epsilon  float64 `json:"epsilon"`
}

// BatchNormalizationLayer normalises its input over the last axis (channels):
// gamma * (x - mean) / sqrt(var + epsilon) + beta. In training it uses the batch's mean and
// (biased) variance and updates the moving statistics as
// moving = moving*momentum + batch*(1-momentum); at inference it uses the moving statistics.
// Weights: gamma, beta (trainable), moving_mean, moving_variance (not trainable), each [C].
type BatchNormalizationLayer struct {
	base
	cfg BatchNormalizationConfig
}

// BatchNormalization returns a batch normalisation layer over the last axis. Options: Momentum
// (default 0.99), Epsilon (default 0.001), Name.
func BatchNormalization(opts ...Option) *BatchNormalizationLayer {
	l := &BatchNormalizationLayer{}
	o, err := collect("BatchNormalization", opts, "Momentum", "Epsilon")
	l.cfg = BatchNormalizationConfig{Momentum: 0.99, Epsilon: 1e-3}
	if o.has("Momentum") {
		l.cfg.Momentum = o.momentum
	}
	if o.has("Epsilon") {
		l.cfg.Epsilon = o.epsilon
	}
	l.name, l.err = o.name, err
	if l.err == nil {
		l.err = l.cfg.check()
	}
	return l
}

func newBatchNormalization(c BatchNormalizationConfig) *BatchNormalizationLayer {
	l := &BatchNormalizationLayer{cfg: c}
	l.name, l.err = c.Name, c.check()
	return l
}

func (c BatchNormalizationConfig) check() error {
	if !(c.Momentum >= 0 && c.Momentum <= 1) {
		return fmt.Errorf("momentum %v not in [0, 1]", c.Momentum)
	}
	if !(c.Epsilon > 0) {
		return fmt.Errorf("epsilon %v must be positive", c.Epsilon)
	}
	return nil
}

// ClassName returns "BatchNormalization".
func (l *BatchNormalizationLayer) ClassName() string { return "BatchNormalization" }

// Config returns a BatchNormalizationConfig.
func (l *BatchNormalizationLayer) Config() any { c := l.cfg; c.Name = l.name; return c }

// OutputShape returns in.
func (l *BatchNormalizationLayer) OutputShape(in []int) ([]int, error) {
	if l.err != nil {
		return nil, wrap(l, l.err)
	}
	if len(in) == 0 {
		return nil, wrap(l, fmt.Errorf("input shape %s has no axis to normalise", backend.FormatShape(in)))
	}
	if err := positive(in); err != nil {
		return nil, wrap(l, err)
	}
	return slices.Clone(in), nil
}

// Weights returns gamma, beta, moving_mean and moving_variance, each [C].
func (l *BatchNormalizationLayer) Weights(in []int) ([]WeightSpec, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	c := []int{in[len(in)-1]}
	return []WeightSpec{
		{Name: "gamma", Shape: c, Init: mustInit("ones"), Trainable: true},
		{Name: "beta", Shape: c, Init: mustInit("zeros"), Trainable: true},
		{Name: "moving_mean", Shape: c, Init: mustInit("zeros")},
		{Name: "moving_variance", Shape: c, Init: mustInit("ones")},
	}, nil
}

// Build returns an instance over vars (gamma, beta, moving_mean, moving_variance).
func (l *BatchNormalizationLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	specs, err := l.Weights(in)
	if err != nil {
		return nil, err
	}
	if err := checkVars(vars, specs); err != nil {
		return nil, wrap(l, err)
	}
	return &bnInst{l: l, b: b, in: slices.Clone(in), gamma: vars[0], beta: vars[1], mean: vars[2], variance: vars[3]}, nil
}

type bnInst struct {
	l                           *BatchNormalizationLayer
	b                           backend.Backend
	in                          []int
	gamma, beta, mean, variance *backend.Variable

	// Saved by the forward pass.
	xShape   []int
	rows     []int          // the input as a matrix [M, C]
	training bool           // whether batch statistics were used
	xhat     backend.Tensor // normalised input [M, C]
	inv      backend.Tensor // 1/sqrt(var + eps) broadcast to [M, C]
}

func (i *bnInst) Forward(x backend.Tensor, training bool) (backend.Tensor, error) {
	if err := checkInput(x, i.in); err != nil {
		return nil, wrap(i.l, err)
	}
	y, err := i.forward(x, training)
	return y, wrap(i.l, err)
}

// bcast broadcasts a per-channel vector [C] to the rows [M, C].
func (i *bnInst) bcast(v backend.Tensor) (backend.Tensor, error) {
	return i.b.BroadcastTo(v, i.rows)
}

func (i *bnInst) forward(x backend.Tensor, training bool) (backend.Tensor, error) {
	b := i.b
	c := i.in[len(i.in)-1]
	i.xShape = slices.Clone(x.Shape())
	x2, err := b.Reshape(x, []int{-1, c})
	if err != nil {
		return nil, err
	}
	i.rows = slices.Clone(x2.Shape())
	i.training = training
	var mean, variance backend.Tensor
	if training {
		if i.rows[0] == 0 {
			return nil, fmt.Errorf("empty batch")
		}
		if mean, err = b.Mean(x2, 0, false); err != nil {
			return nil, err
		}
	} else {
		mean, variance = i.mean.Value, i.variance.Value
	}
	negMean, err := b.Neg(mean)
	if err != nil {
		return nil, err
	}
	xc, err := b.AddBias(x2, negMean)
	if err != nil {
		return nil, err
	}
	if training {
		sq, err := b.Mul(xc, xc)
		if err != nil {
			return nil, err
		}
		if variance, err = b.Mean(sq, 0, false); err != nil {
			return nil, err
		}
		if err := i.updateMoving(mean, variance); err != nil {
			return nil, err
		}
	}
	ve, err := b.AddScalar(variance, i.l.cfg.Epsilon)
	if err != nil {
		return nil, err
	}
	inv, err := b.InvSqrt(ve)
	if err != nil {
		return nil, err
	}
	if i.inv, err = i.bcast(inv); err != nil {
		return nil, err
	}
	if i.xhat, err = b.Mul(xc, i.inv); err != nil {
		return nil, err
	}
	g, err := i.bcast(i.gamma.Value)
	if err != nil {
		return nil, err
	}
	y, err := b.Mul(i.xhat, g)
	if err != nil {
		return nil, err
	}
	if y, err = b.AddBias(y, i.beta.Value); err != nil {
		return nil, err
	}
	return b.Reshape(y, i.xShape)
}

// updateMoving sets moving = moving*momentum + batch*(1-momentum) for mean and variance.
func (i *bnInst) updateMoving(mean, variance backend.Tensor) error {
	m := i.l.cfg.Momentum
	for _, p := range []struct {
		v     *backend.Variable
		batch backend.Tensor
	}{{i.mean, mean}, {i.variance, variance}} {
		old, err := i.b.Scale(p.v.Value, m)
		if err != nil {
			return err
		}
		nw, err := i.b.Scale(p.batch, 1-m)
		if err != nil {
			return err
		}
		if p.v.Value, err = i.b.Add(old, nw); err != nil {
			return err
		}
	}
	return nil
}

func (i *bnInst) Backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if i.xhat == nil {
		return nil, wrap(i.l, fmt.Errorf("backward pass before a forward pass"))
	}
	dx, err := i.backward(dy, needDX)
	return dx, wrap(i.l, err)
}

func (i *bnInst) backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	b := i.b
	dy2, err := b.Reshape(dy, i.rows)
	if err != nil {
		return nil, err
	}
	if i.beta.Grad, err = b.Sum(dy2, 0, false); err != nil {
		return nil, err
	}
	p, err := b.Mul(dy2, i.xhat)
	if err != nil {
		return nil, err
	}
	if i.gamma.Grad, err = b.Sum(p, 0, false); err != nil {
		return nil, err
	}
	if !needDX {
		return nil, nil
	}
	g, err := i.bcast(i.gamma.Value)
	if err != nil {
		return nil, err
	}
	dxhat, err := b.Mul(dy2, g)
	if err != nil {
		return nil, err
	}
	if !i.training { // the statistics are constants: dx = dxhat * inv
		dx, err := b.Mul(dxhat, i.inv)
		if err != nil {
			return nil, err
		}
		return b.Reshape(dx, i.xShape)
	}
	// dx = inv * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), means over the rows.
	m1, err := b.Mean(dxhat, 0, false)
	if err != nil {
		return nil, err
	}
	if m1, err = i.bcast(m1); err != nil {
		return nil, err
	}
	q, err := b.Mul(dxhat, i.xhat)
	if err != nil {
		return nil, err
	}
	m2, err := b.Mean(q, 0, false)
	if err != nil {
		return nil, err
	}
	if m2, err = i.bcast(m2); err != nil {
		return nil, err
	}
	if m2, err = b.Mul(i.xhat, m2); err != nil {
		return nil, err
	}
	d, err := b.Sub(dxhat, m1)
	if err != nil {
		return nil, err
	}
	if d, err = b.Sub(d, m2); err != nil {
		return nil, err
	}
	if d, err = b.Mul(d, i.inv); err != nil {
		return nil, err
	}
	return b.Reshape(d, i.xShape)
}

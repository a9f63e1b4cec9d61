package layers

import (
	"fmt"
	"math"
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// Preprocessing is implemented by layers that apply a public, fixed elementwise map
// (Normalization, Rescaling). Preprocess computes the map in the clear over samples x, flat
// row-major of the layer's input shape, so that a model can check the range its first
// computing layer sees on the data owner's side before anything is shared.
type Preprocessing interface {
	Preprocess(x []float64) ([]float64, error)
}

// Arrayer is data with its shape, as [github.com/gotfe/gotfe/nd.Array] holds it: the shape
// (samples first), the row-major values, or why the array is invalid.
type Arrayer interface {
	Array() (shape []int, values []float64, err error)
}

// NormalizationConfig is the configuration of a [NormalizationLayer]: the mean and variance
// of every feature (the last axis), public parameters of the model.
type NormalizationConfig struct {
	Name     string    `json:"name"`
	Mean     []float64 `json:"mean"`
	Variance []float64 `json:"variance"`
}

// NormalizationLayer standardises its input feature by feature (along the last axis), as
// Keras's Normalization: (x - mean)/sqrt(variance), the statistics given with Mean and
// Variance or computed from data by Adapt.
//
// The statistics are public parameters of the model, part of its configuration (saved with
// it and agreed on by the parties of a secure computation like the rest of the architecture):
// on a secure engine the layer computes with them as constants, and the data never leave
// their owner. Adapt runs in the clear on the data it is given, so in a distributed run it
// runs on the data owner's process, and the mean and variance of each feature of the owner's
// data then become public: every party must be given them (the layer's Config, or
// Normalization(Mean(...), Variance(...))), which reveals them. A feature of zero variance is
// passed as x - mean (Keras divides by 1e-7).
//
// Placed first in a model, the layer lets it take unscaled features: the secure engine's
// input range (±16 at 16 fractional bits) applies to the standardised values, which the model
// checks on the owner's data before sharing them.
type NormalizationLayer struct {
	base
	cfg NormalizationConfig
}

// Normalization returns a normalisation layer. Options: Mean and Variance (both, or neither
// and a call to Adapt before the model runs), Name.
func Normalization(opts ...Option) *NormalizationLayer {
	o, err := collect("Normalization", opts, "Mean", "Variance")
	l := &NormalizationLayer{cfg: NormalizationConfig{Mean: o.mean, Variance: o.variance}}
	l.name, l.err = o.name, err
	if l.err == nil && (o.has("Mean") || o.has("Variance")) {
		l.err = l.cfg.check()
	}
	return l
}

// Mean gives Normalization the mean of every feature.
func Mean(m ...float64) Option {
	return optionFunc{"Mean", func(o *options) { o.mean = slices.Clone(m) }}
}

// Variance gives Normalization the variance of every feature.
func Variance(v ...float64) Option {
	return optionFunc{"Variance", func(o *options) { o.variance = slices.Clone(v) }}
}

func (c NormalizationConfig) check() error {
	if len(c.Mean) == 0 || len(c.Mean) != len(c.Variance) {
		return fmt.Errorf("mean and variance of %d and %d features", len(c.Mean), len(c.Variance))
	}
	for i := range c.Mean {
		if math.IsNaN(c.Mean[i]) || math.IsInf(c.Mean[i], 0) || !(c.Variance[i] >= 0) || math.IsInf(c.Variance[i], 0) {
			return fmt.Errorf("feature %d: mean %v and variance %v", i, c.Mean[i], c.Variance[i])
		}
	}
	return nil
}

// Adapt computes the mean and variance of every feature (the last axis) of data, over all its
// other axes, as Keras's adapt: the population variance (divided by the count). Call it before
// the model first runs.
func (l *NormalizationLayer) Adapt(data Arrayer) error {
	if data == nil {
		return wrap(l, fmt.Errorf("adapt: no data"))
	}
	shape, v, err := data.Array()
	if err != nil {
		return wrap(l, fmt.Errorf("adapt: %w", err))
	}
	if len(shape) < 2 || len(v) == 0 {
		return wrap(l, fmt.Errorf("adapt: data of shape %v: want samples of features, [n, ..., features]", shape))
	}
	k := shape[len(shape)-1]
	if k <= 0 || len(v)%k != 0 {
		return wrap(l, fmt.Errorf("adapt: data of shape %v", shape))
	}
	rows := len(v) / k
	mean := make([]float64, k)
	for i, x := range v {
		mean[i%k] += x
	}
	for j := range mean {
		mean[j] /= float64(rows)
	}
	variance := make([]float64, k)
	for i, x := range v {
		d := x - mean[i%k]
		variance[i%k] += d * d
	}
	for j := range variance {
		variance[j] /= float64(rows)
	}
	c := NormalizationConfig{Mean: mean, Variance: variance}
	if err := c.check(); err != nil {
		return wrap(l, fmt.Errorf("adapt: %w", err))
	}
	l.cfg.Mean, l.cfg.Variance, l.err = mean, variance, nil
	return nil
}

// ClassName returns "Normalization".
func (l *NormalizationLayer) ClassName() string { return "Normalization" }

// Config returns a NormalizationConfig.
func (l *NormalizationLayer) Config() any {
	c := l.cfg
	c.Name, c.Mean, c.Variance = l.name, slices.Clone(c.Mean), slices.Clone(c.Variance)
	return c
}

// inv returns 1/sqrt(variance) per feature (1 where the variance is 0).
func (l *NormalizationLayer) inv() []float64 {
	out := make([]float64, len(l.cfg.Variance))
	for i, v := range l.cfg.Variance {
		out[i] = 1
		if v > 0 {
			out[i] = 1 / math.Sqrt(v)
		}
	}
	return out
}

// OutputShape returns in.
func (l *NormalizationLayer) OutputShape(in []int) ([]int, error) {
	if l.err != nil {
		return nil, wrap(l, l.err)
	}
	if len(in) == 0 {
		return nil, wrap(l, fmt.Errorf("input shape %s has no feature axis", backend.FormatShape(in)))
	}
	if k := len(l.cfg.Mean); k != 0 && k != in[len(in)-1] {
		return nil, wrap(l, fmt.Errorf("adapted to %d features, input shape %s has %d", k, backend.FormatShape(in), in[len(in)-1]))
	}
	return slices.Clone(in), nil
}

// Weights returns no weights: the statistics are configuration.
func (l *NormalizationLayer) Weights(in []int) ([]WeightSpec, error) {
	_, err := l.OutputShape(in)
	return nil, err
}

// Preprocess standardises x in the clear.
func (l *NormalizationLayer) Preprocess(x []float64) ([]float64, error) {
	k := len(l.cfg.Mean)
	if k == 0 {
		return nil, wrap(l, errNotAdapted)
	}
	inv := l.inv()
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = (v - l.cfg.Mean[i%k]) * inv[i%k]
	}
	return out, nil
}

var errNotAdapted = fmt.Errorf("no mean and variance: call Adapt(data) before the model runs, or give Mean and Variance")

// Build returns an instance.
func (l *NormalizationLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	if len(l.cfg.Mean) == 0 {
		return nil, wrap(l, errNotAdapted)
	}
	if len(vars) != 0 {
		return nil, wrap(l, fmt.Errorf("built with %d variables, want none", len(vars)))
	}
	k := len(l.cfg.Mean)
	neg := make([]float64, k)
	for i, m := range l.cfg.Mean {
		neg[i] = -m
	}
	shift, err := b.Const(neg, []int{k})
	if err != nil {
		return nil, wrap(l, err)
	}
	inv, err := b.Const(l.inv(), []int{k})
	if err != nil {
		return nil, wrap(l, err)
	}
	return &normInst{l: l, b: b, in: slices.Clone(in), shift: shift, inv: inv}, nil
}

type normInst struct {
	l          Layer
	b          backend.Backend
	in         []int
	shift, inv backend.Tensor // -mean and 1/sqrt(variance), [features]
}

func (i *normInst) Forward(x backend.Tensor, _ bool) (backend.Tensor, error) {
	if err := checkInput(x, i.in); err != nil {
		return nil, wrap(i.l, err)
	}
	y, err := i.b.AddBias(x, i.shift)
	if err != nil {
		return nil, wrap(i.l, err)
	}
	inv, err := i.b.BroadcastTo(i.inv, y.Shape())
	if err != nil {
		return nil, wrap(i.l, err)
	}
	y, err = i.b.Mul(y, inv)
	return y, wrap(i.l, err)
}

// Backward returns dy/sqrt(variance).
func (i *normInst) Backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if !needDX {
		return nil, nil
	}
	inv, err := i.b.BroadcastTo(i.inv, dy.Shape())
	if err != nil {
		return nil, wrap(i.l, err)
	}
	dx, err := i.b.Mul(dy, inv)
	return dx, wrap(i.l, err)
}

// RescalingConfig is the configuration of a [RescalingLayer].
type RescalingConfig struct {
	Name   string  `json:"name"`
	Scale  float64 `json:"scale"`
	Offset float64 `json:"offset"`
}

// RescalingLayer computes x·scale + offset, as Keras's Rescaling (Rescaling(1.0/255) takes
// pixels to [0, 1]). The scale and offset are public; on the secure engine the layer is one
// scaling, exact to one unit in the last place. Placed first in a model, it lets the model
// take unscaled data, the secure engine's input range applying to the rescaled values.
type RescalingLayer struct {
	base
	cfg RescalingConfig
}

// Rescaling returns a rescaling layer. Options: Offset (default 0), Name.
func Rescaling(scale float64, opts ...Option) *RescalingLayer {
	o, err := collect("Rescaling", opts, "Offset")
	l := &RescalingLayer{cfg: RescalingConfig{Scale: scale, Offset: o.offset}}
	l.name, l.err = o.name, err
	if l.err == nil {
		l.err = l.cfg.check()
	}
	return l
}

// Offset sets what Rescaling adds after scaling (default 0).
func Offset(v float64) Option {
	return optionFunc{"Offset", func(o *options) { o.offset = v }}
}

func (c RescalingConfig) check() error {
	if math.IsNaN(c.Scale) || math.IsInf(c.Scale, 0) || math.IsNaN(c.Offset) || math.IsInf(c.Offset, 0) {
		return fmt.Errorf("scale %v and offset %v must be finite", c.Scale, c.Offset)
	}
	return nil
}

// ClassName returns "Rescaling".
func (l *RescalingLayer) ClassName() string { return "Rescaling" }

// Config returns a RescalingConfig.
func (l *RescalingLayer) Config() any { c := l.cfg; c.Name = l.name; return c }

// OutputShape returns in.
func (l *RescalingLayer) OutputShape(in []int) ([]int, error) { return sameShape(l, in) }

// Weights returns no weights.
func (l *RescalingLayer) Weights(in []int) ([]WeightSpec, error) {
	_, err := l.OutputShape(in)
	return nil, err
}

// Preprocess rescales x in the clear.
func (l *RescalingLayer) Preprocess(x []float64) ([]float64, error) {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v*l.cfg.Scale + l.cfg.Offset
	}
	return out, nil
}

// Build returns an instance.
func (l *RescalingLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	if len(vars) != 0 {
		return nil, wrap(l, fmt.Errorf("built with %d variables, want none", len(vars)))
	}
	return &rescaleInst{l: l, b: b, in: slices.Clone(in)}, nil
}

type rescaleInst struct {
	l  *RescalingLayer
	b  backend.Backend
	in []int
}

func (i *rescaleInst) Forward(x backend.Tensor, _ bool) (backend.Tensor, error) {
	if err := checkInput(x, i.in); err != nil {
		return nil, wrap(i.l, err)
	}
	y, err := affine(i.b, x, i.l.cfg.Scale, i.l.cfg.Offset)
	return y, wrap(i.l, err)
}

// Backward returns dy·scale.
func (i *rescaleInst) Backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if !needDX {
		return nil, nil
	}
	dx, err := i.b.Scale(dy, i.l.cfg.Scale)
	return dx, wrap(i.l, err)
}

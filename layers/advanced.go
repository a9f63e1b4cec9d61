package layers

import (
	"fmt"
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// LeakyReLUConfig is the configuration of a [LeakyReLULayer].
type LeakyReLUConfig struct {
	Name          string  `json:"name"`
	NegativeSlope float64 `json:"negative_slope"`
}

// LeakyReLULayer is x for x > 0 and negative_slope·x elsewhere, as Keras's LeakyReLU. It is
// exact on the secure engine (one comparison, as ReLU, and scalings).
type LeakyReLULayer struct {
	base
	cfg LeakyReLUConfig
}

// LeakyReLU returns a leaky ReLU layer. Options: NegativeSlope (default 0.3, Keras's), Name.
func LeakyReLU(opts ...Option) *LeakyReLULayer {
	o, err := collect("LeakyReLU", opts, "NegativeSlope")
	l := &LeakyReLULayer{cfg: LeakyReLUConfig{NegativeSlope: 0.3}}
	if o.has("NegativeSlope") {
		l.cfg.NegativeSlope = o.slope
	}
	l.name, l.err = o.name, err
	if l.err == nil {
		l.err = l.cfg.check()
	}
	return l
}

func (c LeakyReLUConfig) check() error {
	if !(c.NegativeSlope >= 0 && c.NegativeSlope < 1e3) {
		return fmt.Errorf("negative slope %v must be non-negative", c.NegativeSlope)
	}
	return nil
}

// ClassName returns "LeakyReLU".
func (l *LeakyReLULayer) ClassName() string { return "LeakyReLU" }

// Config returns a LeakyReLUConfig.
func (l *LeakyReLULayer) Config() any { c := l.cfg; c.Name = l.name; return c }

// OutputShape returns in.
func (l *LeakyReLULayer) OutputShape(in []int) ([]int, error) { return sameShape(l, in) }

// Weights returns no weights.
func (l *LeakyReLULayer) Weights(in []int) ([]WeightSpec, error) {
	_, err := l.OutputShape(in)
	return nil, err
}

// Build returns an instance.
func (l *LeakyReLULayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	a := newAct(b, "leaky_relu")
	a.alpha = l.cfg.NegativeSlope
	return buildAct(l, in, vars, a)
}

// ELUConfig is the configuration of an [ELULayer].
type ELUConfig struct {
	Name  string  `json:"name"`
	Alpha float64 `json:"alpha"`
}

// ELULayer is the exponential linear unit, x for x > 0 and alpha·(e^x - 1) elsewhere, as
// Keras's ELU. On the secure engine it costs a comparison and an exponential of min(x, 0)
// (see the package documentation for its error).
type ELULayer struct {
	base
	cfg ELUConfig
}

// ELU returns an ELU layer. Options: Alpha (default 1), Name.
func ELU(opts ...Option) *ELULayer {
	o, err := collect("ELU", opts, "Alpha")
	l := &ELULayer{cfg: ELUConfig{Alpha: 1}}
	if o.has("Alpha") {
		l.cfg.Alpha = o.alpha
	}
	l.name, l.err = o.name, err
	if l.err == nil {
		l.err = l.cfg.check()
	}
	return l
}

func (c ELUConfig) check() error {
	if !(c.Alpha >= 0 && c.Alpha <= 16) {
		return fmt.Errorf("alpha %v not in [0, 16]", c.Alpha)
	}
	return nil
}

// ClassName returns "ELU".
func (l *ELULayer) ClassName() string { return "ELU" }

// Config returns an ELUConfig.
func (l *ELULayer) Config() any { c := l.cfg; c.Name = l.name; return c }

// OutputShape returns in.
func (l *ELULayer) OutputShape(in []int) ([]int, error) { return sameShape(l, in) }

// Weights returns no weights.
func (l *ELULayer) Weights(in []int) ([]WeightSpec, error) {
	_, err := l.OutputShape(in)
	return nil, err
}

// Build returns an instance.
func (l *ELULayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	a := newAct(b, "elu")
	a.alpha = l.cfg.Alpha
	return buildAct(l, in, vars, a)
}

// sameShape checks a layer's configuration and returns in.
func sameShape(l Layer, in []int) ([]int, error) {
	if err := configErr(l); err != nil {
		return nil, wrap(l, err)
	}
	return slices.Clone(in), nil
}

// buildAct returns an instance of an activation layer without weights.
func buildAct(l Layer, in []int, vars []*backend.Variable, a act) (Instance, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	if len(vars) != 0 {
		return nil, wrap(l, fmt.Errorf("built with %d variables, want none", len(vars)))
	}
	return &activationInst{l: l, in: in, a: a}, nil
}

// PReLUConfig is the configuration of a [PReLULayer].
type PReLUConfig struct {
	Name             string `json:"name"`
	AlphaInitializer string `json:"alpha_initializer"`
	SharedAxes       []int  `json:"shared_axes,omitempty"`
}

// PReLULayer is the parametric ReLU of Keras: x for x > 0 and alpha·x elsewhere, with a
// trainable slope alpha per input element (of shape the sample's, with size 1 along the shared
// axes). On the secure engine it costs one comparison and one product.
type PReLULayer struct {
	base
	cfg PReLUConfig
}

// PReLU returns a parametric ReLU layer. Options: AlphaInitializer (default "zeros"),
// SharedAxes, Name.
func PReLU(opts ...Option) *PReLULayer {
	o, err := collect("PReLU", opts, "AlphaInitializer", "SharedAxes")
	l := &PReLULayer{cfg: PReLUConfig{AlphaInitializer: o.alphaInit, SharedAxes: o.sharedAxes}}
	l.name, l.err = o.name, err
	if l.err == nil {
		l.err = l.cfg.check()
	}
	return l
}

func (c *PReLUConfig) check() error {
	if c.AlphaInitializer == "" {
		c.AlphaInitializer = "zeros"
	}
	_, err := GetInitializer(c.AlphaInitializer)
	return err
}

// ClassName returns "PReLU".
func (l *PReLULayer) ClassName() string { return "PReLU" }

// Config returns a PReLUConfig.
func (l *PReLULayer) Config() any { c := l.cfg; c.Name = l.name; return c }

// alphaShape returns the shape of the slopes for input shape in.
func (l *PReLULayer) alphaShape(in []int) ([]int, error) {
	s := slices.Clone(in)
	for _, a := range l.cfg.SharedAxes {
		if a < 1 || a > len(in) {
			return nil, fmt.Errorf("shared axis %d out of range for input shape %s", a, backend.FormatShape(in))
		}
		s[a-1] = 1
	}
	return s, nil
}

// OutputShape returns in.
func (l *PReLULayer) OutputShape(in []int) ([]int, error) {
	if _, err := sameShape(l, in); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, wrap(l, fmt.Errorf("input shape %s has no axis", backend.FormatShape(in)))
	}
	if _, err := l.alphaShape(in); err != nil {
		return nil, wrap(l, err)
	}
	return slices.Clone(in), nil
}

// Weights returns alpha.
func (l *PReLULayer) Weights(in []int) ([]WeightSpec, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	s, _ := l.alphaShape(in)
	return []WeightSpec{{Name: "alpha", Shape: s, Init: mustInit(l.cfg.AlphaInitializer), Trainable: true}}, nil
}

// Build returns an instance over vars (alpha).
func (l *PReLULayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	specs, err := l.Weights(in)
	if err != nil {
		return nil, err
	}
	if err := checkVars(vars, specs); err != nil {
		return nil, wrap(l, err)
	}
	return &preluInst{l: l, b: b, in: slices.Clone(in), alpha: vars[0]}, nil
}

type preluInst struct {
	l     *PReLULayer
	b     backend.Backend
	in    []int
	alpha *backend.Variable
	mask  backend.Tensor // [x > 0]
	neg   backend.Tensor // min(x, 0)
	ab    backend.Tensor // alpha broadcast to the batch
}

// Forward returns relu(x) + alpha·min(x, 0).
func (i *preluInst) Forward(x backend.Tensor, _ bool) (backend.Tensor, error) {
	if err := checkInput(x, i.in); err != nil {
		return nil, wrap(i.l, err)
	}
	y, err := i.forward(x)
	return y, wrap(i.l, err)
}

func (i *preluInst) forward(x backend.Tensor) (backend.Tensor, error) {
	b := i.b
	r, mask, err := b.ReLU(x)
	if err != nil {
		return nil, err
	}
	neg, err := b.Sub(x, r)
	if err != nil {
		return nil, err
	}
	ab, err := b.BroadcastTo(i.alpha.Value, x.Shape())
	if err != nil {
		return nil, err
	}
	an, err := b.Mul(ab, neg)
	if err != nil {
		return nil, err
	}
	i.mask, i.neg, i.ab = mask, neg, ab
	return b.Add(r, an)
}

// Backward sets alpha's gradient, the sum of dy·min(x, 0) over the batch and the shared axes,
// and returns dy·([x > 0] + alpha·[x <= 0]).
func (i *preluInst) Backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if i.mask == nil {
		return nil, wrap(i.l, fmt.Errorf("backward pass before a forward pass"))
	}
	dx, err := i.backward(dy, needDX)
	return dx, wrap(i.l, err)
}

func (i *preluInst) backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	b := i.b
	g, err := b.Mul(dy, i.neg)
	if err != nil {
		return nil, err
	}
	if g, err = b.Sum(g, 0, false); err != nil {
		return nil, err
	}
	for _, a := range i.l.cfg.SharedAxes {
		if g, err = b.Sum(g, a-1, true); err != nil {
			return nil, err
		}
	}
	i.alpha.Grad = g
	if !needDX {
		return nil, nil
	}
	// [x > 0] + alpha·[x <= 0] = alpha + (1 - alpha)·[x > 0]
	t, err := affine(b, i.ab, -1, 1)
	if err != nil {
		return nil, err
	}
	if t, err = b.MulMask(t, i.mask); err != nil {
		return nil, err
	}
	if t, err = b.Add(t, i.ab); err != nil {
		return nil, err
	}
	return b.Mul(dy, t)
}

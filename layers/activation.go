package layers

import (
	"fmt"
	"math"

	"github.com/gotfe/gotfe/backend"
)

// Activation names understood by Activation and the activation option of Dense, Conv2D and
// DepthwiseConv2D. "silu" is another name of "swish".
var activations = []string{"linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "swish", "silu",
	"softplus", "softsign", "sigmoid", "hard_sigmoid", "tanh", "exponential", "softmax"}

// Parameters of the activations, Keras's defaults.
const (
	leakyReLUSlope = 0.2 // keras.activations.leaky_relu's negative_slope
	seluAlpha      = 1.6732632423543772
	seluScale      = 1.0507009873554805
	geluCubic      = 0.044715
)

// geluScale is 2·sqrt(2/π): gelu(x) = x·σ(geluScale·(x + 0.044715·x³)), the tanh form.
var geluScale = 2 * math.Sqrt(2/math.Pi)

// checkActivation returns the canonical name of an activation ("" means "linear").
func checkActivation(name string) (string, error) {
	if name == "" || name == "linear" || name == "None" {
		return "linear", nil
	}
	if name == "silu" {
		return "swish", nil
	}
	for _, a := range activations {
		if a == name {
			return name, nil
		}
	}
	return "", fmt.Errorf("unknown activation %q (want one of %v)", name, activations)
}

// act is the forward and backward pass of one activation on one instance. alpha is the
// negative slope of leaky_relu, or the alpha of elu (set from the name's default by newAct).
type act struct {
	b     backend.Backend
	name  string
	alpha float64
	x     backend.Tensor // the activation's input, where the derivative needs it
	out   backend.Tensor // the activation's output, where the derivative needs it (needsOut)
	ran   bool           // a forward pass ran
	mask  backend.Tensor // ReLU's derivative mask [x > 0]
	mask6 backend.Tensor // ReLU6's second mask [relu(x) < 6]
	aux   backend.Tensor // a second value the derivative needs (e^min(x,0), σ(x), 1/(1+|x|), ...)
}

// newAct returns the activation name with its default parameters.
func newAct(b backend.Backend, name string) act {
	a := act{b: b, name: name}
	switch name {
	case "leaky_relu":
		a.alpha = leakyReLUSlope
	case "elu":
		a.alpha = 1
	case "selu":
		a.alpha = seluAlpha
	}
	return a
}

func (a *act) forward(z backend.Tensor) (backend.Tensor, error) {
	var err error
	b := a.b
	switch a.name {
	case "linear":
		a.out = z
	case "relu":
		a.out, a.mask, err = b.ReLU(z)
	case "relu6":
		a.out, err = a.relu6(z)
	case "leaky_relu":
		a.out, err = a.leaky(z)
	case "elu":
		a.out, err = a.elu(z, 1)
	case "selu":
		a.out, err = a.elu(z, seluScale)
	case "gelu":
		a.out, err = a.gelu(z)
	case "swish":
		a.out, err = a.swish(z)
	case "softplus":
		a.out, err = a.softplus(z)
	case "softsign":
		a.out, err = a.softsign(z)
	case "hard_sigmoid": // relu6(x + 3)/6
		var t backend.Tensor
		if t, err = b.AddScalar(z, 3); err == nil {
			if t, err = a.relu6(t); err == nil {
				a.out, err = b.Scale(t, 1.0/6)
			}
		}
	case "exponential":
		a.out, err = b.Exp(z)
	case "sigmoid":
		a.out, err = b.Sigmoid(z)
	case "tanh":
		a.out, err = b.Tanh(z)
	case "softmax":
		a.out, err = b.Softmax(z)
	default:
		err = fmt.Errorf("unknown activation %q", a.name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.name, err)
	}
	y := a.out
	if !needsOut(a.name) {
		a.out = nil // the next layer holds it if it needs it; the derivative does not
	}
	a.ran = true
	return y, nil
}

// needsOut reports whether the derivative of the named activation reads its output.
func needsOut(name string) bool {
	switch name {
	case "swish", "exponential", "sigmoid", "tanh", "softmax":
		return true
	}
	return false
}

// backward returns the gradient with respect to the activation's input given dy.
func (a *act) backward(dy backend.Tensor) (backend.Tensor, error) {
	if !a.ran {
		return nil, fmt.Errorf("%s: backward pass before a forward pass", a.name)
	}
	d, err := a.derivative(dy)
	if err != nil {
		return nil, fmt.Errorf("%s: backward: %w", a.name, err)
	}
	return d, nil
}

func (a *act) derivative(dy backend.Tensor) (backend.Tensor, error) {
	b := a.b
	switch a.name {
	case "linear":
		return dy, nil
	case "relu":
		return b.MulMask(dy, a.mask)
	case "relu6": // dy where 0 < x < 6
		d, err := b.MulMask(dy, a.mask)
		if err != nil {
			return nil, err
		}
		return b.MulMask(d, a.mask6)
	case "hard_sigmoid": // dy/6 where -3 < x < 3
		d, err := b.MulMask(dy, a.mask)
		if err != nil {
			return nil, err
		}
		if d, err = b.MulMask(d, a.mask6); err != nil {
			return nil, err
		}
		return b.Scale(d, 1.0/6)
	case "leaky_relu": // α·dy + (1-α)·dy·[x > 0]
		m, err := b.MulMask(dy, a.mask)
		if err != nil {
			return nil, err
		}
		return lincomb(b, dy, a.alpha, m, 1-a.alpha)
	case "elu", "selu": // scale·dy·([x > 0] + α·e^x·[x <= 0]), aux = α·e^min(x,0)
		scale := 1.0
		if a.name == "selu" {
			scale = seluScale
		}
		t, err := affine(b, a.aux, -1, 1) // 1 - α·e^min(x,0), where x > 0 makes the sum 1
		if err != nil {
			return nil, err
		}
		if t, err = b.MulMask(t, a.mask); err != nil {
			return nil, err
		}
		if t, err = b.Add(t, a.aux); err != nil {
			return nil, err
		}
		if t, err = b.Mul(dy, t); err != nil {
			return nil, err
		}
		if scale == 1 {
			return t, nil
		}
		return b.Scale(t, scale)
	case "gelu": // σ(u) + x·σ(u)(1-σ(u))·c·(1 + 3k x²), aux = σ(u)
		s := a.aux
		q, err := affine(b, s, -1, 1)
		if err != nil {
			return nil, err
		}
		sq, err := b.Mul(s, q)
		if err != nil {
			return nil, err
		}
		x2, err := b.Mul(a.x, a.x)
		if err != nil {
			return nil, err
		}
		du, err := affine(b, x2, 3*geluCubic*geluScale, geluScale)
		if err != nil {
			return nil, err
		}
		xdu, err := b.Mul(a.x, du)
		if err != nil {
			return nil, err
		}
		t, err := b.Mul(sq, xdu)
		if err != nil {
			return nil, err
		}
		if t, err = b.Add(t, s); err != nil {
			return nil, err
		}
		return b.Mul(dy, t)
	case "swish": // σ + x·σ(1-σ) = σ + y·(1-σ), aux = σ(x)
		q, err := affine(b, a.aux, -1, 1)
		if err != nil {
			return nil, err
		}
		t, err := b.Mul(a.out, q)
		if err != nil {
			return nil, err
		}
		if t, err = b.Add(t, a.aux); err != nil {
			return nil, err
		}
		return b.Mul(dy, t)
	case "softplus": // σ(x)
		s, err := b.Sigmoid(a.x)
		if err != nil {
			return nil, err
		}
		return b.Mul(dy, s)
	case "softsign": // 1/(1+|x|)², aux = 1/(1+|x|)
		r2, err := b.Mul(a.aux, a.aux)
		if err != nil {
			return nil, err
		}
		return b.Mul(dy, r2)
	case "exponential":
		return b.Mul(dy, a.out)
	case "sigmoid": // dy * s * (1 - s)
		oneMinus, err := affine(b, a.out, -1, 1)
		if err != nil {
			return nil, err
		}
		d, err := b.Mul(a.out, oneMinus)
		if err != nil {
			return nil, err
		}
		return b.Mul(dy, d)
	case "tanh": // dy * (1 - t²)
		t2, err := b.Mul(a.out, a.out)
		if err != nil {
			return nil, err
		}
		d, err := affine(b, t2, -1, 1)
		if err != nil {
			return nil, err
		}
		return b.Mul(dy, d)
	case "softmax": // s * (dy - sum(dy * s, -1))
		p, err := b.Mul(dy, a.out)
		if err != nil {
			return nil, err
		}
		s, err := b.Sum(p, -1, true)
		if err != nil {
			return nil, err
		}
		s, err = b.BroadcastTo(s, dy.Shape())
		if err != nil {
			return nil, err
		}
		d, err := b.Sub(dy, s)
		if err != nil {
			return nil, err
		}
		return b.Mul(a.out, d)
	}
	return nil, fmt.Errorf("unknown activation %q", a.name)
}

// relu6 returns min(max(z, 0), 6) as 6 - relu(6 - relu(z)), keeping both ReLUs' masks: the
// derivative is their product [z > 0]·[relu(z) < 6].
func (a *act) relu6(z backend.Tensor) (backend.Tensor, error) {
	r, mask, err := a.b.ReLU(z)
	if err != nil {
		return nil, err
	}
	t, err := affine(a.b, r, -1, 6)
	if err != nil {
		return nil, err
	}
	u, mask6, err := a.b.ReLU(t)
	if err != nil {
		return nil, err
	}
	out, err := affine(a.b, u, -1, 6)
	if err != nil {
		return nil, err
	}
	a.mask, a.mask6 = mask, mask6
	return out, nil
}

// leaky returns α·z + (1-α)·relu(z): z where z > 0, α·z elsewhere.
func (a *act) leaky(z backend.Tensor) (backend.Tensor, error) {
	r, mask, err := a.b.ReLU(z)
	if err != nil {
		return nil, err
	}
	a.mask = mask
	return lincomb(a.b, z, a.alpha, r, 1-a.alpha)
}

// elu returns scale·(relu(z) + α·(e^min(z,0) - 1)), keeping α·e^min(z,0) and the mask for the
// derivative. min(z, 0) = z - relu(z) lies where the engine's exponential is accurate.
func (a *act) elu(z backend.Tensor, scale float64) (backend.Tensor, error) {
	b := a.b
	r, mask, err := b.ReLU(z)
	if err != nil {
		return nil, err
	}
	neg, err := b.Sub(z, r)
	if err != nil {
		return nil, err
	}
	e, err := b.Exp(neg)
	if err != nil {
		return nil, err
	}
	ae, err := b.Scale(e, a.alpha)
	if err != nil {
		return nil, err
	}
	a.mask, a.aux = mask, ae
	y, err := b.Add(r, ae)
	if err != nil {
		return nil, err
	}
	return affine(b, y, scale, -scale*a.alpha)
}

// gelu returns x·σ(c·(x + 0.044715·x³)), keeping x and the sigmoid.
func (a *act) gelu(z backend.Tensor) (backend.Tensor, error) {
	b := a.b
	x2, err := b.Mul(z, z)
	if err != nil {
		return nil, err
	}
	p, err := affine(b, x2, geluCubic*geluScale, geluScale) // c·(1 + k x²)
	if err != nil {
		return nil, err
	}
	u, err := b.Mul(z, p)
	if err != nil {
		return nil, err
	}
	s, err := b.Sigmoid(u)
	if err != nil {
		return nil, err
	}
	a.x, a.aux = z, s
	return b.Mul(z, s)
}

// swish returns x·σ(x), keeping σ(x).
func (a *act) swish(z backend.Tensor) (backend.Tensor, error) {
	s, err := a.b.Sigmoid(z)
	if err != nil {
		return nil, err
	}
	a.aux = s
	return a.b.Mul(z, s)
}

// softplus returns relu(x) + ln(1 + e^-|x|): the logarithm's argument stays in [1, 2] and
// the exponential's at or below 0.
func (a *act) softplus(z backend.Tensor) (backend.Tensor, error) {
	b := a.b
	r, _, err := b.ReLU(z)
	if err != nil {
		return nil, err
	}
	negAbs, err := lincomb(b, z, 1, r, -2) // -|x| = x - 2 relu(x)
	if err != nil {
		return nil, err
	}
	e, err := b.Exp(negAbs)
	if err != nil {
		return nil, err
	}
	if e, err = b.AddScalar(e, 1); err != nil {
		return nil, err
	}
	l, err := b.Log(e)
	if err != nil {
		return nil, err
	}
	a.x = z
	return b.Add(r, l)
}

// softsign returns x/(1 + |x|), keeping the reciprocal.
func (a *act) softsign(z backend.Tensor) (backend.Tensor, error) {
	b := a.b
	r, _, err := b.ReLU(z)
	if err != nil {
		return nil, err
	}
	abs, err := lincomb(b, r, 2, z, -1) // |x| = 2 relu(x) - x
	if err != nil {
		return nil, err
	}
	if abs, err = b.AddScalar(abs, 1); err != nil {
		return nil, err
	}
	rec, err := b.Reciprocal(abs)
	if err != nil {
		return nil, err
	}
	a.aux = rec
	return b.Mul(z, rec)
}

// lincomb returns s·x + t·y.
func lincomb(b backend.Backend, x backend.Tensor, s float64, y backend.Tensor, t float64) (backend.Tensor, error) {
	xs, err := b.Scale(x, s)
	if err != nil {
		return nil, err
	}
	ys, err := b.Scale(y, t)
	if err != nil {
		return nil, err
	}
	return b.Add(xs, ys)
}

// affine returns s*x + c.
func affine(b backend.Backend, x backend.Tensor, s, c float64) (backend.Tensor, error) {
	y, err := b.Scale(x, s)
	if err != nil {
		return nil, err
	}
	return b.AddScalar(y, c)
}

// ActivationConfig is the configuration of an [ActivationLayer].
type ActivationConfig struct {
	Name       string `json:"name"`
	Activation string `json:"activation"`
}

// ActivationLayer applies an activation function, as Keras's activations of the same names:
//
//   - "linear"; "relu", "relu6" (min(max(x, 0), 6)), "leaky_relu" (negative slope 0.2);
//   - "elu" (x > 0: x, else e^x - 1), "selu" (1.0507·elu with α = 1.6733);
//   - "gelu" (Keras's tanh form, approximate=True: x·σ(2·sqrt(2/π)·(x + 0.044715x³)), within
//     5e-4 of the exact x·Φ(x)), "swish" or "silu" (x·σ(x)), "softplus" (ln(1 + e^x)),
//     "softsign" (x/(1 + |x|));
//   - "sigmoid", "hard_sigmoid" (relu6(x + 3)/6), "tanh", "exponential" (e^x), "softmax" (over
//     the last axis).
//
// On the secure engine ReLU, ReLU6, leaky ReLU and hard sigmoid are exact (comparisons and
// scalings, within a few units in the last place 2^-16); the others are built from the
// engine's approximations and carry their errors (see the package documentation, "Costs and
// errors of the activations on the secure engine"). It is also an [Option] setting the
// activation of Dense, Conv2D and DepthwiseConv2D.
type ActivationLayer struct {
	base
	cfg ActivationConfig
}

// Activation returns an activation layer, or, given to Dense, Conv2D or DepthwiseConv2D, the
// option that sets their activation. Options other than Name are not taken.
func Activation(name string, opts ...Option) *ActivationLayer {
	l := &ActivationLayer{cfg: ActivationConfig{Activation: name}}
	o, err := collect("Activation", opts)
	l.name, l.err = o.name, err
	if l.err == nil {
		l.cfg.Activation, l.err = checkActivation(name)
	}
	return l
}

func (l *ActivationLayer) apply(o *options) {
	o.given = append(o.given, "Activation")
	o.activation, o.actErr = l.cfg.Activation, l.err
}

// ClassName returns "Activation".
func (l *ActivationLayer) ClassName() string { return "Activation" }

// Config returns an ActivationConfig.
func (l *ActivationLayer) Config() any { c := l.cfg; c.Name = l.name; return c }

// OutputShape returns in.
func (l *ActivationLayer) OutputShape(in []int) ([]int, error) {
	if l.err != nil {
		return nil, wrap(l, l.err)
	}
	if len(in) == 0 && l.cfg.Activation == "softmax" {
		return nil, wrap(l, fmt.Errorf("softmax needs a last axis"))
	}
	return append([]int(nil), in...), nil
}

// Weights returns no weights.
func (l *ActivationLayer) Weights(in []int) ([]WeightSpec, error) {
	_, err := l.OutputShape(in)
	return nil, err
}

// Build returns an instance.
func (l *ActivationLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	if len(vars) != 0 {
		return nil, wrap(l, fmt.Errorf("built with %d variables, want none", len(vars)))
	}
	return &activationInst{l: l, in: in, a: newAct(b, l.cfg.Activation)}, nil
}

type activationInst struct {
	l  Layer
	in []int
	a  act
}

func (i *activationInst) Forward(x backend.Tensor, _ bool) (backend.Tensor, error) {
	if err := checkInput(x, i.in); err != nil {
		return nil, wrap(i.l, err)
	}
	y, err := i.a.forward(x)
	return y, wrap(i.l, err)
}

func (i *activationInst) Backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if !needDX {
		return nil, nil
	}
	dz, err := i.a.backward(dy)
	return dz, wrap(i.l, err)
}

func (i *activationInst) OutputActivation() string { return i.a.name }

func (i *activationInst) BackwardLogits(dz backend.Tensor, needDX bool) (backend.Tensor, error) {
	if !needDX {
		return nil, nil
	}
	return dz, nil
}

// ReLUConfig is the configuration of a [ReLULayer].
type ReLUConfig struct {
	Name string `json:"name"`
}

// ReLULayer is the rectified linear unit max(x, 0) as a layer of its own.
type ReLULayer struct {
	base
}

// ReLU returns a ReLU layer. Options other than Name are not taken.
func ReLU(opts ...Option) *ReLULayer {
	l := &ReLULayer{}
	o, err := collect("ReLU", opts)
	l.name, l.err = o.name, err
	return l
}

// ClassName returns "ReLU".
func (l *ReLULayer) ClassName() string { return "ReLU" }

// Config returns a ReLUConfig.
func (l *ReLULayer) Config() any { return ReLUConfig{Name: l.name} }

// OutputShape returns in.
func (l *ReLULayer) OutputShape(in []int) ([]int, error) {
	if l.err != nil {
		return nil, wrap(l, l.err)
	}
	return append([]int(nil), in...), nil
}

// Weights returns no weights.
func (l *ReLULayer) Weights(in []int) ([]WeightSpec, error) {
	_, err := l.OutputShape(in)
	return nil, err
}

// Build returns an instance.
func (l *ReLULayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	if len(vars) != 0 {
		return nil, wrap(l, fmt.Errorf("built with %d variables, want none", len(vars)))
	}
	return &activationInst{l: l, in: in, a: act{b: b, name: "relu"}}, nil
}

package layers

import (
	"fmt"

	"github.com/gotfe/gotfe/backend"
)

// Activation names understood by Activation and the activation option of Dense, Conv2D and
// DepthwiseConv2D.
var activations = []string{"linear", "relu", "relu6", "sigmoid", "tanh", "softmax"}

// checkActivation returns the canonical name of an activation ("" means "linear").
func checkActivation(name string) (string, error) {
	if name == "" || name == "linear" || name == "None" {
		return "linear", nil
	}
	for _, a := range activations {
		if a == name {
			return name, nil
		}
	}
	return "", fmt.Errorf("unknown activation %q (want one of %v)", name, activations)
}

// act is the forward and backward pass of one activation on one instance.
type act struct {
	b     backend.Backend
	name  string
	out   backend.Tensor // the activation's output
	mask  backend.Tensor // ReLU's derivative mask [x > 0]
	mask6 backend.Tensor // ReLU6's second mask [relu(x) < 6]
}

func (a *act) forward(z backend.Tensor) (backend.Tensor, error) {
	var err error
	switch a.name {
	case "linear":
		a.out = z
	case "relu":
		a.out, a.mask, err = a.b.ReLU(z)
	case "relu6":
		a.out, err = a.relu6(z)
	case "sigmoid":
		a.out, err = a.b.Sigmoid(z)
	case "tanh":
		a.out, err = a.b.Tanh(z)
	case "softmax":
		a.out, err = a.b.Softmax(z)
	default:
		err = fmt.Errorf("unknown activation %q", a.name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.name, err)
	}
	return a.out, nil
}

// backward returns the gradient with respect to the activation's input given dy.
func (a *act) backward(dy backend.Tensor) (backend.Tensor, error) {
	if a.out == nil {
		return nil, fmt.Errorf("%s: backward pass before a forward pass", a.name)
	}
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

// ActivationLayer applies an activation function: "linear", "relu", "relu6" (min(max(x, 0),
// 6)), "sigmoid", "tanh" or "softmax" (over the last axis). It is also an [Option] setting the activation of Dense,
// Conv2D and DepthwiseConv2D.
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
	return &activationInst{l: l, in: in, a: act{b: b, name: l.cfg.Activation}}, nil
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

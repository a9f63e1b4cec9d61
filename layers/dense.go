package layers

import (
	"fmt"
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// DenseConfig is the configuration of a [DenseLayer].
type DenseConfig struct {
	Name              string `json:"name"`
	Units             int    `json:"units"`
	Activation        string `json:"activation"`
	UseBias           bool   `json:"use_bias"`
	KernelInitializer string `json:"kernel_initializer"`
	BiasInitializer   string `json:"bias_initializer"`
}

// DenseLayer is a densely connected layer: activation(x·kernel + bias), applied to the last
// axis of its input. The kernel has shape [in, units], the bias [units].
type DenseLayer struct {
	base
	cfg DenseConfig
}

// Dense returns a dense layer of the given number of units. Options: Activation (default
// linear), UseBias, KernelInitializer (default glorot_uniform), BiasInitializer (default
// zeros), Name.
func Dense(units int, opts ...Option) *DenseLayer {
	l := &DenseLayer{}
	o, err := collect("Dense", opts, "Activation", "UseBias", "KernelInitializer", "BiasInitializer")
	l.cfg = DenseConfig{Units: units, Activation: o.activation, UseBias: o.useBias,
		KernelInitializer: o.kernelInit, BiasInitializer: o.biasInit}
	l.name = o.name
	if err == nil {
		err = o.actErr
	}
	l.err = err
	if l.err == nil {
		l.err = l.cfg.check()
	}
	return l
}

func newDense(c DenseConfig) *DenseLayer {
	l := &DenseLayer{cfg: c}
	l.name = c.Name
	l.err = l.cfg.check()
	return l
}

// check validates the configuration and fills in defaults.
func (c *DenseConfig) check() error {
	if c.Units <= 0 {
		return fmt.Errorf("units must be positive, got %d", c.Units)
	}
	var err error
	if c.Activation, err = checkActivation(c.Activation); err != nil {
		return err
	}
	return checkInits(&c.KernelInitializer, "glorot_uniform", &c.BiasInitializer)
}

// checkInits fills in default initializer names and checks them.
func checkInits(kernel *string, kernelDefault string, bias *string) error {
	if *kernel == "" {
		*kernel = kernelDefault
	}
	if *bias == "" {
		*bias = "zeros"
	}
	if _, err := GetInitializer(*kernel); err != nil {
		return err
	}
	_, err := GetInitializer(*bias)
	return err
}

// ClassName returns "Dense".
func (l *DenseLayer) ClassName() string { return "Dense" }

// Config returns a DenseConfig.
func (l *DenseLayer) Config() any { c := l.cfg; c.Name = l.name; return c }

// OutputShape replaces the last axis of in by the number of units.
func (l *DenseLayer) OutputShape(in []int) ([]int, error) {
	if l.err != nil {
		return nil, wrap(l, l.err)
	}
	if len(in) == 0 {
		return nil, wrap(l, fmt.Errorf("input shape %s has no axis to apply to", backend.FormatShape(in)))
	}
	if err := positive(in); err != nil {
		return nil, wrap(l, err)
	}
	out := slices.Clone(in)
	out[len(out)-1] = l.cfg.Units
	return out, nil
}

// Weights returns the kernel [in, units] and, with a bias, the bias [units].
func (l *DenseLayer) Weights(in []int) ([]WeightSpec, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	w := []WeightSpec{{Name: "kernel", Shape: []int{in[len(in)-1], l.cfg.Units},
		Init: mustInit(l.cfg.KernelInitializer), Trainable: true}}
	if l.cfg.UseBias {
		w = append(w, WeightSpec{Name: "bias", Shape: []int{l.cfg.Units}, Init: mustInit(l.cfg.BiasInitializer), Trainable: true})
	}
	return w, nil
}

// Build returns an instance over vars (kernel, then bias).
func (l *DenseLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	specs, err := l.Weights(in)
	if err != nil {
		return nil, err
	}
	if err := checkVars(vars, specs); err != nil {
		return nil, wrap(l, err)
	}
	i := &denseInst{l: l, b: b, kernel: vars[0]}
	i.fused = newFused(l, in, newAct(b, l.cfg.Activation), i)
	if l.cfg.UseBias {
		i.bias = vars[1]
	}
	return i, nil
}

type denseInst struct {
	fused
	l            *DenseLayer
	b            backend.Backend
	kernel, bias *backend.Variable
	x2           backend.Tensor // input as a matrix [rows, in]
	xShape       []int
}

func (i *denseInst) forward(x backend.Tensor) (backend.Tensor, error) {
	b := i.b
	i.xShape = slices.Clone(x.Shape())
	x2 := x
	var err error
	if len(i.xShape) != 2 {
		if x2, err = b.Reshape(x, []int{-1, i.in[len(i.in)-1]}); err != nil {
			return nil, err
		}
	}
	i.x2 = x2
	z, err := b.MatMul(x2, i.kernel.Value, false, false)
	if err != nil {
		return nil, err
	}
	if i.bias != nil {
		if z, err = b.AddBias(z, i.bias.Value); err != nil {
			return nil, err
		}
	}
	if len(i.xShape) != 2 {
		out := slices.Clone(i.xShape)
		out[len(out)-1] = i.l.cfg.Units
		if z, err = b.Reshape(z, out); err != nil {
			return nil, err
		}
	}
	return i.a.forward(z)
}

func (i *denseInst) backwardLogits(dz backend.Tensor, needDX bool) (backend.Tensor, error) {
	if i.x2 == nil {
		return nil, fmt.Errorf("backward pass before a forward pass")
	}
	b := i.b
	units := i.l.cfg.Units
	dz2 := dz
	var err error
	if len(dz.Shape()) != 2 {
		if dz2, err = b.Reshape(dz, []int{-1, units}); err != nil {
			return nil, err
		}
	}
	if i.kernel.Grad, err = b.MatMul(i.x2, dz2, true, false); err != nil {
		return nil, err
	}
	if i.bias != nil {
		if i.bias.Grad, err = b.Sum(dz2, 0, false); err != nil {
			return nil, err
		}
	}
	if !needDX {
		return nil, nil
	}
	dx, err := b.MatMul(dz2, i.kernel.Value, false, true)
	if err != nil {
		return nil, err
	}
	if len(i.xShape) != 2 {
		return b.Reshape(dx, i.xShape)
	}
	return dx, nil
}

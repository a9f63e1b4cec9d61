package layers

import (
	"fmt"
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// InputConfig is the configuration of an [InputLayer].
type InputConfig struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// InputLayer declares the shape of a model's inputs (without the batch dimension), as
// keras.Input(shape=...) does. It starts a model's layer list and computes nothing.
type InputLayer struct {
	base
	cfg InputConfig
}

// Input returns an input layer for samples of the given shape, e.g. Input(784) or
// Input(28, 28, 1).
func Input(shape ...int) *InputLayer {
	l := &InputLayer{cfg: InputConfig{Shape: slices.Clone(shape)}}
	if len(shape) == 0 {
		l.err = fmt.Errorf("input shape is empty")
	} else if err := positive(shape); err != nil {
		l.err = err
	}
	return l
}

// Shape returns the declared sample shape.
func (l *InputLayer) Shape() []int { return slices.Clone(l.cfg.Shape) }

// ClassName returns "InputLayer".
func (l *InputLayer) ClassName() string { return "InputLayer" }

// Config returns an InputConfig.
func (l *InputLayer) Config() any { c := l.cfg; c.Name = l.name; return c }

// OutputShape returns the declared shape, which in must equal when it is given.
func (l *InputLayer) OutputShape(in []int) ([]int, error) {
	if l.err != nil {
		return nil, wrap(l, l.err)
	}
	if in != nil && !slices.Equal(in, l.cfg.Shape) {
		return nil, wrap(l, fmt.Errorf("input shape %s differs from the declared %s",
			backend.FormatShape(in), backend.FormatShape(l.cfg.Shape)))
	}
	return slices.Clone(l.cfg.Shape), nil
}

// Weights returns no weights.
func (l *InputLayer) Weights(in []int) ([]WeightSpec, error) {
	_, err := l.OutputShape(in)
	return nil, err
}

// Build returns an identity instance.
func (l *InputLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	return &reshapeInst{l: l, in: l.cfg.Shape, out: l.cfg.Shape}, nil
}

// ReshapeConfig is the configuration of a [ReshapeLayer] (and of Flatten, whose target is
// [-1]).
type ReshapeConfig struct {
	Name        string `json:"name"`
	TargetShape []int  `json:"target_shape,omitempty"`
}

// ReshapeLayer reshapes each sample: Reshape to a target shape, or Flatten to one axis.
type ReshapeLayer struct {
	base
	class  string
	target []int
}

// Flatten returns a layer that flattens each sample to one axis. Options: Name.
func Flatten(opts ...Option) *ReshapeLayer {
	l := &ReshapeLayer{class: "Flatten", target: []int{-1}}
	o, err := collect("Flatten", opts)
	l.name, l.err = o.name, err
	return l
}

// Reshape returns a layer reshaping each sample to target (one dimension may be -1). Options:
// Name.
func Reshape(target []int, opts ...Option) *ReshapeLayer {
	l := &ReshapeLayer{class: "Reshape", target: slices.Clone(target)}
	o, err := collect("Reshape", opts)
	l.name, l.err = o.name, err
	if l.err == nil && len(target) == 0 {
		l.err = fmt.Errorf("target shape is empty")
	}
	return l
}

// ClassName returns "Flatten" or "Reshape".
func (l *ReshapeLayer) ClassName() string { return l.class }

// Config returns a ReshapeConfig.
func (l *ReshapeLayer) Config() any {
	c := ReshapeConfig{Name: l.name}
	if l.class == "Reshape" {
		c.TargetShape = slices.Clone(l.target)
	}
	return c
}

// OutputShape returns the target shape with its -1 resolved.
func (l *ReshapeLayer) OutputShape(in []int) ([]int, error) {
	if l.err != nil {
		return nil, wrap(l, l.err)
	}
	if err := positive(in); err != nil {
		return nil, wrap(l, err)
	}
	n, err := backend.NumElements(in)
	if err != nil {
		return nil, wrap(l, err)
	}
	out, err := backend.ResolveShape(l.target, n)
	if err != nil {
		return nil, wrap(l, fmt.Errorf("input shape %s: %w", backend.FormatShape(in), err))
	}
	return out, nil
}

// Weights returns no weights.
func (l *ReshapeLayer) Weights(in []int) ([]WeightSpec, error) {
	_, err := l.OutputShape(in)
	return nil, err
}

// Build returns an instance.
func (l *ReshapeLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	out, err := l.OutputShape(in)
	if err != nil {
		return nil, err
	}
	if len(vars) != 0 {
		return nil, wrap(l, fmt.Errorf("built with %d variables, want none", len(vars)))
	}
	return &reshapeInst{l: l, b: b, in: slices.Clone(in), out: out}, nil
}

type reshapeInst struct {
	l       Layer
	b       backend.Backend
	in, out []int
	n       int
}

func (i *reshapeInst) Forward(x backend.Tensor, _ bool) (backend.Tensor, error) {
	if err := checkInput(x, i.in); err != nil {
		return nil, wrap(i.l, err)
	}
	i.n = x.Shape()[0]
	if i.b == nil || slices.Equal(i.in, i.out) {
		return x, nil
	}
	y, err := i.b.Reshape(x, batchShape(i.n, i.out))
	return y, wrap(i.l, err)
}

func (i *reshapeInst) Backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if !needDX {
		return nil, nil
	}
	if i.b == nil || slices.Equal(i.in, i.out) {
		return dy, nil
	}
	dx, err := i.b.Reshape(dy, batchShape(i.n, i.in))
	return dx, wrap(i.l, err)
}

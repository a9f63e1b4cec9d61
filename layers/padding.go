package layers

import (
	"fmt"
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// ZeroPadding2DConfig is the configuration of a [ZeroPadding2DLayer]: ((top, bottom), (left,
// right)), as Keras writes it.
type ZeroPadding2DConfig struct {
	Name    string    `json:"name"`
	Padding [2][2]int `json:"padding"`
}

// ZeroPadding2DLayer adds rows and columns of zeros around NHWC images. It needs a backend
// that implements [backend.Padder] (both of gotfe's engines do).
type ZeroPadding2DLayer struct {
	base
	cfg ZeroPadding2DConfig
}

// ZeroPadding2D returns a layer padding images with zeros: padding is ((top, bottom), (left,
// right)). Options: Name.
func ZeroPadding2D(padding [2][2]int, opts ...Option) *ZeroPadding2DLayer {
	l := &ZeroPadding2DLayer{cfg: ZeroPadding2DConfig{Padding: padding}}
	o, err := collect("ZeroPadding2D", opts)
	l.name, l.err = o.name, err
	if l.err == nil {
		l.err = l.cfg.check()
	}
	return l
}

func newZeroPadding2D(c ZeroPadding2DConfig) *ZeroPadding2DLayer {
	l := &ZeroPadding2DLayer{cfg: c}
	l.name, l.err = c.Name, c.check()
	return l
}

func (c ZeroPadding2DConfig) check() error {
	for _, p := range c.Padding {
		if p[0] < 0 || p[1] < 0 {
			return fmt.Errorf("padding %v must not be negative", c.Padding)
		}
	}
	return nil
}

// pads returns the padding as [top, bottom, left, right].
func (l *ZeroPadding2DLayer) pads() [4]int {
	p := l.cfg.Padding
	return [4]int{p[0][0], p[0][1], p[1][0], p[1][1]}
}

// ClassName returns "ZeroPadding2D".
func (l *ZeroPadding2DLayer) ClassName() string { return "ZeroPadding2D" }

// Config returns a ZeroPadding2DConfig.
func (l *ZeroPadding2DLayer) Config() any { c := l.cfg; c.Name = l.name; return c }

// OutputShape returns [H + top + bottom, W + left + right, C].
func (l *ZeroPadding2DLayer) OutputShape(in []int) ([]int, error) {
	if l.err != nil {
		return nil, wrap(l, l.err)
	}
	if len(in) != 3 {
		return nil, wrap(l, fmt.Errorf("input shape %s is not an image (height, width, channels)", backend.FormatShape(in)))
	}
	if err := positive(in); err != nil {
		return nil, wrap(l, err)
	}
	p := l.pads()
	return []int{in[0] + p[0] + p[1], in[1] + p[2] + p[3], in[2]}, nil
}

// Weights returns no weights.
func (l *ZeroPadding2DLayer) Weights(in []int) ([]WeightSpec, error) {
	_, err := l.OutputShape(in)
	return nil, err
}

// Build returns an instance; the backend must implement backend.Padder.
func (l *ZeroPadding2DLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	if len(vars) != 0 {
		return nil, wrap(l, fmt.Errorf("built with %d variables, want none", len(vars)))
	}
	p, ok := b.(backend.Padder)
	if !ok {
		return nil, wrap(l, fmt.Errorf("backend %s cannot pad images", b.Name()))
	}
	return &padInst{l: l, p: p, in: slices.Clone(in), pads: l.pads()}, nil
}

type padInst struct {
	l    Layer
	p    backend.Padder
	in   []int
	pads [4]int
}

func (i *padInst) Forward(x backend.Tensor, _ bool) (backend.Tensor, error) {
	if err := checkInput(x, i.in); err != nil {
		return nil, wrap(i.l, err)
	}
	y, err := i.p.Pad2D(x, i.pads)
	return y, wrap(i.l, err)
}

// Backward crops the padding off the gradient.
func (i *padInst) Backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if !needDX {
		return nil, nil
	}
	p := i.pads
	dx, err := i.p.Pad2D(dy, [4]int{-p[0], -p[1], -p[2], -p[3]})
	return dx, wrap(i.l, err)
}

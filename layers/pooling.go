package layers

import (
	"fmt"
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// Pooling2DConfig is the configuration of a [Pooling2DLayer].
type Pooling2DConfig struct {
	Name     string `json:"name"`
	PoolSize [2]int `json:"pool_size"`
	Strides  [2]int `json:"strides"`
	Padding  string `json:"padding"`
}

// Pooling2DLayer is MaxPooling2D or AveragePooling2D over NHWC images.
type Pooling2DLayer struct {
	base
	class string // "MaxPooling2D" or "AveragePooling2D"
	cfg   Pooling2DConfig
}

// MaxPooling2D returns a max-pooling layer. Options: PoolSize (default (2, 2)), Strides
// (default the pool size), Padding ("valid" or "same"), Name.
func MaxPooling2D(opts ...Option) *Pooling2DLayer { return newPoolingOpts("MaxPooling2D", opts) }

// AveragePooling2D returns an average-pooling layer; with "same" padding a window near the
// border averages only the positions inside the image, as in Keras. Options as MaxPooling2D.
func AveragePooling2D(opts ...Option) *Pooling2DLayer {
	return newPoolingOpts("AveragePooling2D", opts)
}

func newPoolingOpts(class string, opts []Option) *Pooling2DLayer {
	l := &Pooling2DLayer{class: class}
	o, err := collect(class, opts, "PoolSize", "Strides", "Padding")
	if !o.has("PoolSize") {
		o.poolSize = [2]int{2, 2}
	}
	l.cfg = Pooling2DConfig{PoolSize: o.poolSize, Strides: o.strides, Padding: o.padding}
	l.name = o.name
	if l.err = err; l.err == nil {
		l.err = checkWindowConfig(&l.cfg.PoolSize, &l.cfg.Strides, &l.cfg.Padding, l.cfg.PoolSize)
	}
	return l
}

func newPooling(class string, c Pooling2DConfig) *Pooling2DLayer {
	l := &Pooling2DLayer{class: class, cfg: c}
	l.name = c.Name
	l.err = checkWindowConfig(&l.cfg.PoolSize, &l.cfg.Strides, &l.cfg.Padding, l.cfg.PoolSize)
	return l
}

// ClassName returns "MaxPooling2D" or "AveragePooling2D".
func (l *Pooling2DLayer) ClassName() string { return l.class }

// Config returns a Pooling2DConfig.
func (l *Pooling2DLayer) Config() any { c := l.cfg; c.Name = l.name; return c }

func (l *Pooling2DLayer) window(in []int) (backend.Window, []int, error) {
	if l.err != nil {
		return backend.Window{}, nil, wrap(l, l.err)
	}
	w, err := imageWindow(in, l.cfg.PoolSize, l.cfg.Strides, l.cfg.Padding)
	if err != nil {
		return w, nil, wrap(l, err)
	}
	oh, ow, _ := w.OutputSize(in[0], in[1])
	return w, []int{oh, ow, in[2]}, nil
}

// OutputShape returns [OH, OW, C].
func (l *Pooling2DLayer) OutputShape(in []int) ([]int, error) {
	_, out, err := l.window(in)
	return out, err
}

// Weights returns no weights.
func (l *Pooling2DLayer) Weights(in []int) ([]WeightSpec, error) {
	_, err := l.OutputShape(in)
	return nil, err
}

// Build returns an instance.
func (l *Pooling2DLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	win, _, err := l.window(in)
	if err != nil {
		return nil, err
	}
	if len(vars) != 0 {
		return nil, wrap(l, fmt.Errorf("built with %d variables, want none", len(vars)))
	}
	return &poolInst{l: l, b: b, in: slices.Clone(in), win: win, max: l.class == "MaxPooling2D"}, nil
}

type poolInst struct {
	l      Layer
	b      backend.Backend
	in     []int
	win    backend.Window
	max    bool
	argmax backend.Tensor
	xShape []int
	post   *act // a ReLU moved after the pooling (see Arrange), or nil
}

func (i *poolInst) Forward(x backend.Tensor, _ bool) (backend.Tensor, error) {
	if err := checkInput(x, i.in); err != nil {
		return nil, wrap(i.l, err)
	}
	i.xShape = slices.Clone(x.Shape())
	var y backend.Tensor
	var err error
	if i.max {
		y, i.argmax, err = i.b.MaxPool2D(x, i.win)
	} else {
		y, err = i.b.AvgPool2D(x, i.win)
	}
	if err == nil && i.post != nil {
		y, err = i.post.forward(y)
	}
	return y, wrap(i.l, err)
}

func (i *poolInst) Backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if i.xShape == nil {
		return nil, wrap(i.l, fmt.Errorf("backward pass before a forward pass"))
	}
	if !needDX {
		return nil, nil
	}
	var dx backend.Tensor
	var err error
	if i.post != nil {
		if dy, err = i.post.backward(dy); err != nil {
			return nil, wrap(i.l, err)
		}
	}
	if i.max {
		dx, err = i.b.MaxPool2DBackward(dy, i.argmax, i.win, i.xShape)
	} else {
		dx, err = i.b.AvgPool2DBackward(dy, i.win, i.xShape)
	}
	return dx, wrap(i.l, err)
}

// GlobalPoolingConfig is the configuration of a [GlobalPooling2DLayer].
type GlobalPoolingConfig struct {
	Name string `json:"name"`
}

// GlobalPooling2DLayer is GlobalAveragePooling2D or GlobalMaxPooling2D: it reduces each channel
// of an image [H, W, C] to one value, giving [C].
type GlobalPooling2DLayer struct {
	base
	class string
}

// GlobalAveragePooling2D returns a layer averaging each channel over the image. Options: Name.
func GlobalAveragePooling2D(opts ...Option) *GlobalPooling2DLayer {
	return newGlobal("GlobalAveragePooling2D", opts)
}

// GlobalMaxPooling2D returns a layer taking each channel's maximum over the image. Options:
// Name.
func GlobalMaxPooling2D(opts ...Option) *GlobalPooling2DLayer {
	return newGlobal("GlobalMaxPooling2D", opts)
}

func newGlobal(class string, opts []Option) *GlobalPooling2DLayer {
	l := &GlobalPooling2DLayer{class: class}
	o, err := collect(class, opts)
	l.name, l.err = o.name, err
	return l
}

// ClassName returns "GlobalAveragePooling2D" or "GlobalMaxPooling2D".
func (l *GlobalPooling2DLayer) ClassName() string { return l.class }

// Config returns a GlobalPoolingConfig.
func (l *GlobalPooling2DLayer) Config() any { return GlobalPoolingConfig{Name: l.name} }

// OutputShape returns [C].
func (l *GlobalPooling2DLayer) OutputShape(in []int) ([]int, error) {
	if l.err != nil {
		return nil, wrap(l, l.err)
	}
	if len(in) != 3 {
		return nil, wrap(l, fmt.Errorf("input shape %s is not an image (height, width, channels)", backend.FormatShape(in)))
	}
	if err := positive(in); err != nil {
		return nil, wrap(l, err)
	}
	return []int{in[2]}, nil
}

// Weights returns no weights.
func (l *GlobalPooling2DLayer) Weights(in []int) ([]WeightSpec, error) {
	_, err := l.OutputShape(in)
	return nil, err
}

// Build returns an instance.
func (l *GlobalPooling2DLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	if len(vars) != 0 {
		return nil, wrap(l, fmt.Errorf("built with %d variables, want none", len(vars)))
	}
	win := backend.Window{KernelH: in[0], KernelW: in[1], StrideH: in[0], StrideW: in[1]}
	return &globalInst{l: l, b: b, in: slices.Clone(in), win: win, max: l.class == "GlobalMaxPooling2D"}, nil
}

type globalInst struct {
	l      Layer
	b      backend.Backend
	in     []int
	win    backend.Window
	max    bool
	argmax backend.Tensor
	n      int
}

func (i *globalInst) Forward(x backend.Tensor, _ bool) (backend.Tensor, error) {
	if err := checkInput(x, i.in); err != nil {
		return nil, wrap(i.l, err)
	}
	y, err := i.forward(x)
	return y, wrap(i.l, err)
}

func (i *globalInst) forward(x backend.Tensor) (backend.Tensor, error) {
	b := i.b
	i.n = x.Shape()[0]
	c := i.in[2]
	if i.max {
		y, arg, err := b.MaxPool2D(x, i.win)
		if err != nil {
			return nil, err
		}
		i.argmax = arg
		return b.Reshape(y, []int{i.n, c})
	}
	x3, err := b.Reshape(x, []int{i.n, i.in[0] * i.in[1], c})
	if err != nil {
		return nil, err
	}
	return b.Mean(x3, 1, false)
}

func (i *globalInst) Backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	if i.n == 0 && i.argmax == nil {
		return nil, wrap(i.l, fmt.Errorf("backward pass before a forward pass"))
	}
	if !needDX {
		return nil, nil
	}
	dx, err := i.backward(dy)
	return dx, wrap(i.l, err)
}

func (i *globalInst) backward(dy backend.Tensor) (backend.Tensor, error) {
	b := i.b
	c, hw := i.in[2], i.in[0]*i.in[1]
	xShape := batchShape(i.n, i.in)
	if i.max {
		d, err := b.Reshape(dy, []int{i.n, 1, 1, c})
		if err != nil {
			return nil, err
		}
		return b.MaxPool2DBackward(d, i.argmax, i.win, xShape)
	}
	d, err := b.Reshape(dy, []int{i.n, 1, c})
	if err != nil {
		return nil, err
	}
	if d, err = b.BroadcastTo(d, []int{i.n, hw, c}); err != nil {
		return nil, err
	}
	if d, err = b.Scale(d, 1/float64(hw)); err != nil {
		return nil, err
	}
	return b.Reshape(d, xShape)
}

package layers

import (
	"fmt"

	"github.com/gotfe/gotfe/backend"
)

// Conv2DConfig is the configuration of a [Conv2DLayer].
type Conv2DConfig struct {
	Name              string `json:"name"`
	Filters           int    `json:"filters"`
	KernelSize        [2]int `json:"kernel_size"`
	Strides           [2]int `json:"strides"`
	Padding           string `json:"padding"`
	Activation        string `json:"activation"`
	UseBias           bool   `json:"use_bias"`
	KernelInitializer string `json:"kernel_initializer"`
	BiasInitializer   string `json:"bias_initializer"`
}

// Conv2DLayer is a 2-D convolution over NHWC images: activation(conv(x, kernel) + bias), with
// a kernel [KH, KW, C, filters] and a bias [filters]. It runs as im2col followed by a matrix
// product, which is also how the secure engine computes it.
type Conv2DLayer struct {
	base
	cfg Conv2DConfig
}

// KernelSize is the size of a convolution window: an int for a square window, as Keras's
// kernel_size=3, or [2]int{height, width}.
type KernelSize interface {
	int | [2]int
}

// kernel2 returns a kernel size as (height, width).
func kernel2[K KernelSize](k K) [2]int {
	switch v := any(k).(type) {
	case int:
		return [2]int{v, v}
	case [2]int:
		return v
	}
	return [2]int{}
}

// Conv2D returns a convolution with the given number of filters and kernel size: an int for a
// square window (Conv2D(8, 3)) or [2]int{height, width}. Options: Strides (default (1, 1)),
// Padding ("valid" or "same"), Activation, UseBias, KernelInitializer (default
// glorot_uniform), BiasInitializer, Name.
func Conv2D[K KernelSize](filters int, kernelSize K, opts ...Option) *Conv2DLayer {
	return conv2D(filters, kernel2(kernelSize), opts)
}

func conv2D(filters int, kernelSize [2]int, opts []Option) *Conv2DLayer {
	l := &Conv2DLayer{}
	o, err := collect("Conv2D", opts, "Strides", "Padding", "Activation", "UseBias", "KernelInitializer", "BiasInitializer")
	l.cfg = Conv2DConfig{Filters: filters, KernelSize: kernelSize, Strides: o.strides, Padding: o.padding,
		Activation: o.activation, UseBias: o.useBias, KernelInitializer: o.kernelInit, BiasInitializer: o.biasInit}
	l.name = o.name
	if err == nil {
		err = o.actErr
	}
	if l.err = err; l.err == nil {
		l.err = l.cfg.check()
	}
	return l
}

func newConv2D(c Conv2DConfig) *Conv2DLayer {
	l := &Conv2DLayer{cfg: c}
	l.name, l.err = c.Name, l.cfg.check()
	return l
}

func checkWindowConfig(kernel, strides *[2]int, padding *string, defaultStrides [2]int) error {
	if kernel[0] <= 0 || kernel[1] <= 0 {
		return fmt.Errorf("kernel size %v must be positive", *kernel)
	}
	if *strides == [2]int{} {
		*strides = defaultStrides
	}
	if strides[0] <= 0 || strides[1] <= 0 {
		return fmt.Errorf("strides %v must be positive", *strides)
	}
	if *padding == "" {
		*padding = "valid"
	}
	if *padding != "valid" && *padding != "same" {
		return fmt.Errorf("unknown padding %q (want \"valid\" or \"same\")", *padding)
	}
	return nil
}

func (c *Conv2DConfig) check() error {
	if c.Filters <= 0 {
		return fmt.Errorf("filters must be positive, got %d", c.Filters)
	}
	if err := checkWindowConfig(&c.KernelSize, &c.Strides, &c.Padding, [2]int{1, 1}); err != nil {
		return err
	}
	var err error
	if c.Activation, err = checkActivation(c.Activation); err != nil {
		return err
	}
	return checkInits(&c.KernelInitializer, "glorot_uniform", &c.BiasInitializer)
}

// imageWindow checks an NHWC input shape (without batch) and returns the window over it.
func imageWindow(in []int, kernel, strides [2]int, padding string) (backend.Window, error) {
	if len(in) != 3 {
		return backend.Window{}, fmt.Errorf("input shape %s is not an image (height, width, channels)", backend.FormatShape(in))
	}
	if err := positive(in); err != nil {
		return backend.Window{}, err
	}
	return backend.NewWindow(in[0], in[1], kernel[0], kernel[1], strides[0], strides[1], padding)
}

// ClassName returns "Conv2D".
func (l *Conv2DLayer) ClassName() string { return "Conv2D" }

// Config returns a Conv2DConfig.
func (l *Conv2DLayer) Config() any { c := l.cfg; c.Name = l.name; return c }

func (l *Conv2DLayer) window(in []int) (backend.Window, []int, error) {
	if l.err != nil {
		return backend.Window{}, nil, wrap(l, l.err)
	}
	w, err := imageWindow(in, l.cfg.KernelSize, l.cfg.Strides, l.cfg.Padding)
	if err != nil {
		return w, nil, wrap(l, err)
	}
	oh, ow, _ := w.OutputSize(in[0], in[1])
	return w, []int{oh, ow, l.cfg.Filters}, nil
}

// OutputShape returns [OH, OW, filters].
func (l *Conv2DLayer) OutputShape(in []int) ([]int, error) {
	_, out, err := l.window(in)
	return out, err
}

// Weights returns the kernel [KH, KW, C, filters] and, with a bias, the bias [filters].
func (l *Conv2DLayer) Weights(in []int) ([]WeightSpec, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	c := l.cfg
	w := []WeightSpec{{Name: "kernel", Shape: []int{c.KernelSize[0], c.KernelSize[1], in[2], c.Filters},
		Init: mustInit(c.KernelInitializer), Trainable: true}}
	if c.UseBias {
		w = append(w, WeightSpec{Name: "bias", Shape: []int{c.Filters}, Init: mustInit(c.BiasInitializer), Trainable: true})
	}
	return w, nil
}

// Build returns an instance over vars (kernel, then bias).
func (l *Conv2DLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	win, out, err := l.window(in)
	if err != nil {
		return nil, err
	}
	specs, _ := l.Weights(in)
	if err := checkVars(vars, specs); err != nil {
		return nil, wrap(l, err)
	}
	i := &convInst{l: l, b: b, out: out, win: win, kernel: vars[0]}
	i.fused = newFused(l, in, newAct(b, l.cfg.Activation), i)
	if l.cfg.UseBias {
		i.bias = vars[1]
	}
	return i, nil
}

type convInst struct {
	fused
	l            Layer
	b            backend.Backend
	out          []int
	win          backend.Window
	kernel, bias *backend.Variable
	// x is the last input, whose patches (im2col) the kernel's gradient needs. The layer keeps
	// the input rather than its patches, which repeat every pixel once per window position it
	// lies in (KH·KW times for a stride of 1), and unfolds it again in the backward pass.
	x backend.Tensor
	n int
}

func (i *convInst) forward(x backend.Tensor) (backend.Tensor, error) {
	b := i.b
	i.n = x.Shape()[0]
	cols, err := b.Im2Col(x, i.win)
	if err != nil {
		return nil, err
	}
	i.x = x
	f := i.out[2]
	k2, err := b.Reshape(i.kernel.Value, []int{-1, f})
	if err != nil {
		return nil, err
	}
	z, err := b.MatMul(cols, k2, false, false)
	if err != nil {
		return nil, err
	}
	if i.bias != nil {
		if z, err = b.AddBias(z, i.bias.Value); err != nil {
			return nil, err
		}
	}
	if z, err = b.Reshape(z, batchShape(i.n, i.out)); err != nil {
		return nil, err
	}
	return i.a.forward(z)
}

func (i *convInst) backwardLogits(dz backend.Tensor, needDX bool) (backend.Tensor, error) {
	if i.x == nil {
		return nil, fmt.Errorf("backward pass before a forward pass")
	}
	b := i.b
	f := i.out[2]
	dz2, err := b.Reshape(dz, []int{-1, f})
	if err != nil {
		return nil, err
	}
	cols, err := b.Im2Col(i.x, i.win)
	if err != nil {
		return nil, err
	}
	dk, err := b.MatMul(cols, dz2, true, false)
	if err != nil {
		return nil, err
	}
	if i.kernel.Grad, err = b.Reshape(dk, i.kernel.Value.Shape()); err != nil {
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
	k2, err := b.Reshape(i.kernel.Value, []int{-1, f})
	if err != nil {
		return nil, err
	}
	dcols, err := b.MatMul(dz2, k2, false, true)
	if err != nil {
		return nil, err
	}
	return b.Col2Im(dcols, i.win, batchShape(i.n, i.in))
}

// DepthwiseConv2DConfig is the configuration of a [DepthwiseConv2DLayer].
type DepthwiseConv2DConfig struct {
	Name                 string `json:"name"`
	KernelSize           [2]int `json:"kernel_size"`
	Strides              [2]int `json:"strides"`
	Padding              string `json:"padding"`
	DepthMultiplier      int    `json:"depth_multiplier"`
	Activation           string `json:"activation"`
	UseBias              bool   `json:"use_bias"`
	DepthwiseInitializer string `json:"depthwise_initializer"`
	BiasInitializer      string `json:"bias_initializer"`
}

// DepthwiseConv2DLayer convolves each input channel with its own depth-multiplier filters:
// output channel c*M+m is channel c convolved with kernel[:, :, c, m]. The kernel has shape
// [KH, KW, C, M], the bias [C*M]. It runs as im2col followed by a batch of C small matrix
// products, one per channel.
type DepthwiseConv2DLayer struct {
	base
	cfg DepthwiseConv2DConfig
}

// DepthwiseConv2D returns a depthwise convolution with the given kernel size (an int for a
// square window, or [2]int{height, width}). Options: DepthMultiplier (default 1), Strides,
// Padding, Activation, UseBias, KernelInitializer (the depthwise kernel's, default
// glorot_uniform), BiasInitializer, Name.
func DepthwiseConv2D[K KernelSize](kernelSize K, opts ...Option) *DepthwiseConv2DLayer {
	return depthwiseConv2D(kernel2(kernelSize), opts)
}

func depthwiseConv2D(kernelSize [2]int, opts []Option) *DepthwiseConv2DLayer {
	l := &DepthwiseConv2DLayer{}
	o, err := collect("DepthwiseConv2D", opts, "Strides", "Padding", "DepthMultiplier", "Activation", "UseBias", "KernelInitializer", "BiasInitializer")
	if !o.has("DepthMultiplier") {
		o.depthMult = 1
	}
	l.cfg = DepthwiseConv2DConfig{KernelSize: kernelSize, Strides: o.strides, Padding: o.padding,
		DepthMultiplier: o.depthMult, Activation: o.activation, UseBias: o.useBias,
		DepthwiseInitializer: o.kernelInit, BiasInitializer: o.biasInit}
	l.name = o.name
	if err == nil {
		err = o.actErr
	}
	if l.err = err; l.err == nil {
		l.err = l.cfg.check()
	}
	return l
}

func newDepthwiseConv2D(c DepthwiseConv2DConfig) *DepthwiseConv2DLayer {
	l := &DepthwiseConv2DLayer{cfg: c}
	l.name, l.err = c.Name, l.cfg.check()
	return l
}

func (c *DepthwiseConv2DConfig) check() error {
	if c.DepthMultiplier <= 0 {
		return fmt.Errorf("depth multiplier must be positive, got %d", c.DepthMultiplier)
	}
	if err := checkWindowConfig(&c.KernelSize, &c.Strides, &c.Padding, [2]int{1, 1}); err != nil {
		return err
	}
	var err error
	if c.Activation, err = checkActivation(c.Activation); err != nil {
		return err
	}
	return checkInits(&c.DepthwiseInitializer, "glorot_uniform", &c.BiasInitializer)
}

// ClassName returns "DepthwiseConv2D".
func (l *DepthwiseConv2DLayer) ClassName() string { return "DepthwiseConv2D" }

// Config returns a DepthwiseConv2DConfig.
func (l *DepthwiseConv2DLayer) Config() any { c := l.cfg; c.Name = l.name; return c }

func (l *DepthwiseConv2DLayer) window(in []int) (backend.Window, []int, error) {
	if l.err != nil {
		return backend.Window{}, nil, wrap(l, l.err)
	}
	w, err := imageWindow(in, l.cfg.KernelSize, l.cfg.Strides, l.cfg.Padding)
	if err != nil {
		return w, nil, wrap(l, err)
	}
	oh, ow, _ := w.OutputSize(in[0], in[1])
	return w, []int{oh, ow, in[2] * l.cfg.DepthMultiplier}, nil
}

// OutputShape returns [OH, OW, C*M].
func (l *DepthwiseConv2DLayer) OutputShape(in []int) ([]int, error) {
	_, out, err := l.window(in)
	return out, err
}

// Weights returns the depthwise kernel [KH, KW, C, M] and, with a bias, the bias [C*M].
func (l *DepthwiseConv2DLayer) Weights(in []int) ([]WeightSpec, error) {
	if _, err := l.OutputShape(in); err != nil {
		return nil, err
	}
	c := l.cfg
	w := []WeightSpec{{Name: "depthwise_kernel", Shape: []int{c.KernelSize[0], c.KernelSize[1], in[2], c.DepthMultiplier},
		Init: mustInit(c.DepthwiseInitializer), Trainable: true}}
	if c.UseBias {
		w = append(w, WeightSpec{Name: "bias", Shape: []int{in[2] * c.DepthMultiplier}, Init: mustInit(c.BiasInitializer), Trainable: true})
	}
	return w, nil
}

// Build returns an instance over vars (depthwise kernel, then bias).
func (l *DepthwiseConv2DLayer) Build(b backend.Backend, in []int, vars []*backend.Variable, _ uint64) (Instance, error) {
	win, out, err := l.window(in)
	if err != nil {
		return nil, err
	}
	specs, _ := l.Weights(in)
	if err := checkVars(vars, specs); err != nil {
		return nil, wrap(l, err)
	}
	i := &depthwiseInst{l: l, b: b, out: out, win: win, kernel: vars[0]}
	i.fused = newFused(l, in, newAct(b, l.cfg.Activation), i)
	if l.cfg.UseBias {
		i.bias = vars[1]
	}
	return i, nil
}

type depthwiseInst struct {
	fused
	l            *DepthwiseConv2DLayer
	b            backend.Backend
	out          []int
	win          backend.Window
	kernel, bias *backend.Variable
	colsT        backend.Tensor // patches per channel [C, N*OH*OW, KH*KW]
	n            int
}

// kernelT returns the kernel as one [KH*KW, M] matrix per channel: [C, KH*KW, M].
func (i *depthwiseInst) kernelT() (backend.Tensor, error) {
	c, m := i.in[2], i.l.cfg.DepthMultiplier
	k, err := i.b.Reshape(i.kernel.Value, []int{-1, c, m})
	if err != nil {
		return nil, err
	}
	return i.b.Transpose(k, []int{1, 0, 2})
}

func (i *depthwiseInst) forward(x backend.Tensor) (backend.Tensor, error) {
	b := i.b
	c, m := i.in[2], i.l.cfg.DepthMultiplier
	i.n = x.Shape()[0]
	cols, err := b.Im2Col(x, i.win)
	if err != nil {
		return nil, err
	}
	if cols, err = b.Reshape(cols, []int{-1, i.win.KernelH * i.win.KernelW, c}); err != nil {
		return nil, err
	}
	if i.colsT, err = b.Transpose(cols, []int{2, 0, 1}); err != nil {
		return nil, err
	}
	kt, err := i.kernelT()
	if err != nil {
		return nil, err
	}
	z, err := b.MatMul(i.colsT, kt, false, false) // [C, P, M]
	if err != nil {
		return nil, err
	}
	if z, err = b.Transpose(z, []int{1, 0, 2}); err != nil { // [P, C, M]
		return nil, err
	}
	if z, err = b.Reshape(z, []int{-1, c * m}); err != nil {
		return nil, err
	}
	if i.bias != nil {
		if z, err = b.AddBias(z, i.bias.Value); err != nil {
			return nil, err
		}
	}
	if z, err = b.Reshape(z, batchShape(i.n, i.out)); err != nil {
		return nil, err
	}
	return i.a.forward(z)
}

func (i *depthwiseInst) backwardLogits(dz backend.Tensor, needDX bool) (backend.Tensor, error) {
	if i.colsT == nil {
		return nil, fmt.Errorf("backward pass before a forward pass")
	}
	b := i.b
	c, m := i.in[2], i.l.cfg.DepthMultiplier
	dz2, err := b.Reshape(dz, []int{-1, c * m})
	if err != nil {
		return nil, err
	}
	if i.bias != nil {
		if i.bias.Grad, err = b.Sum(dz2, 0, false); err != nil {
			return nil, err
		}
	}
	g, err := b.Reshape(dz2, []int{-1, c, m})
	if err != nil {
		return nil, err
	}
	if g, err = b.Transpose(g, []int{1, 0, 2}); err != nil { // [C, P, M]
		return nil, err
	}
	dkt, err := b.MatMul(i.colsT, g, true, false) // [C, K, M]
	if err != nil {
		return nil, err
	}
	if dkt, err = b.Transpose(dkt, []int{1, 0, 2}); err != nil { // [K, C, M]
		return nil, err
	}
	if i.kernel.Grad, err = b.Reshape(dkt, i.kernel.Value.Shape()); err != nil {
		return nil, err
	}
	if !needDX {
		return nil, nil
	}
	kt, err := i.kernelT()
	if err != nil {
		return nil, err
	}
	dcolsT, err := b.MatMul(g, kt, false, true) // [C, P, K]
	if err != nil {
		return nil, err
	}
	dcols, err := b.Transpose(dcolsT, []int{1, 2, 0}) // [P, K, C]
	if err != nil {
		return nil, err
	}
	if dcols, err = b.Reshape(dcols, []int{-1, i.win.KernelH * i.win.KernelW * c}); err != nil {
		return nil, err
	}
	return b.Col2Im(dcols, i.win, batchShape(i.n, i.in))
}

package layers

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gotfe/gotfe/backend"
)

// Layer is a layer spec: a configuration from which a model builds one [Instance] per backend.
// Shapes exclude the batch dimension.
type Layer interface {
	// ClassName is the Keras class name, e.g. "Dense".
	ClassName() string
	// Name is the layer's name, e.g. "dense_1"; empty until set by the user or the model.
	Name() string
	// SetName sets the layer's name.
	SetName(name string)
	// OutputShape checks the configuration and the input shape and returns the output shape.
	OutputShape(in []int) ([]int, error)
	// Weights lists the weights of the layer for the input shape, in the order Build expects
	// its variables.
	Weights(in []int) ([]WeightSpec, error)
	// Build makes an instance of the layer on b for the input shape, using vars (created by
	// the caller from Weights, in order) as its weights. seed is a public per-layer seed for
	// any randomness the layer draws at run time (dropout).
	Build(b backend.Backend, in []int, vars []*backend.Variable, seed uint64) (Instance, error)
	// Config returns the JSON-encodable configuration FromConfig rebuilds the layer from.
	Config() any
}

// Instance is a layer built on one backend. Forward keeps what Backward needs, so calls
// alternate: Forward, then at most one Backward for it.
type Instance interface {
	// Forward computes the layer's output for a batch x (batch dimension first). training
	// selects training behaviour (dropout active, batch statistics).
	Forward(x backend.Tensor, training bool) (backend.Tensor, error)
	// Backward takes the gradient of the loss with respect to the last Forward's output, sets
	// the Grad of every trainable variable, and returns the gradient with respect to the
	// input when needDX (nil otherwise, saving the work for a model's first layer).
	Backward(dy backend.Tensor, needDX bool) (backend.Tensor, error)
}

// Stepped is implemented by instances that count their training passes to derive public
// randomness (Dropout's masks). The count is part of a checkpoint, so that training resumes
// with the masks it would have drawn.
type Stepped interface {
	Steps() uint64
	SetSteps(n uint64)
}

// LogitsBackward is implemented by instances whose forward pass ends with an activation
// (Dense, Conv2D, DepthwiseConv2D, Activation). A loss that knows the gradient with respect
// to that activation's input in closed form (softmax with cross-entropy, sigmoid with binary
// cross-entropy: p - y) hands it to BackwardLogits, skipping the activation's derivative.
type LogitsBackward interface {
	// OutputActivation names the activation applied last ("linear" when none).
	OutputActivation() string
	// BackwardLogits is Backward given the gradient with respect to the activation's input.
	BackwardLogits(dz backend.Tensor, needDX bool) (backend.Tensor, error)
}

// WeightSpec describes one weight of a layer.
type WeightSpec struct {
	Name      string      // e.g. "kernel", "bias", "moving_mean"
	Shape     []int       // full shape of the weight
	Init      Initializer // initial values
	Trainable bool        // false for statistics updated by the forward pass
}

// Option is an optional argument of a layer constructor.
type Option interface {
	apply(o *options)
}

// options collects every option any layer takes; each constructor accepts a subset.
type options struct {
	given      []string // option names in the order given
	name       string
	activation string
	actErr     error // from an invalid Activation given as an option
	useBias    bool
	kernelInit string
	biasInit   string
	strides    [2]int
	padding    string
	poolSize   [2]int
	depthMult  int
	seed       uint64
	momentum   float64
	epsilon    float64
	slope      float64   // LeakyReLU's negative slope
	alpha      float64   // ELU's alpha
	alphaInit  string    // PReLU's alpha initializer
	sharedAxes []int     // PReLU's shared axes
	sizeErr    error     // from a Strides or PoolSize of a wrong arity
	offset     float64   // Rescaling
	mean       []float64 // Normalization
	variance   []float64 // Normalization
}

type optionFunc struct {
	key string
	f   func(*options)
}

func (o optionFunc) apply(opts *options) {
	opts.given = append(opts.given, o.key)
	o.f(opts)
}

// Name sets the layer's name (default: the class name in snake case, made unique by the model).
func Name(name string) Option {
	return optionFunc{"Name", func(o *options) { o.name = name }}
}

// UseBias sets whether Dense, Conv2D or DepthwiseConv2D adds a bias (default true).
func UseBias(use bool) Option {
	return optionFunc{"UseBias", func(o *options) { o.useBias = use }}
}

// KernelInitializer names the initializer of the kernel of Dense, Conv2D or DepthwiseConv2D
// (default "glorot_uniform"); see [GetInitializer].
func KernelInitializer(name string) Option {
	return optionFunc{"KernelInitializer", func(o *options) { o.kernelInit = name }}
}

// BiasInitializer names the initializer of a bias (default "zeros").
func BiasInitializer(name string) Option {
	return optionFunc{"BiasInitializer", func(o *options) { o.biasInit = name }}
}

// Strides sets the steps of a convolution or pooling window (default (1, 1) for
// convolutions, the pool size for pooling): Strides(2) for both axes, as Keras's strides=2, or
// Strides(h, w).
func Strides(s ...int) Option {
	return optionFunc{"Strides", func(o *options) { o.strides, o.sizeErr = pair("Strides", s, o.sizeErr) }}
}

// pair returns one or two sizes as (height, width), keeping the first error.
func pair(name string, s []int, prev error) ([2]int, error) {
	switch len(s) {
	case 1:
		return [2]int{s[0], s[0]}, prev
	case 2:
		return [2]int{s[0], s[1]}, prev
	}
	if prev == nil {
		prev = fmt.Errorf("%s takes one size or two (height, width), got %d", name, len(s))
	}
	return [2]int{}, prev
}

// Padding sets "valid" (default) or "same" padding of a convolution or pooling window.
func Padding(p string) Option {
	return optionFunc{"Padding", func(o *options) { o.padding = strings.ToLower(p) }}
}

// PoolSize sets the window of MaxPooling2D or AveragePooling2D (default (2, 2)): PoolSize(3)
// for a square window, or PoolSize(h, w).
func PoolSize(s ...int) Option {
	return optionFunc{"PoolSize", func(o *options) { o.poolSize, o.sizeErr = pair("PoolSize", s, o.sizeErr) }}
}

// DepthMultiplier sets the output channels per input channel of DepthwiseConv2D (default 1).
func DepthMultiplier(m int) Option {
	return optionFunc{"DepthMultiplier", func(o *options) { o.depthMult = m }}
}

// Seed fixes the seed of a Dropout layer's masks (default: derived from the model's seed and
// the layer's position).
func Seed(seed uint64) Option {
	return optionFunc{"Seed", func(o *options) { o.seed = seed }}
}

// Momentum sets the momentum of BatchNormalization's moving statistics (default 0.99).
func Momentum(m float64) Option {
	return optionFunc{"Momentum", func(o *options) { o.momentum = m }}
}

// Epsilon sets the variance epsilon of BatchNormalization (default 0.001).
func Epsilon(eps float64) Option {
	return optionFunc{"Epsilon", func(o *options) { o.epsilon = eps }}
}

// NegativeSlope sets the slope of LeakyReLU below zero (default 0.3, as Keras's layer).
func NegativeSlope(s float64) Option {
	return optionFunc{"NegativeSlope", func(o *options) { o.slope = s }}
}

// Alpha sets ELU's alpha, the value it tends to below zero is -alpha (default 1).
func Alpha(a float64) Option {
	return optionFunc{"Alpha", func(o *options) { o.alpha = a }}
}

// AlphaInitializer names the initializer of PReLU's slopes (default "zeros").
func AlphaInitializer(name string) Option {
	return optionFunc{"AlphaInitializer", func(o *options) { o.alphaInit = name }}
}

// SharedAxes makes PReLU share one slope along the given axes of a sample (counted from 1,
// the batch axis being 0, as in Keras): SharedAxes(1, 2) gives one slope per channel of an
// image.
func SharedAxes(axes ...int) Option {
	return optionFunc{"SharedAxes", func(o *options) { o.sharedAxes = append([]int(nil), axes...) }}
}

// collect applies opts over defaults and returns an error naming any option not in allowed.
func collect(class string, opts []Option, allowed ...string) (options, error) {
	o := options{useBias: true, padding: "valid"}
	for _, opt := range opts {
		if opt == nil {
			return o, fmt.Errorf("%s: nil option", class)
		}
		opt.apply(&o)
	}
	for _, k := range o.given {
		if k != "Name" && !slices.Contains(allowed, k) {
			return o, fmt.Errorf("%s: option %s does not apply to %s", class, k, class)
		}
	}
	if o.sizeErr != nil {
		return o, fmt.Errorf("%s: %w", class, o.sizeErr)
	}
	return o, nil
}

func (o options) has(key string) bool { return slices.Contains(o.given, key) }

// base holds what every built-in layer has: a name and a configuration error.
type base struct {
	name string
	err  error // from the constructor; returned by every method that needs the config
}

// Name returns the layer's name.
func (l *base) Name() string { return l.name }

// SetName sets the layer's name.
func (l *base) SetName(name string) { l.name = name }

// wrap prefixes err with the layer's name and class, as "dense_1 (Dense): ...".
func wrap(l Layer, err error) error {
	if err == nil {
		return nil
	}
	name := l.Name()
	if name == "" {
		name = SnakeCase(l.ClassName())
	}
	return fmt.Errorf("%s (%s): %w", name, l.ClassName(), err)
}

var (
	snake1 = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	snake2 = regexp.MustCompile(`([a-z])([A-Z])`)
)

// SnakeCase converts a class name to the base of Keras's default layer names:
// "MaxPooling2D" becomes "max_pooling2d" and "ReLU" becomes "re_lu".
func SnakeCase(class string) string {
	s := snake1.ReplaceAllString(class, "${1}_${2}")
	return strings.ToLower(snake2.ReplaceAllString(s, "${1}_${2}"))
}

// checkInput returns an error unless x has a batch dimension followed by the built shape.
func checkInput(x backend.Tensor, in []int) error {
	s := x.Shape()
	if len(s) != len(in)+1 || !slices.Equal(s[1:], in) {
		return fmt.Errorf("input of shape %v does not match the built input shape %s",
			s, backend.FormatShape(in))
	}
	return nil
}

// checkVars returns an error unless vars match the specs in number and shape.
func checkVars(vars []*backend.Variable, specs []WeightSpec) error {
	if len(vars) != len(specs) {
		return fmt.Errorf("built with %d variables, want %d", len(vars), len(specs))
	}
	for i, v := range vars {
		if v == nil || v.Value == nil {
			return fmt.Errorf("variable %s has no value", specs[i].Name)
		}
		if !slices.Equal(v.Value.Shape(), specs[i].Shape) {
			return fmt.Errorf("variable %s has shape %v, want %v", specs[i].Name, v.Value.Shape(), specs[i].Shape)
		}
	}
	return nil
}

// positive returns an error unless every dimension of shape is positive.
func positive(in []int) error {
	for _, d := range in {
		if d <= 0 {
			return fmt.Errorf("input shape %s has a non-positive dimension", backend.FormatShape(in))
		}
	}
	return nil
}

// batchShape returns [n, s...].
func batchShape(n int, s []int) []int { return append([]int{n}, s...) }

package layers

import (
	"fmt"
	"math"

	"github.com/gotfe/gotfe/backend"
)

// Initializer makes the initial value of a weight from a public seed, so that every party of a
// secure computation (and the plain engine) starts from the same weights.
type Initializer interface {
	// Name is the Keras name of the initializer, e.g. "glorot_uniform".
	Name() string
	// Init returns a tensor of the given shape.
	Init(b backend.Backend, shape []int, seed uint64) (backend.Tensor, error)
}

type initializer struct {
	name string
	f    func(b backend.Backend, shape []int, seed uint64) (backend.Tensor, error)
}

func (i initializer) Name() string { return i.name }

func (i initializer) Init(b backend.Backend, shape []int, seed uint64) (backend.Tensor, error) {
	return i.f(b, shape, seed)
}

// fans computes Keras's fan-in and fan-out of a weight shape: a matrix [in, out] has fans in
// and out; a convolution kernel [..., in, out] multiplies both by its receptive field.
func fans(shape []int) (fanIn, fanOut float64) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return float64(shape[0]), float64(shape[0])
	}
	rf := 1
	for _, d := range shape[:len(shape)-2] {
		rf *= d
	}
	return float64(shape[len(shape)-2] * rf), float64(shape[len(shape)-1] * rf)
}

func uniform(name string, limit func(fanIn, fanOut float64) float64) Initializer {
	return initializer{name, func(b backend.Backend, shape []int, seed uint64) (backend.Tensor, error) {
		l := limit(fans(shape))
		return b.RandomUniform(shape, -l, l, seed)
	}}
}

// GetInitializer returns the initializer of a Keras name: "glorot_uniform" (limit
// sqrt(6/(fan_in+fan_out))), "he_uniform" (sqrt(6/fan_in)), "lecun_uniform" (sqrt(3/fan_in)),
// "zeros" or "ones". Uniform initializers draw from [-limit, limit).
func GetInitializer(name string) (Initializer, error) {
	switch name {
	case "glorot_uniform":
		return uniform(name, func(i, o float64) float64 { return math.Sqrt(6 / (i + o)) }), nil
	case "he_uniform":
		return uniform(name, func(i, _ float64) float64 { return math.Sqrt(6 / i) }), nil
	case "lecun_uniform":
		return uniform(name, func(i, _ float64) float64 { return math.Sqrt(3 / i) }), nil
	case "zeros":
		return initializer{name, func(b backend.Backend, shape []int, _ uint64) (backend.Tensor, error) {
			return b.Zeros(shape)
		}}, nil
	case "ones":
		return initializer{name, func(b backend.Backend, shape []int, _ uint64) (backend.Tensor, error) {
			return b.Fill(shape, 1)
		}}, nil
	}
	return nil, fmt.Errorf("unknown initializer %q (want glorot_uniform, he_uniform, lecun_uniform, zeros or ones)", name)
}

// mustInit returns a known initializer; for names this package controls.
func mustInit(name string) Initializer {
	i, err := GetInitializer(name)
	if err != nil {
		panic(err)
	}
	return i
}

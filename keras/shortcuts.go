package keras

import (
	"fmt"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/optimizers"
)

// Optimizer returns the optimizer of a name Keras's compile takes, with Keras's defaults:
// "adam" (learning rate 0.001) or "sgd" (0.01), in any case, as in
//
//	model.Compile(keras.Optimizer("adam"), keras.Loss("sparse_categorical_crossentropy"), keras.Metrics("accuracy"))
//
// An unknown name gives an optimizer that Compile rejects with the error.
func Optimizer(name string) optimizers.Optimizer {
	o, err := optimizers.Get(name)
	if err != nil {
		return badOptimizer{err}
	}
	return o
}

// Loss returns the loss of a name Keras's compile takes: "mse" ("mean_squared_error"),
// "binary_crossentropy", "categorical_crossentropy" or "sparse_categorical_crossentropy". An
// unknown name gives a loss that Compile rejects with the error.
func Loss(name string) losses.Loss {
	l, err := losses.Get(name)
	if err != nil {
		return badLoss{err}
	}
	return l
}

// badOptimizer is an optimizer name that was not understood.
type badOptimizer struct{ err error }

func (o badOptimizer) Name() string    { return "unknown" }
func (o badOptimizer) Config() any     { return nil }
func (o badOptimizer) Validate() error { return o.err }
func (o badOptimizer) Build(backend.Backend, []*backend.Variable) (optimizers.Updater, error) {
	return nil, o.err
}

// badLoss is a loss name that was not understood.
type badLoss struct{ err error }

func (l badLoss) Name() string                                      { return "unknown" }
func (l badLoss) Config() any                                       { return nil }
func (l badLoss) FromLogits() bool                                  { return false }
func (l badLoss) TargetSize([]int) (int, error)                     { return 0, l.err }
func (l badLoss) EncodeTargets([]float64, []int) ([]float64, error) { return nil, l.err }
func (l badLoss) Forward(backend.Backend, backend.Tensor, backend.Tensor) (backend.Tensor, error) {
	return nil, l.err
}
func (l badLoss) Backward(backend.Backend, backend.Tensor, backend.Tensor) (backend.Tensor, error) {
	return nil, l.err
}
func (l badLoss) BackwardLogits(backend.Backend, string, backend.Tensor, backend.Tensor) (backend.Tensor, bool, error) {
	return nil, false, l.err
}

// checkLoss returns the error of a loss name Loss did not understand.
func checkLoss(l losses.Loss) error {
	if b, ok := l.(badLoss); ok {
		return fmt.Errorf("%w", b.err)
	}
	return nil
}

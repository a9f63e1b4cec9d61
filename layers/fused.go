package layers

import (
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// fusedCore is what a layer with a fused activation (Dense, Conv2D, DepthwiseConv2D) computes
// itself: the forward pass through the activation, and the backward pass from the gradient
// with respect to the activation's input.
type fusedCore interface {
	forward(x backend.Tensor) (backend.Tensor, error)
	backwardLogits(dz backend.Tensor, needDX bool) (backend.Tensor, error)
}

// fused gives such a layer instance its public passes: the input check, errors that name the
// layer, and the backward pass through the activation's derivative (or, from a fused loss,
// straight from the logits' gradient).
type fused struct {
	layer Layer
	in    []int
	a     act
	core  fusedCore
}

func newFused(l Layer, in []int, a act, core fusedCore) fused {
	return fused{layer: l, in: slices.Clone(in), a: a, core: core}
}

// Forward checks the input's shape and runs the layer.
func (f *fused) Forward(x backend.Tensor, _ bool) (backend.Tensor, error) {
	if err := checkInput(x, f.in); err != nil {
		return nil, wrap(f.layer, err)
	}
	y, err := f.core.forward(x)
	return y, wrap(f.layer, err)
}

// Backward returns the input gradient given the output gradient dy.
func (f *fused) Backward(dy backend.Tensor, needDX bool) (backend.Tensor, error) {
	dz, err := f.a.backward(dy)
	if err != nil {
		return nil, wrap(f.layer, err)
	}
	return f.BackwardLogits(dz, needDX)
}

// OutputActivation names the fused activation ("linear" when none).
func (f *fused) OutputActivation() string { return f.a.name }

// BackwardLogits is Backward given the gradient with respect to the activation's input.
func (f *fused) BackwardLogits(dz backend.Tensor, needDX bool) (backend.Tensor, error) {
	dx, err := f.core.backwardLogits(dz, needDX)
	return dx, wrap(f.layer, err)
}

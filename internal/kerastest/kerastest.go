// Package kerastest holds what tests of several packages need to drive keras models with the
// flat slices of their fixtures: views of flat samples and targets as arrays of the model's
// shapes, and the values of a prediction.
package kerastest

import (
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/nd"
)

// Samples views flat samples as an array of samples of m's input shape (nil stays nil: a
// party that does not own the data).
func Samples(m *keras.Sequential, x []float64) keras.Data {
	if x == nil {
		return nil
	}
	return nd.New(x, append([]int{-1}, m.InputShape()...)...)
}

// Targets views flat targets as an array of the layout m's loss takes: one class index per row
// for the sparse loss, one value per output otherwise.
func Targets(m *keras.Sequential, y []float64) keras.Data {
	if y == nil {
		return nil
	}
	out := m.OutputShape()
	if m.Loss() != nil && m.Loss().Name() == "sparse_categorical_crossentropy" {
		out = out[:len(out)-1]
	}
	return nd.New(y, append([]int{-1}, out...)...)
}

// Values returns the values of a prediction (nil for a party that received none).
func Values(a *nd.Array) []float64 {
	if a == nil {
		return nil
	}
	return a.Data()
}

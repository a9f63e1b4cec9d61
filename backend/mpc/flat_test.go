package mpc_test

import (
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/nd"
)

// xsOf views flat samples as an array of samples of m's input shape (nil stays nil: a party
// that does not own the data).
func xsOf(m *keras.Sequential, x []float64) keras.Data {
	if x == nil {
		return nil
	}
	return nd.New(x, append([]int{-1}, m.InputShape()...)...)
}

// ysOf views flat targets as an array of the layout m's loss takes: one class index per row
// for the sparse loss, one value per output otherwise.
func ysOf(m *keras.Sequential, y []float64) keras.Data {
	if y == nil {
		return nil
	}
	out := m.OutputShape()
	if m.Loss() != nil && m.Loss().Name() == "sparse_categorical_crossentropy" {
		out = out[:len(out)-1]
	}
	return nd.New(y, append([]int{-1}, out...)...)
}

// vals returns the values of a prediction (nil for a party that received none).
func vals(a *nd.Array) []float64 {
	if a == nil {
		return nil
	}
	return a.Data()
}

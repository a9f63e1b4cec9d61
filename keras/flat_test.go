package keras

import "github.com/gotfe/gotfe/nd"

// xs views flat samples as an array of samples of m's input shape.
func xs(m *Sequential, x []float64) *nd.Array {
	if x == nil {
		return nil
	}
	return nd.New(x, append([]int{-1}, m.InputShape()...)...)
}

// ys views flat targets as an array of targets of the layout m's loss takes: one class index
// per row for the sparse loss, one value per output otherwise.
func ys(m *Sequential, y []float64) *nd.Array {
	if y == nil {
		return nil
	}
	out := m.OutputShape()
	if m.loss != nil && m.loss.Name() == "sparse_categorical_crossentropy" {
		out = out[:len(out)-1]
	}
	return nd.New(y, append([]int{-1}, out...)...)
}

package plain

import (
	"fmt"
	"math"

	"github.com/gotfe/gotfe/backend"
)

// ReLU returns max(x, 0) and the mask [x > 0] as a 0/1 tensor.
func (b *Backend) ReLU(x backend.Tensor) (backend.Tensor, backend.Tensor, error) {
	t, err := get("ReLU", x)
	if err != nil {
		return nil, nil, err
	}
	out, mask := like(t), like(t)
	for i, v := range t.data {
		if v > 0 {
			out.data[i], mask.data[i] = v, 1
		}
	}
	return out, mask, nil
}

// Sigmoid returns 1/(1+exp(-x)), computed without overflow for large |x|.
func (b *Backend) Sigmoid(x backend.Tensor) (backend.Tensor, error) {
	return unary("Sigmoid", x, sigmoid)
}

func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

// Tanh returns tanh(x).
func (b *Backend) Tanh(x backend.Tensor) (backend.Tensor, error) { return unary("Tanh", x, math.Tanh) }

// Exp returns e^x.
func (b *Backend) Exp(x backend.Tensor) (backend.Tensor, error) { return unary("Exp", x, math.Exp) }

// Log returns ln(x); values <= 0 give -Inf or NaN as math.Log does.
func (b *Backend) Log(x backend.Tensor) (backend.Tensor, error) { return unary("Log", x, math.Log) }

// Reciprocal returns 1/x.
func (b *Backend) Reciprocal(x backend.Tensor) (backend.Tensor, error) {
	return unary("Reciprocal", x, func(v float64) float64 { return 1 / v })
}

// InvSqrt returns 1/sqrt(x).
func (b *Backend) InvSqrt(x backend.Tensor) (backend.Tensor, error) {
	return unary("InvSqrt", x, func(v float64) float64 { return 1 / math.Sqrt(v) })
}

// rows returns t viewed as rows along its last axis.
func rows(op string, x backend.Tensor) (*Tensor, int, error) {
	t, err := get(op, x)
	if err != nil {
		return nil, 0, err
	}
	if len(t.shape) == 0 || t.shape[len(t.shape)-1] == 0 {
		return nil, 0, fmt.Errorf("plain: %s: shape %v has no last axis to reduce", op, t.shape)
	}
	return t, t.shape[len(t.shape)-1], nil
}

// Softmax returns exp(x - max)/sum along the last axis.
func (b *Backend) Softmax(x backend.Tensor) (backend.Tensor, error) {
	t, n, err := rows("Softmax", x)
	if err != nil {
		return nil, err
	}
	out := like(t)
	for o := 0; o < len(t.data); o += n {
		s, d := t.data[o:o+n], out.data[o:o+n]
		m := s[0]
		for _, v := range s[1:] {
			m = max(m, v)
		}
		sum := 0.0
		for i, v := range s {
			e := math.Exp(v - m)
			d[i] = e
			sum += e
		}
		inv := 1 / sum
		for i := range d {
			d[i] *= inv
		}
	}
	return out, nil
}

// argmaxRow returns the index of the first maximum of s.
func argmaxRow(s []float64) int {
	k := 0
	for i, v := range s {
		if v > s[k] {
			k = i
		}
	}
	return k
}

// ArgMaxMask returns the one-hot mask of the first maximum of every row.
func (b *Backend) ArgMaxMask(x backend.Tensor) (backend.Tensor, error) {
	t, n, err := rows("ArgMaxMask", x)
	if err != nil {
		return nil, err
	}
	out := like(t)
	for o := 0; o < len(t.data); o += n {
		out.data[o+argmaxRow(t.data[o:o+n])] = 1
	}
	return out, nil
}

// ArgMax returns the index of the first maximum of every row.
func (b *Backend) ArgMax(x backend.Tensor, to int) ([]int, error) {
	t, n, err := rows("ArgMax", x)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(t.data)/n)
	for o := 0; o < len(t.data); o += n {
		out = append(out, argmaxRow(t.data[o:o+n]))
	}
	return out, nil
}

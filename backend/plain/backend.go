package plain

import (
	"fmt"
	"math"
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// Backend is the plain float64 engine. The zero value is not used; call [New].
type Backend struct{}

var _ backend.Backend = (*Backend)(nil)

// New returns a plain backend.
func New() *Backend { return &Backend{} }

// Name returns "plain".
func (b *Backend) Name() string { return "plain" }

// Party returns -1: the plain engine plays every party.
func (b *Backend) Party() int { return -1 }

// Input copies data into a tensor of the given shape; owner is ignored. NaN and ±Inf are
// refused, as the secure engine refuses them (they have no fixed-point encoding), so that a
// program that runs in the clear also runs on shares.
func (b *Backend) Input(data []float64, shape []int, owner int) (backend.Tensor, error) {
	if data == nil {
		return nil, fmt.Errorf("plain: Input of shape %v from party %d: no data (the plain engine plays every party, so it needs the owner's values)", shape, owner)
	}
	if err := checkFinite("Input", data); err != nil {
		return nil, err
	}
	return NewTensor(data, shape)
}

// checkFinite returns an error naming the first element of data that is NaN or infinite.
func checkFinite(op string, data []float64) error {
	for i, v := range data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("plain: %s: element %d is %v: not a finite number", op, i, v)
		}
	}
	return nil
}

// Reveal returns a copy of the values of t to every caller.
func (b *Backend) Reveal(t backend.Tensor, to int) ([]float64, error) {
	x, err := get("Reveal", t)
	if err != nil {
		return nil, err
	}
	return slices.Clone(x.data), nil
}

// Const copies data into a tensor of the given shape. NaN and ±Inf are refused, as by Input.
func (b *Backend) Const(data []float64, shape []int) (backend.Tensor, error) {
	if err := checkFinite("Const", data); err != nil {
		return nil, err
	}
	return NewTensor(data, shape)
}

// Fill returns a tensor whose elements all equal v.
func (b *Backend) Fill(shape []int, v float64) (backend.Tensor, error) {
	if err := checkShape("Fill", shape); err != nil {
		return nil, err
	}
	t := newT(shape)
	if v != 0 {
		for i := range t.data {
			t.data[i] = v
		}
	}
	return t, nil
}

// Zeros returns a tensor of zeros.
func (b *Backend) Zeros(shape []int) (backend.Tensor, error) { return b.Fill(shape, 0) }

// RandomUniform returns backend.UniformValues(n, low, high, seed) as a tensor.
func (b *Backend) RandomUniform(shape []int, low, high float64, seed uint64) (backend.Tensor, error) {
	n, err := backend.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("plain: RandomUniform: %w", err)
	}
	if !(low <= high) || math.IsInf(low, 0) || math.IsInf(high, 0) {
		return nil, fmt.Errorf("plain: RandomUniform: bad range [%v, %v)", low, high)
	}
	return &Tensor{shape: slices.Clone(shape), data: backend.UniformValues(n, low, high, seed)}, nil
}

// DropoutMask returns backend.DropoutValues(n, rate, seed) as a tensor.
func (b *Backend) DropoutMask(shape []int, rate float64, seed uint64) (backend.Tensor, error) {
	n, err := backend.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("plain: DropoutMask: %w", err)
	}
	if !(rate >= 0 && rate < 1) {
		return nil, fmt.Errorf("plain: DropoutMask: rate %v not in [0, 1)", rate)
	}
	return &Tensor{shape: slices.Clone(shape), data: backend.DropoutValues(n, rate, seed)}, nil
}

// Reshape returns x with a new shape; the result shares x's (immutable) values.
func (b *Backend) Reshape(x backend.Tensor, shape []int) (backend.Tensor, error) {
	t, err := get("Reshape", x)
	if err != nil {
		return nil, err
	}
	s, err := backend.ResolveShape(shape, len(t.data))
	if err != nil {
		return nil, fmt.Errorf("plain: Reshape %v: %w", t.shape, err)
	}
	return &Tensor{shape: s, data: t.data}, nil
}

// Transpose permutes the axes of x.
func (b *Backend) Transpose(x backend.Tensor, perm []int) (backend.Tensor, error) {
	t, err := get("Transpose", x)
	if err != nil {
		return nil, err
	}
	r := len(t.shape)
	if perm == nil {
		perm = make([]int, r)
		for i := range perm {
			perm[i] = r - 1 - i
		}
	}
	if len(perm) != r {
		return nil, fmt.Errorf("plain: Transpose: permutation %v does not fit shape %v", perm, t.shape)
	}
	seen := make([]bool, r)
	outShape := make([]int, r)
	for i, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return nil, fmt.Errorf("plain: Transpose: %v is not a permutation of the axes of %v", perm, t.shape)
		}
		seen[p] = true
		outShape[i] = t.shape[p]
	}
	out := newT(outShape)
	if len(out.data) == 0 {
		return out, nil
	}
	if r == 2 && perm[0] == 1 {
		transpose2(out.data, t.data, t.shape[0], t.shape[1])
		return out, nil
	}
	// Strides of x seen in the order of the output axes.
	inStride := strides(t.shape)
	st := make([]int, r)
	for i, p := range perm {
		st[i] = inStride[p]
	}
	idx := make([]int, r)
	src := 0
	last := r - 1
	for o := 0; o < len(out.data); {
		// Innermost axis in one loop.
		s, n := st[last], outShape[last]
		for k := 0; k < n; k++ {
			out.data[o] = t.data[src+k*s]
			o++
		}
		// Advance the odometer over the outer axes.
		for a := last - 1; a >= 0; a-- {
			idx[a]++
			src += st[a]
			if idx[a] < outShape[a] {
				break
			}
			src -= st[a] * idx[a]
			idx[a] = 0
		}
	}
	return out, nil
}

// transpose2 writes the transpose of the rows×cols matrix src into dst, in cache blocks.
func transpose2(dst, src []float64, rows, cols int) {
	const blk = 32
	for i0 := 0; i0 < rows; i0 += blk {
		i1 := min(i0+blk, rows)
		for j0 := 0; j0 < cols; j0 += blk {
			j1 := min(j0+blk, cols)
			for i := i0; i < i1; i++ {
				for j := j0; j < j1; j++ {
					dst[j*rows+i] = src[i*cols+j]
				}
			}
		}
	}
}

func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// BroadcastTo repeats x to shape by the NumPy rule.
func (b *Backend) BroadcastTo(x backend.Tensor, shape []int) (backend.Tensor, error) {
	t, err := get("BroadcastTo", x)
	if err != nil {
		return nil, err
	}
	if err := checkShape("BroadcastTo", shape); err != nil {
		return nil, err
	}
	r := len(shape)
	if len(t.shape) > r {
		return nil, fmt.Errorf("plain: BroadcastTo: cannot broadcast %v to %v", t.shape, shape)
	}
	// Input strides aligned on the output's axes; 0 where the axis repeats.
	st := make([]int, r)
	inSt := strides(t.shape)
	off := r - len(t.shape)
	for i := range t.shape {
		switch d := t.shape[i]; {
		case d == shape[off+i]:
			st[off+i] = inSt[i]
		case d == 1:
		default:
			return nil, fmt.Errorf("plain: BroadcastTo: cannot broadcast %v to %v", t.shape, shape)
		}
	}
	out := newT(shape)
	if len(out.data) == 0 {
		return out, nil
	}
	if r == 0 {
		out.data[0] = t.data[0]
		return out, nil
	}
	idx := make([]int, r)
	src := 0
	last := r - 1
	for o := 0; o < len(out.data); {
		s, n := st[last], shape[last]
		if s == 0 {
			v := t.data[src]
			for k := 0; k < n; k++ {
				out.data[o+k] = v
			}
		} else {
			copy(out.data[o:o+n], t.data[src:src+n])
		}
		o += n
		for a := last - 1; a >= 0; a-- {
			idx[a]++
			src += st[a]
			if idx[a] < shape[a] {
				break
			}
			src -= st[a] * idx[a]
			idx[a] = 0
		}
	}
	return out, nil
}

// binary applies f elementwise to two operands of the same shape.
func binary(op string, a, b backend.Tensor, f func(dst, x, y []float64)) (backend.Tensor, error) {
	x, y, err := get2(op, a, b)
	if err != nil {
		return nil, err
	}
	out := like(x)
	f(out.data, x.data, y.data)
	return out, nil
}

// unary applies f elementwise.
func unary(op string, a backend.Tensor, f func(v float64) float64) (backend.Tensor, error) {
	x, err := get(op, a)
	if err != nil {
		return nil, err
	}
	out := like(x)
	for i, v := range x.data {
		out.data[i] = f(v)
	}
	return out, nil
}

// Add returns a + b.
func (b *Backend) Add(x, y backend.Tensor) (backend.Tensor, error) {
	return binary("Add", x, y, func(d, p, q []float64) {
		for i := range d {
			d[i] = p[i] + q[i]
		}
	})
}

// Sub returns a - b.
func (b *Backend) Sub(x, y backend.Tensor) (backend.Tensor, error) {
	return binary("Sub", x, y, func(d, p, q []float64) {
		for i := range d {
			d[i] = p[i] - q[i]
		}
	})
}

// Mul returns the elementwise product.
func (b *Backend) Mul(x, y backend.Tensor) (backend.Tensor, error) {
	return binary("Mul", x, y, func(d, p, q []float64) {
		for i := range d {
			d[i] = p[i] * q[i]
		}
	})
}

// Maximum returns the elementwise maximum.
func (b *Backend) Maximum(x, y backend.Tensor) (backend.Tensor, error) {
	return binary("Maximum", x, y, func(d, p, q []float64) {
		for i := range d {
			d[i] = max(p[i], q[i])
		}
	})
}

// MulMask returns x where mask is set (non-zero) and 0 elsewhere.
func (b *Backend) MulMask(x, mask backend.Tensor) (backend.Tensor, error) {
	return binary("MulMask", x, mask, func(d, p, m []float64) {
		for i := range d {
			if m[i] != 0 {
				d[i] = p[i]
			}
		}
	})
}

// AddBias adds bias to every row of x along the last axis.
func (b *Backend) AddBias(x, bias backend.Tensor) (backend.Tensor, error) {
	t, err := get("AddBias", x)
	if err != nil {
		return nil, err
	}
	v, err := get("AddBias", bias)
	if err != nil {
		return nil, err
	}
	if len(t.shape) == 0 || len(v.shape) != 1 || v.shape[0] != t.shape[len(t.shape)-1] {
		return nil, fmt.Errorf("plain: AddBias: bias shape %v does not match the last axis of %v", v.shape, t.shape)
	}
	out := like(t)
	n := v.shape[0]
	if n == 0 {
		return out, nil
	}
	for o := 0; o < len(t.data); o += n {
		d, s := out.data[o:o+n], t.data[o:o+n]
		for i := range d {
			d[i] = s[i] + v.data[i]
		}
	}
	return out, nil
}

// Neg returns -x.
func (b *Backend) Neg(x backend.Tensor) (backend.Tensor, error) {
	return unary("Neg", x, func(v float64) float64 { return -v })
}

// Scale returns s*x.
func (b *Backend) Scale(x backend.Tensor, s float64) (backend.Tensor, error) {
	return unary("Scale", x, func(v float64) float64 { return s * v })
}

// AddScalar returns x + s.
func (b *Backend) AddScalar(x backend.Tensor, s float64) (backend.Tensor, error) {
	return unary("AddScalar", x, func(v float64) float64 { return v + s })
}

// Clip limits x to [lo, hi].
func (b *Backend) Clip(x backend.Tensor, lo, hi float64) (backend.Tensor, error) {
	if !(lo <= hi) {
		return nil, fmt.Errorf("plain: Clip: bounds [%v, %v] are empty", lo, hi)
	}
	return unary("Clip", x, func(v float64) float64 { return min(max(v, lo), hi) })
}

// Sum adds along axis.
func (b *Backend) Sum(x backend.Tensor, axis int, keepDims bool) (backend.Tensor, error) {
	t, err := get("Sum", x)
	if err != nil {
		return nil, err
	}
	return sumAxis("Sum", t, axis, keepDims, 1)
}

// Mean averages along axis.
func (b *Backend) Mean(x backend.Tensor, axis int, keepDims bool) (backend.Tensor, error) {
	t, err := get("Mean", x)
	if err != nil {
		return nil, err
	}
	a, err := backend.NormAxis(axis, len(t.shape))
	if err != nil {
		return nil, fmt.Errorf("plain: Mean of %v: %w", t.shape, err)
	}
	if t.shape[a] == 0 {
		return nil, fmt.Errorf("plain: Mean of %v over empty axis %d", t.shape, axis)
	}
	return sumAxis("Mean", t, a, keepDims, 1/float64(t.shape[a]))
}

func sumAxis(op string, t *Tensor, axis int, keepDims bool, scale float64) (backend.Tensor, error) {
	a, err := backend.NormAxis(axis, len(t.shape))
	if err != nil {
		return nil, fmt.Errorf("plain: %s of %v: %w", op, t.shape, err)
	}
	outer, inner := 1, 1
	for _, d := range t.shape[:a] {
		outer *= d
	}
	for _, d := range t.shape[a+1:] {
		inner *= d
	}
	n := t.shape[a]
	var shape []int
	if keepDims {
		shape = slices.Clone(t.shape)
		shape[a] = 1
	} else {
		shape = slices.Concat(t.shape[:a], t.shape[a+1:])
	}
	out := newT(shape)
	for o := 0; o < outer; o++ {
		d := out.data[o*inner : (o+1)*inner]
		for k := 0; k < n; k++ {
			s := t.data[(o*n+k)*inner : (o*n+k+1)*inner]
			for i := range d {
				d[i] += s[i]
			}
		}
		if scale != 1 {
			for i := range d {
				d[i] *= scale
			}
		}
	}
	return out, nil
}

// SumAll adds every element into a scalar.
func (b *Backend) SumAll(x backend.Tensor) (backend.Tensor, error) {
	t, err := get("SumAll", x)
	if err != nil {
		return nil, err
	}
	s := 0.0
	for _, v := range t.data {
		s += v
	}
	return &Tensor{shape: []int{}, data: []float64{s}}, nil
}

var _ backend.Padder = (*Backend)(nil)

// Pad2D pads the images of x [N, H, W, C] with zeros, or crops them (negative pads).
func (b *Backend) Pad2D(x backend.Tensor, pads [4]int) (backend.Tensor, error) {
	t, err := get("Pad2D", x)
	if err != nil {
		return nil, err
	}
	data, shape, err := backend.PadImages(t.data, t.shape, pads)
	if err != nil {
		return nil, fmt.Errorf("plain: %w", err)
	}
	return &Tensor{shape: shape, data: data}, nil
}

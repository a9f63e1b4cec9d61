package ring

import (
	"errors"
	"testing"
)

// FuzzTensorOps feeds arbitrary shapes, axes and geometries to every tensor-level function:
// each must return a result or an error wrapping ErrShape, never panic.
func FuzzTensorOps(f *testing.F) {
	f.Add([]byte{2, 3, 4}, 6, 1, 0, 2, []byte{1, 0, 2})
	f.Add([]byte{}, 0, 0, 0, 0, []byte{})
	f.Add([]byte{5, 0, 1}, 5, 2, 3, 1, []byte{2, 2, 0})
	f.Add([]byte{1, 2, 2, 1}, 4, 3, 1, 2, []byte{0, 3, 1, 2})
	f.Fuzz(func(t *testing.T, dims []byte, n, axis, start, end int, perm []byte) {
		if len(dims) > 5 || len(perm) > 6 || n < 0 || n > 512 {
			return
		}
		shape := make([]int, len(dims))
		for i, d := range dims {
			shape[i] = int(int8(d)) // negative dimensions too
		}
		// Data of any length n: matching the shape or not.
		x := &Tensor{Shape: shape, Data: make([]uint64, n)}
		for i := range x.Data {
			x.Data[i] = uint64(i) * 0x9e3779b97f4a7c15
		}
		p := make([]int, len(perm))
		for i, v := range perm {
			p[i] = int(int8(v))
		}
		check := func(_ *Tensor, err error) {
			if err != nil && !errors.Is(err, ErrShape) {
				t.Fatalf("error does not wrap ErrShape: %v", err)
			}
		}
		check(Transpose(x))
		check(Permute(x, p...))
		check(Slice(x, axis, start, end))
		check(Concat(axis, x, x))
		check(SumAxis(x, axis))
		check(AddBias(x, &Tensor{Shape: []int{end}, Data: make([]uint64, max(0, min(end, 64)))}))
		check(Add(x, x))
		check(Mul(x, &Tensor{Shape: p, Data: x.Data}))
		check(Neg(x))
		check(Scale(x, 3))
		check(MatMul(x, x))
		check(MatMul(x, &Tensor{Shape: p, Data: x.Data}))
		if len(shape) == 4 {
			g := ConvGeom{N: shape[0], H: shape[1], W: shape[2], C: shape[3], KH: axis, KW: start,
				StrideH: end, StrideW: 1, PadTop: n % 3, PadBottom: n % 2, OutH: shape[1], OutW: shape[2]}
			check(Im2Col(x, g))
			check(Col2Im(x, g))
		}
	})
}

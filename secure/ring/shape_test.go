package ring

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randTensor(r *rand.Rand, shape ...int) *Tensor {
	t := MustNew(shape...)
	for i := range t.Data {
		t.Data[i] = r.Uint64()
	}
	return t
}

// strides returns the row-major strides of shape.
func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// unravel returns the multi-index of flat offset o in shape.
func unravel(o int, shape []int) []int {
	idx := make([]int, len(shape))
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] > 0 {
			idx[i] = o % shape[i]
			o /= shape[i]
		}
	}
	return idx
}

func TestTransposeTo(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	for _, s := range [][2]int{{1, 1}, {1, 7}, {7, 1}, {2, 3}, {8, 8}, {9, 9}, {8, 17}, {16, 16}, {17, 33}, {100, 37}, {65, 130}, {128, 784}, {200, 3}} {
		m, n := s[0], s[1]
		a := randSlice(r, m*n)
		got := make([]uint64, m*n)
		TransposeTo(got, a, m, n)
		want := make([]uint64, m*n)
		for i := range m {
			for j := range n {
				want[j*m+i] = a[i*n+j]
			}
		}
		require.Equal(t, want, got, "%dx%d", m, n)
	}
	TransposeTo(nil, nil, 0, 5)
}

func TestTranspose(t *testing.T) {
	x, err := FromData([]uint64{1, 2, 3, 4, 5, 6}, 2, 3)
	require.NoError(t, err)
	y, err := Transpose(x)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 2}, y.Shape)
	assert.Equal(t, []uint64{1, 4, 2, 5, 3, 6}, y.Data)

	for _, bad := range []*Tensor{nil, MustNew(2, 3, 4), MustNew(6), {Shape: []int{2, 3}, Data: make([]uint64, 5)}} {
		_, err := Transpose(bad)
		assert.ErrorIs(t, err, ErrShape)
	}
}

func TestPermute(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	cases := []struct {
		shape, perm []int
	}{
		{[]int{5}, []int{0}},
		{[]int{3, 4}, []int{1, 0}},
		{[]int{3, 4}, []int{0, 1}},
		{[]int{2, 3, 4}, []int{0, 2, 1}},
		{[]int{2, 3, 4}, []int{2, 0, 1}},
		{[]int{2, 3, 4}, []int{1, 2, 0}},
		{[]int{2, 3, 4}, []int{1, 0, 2}},
		{[]int{2, 3, 4}, []int{2, 1, 0}},
		{[]int{2, 5, 6, 3}, []int{0, 3, 1, 2}}, // NHWC -> NCHW
		{[]int{2, 3, 5, 6}, []int{0, 2, 3, 1}}, // NCHW -> NHWC
		{[]int{3, 1, 4, 1, 2}, []int{4, 2, 0, 3, 1}},
		{[]int{2, 3, 4, 5}, []int{3, 1, 2, 0}},
		{[]int{2, 3, 4, 5}, []int{1, 3, 0, 2}},
		{[]int{4, 0, 3}, []int{2, 1, 0}},
		{[]int{1, 1}, []int{1, 0}},
		{[]int{}, []int{}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v/%v", c.shape, c.perm), func(t *testing.T) {
			x := randTensor(r, c.shape...)
			y, err := Permute(x, c.perm...)
			require.NoError(t, err)
			outShape := make([]int, len(c.perm))
			for i, p := range c.perm {
				outShape[i] = c.shape[p]
			}
			require.Equal(t, outShape, y.Shape)
			st := strides(c.shape)
			for o := range y.Data {
				idx := unravel(o, outShape)
				src := 0
				for i, p := range c.perm {
					src += idx[i] * st[p]
				}
				require.Equal(t, x.Data[src], y.Data[o], "output %v", idx)
			}
		})
	}
	x := MustNew(2, 3, 4)
	for _, perm := range [][]int{{0, 1}, {0, 1, 1}, {0, 1, 3}, {-1, 0, 1}, {0, 1, 2, 3}} {
		_, err := Permute(x, perm...)
		assert.ErrorIs(t, err, ErrShape, "%v", perm)
	}
	_, err := Permute(&Tensor{Shape: []int{2, 2}, Data: make([]uint64, 3)}, 1, 0)
	assert.ErrorIs(t, err, ErrShape)
}

func TestSliceAndConcat(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 15))
	x := randTensor(r, 3, 4, 5)
	for axis := range 3 {
		d := x.Shape[axis]
		// Cut x in three along axis and join the pieces back.
		a, b := d/3, 2*d/3+1
		p0, err := Slice(x, axis, 0, a)
		require.NoError(t, err)
		p1, err := Slice(x, axis, a, b)
		require.NoError(t, err)
		p2, err := Slice(x, axis, b, d)
		require.NoError(t, err)
		assert.Equal(t, b-a, p1.Shape[axis])
		st := strides(x.Shape)
		for o, v := range p1.Data {
			idx := unravel(o, p1.Shape)
			idx[axis] += a
			src := 0
			for i := range idx {
				src += idx[i] * st[i]
			}
			require.Equal(t, x.Data[src], v)
		}
		y, err := Concat(axis, p0, p1, p2)
		require.NoError(t, err)
		assert.Equal(t, x, y, "axis %d", axis)
	}
	one, err := Concat(1, x)
	require.NoError(t, err)
	assert.Equal(t, x, one)

	for _, c := range []struct{ axis, start, end int }{{3, 0, 1}, {-1, 0, 1}, {0, -1, 1}, {0, 2, 1}, {0, 0, 4}} {
		_, err := Slice(x, c.axis, c.start, c.end)
		assert.ErrorIs(t, err, ErrShape, "%+v", c)
	}
	_, err = Slice(nil, 0, 0, 0)
	assert.ErrorIs(t, err, ErrShape)

	for _, c := range []struct {
		axis int
		ts   []*Tensor
	}{
		{0, nil},
		{0, []*Tensor{x, MustNew(3, 4)}},
		{0, []*Tensor{x, MustNew(3, 5, 5)}},
		{1, []*Tensor{x, MustNew(2, 4, 5)}},
		{3, []*Tensor{x, x}},
		{0, []*Tensor{x, nil}},
		{0, []*Tensor{x, {Shape: []int{1, 4, 5}, Data: make([]uint64, 3)}}},
	} {
		_, err := Concat(c.axis, c.ts...)
		assert.ErrorIs(t, err, ErrShape)
	}
}

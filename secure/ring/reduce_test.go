package ring

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSumAxis(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 21))
	for _, shape := range [][]int{{7}, {3, 4}, {2, 3, 4}, {5, 1, 6}, {2, 0, 3}} {
		x := randTensor(r, shape...)
		for axis := range shape {
			y, err := SumAxis(x, axis)
			require.NoError(t, err)
			want := make([]int, 0, len(shape)-1)
			want = append(append(want, shape[:axis]...), shape[axis+1:]...)
			require.Equal(t, want, y.Shape)
			ref := make([]uint64, len(y.Data))
			for o, v := range x.Data {
				idx := unravel(o, shape)
				idx = append(idx[:axis], idx[axis+1:]...)
				dst := 0
				for i, s := range strides(want) {
					dst += idx[i] * s
				}
				ref[dst] += v
			}
			require.Equal(t, ref, y.Data, "%v axis %d", shape, axis)
		}
	}
	for _, axis := range []int{-1, 2} {
		_, err := SumAxis(MustNew(2, 2), axis)
		assert.ErrorIs(t, err, ErrShape)
	}
	_, err := SumAxis(MustNew(), 0)
	assert.ErrorIs(t, err, ErrShape)
}

func TestAddBias(t *testing.T) {
	x, _ := FromData([]uint64{1, 2, 3, 4, 5, 6}, 2, 3)
	b, _ := FromData([]uint64{10, 20, ^uint64(0)}, 3)
	y, err := AddBias(x, b)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 3}, y.Shape)
	assert.Equal(t, []uint64{11, 22, 2, 14, 25, 5}, y.Data)

	// NHWC conv output: the bias runs over channels.
	r := rand.New(rand.NewPCG(22, 23))
	z := randTensor(r, 2, 3, 3, 4)
	bias := randTensor(r, 4)
	out, err := AddBias(z, bias)
	require.NoError(t, err)
	for i, v := range z.Data {
		require.Equal(t, v+bias.Data[i%4], out.Data[i])
	}

	for _, c := range []struct{ t, b *Tensor }{
		{x, MustNew(2)},
		{x, MustNew(1, 3)},
		{MustNew(), MustNew(1)},
		{nil, b},
		{x, nil},
	} {
		_, err := AddBias(c.t, c.b)
		assert.ErrorIs(t, err, ErrShape)
	}
}

func TestTensorElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(24, 25))
	a, b := randTensor(r, 3, 5), randTensor(r, 3, 5)
	c := uint64(0xdeadbeefcafe)
	binaries := []struct {
		name string
		fn   func(a, b *Tensor) (*Tensor, error)
		ref  func(x, y uint64) uint64
	}{
		{"add", Add, func(x, y uint64) uint64 { return x + y }},
		{"sub", Sub, func(x, y uint64) uint64 { return x - y }},
		{"mul", Mul, func(x, y uint64) uint64 { return x * y }},
	}
	for _, op := range binaries {
		got, err := op.fn(a, b)
		require.NoError(t, err, op.name)
		assert.Equal(t, a.Shape, got.Shape)
		for i := range got.Data {
			require.Equal(t, op.ref(a.Data[i], b.Data[i]), got.Data[i], op.name)
		}
		_, err = op.fn(a, MustNew(5, 3))
		assert.ErrorIs(t, err, ErrShape, op.name)
		_, err = op.fn(nil, b)
		assert.ErrorIs(t, err, ErrShape, op.name)
	}
	neg, err := Neg(a)
	require.NoError(t, err)
	scaled, err := Scale(a, c)
	require.NoError(t, err)
	for i, v := range a.Data {
		require.Equal(t, -v, neg.Data[i])
		require.Equal(t, c*v, scaled.Data[i])
	}
	bad := &Tensor{Shape: []int{2}, Data: make([]uint64, 3)}
	_, err = Neg(bad)
	assert.ErrorIs(t, err, ErrShape)
	_, err = Scale(bad, 2)
	assert.ErrorIs(t, err, ErrShape)
}

func TestPairDiffsTo(t *testing.T) {
	for _, c := range []struct {
		name            string
		outer, m, inner int
		data, want      []uint64
	}{
		{"one pair", 1, 2, 1, []uint64{5, 7}, []uint64{^uint64(1)}},
		{"odd last left alone", 1, 3, 1, []uint64{9, 4, 100}, []uint64{5}},
		{"inner and outer", 2, 2, 2, []uint64{10, 20, 1, 2, 3, 4, 30, 40}, []uint64{9, 18, ^uint64(26), ^uint64(35)}},
		{"two pairs", 1, 4, 1, []uint64{1, 2, 8, 3}, []uint64{^uint64(0), 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := make([]uint64, len(c.want))
			PairDiffsTo(got, c.data, c.outer, c.m, c.inner)
			require.Equal(t, c.want, got)
		})
	}
}

func TestPairWinnersTo(t *testing.T) {
	for _, c := range []struct {
		name              string
		outer, m, inner   int
		data, delta, want []uint64
	}{
		{"one pair, right selected", 1, 2, 1, []uint64{5, 7}, []uint64{2}, []uint64{7}},
		{"odd last carried", 1, 3, 1, []uint64{9, 4, 100}, []uint64{0}, []uint64{9, 100}},
		{"inner and outer", 2, 2, 2, []uint64{10, 20, 1, 2, 3, 4, 30, 40}, []uint64{0, ^uint64(17), 27, 0}, []uint64{10, 2, 30, 4}},
		{"odd with inner and outer", 2, 3, 1, []uint64{1, 2, 3, 4, 5, 6}, []uint64{1, 0}, []uint64{2, 3, 4, 6}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := make([]uint64, len(c.want))
			PairWinnersTo(got, c.data, c.delta, c.outer, c.m, c.inner)
			require.Equal(t, c.want, got)
		})
	}
}

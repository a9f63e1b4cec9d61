package nd_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/gotfe/gotfe/nd"
)

func TestArray(t *testing.T) {
	a := nd.New([]float64{1, 2, 3, 4, 5, 6}, 3, 2)
	require.NoError(t, a.Err())
	assert.Equal(t, []int{3, 2}, a.Shape())
	assert.Equal(t, 3, a.Len())
	assert.Equal(t, 4.0, a.At(1, 1))
	assert.True(t, math.IsNaN(a.At(3, 0)), "outside the array")
	assert.True(t, math.IsNaN(a.At(1)), "wrong number of coordinates")
	assert.Equal(t, "nd.Array(3, 2)", a.String())
	assert.Equal(t, []int{2, 3}, a.Reshape(-1, 3).Shape())
	assert.Equal(t, []float64{3, 4, 5, 6}, a.Slice(1, 3).Data())
	assert.Equal(t, []int{2, 2}, a.Slice(1, 3).Shape())

	for _, tc := range []struct {
		name string
		a    *nd.Array
		want string
	}{
		{"too few", nd.New([]float64{1, 2, 3}, 2, 2), "nd: 3 values do not fit shape (2, 2): the shape has 4 elements"},
		{"no fit for -1", nd.New([]float64{1, 2, 3}, -1, 2), "nd: 3 values do not fit shape (-1, 2): 3 is not a multiple of 2"},
		{"reshape", a.Reshape(4, 2), "nd: cannot reshape (3, 2) to (4, 2): the shape has 8 elements"},
		{"slice", a.Slice(2, 4), "nd: slice [2:4] of an array of shape (3, 2)"},
		{"ragged rows", nd.Rows([][]float64{{1, 2}, {3}}), "nd: row 1 has 1 values, row 0 has 2"},
		{"nil matrix", nd.Matrix(nil), "nd: nil matrix"},
		{"one-hot label", nd.OneHot(nd.Labels([]int{0, 3}), 3), "nd: one-hot: label 1 is 3, not a class in [0, 3)"},
		{"one-hot shape", nd.OneHot(a, 3), "nd: one-hot: labels of shape (3, 2), want (n,)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.EqualError(t, tc.a.Err(), tc.want)
			_, _, err := tc.a.Array()
			assert.EqualError(t, err, tc.want, "the error reaches whoever reads the array")
			assert.Equal(t, 0, tc.a.Len())
		})
	}
	var none *nd.Array
	s, v, err := none.Array()
	assert.Nil(t, s)
	assert.Nil(t, v)
	assert.NoError(t, err, "a nil array is no data (a party that does not own any)")
}

func TestConstructors(t *testing.T) {
	r := nd.Rows([][]float64{{1, 2, 3}, {4, 5, 6}})
	assert.Equal(t, []int{2, 3}, r.Shape())
	assert.Equal(t, []float64{1, 2, 3, 4, 5, 6}, r.Data())
	l := nd.Labels([]int{2, 0, 1})
	assert.Equal(t, []int{3}, l.Shape())
	ints, err := l.Ints()
	require.NoError(t, err)
	assert.Equal(t, []int{2, 0, 1}, ints)
	_, err = nd.New([]float64{1, 2.5}, 2).Ints()
	assert.EqualError(t, err, "nd: value 1 is 2.5, not an integer")
	oh := nd.OneHot(l, 3)
	assert.Equal(t, []int{3, 3}, oh.Shape())
	assert.Equal(t, []float64{0, 0, 1, 1, 0, 0, 0, 1, 0}, oh.Data())
	assert.Equal(t, oh.Data(), nd.OneHot(l.Reshape(3, 1), 3).Data())
	z := nd.Zeros(2, 2)
	assert.Equal(t, []float64{0, 0, 0, 0}, z.Data())
	assert.Equal(t, "(3,)", nd.Format([]int{3}))

	// A gonum matrix, dense or not, row by row.
	d := mat.NewDense(2, 3, []float64{1, 2, 3, 4, 5, 6})
	assert.Equal(t, r.Data(), nd.Matrix(d).Data())
	assert.Equal(t, []int{3, 2}, nd.Matrix(d.T()).Shape())
	assert.Equal(t, []float64{1, 4, 2, 5, 3, 6}, nd.Matrix(d.T()).Data())
	sub := d.Slice(0, 2, 1, 3) // strided view
	assert.Equal(t, []float64{2, 3, 5, 6}, nd.Matrix(sub).Data())
}

// Arrays carry their shape: the first axis counts samples.
func ExampleNew() {
	x := nd.New([]float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, 3, 2) // 3 samples of 2 features
	fmt.Println(x, x.Len(), x.At(2, 1))
	y := nd.Labels([]int{1, 0, 1})
	fmt.Println(y, nd.OneHot(y, 2).Data())
	bad := nd.New([]float64{1, 2, 3}, 1, 2)
	fmt.Println(bad.Err())
	// Output:
	// nd.Array(3, 2) 3 0.6
	// nd.Array(3,) [0 1 1 0 0 1]
	// nd: 3 values do not fit shape (1, 2): the shape has 2 elements
}

// An indexed array reads as the float64 array of its table's values, through every method, and
// gathers exactly the rows asked for.
func TestIndexed(t *testing.T) {
	table := []float64{0, 0.5, -1.25, 3}
	codes := []byte{0, 1, 2, 3, 3, 2, 1, 0}
	want := []float64{0, 0.5, -1.25, 3, 3, -1.25, 0.5, 0}
	a := nd.Indexed(codes, table, 4, 2)
	f := nd.New(want, 4, 2)
	require.NoError(t, a.Err())
	assert.Equal(t, f.Shape(), a.Shape())
	assert.Equal(t, want, a.Data())
	s, v, err := a.Array()
	require.NoError(t, err)
	assert.Equal(t, []int{4, 2}, s)
	assert.Equal(t, want, v)
	d, err := a.Dims()
	require.NoError(t, err)
	assert.Equal(t, []int{4, 2}, d)
	assert.Equal(t, -1.25, a.At(2, 1))
	assert.True(t, math.IsNaN(a.At(4, 0)))
	assert.Equal(t, f.Slice(1, 3).Data(), a.Slice(1, 3).Data())
	assert.Equal(t, f.Reshape(2, -1).Data(), a.Reshape(2, -1).Data())
	assert.Equal(t, []int{2, 4}, a.Reshape(2, -1).Shape())
	_, err = a.Ints()
	assert.EqualError(t, err, "nd: value 1 is 0.5, not an integer")

	for _, tc := range []struct {
		name string
		arr  *nd.Array
		rows []int
	}{
		{"float64 rows", f, []int{3, 0, 3}},
		{"indexed rows", a, []int{3, 0, 3}},
		{"indexed slice", a.Slice(1, 4), []int{2, 0}},
		{"none", a, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh, _ := tc.arr.Dims()
			all := tc.arr.Data()
			dst := make([]float64, len(tc.rows)*sh[1])
			require.NoError(t, tc.arr.GatherTo(dst, tc.rows))
			for k, r := range tc.rows {
				assert.Equal(t, all[r*sh[1]:(r+1)*sh[1]], dst[k*sh[1]:(k+1)*sh[1]], "row %d", k)
			}
		})
	}
	assert.EqualError(t, a.GatherTo(make([]float64, 2), []int{4}), "nd: gather: sample 4 at position 0, want 0..3")
	assert.EqualError(t, a.GatherTo(make([]float64, 3), []int{0}), "nd: gather: dst holds 3 values, want 1 samples of 2")

	for _, tc := range []struct {
		name string
		a    *nd.Array
		want string
	}{
		{"shape", nd.Indexed(codes, table, 3, 2), "nd: 8 values do not fit shape (3, 2): the shape has 6 elements"},
		{"code", nd.Indexed([]byte{0, 4}, table, 2), "nd: indexed array: element 1 has code 4, beyond the table of 4 values"},
		{"empty table", nd.Indexed([]byte{0}, nil, 1), "nd: indexed array: a table of 0 values, want 1 to 256"},
		{"large table", nd.Indexed([]byte{0}, make([]float64, 257), 1), "nd: indexed array: a table of 257 values, want 1 to 256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.EqualError(t, tc.a.Err(), tc.want)
			assert.EqualError(t, tc.a.GatherTo(nil, nil), tc.want)
			_, err := tc.a.Dims()
			assert.EqualError(t, err, tc.want)
		})
	}
}

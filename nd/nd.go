package nd

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// maxElements bounds the size of an array: larger shapes are errors, not huge allocations.
const maxElements = 1 << 40

// Array is an n-dimensional array of float64 values in row-major order with its shape. The
// zero value is an empty array of shape [0]. An Array made from values that do not fit its
// shape is invalid: [Array.Err] says why, and every call that needs its values fails with that
// error.
//
// An Array holds its values as float64, or ([Indexed]) as one byte per element indexing a
// table of at most 256 values, which keeps 8-bit data such as image pixels at an eighth of the
// memory until the values are read.
type Array struct {
	shape []int
	data  []float64
	codes []byte    // with table, the elements of an indexed array (data is then nil)
	table []float64 // the values codes index
	err   error
}

// New returns the array of the given shape over data (row-major, not copied). When data does
// not hold exactly as many values as the shape has elements, the array is invalid. One
// dimension may be -1, meaning whatever makes the sizes agree.
func New(data []float64, shape ...int) *Array {
	s, err := resolve(shape, len(data))
	if err != nil {
		return &Array{shape: slices.Clone(shape), err: fmt.Errorf("nd: %d values do not fit shape %s: %w", len(data), Format(shape), err)}
	}
	return &Array{shape: s, data: data}
}

// Indexed returns the array of the given shape whose element i is table[codes[i]] (row-major,
// neither slice copied): one byte per element for data of at most 256 distinct values, such as
// 8-bit pixels with table[b] = b/255. The values are produced when read: [Array.GatherTo]
// produces the rows asked for, [Array.Array] and [Array.Data] all of them, in a new slice at
// each call. A table of more than 256 values, a code beyond the table, or codes that do not
// fit the shape (one dimension may be -1) make an invalid array.
func Indexed(codes []byte, table []float64, shape ...int) *Array {
	s, err := resolve(shape, len(codes))
	if err != nil {
		return &Array{shape: slices.Clone(shape), err: fmt.Errorf("nd: %d values do not fit shape %s: %w", len(codes), Format(shape), err)}
	}
	if len(table) == 0 || len(table) > 256 {
		return &Array{shape: s, err: fmt.Errorf("nd: indexed array: a table of %d values, want 1 to 256", len(table))}
	}
	if len(table) < 256 {
		for i, c := range codes {
			if int(c) >= len(table) {
				return &Array{shape: s, err: fmt.Errorf("nd: indexed array: element %d has code %d, beyond the table of %d values", i, c, len(table))}
			}
		}
	}
	return &Array{shape: s, codes: codes, table: table}
}

// indexed reports whether a's elements are codes into a table.
func (a *Array) indexed() bool { return a.table != nil }

// size returns the number of elements a holds.
func (a *Array) size() int {
	if a.indexed() {
		return len(a.codes)
	}
	return len(a.data)
}

// values returns the row-major values: a's own slice, or for an indexed array a new one.
func (a *Array) values() []float64 {
	if !a.indexed() {
		return a.data
	}
	out := make([]float64, len(a.codes))
	for i, c := range a.codes {
		out[i] = a.table[c]
	}
	return out
}

// Zeros returns a new array of zeros of the given shape.
func Zeros(shape ...int) *Array {
	n, err := numElements(shape)
	if err != nil {
		return &Array{shape: slices.Clone(shape), err: fmt.Errorf("nd: %w", err)}
	}
	return &Array{shape: slices.Clone(shape), data: make([]float64, n)}
}

// Rows returns the [len(rows), len(rows[0])] array of the given rows (copied), as a Keras user
// writes np.array([[...], [...]]). Rows of different lengths make an invalid array.
func Rows(rows [][]float64) *Array {
	if len(rows) == 0 {
		return &Array{shape: []int{0, 0}}
	}
	k := len(rows[0])
	data := make([]float64, 0, len(rows)*k)
	for i, r := range rows {
		if len(r) != k {
			return &Array{shape: []int{len(rows), k}, err: fmt.Errorf("nd: row %d has %d values, row 0 has %d", i, len(r), k)}
		}
		data = append(data, r...)
	}
	return &Array{shape: []int{len(rows), k}, data: data}
}

// Labels returns integer class labels as an array of shape [len(labels)], the form of targets
// the sparse categorical losses take (and Keras's datasets return).
func Labels(labels []int) *Array {
	data := make([]float64, len(labels))
	for i, l := range labels {
		data[i] = float64(l)
	}
	return &Array{shape: []int{len(labels)}, data: data}
}

// Matrix returns a copy of a gonum matrix as an array of shape [rows, columns]: one sample per
// row.
func Matrix(m mat.Matrix) *Array {
	if m == nil {
		return &Array{err: fmt.Errorf("nd: nil matrix")}
	}
	r, c := m.Dims()
	data := make([]float64, r*c)
	if raw, ok := m.(mat.RawMatrixer); ok {
		g := raw.RawMatrix()
		for i := range r {
			copy(data[i*c:(i+1)*c], g.Data[i*g.Stride:i*g.Stride+c])
		}
	} else {
		for i := range r {
			for j := range c {
				data[i*c+j] = m.At(i, j)
			}
		}
	}
	return &Array{shape: []int{r, c}, data: data}
}

// Array returns the shape, the row-major values (not to be modified) and, for an invalid array,
// why. It is the method through which the Keras surface reads data it needs whole; an indexed
// array ([Indexed]) returns its values in a new slice.
func (a *Array) Array() (shape []int, values []float64, err error) {
	if a == nil {
		return nil, nil, nil
	}
	if a.err != nil {
		return nil, nil, a.err
	}
	if a.shape == nil {
		return []int{0}, nil, nil
	}
	return a.shape, a.values(), nil
}

// Dims returns the shape (not to be modified) without reading the values, or why the array is
// invalid. A nil array has a nil shape.
func (a *Array) Dims() ([]int, error) {
	if a == nil {
		return nil, nil
	}
	if a.err != nil {
		return nil, a.err
	}
	if a.shape == nil {
		return []int{0}, nil
	}
	return a.shape, nil
}

// GatherTo writes the values of the samples rows (indices along the first axis, in that order)
// to dst, row-major: len(dst) must be len(rows) times the size of one sample. It is how the
// Keras surface reads a batch, so that an indexed array ([Indexed]) produces the float64 values
// of that batch only. An invalid array, an index outside the samples or a dst of another
// length is an error.
func (a *Array) GatherTo(dst []float64, rows []int) error {
	if a == nil {
		return fmt.Errorf("nd: gather from a nil array")
	}
	if a.err != nil {
		return a.err
	}
	if len(a.shape) == 0 {
		return fmt.Errorf("nd: gather from an array of shape %s, which has no samples", Format(a.shape))
	}
	n := a.shape[0]
	size := 1
	for _, d := range a.shape[1:] {
		size *= d
	}
	if len(dst) != len(rows)*size {
		return fmt.Errorf("nd: gather: dst holds %d values, want %d samples of %d", len(dst), len(rows), size)
	}
	for k, r := range rows {
		if r < 0 || r >= n {
			return fmt.Errorf("nd: gather: sample %d at position %d, want 0..%d", r, k, n-1)
		}
		out := dst[k*size : (k+1)*size]
		if !a.indexed() {
			copy(out, a.data[r*size:(r+1)*size])
			continue
		}
		for j, c := range a.codes[r*size : (r+1)*size] {
			out[j] = a.table[c]
		}
	}
	return nil
}

// Err returns why the array is invalid, or nil.
func (a *Array) Err() error { return a.err }

// Shape returns a copy of the array's shape.
func (a *Array) Shape() []int {
	if a.shape == nil && a.err == nil {
		return []int{0}
	}
	return slices.Clone(a.shape)
}

// Len returns the size of the first axis (the number of samples), or 0 for an invalid array.
func (a *Array) Len() int {
	if a.err != nil || len(a.shape) == 0 {
		return 0
	}
	return a.shape[0]
}

// Data returns the row-major values (shared with the array, nil for an invalid one); an
// indexed array ([Indexed]) returns them in a new slice.
func (a *Array) Data() []float64 {
	if a.err != nil {
		return nil
	}
	return a.values()
}

// At returns the value at the given index (one coordinate per axis), or NaN when the index is
// outside the array.
func (a *Array) At(idx ...int) float64 {
	if a.err != nil || len(idx) != len(a.shape) {
		return math.NaN()
	}
	off := 0
	for i, k := range idx {
		if k < 0 || k >= a.shape[i] {
			return math.NaN()
		}
		off = off*a.shape[i] + k
	}
	if a.indexed() {
		return a.table[a.codes[off]]
	}
	return a.data[off]
}

// Reshape returns a view of the same values with another shape of as many elements (one
// dimension may be -1); a shape of another size makes an invalid array.
func (a *Array) Reshape(shape ...int) *Array {
	if a.err != nil {
		return a
	}
	s, err := resolve(shape, a.size())
	if err != nil {
		return &Array{shape: slices.Clone(shape), err: fmt.Errorf("nd: cannot reshape %s to %s: %w", Format(a.shape), Format(shape), err)}
	}
	return &Array{shape: s, data: a.data, codes: a.codes, table: a.table}
}

// Slice returns a view of samples [lo, hi) along the first axis; bounds outside the array make
// an invalid array.
func (a *Array) Slice(lo, hi int) *Array {
	if a.err != nil {
		return a
	}
	if len(a.shape) == 0 || lo < 0 || hi < lo || hi > a.shape[0] {
		return &Array{err: fmt.Errorf("nd: slice [%d:%d] of an array of shape %s", lo, hi, Format(a.shape))}
	}
	size := 1
	for _, d := range a.shape[1:] {
		size *= d
	}
	s := slices.Clone(a.shape)
	s[0] = hi - lo
	if a.indexed() {
		return &Array{shape: s, codes: a.codes[lo*size : hi*size], table: a.table}
	}
	return &Array{shape: s, data: a.data[lo*size : hi*size]}
}

// Ints returns the values as integers, or an error naming the first value that is not one.
func (a *Array) Ints() ([]int, error) {
	if a.err != nil {
		return nil, a.err
	}
	vals := a.values()
	out := make([]int, len(vals))
	for i, v := range vals {
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return nil, fmt.Errorf("nd: value %d is %v, not an integer", i, v)
		}
		out[i] = int(v)
	}
	return out, nil
}

// String formats the array's shape, as "nd.Array(3, 2)".
func (a *Array) String() string {
	if a.err != nil {
		return "nd.Array(invalid: " + a.err.Error() + ")"
	}
	return "nd.Array" + Format(a.Shape())
}

// Format writes a shape as Keras and NumPy print one: Format([]int{3, 2}) is "(3, 2)", and a
// one-dimensional shape is "(3,)".
func Format(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	if len(shape) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func numElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %s has a negative dimension", Format(shape))
		}
		if d != 0 && n > maxElements/d {
			return 0, fmt.Errorf("shape %s is too large", Format(shape))
		}
		n *= d
	}
	return n, nil
}

// resolve returns shape with its -1 dimension (at most one) filled in for n elements.
func resolve(shape []int, n int) ([]int, error) {
	out := slices.Clone(shape)
	unknown, known := -1, 1
	for i, d := range out {
		switch {
		case d == -1 && unknown < 0:
			unknown = i
		case d < 0:
			return nil, fmt.Errorf("dimension %d", d)
		default:
			if d != 0 && known > maxElements/d {
				return nil, fmt.Errorf("too large")
			}
			known *= d
		}
	}
	if unknown >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("%d is not a multiple of %d", n, known)
		}
		out[unknown] = n / known
		return out, nil
	}
	if known != n {
		return nil, fmt.Errorf("the shape has %d elements", known)
	}
	return out, nil
}

// OneHot returns the one-hot encoding of integer class labels (an array of shape [n], or
// [n, 1]) as an array of shape [n, classes], as Keras's to_categorical: row i holds 1 in
// column labels[i]. A label that is not an integer in [0, classes) makes an invalid array.
func OneHot(labels *Array, classes int) *Array {
	if labels == nil {
		return &Array{err: fmt.Errorf("nd: one-hot: nil labels")}
	}
	if labels.err != nil {
		return labels
	}
	if classes <= 0 {
		return &Array{err: fmt.Errorf("nd: one-hot: %d classes", classes)}
	}
	s := labels.Shape()
	if len(s) != 1 && !(len(s) == 2 && s[1] == 1) {
		return &Array{err: fmt.Errorf("nd: one-hot: labels of shape %s, want (n,)", Format(s))}
	}
	n := s[0]
	out := make([]float64, n*classes)
	for i, v := range labels.values() {
		c := int(v)
		if float64(c) != v || c < 0 || c >= classes {
			return &Array{err: fmt.Errorf("nd: one-hot: label %d is %v, not a class in [0, %d)", i, v, classes)}
		}
		out[i*classes+c] = 1
	}
	return &Array{shape: []int{n, classes}, data: out}
}

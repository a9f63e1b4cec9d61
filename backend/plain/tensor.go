package plain

import (
	"fmt"
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// Tensor is a float64 tensor of the plain engine: a shape and row-major values.
type Tensor struct {
	shape []int
	data  []float64
}

var _ backend.Tensor = (*Tensor)(nil)

// NewTensor returns a tensor of the given shape holding a copy of data.
func NewTensor(data []float64, shape []int) (*Tensor, error) {
	n, err := backend.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("plain: %w", err)
	}
	if len(data) != n {
		return nil, fmt.Errorf("plain: %d values do not fill shape %v (%d elements)", len(data), shape, n)
	}
	return &Tensor{shape: slices.Clone(shape), data: slices.Clone(data)}, nil
}

// Shape returns the dimensions of t. The caller must not modify the slice.
func (t *Tensor) Shape() []int { return t.shape }

// Len returns the number of elements of t.
func (t *Tensor) Len() int { return len(t.data) }

// Values returns a copy of the values of t, row-major.
func (t *Tensor) Values() []float64 { return slices.Clone(t.data) }

// String formats t as its shape and values, for debugging.
func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v%v", t.shape, t.data) }

// newT allocates a zero tensor; the shape must be valid.
func newT(shape []int) *Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Tensor{shape: slices.Clone(shape), data: make([]float64, n)}
}

// like allocates a zero tensor shaped like t.
func like(t *Tensor) *Tensor {
	return &Tensor{shape: slices.Clone(t.shape), data: make([]float64, len(t.data))}
}

// get converts a backend tensor to a plain one.
func get(op string, t backend.Tensor) (*Tensor, error) {
	p, ok := t.(*Tensor)
	if !ok || p == nil {
		return nil, fmt.Errorf("plain: %s: operand %T is not a plain tensor", op, t)
	}
	return p, nil
}

// get2 converts two operands that must have the same shape.
func get2(op string, a, b backend.Tensor) (*Tensor, *Tensor, error) {
	x, err := get(op, a)
	if err != nil {
		return nil, nil, err
	}
	y, err := get(op, b)
	if err != nil {
		return nil, nil, err
	}
	if !slices.Equal(x.shape, y.shape) {
		return nil, nil, fmt.Errorf("plain: %s: shapes %v and %v differ", op, x.shape, y.shape)
	}
	return x, y, nil
}

func checkShape(op string, shape []int) error {
	if _, err := backend.NumElements(shape); err != nil {
		return fmt.Errorf("plain: %s: %w", op, err)
	}
	return nil
}

package ring

import (
	"errors"
	"fmt"
	"math"
)

// Tensor is a row-major tensor over Z_2^64.
type Tensor struct {
	Shape []int
	Data  []uint64
}

// ErrShape is wrapped by every shape mismatch error of this package.
var ErrShape = errors.New("shape mismatch")

// maxElements bounds the size of a tensor: 2^48 elements, or what a 32-bit address space can
// hold.
const maxElements = min(1<<48, math.MaxInt/8)

// NumElements returns the number of elements of a tensor of the given shape, or an error when
// a dimension is negative or the size exceeds 2^48 elements (less on 32-bit platforms).
func NumElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("ring: negative dimension in shape %v", shape)
		}
		if d != 0 && n > maxElements/d {
			return 0, fmt.Errorf("ring: shape %v too large", shape)
		}
		n *= d
	}
	return n, nil
}

// New returns a zero tensor of the given shape.
func New(shape ...int) (*Tensor, error) {
	n, err := NumElements(shape)
	if err != nil {
		return nil, err
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]uint64, n)}, nil
}

// MustNew is New for shapes known to be valid inside the engine; it panics on a bad shape.
func MustNew(shape ...int) *Tensor {
	t, err := New(shape...)
	if err != nil {
		panic(err)
	}
	return t
}

// FromData wraps data (not copied) as a tensor of the given shape.
func FromData(data []uint64, shape ...int) (*Tensor, error) {
	n, err := NumElements(shape)
	if err != nil {
		return nil, err
	}
	if n != len(data) {
		return nil, fmt.Errorf("ring: %d elements do not fill shape %v: %w", len(data), shape, ErrShape)
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// Len is the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]uint64(nil), t.Data...)}
}

// SameShape reports whether a and b have equal shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// CheckSameShape returns a descriptive error when the shapes differ.
func CheckSameShape(op string, a, b []int) error {
	if !SameShape(a, b) {
		return fmt.Errorf("%s: shapes %v and %v differ: %w", op, a, b, ErrShape)
	}
	return nil
}

// Reshape returns a tensor sharing t's data with a new shape. One dimension may be -1 and is
// inferred.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	s, err := ResolveShape(len(t.Data), shape)
	if err != nil {
		return nil, err
	}
	return &Tensor{Shape: s, Data: t.Data}, nil
}

// ResolveShape checks that shape holds n elements, inferring one -1 dimension.
func ResolveShape(n int, shape []int) ([]int, error) {
	s := append([]int(nil), shape...)
	infer := -1
	prod := 1
	for i, d := range s {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			return nil, fmt.Errorf("reshape: bad dimension %d in %v: %w", d, shape, ErrShape)
		default:
			prod *= d
		}
	}
	if infer >= 0 {
		if prod == 0 || n%prod != 0 {
			return nil, fmt.Errorf("reshape: cannot reshape %d elements to %v: %w", n, shape, ErrShape)
		}
		s[infer] = n / prod
		prod *= s[infer]
	}
	if prod != n {
		return nil, fmt.Errorf("reshape: cannot reshape %d elements to %v: %w", n, shape, ErrShape)
	}
	return s, nil
}

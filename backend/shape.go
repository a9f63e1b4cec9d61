package backend

import (
	"fmt"
	"slices"
)

// maxElements bounds the size of a tensor; larger shapes are errors rather than huge
// allocations.
const maxElements = 1 << 40

// NumElements returns the number of elements of a tensor of the given shape, or an error when
// a dimension is negative or the size is unreasonably large.
func NumElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		if d != 0 && n > maxElements/d {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= d
	}
	return n, nil
}

// ResolveShape returns shape with its -1 dimension (at most one) replaced so that the shape has
// n elements, or an error when no such shape exists.
func ResolveShape(shape []int, n int) ([]int, error) {
	out := slices.Clone(shape)
	unknown, known := -1, 1
	for i, d := range out {
		switch {
		case d == -1 && unknown < 0:
			unknown = i
		case d < 0:
			return nil, fmt.Errorf("shape %v: invalid dimension %d", shape, d)
		default:
			known *= d
		}
	}
	if unknown >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("cannot reshape %d elements to %v", n, shape)
		}
		out[unknown] = n / known
		return out, nil
	}
	if m, err := NumElements(out); err != nil || m != n {
		return nil, fmt.Errorf("cannot reshape %d elements to %v", n, shape)
	}
	return out, nil
}

// NormAxis returns axis as an index into a shape of the given rank, counting a negative axis
// from the end; it is an error when the axis is out of range.
func NormAxis(axis, rank int) (int, error) {
	a := axis
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return a, nil
}

// FormatShape writes a shape the way Keras prints one, with the batch dimension first:
// FormatShape([]int{28, 28, 1}) is "(None, 28, 28, 1)".
func FormatShape(shape []int) string {
	s := "(None"
	for _, d := range shape {
		s += fmt.Sprintf(", %d", d)
	}
	return s + ")"
}

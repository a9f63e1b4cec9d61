package approx

import (
	"fmt"
	"math"
)

// Softmax returns exp(x)/Σexp(x) along the last axis.
//
// Method: the maximum of each row is subtracted (exact comparisons), so the exponents are at
// most 0 and each row's sum lies in [1, k] for rows of k elements; exp is [Exp] without the
// upper clamp (inputs below -(f+1)·ln 2 count as e^-(f+1)·ln 2, half a unit in the last
// place), the reciprocal of the sums is [Reciprocal] on [1, k] and multiplies every element.
//
// Error at f = 16: below 2e-3 per probability for any logits (the softmax is invariant under
// the max subtraction, so the range of the logits does not matter as long as differences stay
// within the comparisons' range).
//
// Cost (aby3): 8·⌈log2 k⌉ rounds for the maxima, 21 for exp (three comparisons per element),
// 23 for the reciprocal (three comparisons per row for k ≤ 15) and two for the product: 78
// rounds for k = 10.
func Softmax[T any](o RowOps[T], x T) (T, error) {
	var zero T
	shape := o.Shape(x)
	if len(shape) == 0 {
		return zero, fmt.Errorf("approx: softmax of a scalar")
	}
	k := shape[len(shape)-1]
	if k == 0 {
		return zero, fmt.Errorf("approx: softmax: empty last axis of shape %v", shape)
	}
	f := o.FracBits()
	m, err := o.MaxLast(x)
	if err != nil {
		return zero, fmt.Errorf("approx: softmax: %w", err)
	}
	mb, err := o.BroadcastLast(m, k)
	if err != nil {
		return zero, err
	}
	z, err := o.Sub(x, mb)
	if err != nil {
		return zero, err
	}
	// The exponents are at most 0.
	ecfg, err := ExpConfig{Min: -float64(f+1) * math.Ln2, Max: 0}.resolve(f)
	if err != nil {
		return zero, err
	}
	e, err := expReduced(o, z, ecfg, false)
	if err != nil {
		return zero, fmt.Errorf("approx: softmax: %w", err)
	}
	s, err := o.SumLast(e)
	if err != nil {
		return zero, err
	}
	rcfg, err := NewtonConfig{Min: 1, Max: math.Max(float64(k), 2)}.resolve("softmax", f, 2)
	if err != nil {
		return zero, err
	}
	r, err := reciprocal(o, s, rcfg)
	if err != nil {
		return zero, fmt.Errorf("approx: softmax: %w", err)
	}
	rb, err := o.BroadcastLast(r, k)
	if err != nil {
		return zero, err
	}
	p, err := o.MulMany([]T{e}, []T{rb}, 0)
	if err != nil {
		return zero, fmt.Errorf("approx: softmax: %w", err)
	}
	return p[0], nil
}

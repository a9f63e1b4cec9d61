package ring

import (
	"fmt"
	"slices"
)

// SumAxisTo sums a, viewed as outer×d×inner row-major, over its middle axis into dst (outer ×
// inner): dst[o*inner+i] = Σ_j a[(o*d+j)*inner+i]. With d = 0 it zeroes dst.
func SumAxisTo(dst, a []uint64, outer, d, inner int) {
	dst = dst[:outer*inner]
	a = a[:outer*d*inner]
	if inner == 1 {
		for o := range dst {
			var s uint64
			for _, v := range a[o*d : (o+1)*d] {
				s += v
			}
			dst[o] = s
		}
		return
	}
	for o := range outer {
		acc := dst[o*inner : (o+1)*inner]
		clear(acc)
		for j := range d {
			AddTo(acc, acc, a[(o*d+j)*inner:])
		}
	}
}

// SumAxis returns the sum of t over axis, which the result no longer has (a 1-D tensor
// sums to a 0-D tensor of one element).
func SumAxis(t *Tensor, axis int) (*Tensor, error) {
	if err := checkTensor("sum", t); err != nil {
		return nil, err
	}
	if err := checkAxis("sum", axis, t.Shape); err != nil {
		return nil, err
	}
	outer, inner := splitAt(t.Shape, axis)
	shape := slices.Delete(slices.Clone(t.Shape), axis, axis+1)
	out := &Tensor{Shape: shape, Data: make([]uint64, outer*inner)}
	SumAxisTo(out.Data, t.Data, outer, t.Shape[axis], inner)
	return out, nil
}

// AddBiasTo sets dst[i] = a[i] + bias[i % len(bias)]: bias added to every row of a, viewed
// as rows of len(bias) elements. len(a) must be a multiple of len(bias).
func AddBiasTo(dst, a, bias []uint64) {
	dst = dst[:len(a)]
	if len(bias) == 0 {
		return
	}
	if len(a)%len(bias) != 0 {
		panic(fmt.Sprintf("ring: AddBiasTo: %d elements are not rows of %d", len(a), len(bias)))
	}
	for o := 0; o < len(a); o += len(bias) {
		AddTo(dst[o:o+len(bias)], a[o:], bias)
	}
}

// AddBias returns t + bias with the 1-D bias broadcast over the last axis of t, as a Keras
// Dense or Conv2D layer adds its bias.
func AddBias(t, bias *Tensor) (*Tensor, error) {
	if err := checkTensor("add bias", t); err != nil {
		return nil, err
	}
	if err := checkTensor("add bias", bias); err != nil {
		return nil, err
	}
	if len(t.Shape) == 0 || len(bias.Shape) != 1 || bias.Shape[0] != t.Shape[len(t.Shape)-1] {
		return nil, fmt.Errorf("add bias: bias %v does not match the last axis of %v: %w", bias.Shape, t.Shape, ErrShape)
	}
	out := &Tensor{Shape: slices.Clone(t.Shape), Data: make([]uint64, len(t.Data))}
	AddBiasTo(out.Data, t.Data, bias.Data)
	return out, nil
}

// binary applies a slice kernel to two tensors of the same shape.
func binary(op string, a, b *Tensor, kernel func(dst, a, b []uint64)) (*Tensor, error) {
	if err := checkTensor(op, a); err != nil {
		return nil, err
	}
	if err := checkTensor(op, b); err != nil {
		return nil, err
	}
	if err := CheckSameShape(op, a.Shape, b.Shape); err != nil {
		return nil, err
	}
	out := &Tensor{Shape: slices.Clone(a.Shape), Data: make([]uint64, len(a.Data))}
	kernel(out.Data, a.Data, b.Data)
	return out, nil
}

// Add returns a + b elementwise; the shapes must be equal.
func Add(a, b *Tensor) (*Tensor, error) { return binary("add", a, b, AddTo) }

// Sub returns a - b elementwise; the shapes must be equal.
func Sub(a, b *Tensor) (*Tensor, error) { return binary("sub", a, b, SubTo) }

// Mul returns the elementwise product a ⊙ b; the shapes must be equal.
func Mul(a, b *Tensor) (*Tensor, error) { return binary("mul", a, b, MulTo) }

// Neg returns -a.
func Neg(a *Tensor) (*Tensor, error) {
	if err := checkTensor("neg", a); err != nil {
		return nil, err
	}
	out := &Tensor{Shape: slices.Clone(a.Shape), Data: make([]uint64, len(a.Data))}
	NegTo(out.Data, a.Data)
	return out, nil
}

// Scale returns c·a.
func Scale(a *Tensor, c uint64) (*Tensor, error) {
	if err := checkTensor("scale", a); err != nil {
		return nil, err
	}
	out := &Tensor{Shape: slices.Clone(a.Shape), Data: make([]uint64, len(a.Data))}
	ScaleTo(out.Data, a.Data, c)
	return out, nil
}

// PairDiffsTo writes, for data laid out [outer, m, inner], the differences left - right of
// the pairs of candidates (2t, 2t+1) along the middle axis into dst, laid out
// [outer, m/2, inner] (an odd last candidate has no pair): one level of a tree of
// comparisons. dst must hold outer·(m/2)·inner values.
func PairDiffsTo(dst, data []uint64, outer, m, inner int) {
	pairs := m / 2
	for o := range outer {
		for t := range pairs {
			l := (o*m + 2*t) * inner
			d := (o*pairs + t) * inner
			SubTo(dst[d:d+inner], data[l:l+inner], data[l+inner:l+2*inner])
		}
	}
}

// PairWinnersTo writes the next level of a tree of comparisons over data laid out [outer, m,
// inner] into dst, laid out [outer, ⌈m/2⌉, inner]: for the pair (2t, 2t+1), its left candidate
// plus delta[t] (delta laid out as PairDiffsTo's output: the selected right - left, or 0), and
// an odd last candidate as it is.
func PairWinnersTo(dst, data, delta []uint64, outer, m, inner int) {
	pairs, odd := m/2, m%2
	next := pairs + odd
	for o := range outer {
		for t := range pairs {
			l := (o*m + 2*t) * inner
			d := (o*pairs + t) * inner
			w := (o*next + t) * inner
			AddTo(dst[w:w+inner], data[l:l+inner], delta[d:d+inner])
		}
		if odd == 1 {
			l := (o*m + m - 1) * inner
			w := (o*next + pairs) * inner
			copy(dst[w:w+inner], data[l:l+inner])
		}
	}
}

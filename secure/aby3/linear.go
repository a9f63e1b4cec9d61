package aby3

import (
	"fmt"

	"github.com/gotfe/gotfe/secure/ring"
)

// MapLinear applies a ring-linear function f (one with f(u + v) = f(u) + f(v) over Z_2^64,
// such as a transpose, permutation, slice, sum over an axis or im2col) to each of the party's
// two components and returns the sharing of f(x). It is local: no communication. f must not
// add constants or depend on the values.
func MapLinear(x *Shared, f func(*ring.Tensor) (*ring.Tensor, error)) (*Shared, error) {
	ta, err := f(&ring.Tensor{Shape: x.shape, Data: x.a})
	if err != nil {
		return nil, fmt.Errorf("aby3: %w", err)
	}
	tb, err := f(&ring.Tensor{Shape: x.shape, Data: x.b})
	if err != nil {
		return nil, fmt.Errorf("aby3: %w", err)
	}
	if !ring.SameShape(ta.Shape, tb.Shape) {
		return nil, fmt.Errorf("aby3: linear map gave components of shapes %v and %v", ta.Shape, tb.Shape)
	}
	// A linear map takes a zero component to a zero component.
	return &Shared{shape: ta.Shape, a: ta.Data, b: tb.Data, zero: x.zero}, nil
}

// Transpose returns the transpose of a 2-D sharing (local).
func (p *Party) Transpose(x *Shared) (*Shared, error) { return MapLinear(x, ring.Transpose) }

// Permute permutes the axes of x: axis i of the result is axis perm[i] of x (local).
func (p *Party) Permute(x *Shared, perm ...int) (*Shared, error) {
	return MapLinear(x, func(t *ring.Tensor) (*ring.Tensor, error) { return ring.Permute(t, perm...) })
}

// Sum adds the elements of x along axis and drops it (local; exact).
func (p *Party) Sum(x *Shared, axis int) (*Shared, error) {
	return MapLinear(x, func(t *ring.Tensor) (*ring.Tensor, error) { return ring.SumAxis(t, axis) })
}

// Mean averages x along axis: an exact local sum followed by a product with the public 1/n
// (one round; the error of [Party.MulPublic]: below one ulp plus n·2^-(f+1) from encoding
// 1/n, relative to the mean).
func (p *Party) Mean(x *Shared, axis int) (*Shared, error) {
	if axis < 0 || axis >= len(x.shape) || x.shape[axis] == 0 {
		return nil, fmt.Errorf("aby3: mean over axis %d of shape %v: %w", axis, x.shape, ring.ErrShape)
	}
	n := x.shape[axis]
	s, err := p.Sum(x, axis)
	if err != nil {
		return nil, err
	}
	return p.MulPublic(s, 1/float64(n))
}

// AddBias returns x + bias with the sharing bias (of the size of x's last axis) broadcast
// over the other axes (local).
func (p *Party) AddBias(x, bias *Shared) (*Shared, error) {
	if len(x.shape) == 0 || len(bias.shape) != 1 || bias.shape[0] != x.shape[len(x.shape)-1] {
		return nil, fmt.Errorf("aby3: add bias %v to %v: %w", bias.shape, x.shape, ring.ErrShape)
	}
	z := newShared(x.shape, x.Len())
	if x.Len() > 0 {
		ring.AddBiasTo(z.a, x.a, bias.a)
		ring.AddBiasTo(z.b, x.b, bias.b)
	}
	return z, nil
}

// Slice returns elements [start, end) of x along axis (local).
func (p *Party) Slice(x *Shared, axis, start, end int) (*Shared, error) {
	return MapLinear(x, func(t *ring.Tensor) (*ring.Tensor, error) { return ring.Slice(t, axis, start, end) })
}

// Concat joins sharings along axis (local).
func (p *Party) Concat(axis int, xs ...*Shared) (*Shared, error) {
	as := make([]*ring.Tensor, len(xs))
	bs := make([]*ring.Tensor, len(xs))
	for i, x := range xs {
		as[i] = &ring.Tensor{Shape: x.shape, Data: x.a}
		bs[i] = &ring.Tensor{Shape: x.shape, Data: x.b}
	}
	ta, err := ring.Concat(axis, as...)
	if err != nil {
		return nil, fmt.Errorf("aby3: %w", err)
	}
	tb, err := ring.Concat(axis, bs...)
	if err != nil {
		return nil, fmt.Errorf("aby3: %w", err)
	}
	// A component is zero where it is zero in every part.
	zero := zeroA | zeroB
	for _, x := range xs {
		zero &= x.zero
	}
	return &Shared{shape: ta.Shape, a: ta.Data, b: tb.Data, zero: zero}, nil
}

// MulPublicTensor returns the elementwise product of x with public real values c of x's shape,
// truncated (one round; the error of [Party.MulPublic]).
func (p *Party) MulPublicTensor(x *Shared, c []float64) (*Shared, error) {
	if len(c) != x.Len() {
		return nil, fmt.Errorf("aby3: mul public: %d values for shape %v: %w", len(c), x.shape, ring.ErrShape)
	}
	enc, err := p.enc.EncodeSlice(c)
	if err != nil {
		return nil, fmt.Errorf("aby3: mul public: %w", err)
	}
	z := newShared(x.shape, x.Len())
	ring.MulTo(z.a, x.a, enc)
	ring.MulTo(z.b, x.b, enc)
	return p.Trunc(z, p.enc.FracBits)
}

package pond

import (
	"fmt"

	"github.com/gotfe/gotfe/secure/ring"
)

// MapLinear applies a ring-linear function f (one with f(u + v) = f(u) + f(v) over Z_2^64,
// such as a transpose, permutation, slice, sum over an axis or im2col) to the party's share
// and returns the sharing of f(x). Local. The producer, which holds no share, applies f to
// zeros for the shape of the result. f must not add constants or depend on the values.
func (p *Party) MapLinear(x *Shared, f func(*ring.Tensor) (*ring.Tensor, error)) (*Shared, error) {
	data := x.v
	if !p.holds() {
		data = make([]uint64, x.n)
	}
	t, err := f(&ring.Tensor{Shape: x.shape, Data: data})
	if err != nil {
		return nil, fmt.Errorf("pond: %w", err)
	}
	out := &Shared{shape: t.Shape, n: len(t.Data)}
	if p.holds() {
		out.v = t.Data
	}
	if x.open != nil {
		// The opening of f(x) is f applied to x's: f(x) - f(a) = f(x - a).
		o := &opening{}
		if o.a, err = mapData(f, x.shape, x.open.a); err != nil {
			return nil, err
		}
		if x.open.e != nil {
			if o.e, err = mapData(f, x.shape, x.open.e); err != nil {
				return nil, err
			}
		}
		out.open = o
	}
	return out, nil
}

// mapData returns f applied to data of shape.
func mapData(f func(*ring.Tensor) (*ring.Tensor, error), shape []int, data []uint64) ([]uint64, error) {
	t, err := f(&ring.Tensor{Shape: shape, Data: data})
	if err != nil {
		return nil, fmt.Errorf("pond: %w", err)
	}
	return t.Data, nil
}

// Reshape returns x with a new shape (one dimension may be -1); shares are not copied.
func (p *Party) Reshape(x *Shared, shape ...int) (*Shared, error) {
	s, err := ring.ResolveShape(x.n, shape)
	if err != nil {
		return nil, fmt.Errorf("pond: %w", err)
	}
	return &Shared{shape: s, n: x.n, v: x.v, open: x.open}, nil
}

// Transpose returns the transpose of a 2-D sharing (local).
func (p *Party) Transpose(x *Shared) (*Shared, error) { return p.MapLinear(x, ring.Transpose) }

// Permute permutes the axes of x: axis i of the result is axis perm[i] of x (local).
func (p *Party) Permute(x *Shared, perm ...int) (*Shared, error) {
	return p.MapLinear(x, func(t *ring.Tensor) (*ring.Tensor, error) { return ring.Permute(t, perm...) })
}

// Sum adds the elements of x along axis and drops it (local; exact).
func (p *Party) Sum(x *Shared, axis int) (*Shared, error) {
	return p.MapLinear(x, func(t *ring.Tensor) (*ring.Tensor, error) { return ring.SumAxis(t, axis) })
}

// Slice returns elements [start, end) of x along axis (local).
func (p *Party) Slice(x *Shared, axis, start, end int) (*Shared, error) {
	return p.MapLinear(x, func(t *ring.Tensor) (*ring.Tensor, error) { return ring.Slice(t, axis, start, end) })
}

// Concat joins sharings along axis (local).
func (p *Party) Concat(axis int, xs ...*Shared) (*Shared, error) {
	ts := make([]*ring.Tensor, len(xs))
	for i, x := range xs {
		data := x.v
		if !p.holds() {
			data = make([]uint64, x.n)
		}
		ts[i] = &ring.Tensor{Shape: x.shape, Data: data}
	}
	t, err := ring.Concat(axis, ts...)
	if err != nil {
		return nil, fmt.Errorf("pond: %w", err)
	}
	out := &Shared{shape: t.Shape, n: len(t.Data)}
	if p.holds() {
		out.v = t.Data
	}
	return out, nil
}

// Add returns x + y (local).
func (p *Party) Add(x, y *Shared) (*Shared, error) {
	if err := checkSame("add", x, y); err != nil {
		return nil, err
	}
	z := p.newShared(x.shape, x.n)
	ring.AddTo(z.v, x.v, y.v)
	return z, nil
}

// Sub returns x - y (local).
func (p *Party) Sub(x, y *Shared) (*Shared, error) {
	if err := checkSame("sub", x, y); err != nil {
		return nil, err
	}
	z := p.newShared(x.shape, x.n)
	ring.SubTo(z.v, x.v, y.v)
	return z, nil
}

// Neg returns -x (local).
func (p *Party) Neg(x *Shared) *Shared {
	z := p.newShared(x.shape, x.n)
	ring.NegTo(z.v, x.v)
	return z
}

// MulPublicRing returns c·x for a public integer c (local, no truncation).
func (p *Party) MulPublicRing(x *Shared, c uint64) *Shared {
	z := p.newShared(x.shape, x.n)
	ring.ScaleTo(z.v, x.v, c)
	return z
}

// AddBias returns x + bias with the sharing bias (of the size of x's last axis) broadcast
// over the other axes (local).
func (p *Party) AddBias(x, bias *Shared) (*Shared, error) {
	if len(x.shape) == 0 || len(bias.shape) != 1 || bias.shape[0] != x.shape[len(x.shape)-1] {
		return nil, fmt.Errorf("pond: add bias %v to %v: %w", bias.shape, x.shape, ring.ErrShape)
	}
	z := p.newShared(x.shape, x.n)
	if len(z.v) > 0 {
		ring.AddBiasTo(z.v, x.v, bias.v)
	}
	return z, nil
}

// MulPublic returns c·x for a public real c, truncated back to f fractional bits (one round;
// see [Party.Trunc]).
func (p *Party) MulPublic(x *Shared, c float64) (*Shared, error) {
	enc, err := p.enc.Encode(c)
	if err != nil {
		return nil, fmt.Errorf("pond: mul public: %w", err)
	}
	return p.Trunc(p.MulPublicRing(x, enc), p.enc.FracBits)
}

// MulPublicTensor returns the elementwise product of x with public real values c of x's shape,
// truncated (one round; the error of [Party.MulPublic]).
func (p *Party) MulPublicTensor(x *Shared, c []float64) (*Shared, error) {
	if len(c) != x.n {
		return nil, fmt.Errorf("pond: mul public: %d values for shape %v: %w", len(c), x.shape, ring.ErrShape)
	}
	enc, err := p.enc.EncodeSlice(c)
	if err != nil {
		return nil, fmt.Errorf("pond: mul public: %w", err)
	}
	z := p.newShared(x.shape, x.n)
	ring.MulTo(z.v, x.v, enc)
	return p.Trunc(z, p.enc.FracBits)
}

// Mean averages x along axis: an exact local sum followed by a product with the public 1/n
// (one round; the error of [Party.MulPublic]).
func (p *Party) Mean(x *Shared, axis int) (*Shared, error) {
	if axis < 0 || axis >= len(x.shape) || x.shape[axis] == 0 {
		return nil, fmt.Errorf("pond: mean over axis %d of shape %v: %w", axis, x.shape, ring.ErrShape)
	}
	n := x.shape[axis]
	s, err := p.Sum(x, axis)
	if err != nil {
		return nil, err
	}
	return p.MulPublic(s, 1/float64(n))
}

package mpc

import (
	"fmt"

	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/ring"
)

// pending is a value not yet reduced to a sharing: the terms of a product before its
// truncation ([aby3.Unreduced]), a product known by its operands (whose terms are formed when
// needed), or a concatenation along axis 0 of 1-D such values and sharings (the gradients an
// optimizer joins). The first operation that needs the shares reduces it; Reshape, Concat,
// AddBias, integer scalings and a real Scale, which folds its factor into the truncation, keep
// or complete it.
type pending struct {
	shape []int
	u     *aby3.Unreduced // the terms, once formed
	x, y  *aby3.Shared    // the operands of the product x·y, reshaped to shape (u nil)
	parts []*Tensor       // the parts of a concatenation (u nil)
}

// terms returns t's value as unreduced terms: formed from the operands or the parts when
// needed (and kept), or a sharing lifted.
func (b *Backend) terms(t *Tensor) (*aby3.Unreduced, error) {
	if t.p == nil {
		return b.p.Lift(t.s), nil
	}
	pd := t.p
	if pd.u != nil {
		return pd.u, nil
	}
	var u *aby3.Unreduced
	var err error
	switch {
	case pd.x != nil:
		u, err = b.p.MatMulUnreduced(pd.x, pd.y)
	default:
		us := make([]*aby3.Unreduced, len(pd.parts))
		for i, part := range pd.parts {
			if us[i], err = b.terms(part); err != nil {
				return nil, err
			}
		}
		u, err = aby3.ConcatUnreduced(0, us...)
	}
	if err != nil {
		return nil, err
	}
	if u, err = aby3.ReshapeUnreduced(u, pd.shape...); err != nil {
		return nil, err
	}
	pd.u, pd.x, pd.y, pd.parts = u, nil, nil, nil
	return u, nil
}

// reduce completes t into a sharing (Reduce by 1: two rounds), which t keeps.
func (b *Backend) reduce(t *Tensor) (*aby3.Shared, error) {
	if t.p == nil {
		return t.s, nil
	}
	u, err := b.terms(t)
	if err != nil {
		return nil, err
	}
	s, err := b.p.Reduce(u, 1)
	if err != nil {
		return nil, err
	}
	t.s, t.p = s, nil
	return s, nil
}

// prescalable returns the tensors a real scaling of t would multiply before the products: for
// a product, its smaller operand; for a concatenation, that of each product part and each
// sharing part. ok is false when some part is already formed terms, or when the operands hold
// more than 3/5 of the values the products have (truncating them would cost more than folding
// the factor into the products' wider truncation).
func prescalable(t *Tensor) (ops []*aby3.Shared, ok bool) {
	pd := t.p
	if pd == nil || pd.u != nil {
		return nil, false
	}
	smaller := func(x, y *aby3.Shared) *aby3.Shared {
		if x.Len() < y.Len() {
			return x
		}
		return y
	}
	if pd.x != nil {
		o := smaller(pd.x, pd.y)
		return []*aby3.Shared{o}, 5*o.Len() < 3*numel(pd.shape)
	}
	total, outs := 0, 0
	for _, part := range pd.parts {
		switch {
		case part.p == nil:
			ops = append(ops, part.s)
			total += part.s.Len()
		case part.p.x != nil:
			o := smaller(part.p.x, part.p.y)
			ops = append(ops, o)
			total += o.Len()
		default:
			return nil, false
		}
		outs += numel(part.Shape())
	}
	return ops, 5*total < 3*outs
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// scaleByOperands returns c·t for a product or a concatenation of products and sharings whose
// operands prescalable returned: the operands (and sharing parts) are multiplied by c and
// truncated together (one round), the products formed from them and the whole reduced once
// by f bits (two rounds): fewer bytes than folding c into the products' truncation, which then
// drops 2f bits with wider lanes, when the operands are much smaller than the products (a
// batch's output gradient against a layer's weight gradient). Each product's rounding error
// grows by the truncation of its operand times its fan-in, as for a product of encoded values.
func (b *Backend) scaleByOperands(t *Tensor, ops []*aby3.Shared, c float64) (*aby3.Shared, error) {
	flat := make([]*aby3.Shared, len(ops))
	for i, o := range ops {
		var err error
		if flat[i], err = b.p.Reshape(o, o.Len()); err != nil {
			return nil, err
		}
	}
	joined, err := b.p.Concat(0, flat...)
	if err != nil {
		return nil, err
	}
	scaled, err := b.p.MulPublic(joined, c)
	if err != nil {
		return nil, err
	}
	off := 0
	next := func(o *aby3.Shared) (*aby3.Shared, error) {
		part, err := b.p.Slice(scaled, 0, off, off+o.Len())
		if err != nil {
			return nil, err
		}
		off += o.Len()
		return b.p.Reshape(part, o.Shape()...)
	}
	// The product with its smaller operand scaled, or a sharing part scaled and lifted.
	product := func(pd *pending, o *aby3.Shared) (*aby3.Unreduced, error) {
		so, err := next(o)
		if err != nil {
			return nil, err
		}
		x, y := pd.x, pd.y
		if o == x {
			x = so
		} else {
			y = so
		}
		u, err := b.p.MatMulUnreduced(x, y)
		if err != nil {
			return nil, err
		}
		return aby3.ReshapeUnreduced(u, pd.shape...)
	}
	var u *aby3.Unreduced
	if t.p.x != nil {
		if u, err = product(t.p, ops[0]); err != nil {
			return nil, err
		}
	} else {
		us := make([]*aby3.Unreduced, len(t.p.parts))
		for i, part := range t.p.parts {
			if part.p == nil {
				s, err := next(ops[i])
				if err != nil {
					return nil, err
				}
				us[i] = b.p.Lift(s)
			} else if us[i], err = product(part.p, ops[i]); err != nil {
				return nil, err
			}
			if us[i], err = aby3.ReshapeUnreduced(us[i], -1); err != nil {
				return nil, err
			}
		}
		if u, err = aby3.ConcatUnreduced(0, us...); err != nil {
			return nil, err
		}
		if u, err = aby3.ReshapeUnreduced(u, t.p.shape...); err != nil {
			return nil, err
		}
	}
	return b.p.Reduce(u, 1)
}

// reshapePending returns the pending value t with a new shape.
func (b *Backend) reshapePending(t *Tensor, shape []int) (*Tensor, error) {
	pd := t.p
	s, err := ring.ResolveShape(numel(pd.shape), shape)
	if err != nil {
		return nil, fmt.Errorf("aby3: %w", err)
	}
	switch {
	case pd.u != nil:
		u, err := aby3.ReshapeUnreduced(pd.u, s...)
		if err != nil {
			return nil, err
		}
		return &Tensor{p: &pending{shape: s, u: u}}, nil
	case pd.x != nil:
		return &Tensor{p: &pending{shape: s, x: pd.x, y: pd.y}}, nil
	case len(s) == 1:
		return &Tensor{p: &pending{shape: s, parts: pd.parts}}, nil
	}
	u, err := b.terms(t)
	if err != nil {
		return nil, err
	}
	if u, err = aby3.ReshapeUnreduced(u, s...); err != nil {
		return nil, err
	}
	return &Tensor{p: &pending{shape: s, u: u}}, nil
}

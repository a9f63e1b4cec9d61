package mpc

import (
	"fmt"

	"github.com/gotfe/gotfe/secure/ring"
)

// pending is a value not yet reduced to a sharing: the terms of a product before its
// truncation (U, the protocol's unreduced value), a product known by its operands (whose terms
// are formed when needed), or a concatenation along axis 0 of 1-D such values and sharings
// (the gradients an optimizer joins). The first operation that needs the shares reduces it;
// Reshape, Concat, AddBias, integer scalings and a real Scale, which folds its factor into the
// truncation, keep or complete it. Exactly one of formed, product and parts holds.
type pending[S, U Sharing] struct {
	shape   []int
	u       U    // the terms, once formed
	formed  bool // u holds the terms
	x, y    S    // the operands of the product x·y, reshaped to shape
	product bool // x and y hold the operands
	parts   []*tensor[S, U]
}

// terms returns t's value as unreduced terms: formed from the operands or the parts when
// needed (and kept), or a sharing lifted.
func (b *engine[S, B, U]) terms(t *tensor[S, U]) (U, error) {
	if t.p == nil {
		return b.p.Lift(t.s), nil
	}
	pd := t.p
	if pd.formed {
		return pd.u, nil
	}
	var u U
	var err error
	switch {
	case pd.product:
		u, err = b.p.MatMulUnreduced(pd.x, pd.y)
	default:
		us := make([]U, len(pd.parts))
		for i, part := range pd.parts {
			if us[i], err = b.terms(part); err != nil {
				return u, err
			}
		}
		u, err = b.p.ConcatUnreduced(0, us...)
	}
	if err != nil {
		return u, err
	}
	if u, err = b.p.ReshapeUnreduced(u, pd.shape...); err != nil {
		return u, err
	}
	var zero S
	pd.u, pd.formed, pd.x, pd.y, pd.product, pd.parts = u, true, zero, zero, false, nil
	return u, nil
}

// reduce completes t into a sharing (Reduce by 1), which t keeps.
func (b *engine[S, B, U]) reduce(t *tensor[S, U]) (S, error) {
	if t.p == nil {
		return t.s, nil
	}
	u, err := b.terms(t)
	if err != nil {
		return t.s, err
	}
	s, err := b.p.Reduce(u, 1)
	if err != nil {
		return s, err
	}
	t.s, t.p = s, nil
	return s, nil
}

// prescalable returns the tensors a real scaling of t would multiply before the products: for
// a product, its smaller operand; for a concatenation, that of each product part and each
// sharing part. ok is false when some part is already formed terms, or when the operands hold
// more than 3/5 of the values the products have (truncating them would cost more than folding
// the factor into the products' wider truncation).
func prescalable[S, U Sharing](t *tensor[S, U]) (ops []S, ok bool) {
	pd := t.p
	if pd == nil || pd.formed {
		return nil, false
	}
	smaller := func(x, y S) S {
		if x.Len() < y.Len() {
			return x
		}
		return y
	}
	if pd.product {
		o := smaller(pd.x, pd.y)
		return []S{o}, 5*o.Len() < 3*numel(pd.shape)
	}
	total, outs := 0, 0
	for _, part := range pd.parts {
		switch {
		case part.p == nil:
			ops = append(ops, part.s)
			total += part.s.Len()
		case part.p.product:
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
// truncated together (one truncation), the products formed from them and the whole reduced
// once by f bits: fewer bytes than folding c into the products' truncation, which then drops
// 2f bits with wider lanes, when the operands are much smaller than the products (a batch's
// output gradient against a layer's weight gradient). Each product's rounding error grows by
// the truncation of its operand times its fan-in, as for a product of encoded values.
func (b *engine[S, B, U]) scaleByOperands(t *tensor[S, U], ops []S, c float64) (S, error) {
	var zero S
	flat := make([]S, len(ops))
	for i, o := range ops {
		var err error
		if flat[i], err = b.p.Reshape(o, o.Len()); err != nil {
			return zero, err
		}
	}
	joined, err := b.p.Concat(0, flat...)
	if err != nil {
		return zero, err
	}
	scaled, err := b.p.MulPublic(joined, c)
	if err != nil {
		return zero, err
	}
	off := 0
	next := func(o S) (S, error) {
		part, err := b.p.Slice(scaled, 0, off, off+o.Len())
		if err != nil {
			return zero, err
		}
		off += o.Len()
		return b.p.Reshape(part, o.Shape()...)
	}
	// The product with its smaller operand scaled, or a sharing part scaled and lifted.
	product := func(pd *pending[S, U], o S) (U, error) {
		var none U
		so, err := next(o)
		if err != nil {
			return none, err
		}
		x, y := pd.x, pd.y
		if x.Len() < y.Len() { // the operand prescalable chose
			x = so
		} else {
			y = so
		}
		u, err := b.p.MatMulUnreduced(x, y)
		if err != nil {
			return none, err
		}
		return b.p.ReshapeUnreduced(u, pd.shape...)
	}
	var u U
	if t.p.product {
		if u, err = product(t.p, ops[0]); err != nil {
			return zero, err
		}
	} else {
		us := make([]U, len(t.p.parts))
		for i, part := range t.p.parts {
			if part.p == nil {
				s, err := next(ops[i])
				if err != nil {
					return zero, err
				}
				us[i] = b.p.Lift(s)
			} else if us[i], err = product(part.p, ops[i]); err != nil {
				return zero, err
			}
			if us[i], err = b.p.ReshapeUnreduced(us[i], -1); err != nil {
				return zero, err
			}
		}
		if u, err = b.p.ConcatUnreduced(0, us...); err != nil {
			return zero, err
		}
		if u, err = b.p.ReshapeUnreduced(u, t.p.shape...); err != nil {
			return zero, err
		}
	}
	return b.p.Reduce(u, 1)
}

// reshapePending returns the pending value t with a new shape.
func (b *engine[S, B, U]) reshapePending(t *tensor[S, U], shape []int) (*tensor[S, U], error) {
	pd := t.p
	s, err := ring.ResolveShape(numel(pd.shape), shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.p.Name(), err)
	}
	switch {
	case pd.formed:
		u, err := b.p.ReshapeUnreduced(pd.u, s...)
		if err != nil {
			return nil, err
		}
		return &tensor[S, U]{p: &pending[S, U]{shape: s, u: u, formed: true}}, nil
	case pd.product:
		return &tensor[S, U]{p: &pending[S, U]{shape: s, x: pd.x, y: pd.y, product: true}}, nil
	case len(s) == 1:
		return &tensor[S, U]{p: &pending[S, U]{shape: s, parts: pd.parts}}, nil
	}
	u, err := b.terms(t)
	if err != nil {
		return nil, err
	}
	if u, err = b.p.ReshapeUnreduced(u, s...); err != nil {
		return nil, err
	}
	return &tensor[S, U]{p: &pending[S, U]{shape: s, u: u, formed: true}}, nil
}

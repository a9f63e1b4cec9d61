package mpc

import (
	"fmt"
	"math"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/secure"
)

// mask is what ReLU and MaxPool2D keep for their backward passes: ReLU's mask [x > 0], a
// boolean sharing or, for large tensors, an arithmetic sharing of the integers 0 and 1; or
// max-pooling's route (the outcomes of its comparisons as ring integers, see
// [Protocol].MaxPool2D).
type mask[S, B Sharing] struct {
	b     B
	a     S
	arith bool // a holds the mask, else b
	pool  bool // a holds a max-pooling's route
}

// Shape returns the mask's dimensions.
func (m *mask[S, B]) Shape() []int {
	if m.arith {
		return m.a.Shape()
	}
	return m.b.Shape()
}

func (b *engine[S, B, U]) mask(op string, t backend.Tensor) (*mask[S, B], error) {
	m, ok := t.(*mask[S, B])
	if !ok || m == nil {
		return nil, fmt.Errorf("%s: %s: operand %T is not a mask of the secure backend", b.p.Name(), op, t)
	}
	return m, nil
}

func (b *engine[S, B, U]) poolRoute(op string, t backend.Tensor) (S, error) {
	m, err := b.mask(op, t)
	if err != nil {
		var zero S
		return zero, err
	}
	if !m.pool {
		return m.a, fmt.Errorf("%s: %s: the mask of a ReLU is not a pooling mask", b.p.Name(), op)
	}
	return m.a, nil
}

// arithMaskMin is the number of elements from which ReLU keeps its mask as an arithmetic
// sharing ([Protocol].ReLUArith: two rounds more, 5 words per element fewer, and 9 fewer in
// the backward pass): below it the rounds cost more than the bytes.
const arithMaskMin = 1024

// ReLU returns max(x, 0) exactly and the mask [x > 0] for the backward pass: eight rounds
// ([Protocol].ReLU) for tensors of fewer than 1024 elements, whose cost is latency; ten
// rounds with fewer bytes in both passes for larger ones ([Protocol].ReLUArith).
//
// On an unreduced product (a dense layer's pre-activations) the reduction and the ReLU share a
// round ([Protocol].ReduceReLU).
func (b *engine[S, B, U]) ReLU(x backend.Tensor) (backend.Tensor, backend.Tensor, error) {
	b.p.Begin("ReLU", b.shape(x))
	t, err := b.tensor("ReLU", x)
	if err != nil {
		return nil, nil, err
	}
	if t.p != nil {
		u, err := b.terms(t)
		if err != nil {
			return nil, nil, err
		}
		arith := u.Len() >= arithMaskMin
		z, y, mb, ma, err := b.p.ReduceReLU(u, arith)
		if err != nil {
			return nil, nil, err
		}
		t.s, t.p = z, nil // the tensor keeps its reduction
		return &tensor[S, U]{s: y}, &mask[S, B]{a: ma, b: mb, arith: arith}, nil
	}
	s := t.s
	if s.Len() >= arithMaskMin {
		y, m, err := b.p.ReLUArith(s)
		if err != nil {
			return nil, nil, err
		}
		return &tensor[S, U]{s: y}, &mask[S, B]{a: m, arith: true}, nil
	}
	y, m, err := b.p.ReLU(s)
	if err != nil {
		return nil, nil, err
	}
	return &tensor[S, U]{s: y}, &mask[S, B]{b: m}, nil
}

// MulMask keeps x where the ReLU mask is set (one round, exact, no comparison).
func (b *engine[S, B, U]) MulMask(x, mask backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("MulMask", b.shape(x))
	s, err := b.get("MulMask", x)
	if err != nil {
		return nil, err
	}
	m, err := b.mask("MulMask", mask)
	if err != nil {
		return nil, err
	}
	if m.pool {
		return nil, fmt.Errorf("%s: MulMask: the mask of a max-pooling is not a ReLU mask", b.p.Name())
	}
	if m.arith {
		return b.wrap(b.p.MulRing(s, m.a))
	}
	return b.wrap(b.p.MulMask(s, m.b))
}

// Maximum returns the elementwise maximum (an exact comparison and a selection).
func (b *engine[S, B, U]) Maximum(x, y backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Maximum", b.shape(x))
	sx, sy, err := b.get2("Maximum", x, y)
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.Maximum(sx, sy))
}

// Clip limits x to [lo, hi] with exact comparisons (on narrower values when x carries bounds,
// as a softmax's probabilities do). The result carries the bounds (the encodings of lo and
// hi), which spare a following Log its upper clamp and narrow its comparisons.
func (b *engine[S, B, U]) Clip(x backend.Tensor, lo, hi float64) (backend.Tensor, error) {
	b.p.Begin("Clip", b.shape(x))
	s, err := b.get("Clip", x)
	if err != nil {
		return nil, err
	}
	var y S
	if bd := x.(*tensor[S, U]).bounds; bd != nil {
		y, err = b.p.ClipWithin(s, lo, hi, bd[0], bd[1])
	} else {
		y, err = b.p.Clip(s, lo, hi)
	}
	if err != nil {
		return nil, err
	}
	enc := b.p.Encoding()
	elo, _ := enc.Encode(lo) // Clip succeeded: both encode
	ehi, _ := enc.Encode(hi)
	return &tensor[S, U]{s: y, bounds: &[2]float64{enc.Decode(elo), enc.Decode(ehi)}}, nil
}

// MaxPool2D takes the maximum over each window with a tree of exact comparisons and keeps the
// outcomes of the comparisons, which route the gradient in the backward pass.
func (b *engine[S, B, U]) MaxPool2D(x backend.Tensor, w backend.Window) (backend.Tensor, backend.Tensor, error) {
	b.p.Begin("MaxPool2D", b.shape(x))
	s, err := b.get("MaxPool2D", x)
	if err != nil {
		return nil, nil, err
	}
	g, _, err := geom("MaxPool2D", s.Shape(), w)
	if err != nil {
		return nil, nil, err
	}
	out, route, err := b.p.MaxPool2D(s, g)
	if err != nil {
		return nil, nil, err
	}
	return &tensor[S, U]{s: out}, &mask[S, B]{a: route, pool: true}, nil
}

// MaxPool2DBackward routes dy to the winners of each window down the tree of comparisons:
// one round per level of the tree, one ring product per comparison, exact.
func (b *engine[S, B, U]) MaxPool2DBackward(dy, argmax backend.Tensor, w backend.Window, inShape []int) (backend.Tensor, error) {
	b.p.Begin("MaxPool2DBackward", b.shape(dy))
	s, err := b.get("MaxPool2DBackward", dy)
	if err != nil {
		return nil, err
	}
	m, err := b.poolRoute("MaxPool2DBackward", argmax)
	if err != nil {
		return nil, err
	}
	g, _, err := geom("MaxPool2DBackward", inShape, w)
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.MaxPool2DBackward(s, m, g))
}

// ArgMaxMask returns the one-hot mask (as fixed-point 0/1) of the first maximum of each row
// along the last axis.
func (b *engine[S, B, U]) ArgMaxMask(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("ArgMaxMask", b.shape(x))
	s, err := b.get("ArgMaxMask", x)
	if err != nil {
		return nil, err
	}
	if len(s.Shape()) == 0 {
		return nil, fmt.Errorf("%s: ArgMaxMask of a scalar", b.p.Name())
	}
	_, m, err := b.p.MaxWithMask(s, len(s.Shape())-1)
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.BitToFixed(m))
}

// ArgMax reveals the index of the first maximum of each row along the last axis to party to
// (-1: every party).
func (b *engine[S, B, U]) ArgMax(x backend.Tensor, to int) ([]int, error) {
	b.p.Begin("ArgMax", b.shape(x))
	s, err := b.get("ArgMax", x)
	if err != nil {
		return nil, err
	}
	if len(s.Shape()) == 0 {
		return nil, fmt.Errorf("%s: ArgMax of a scalar", b.p.Name())
	}
	idx, err := b.p.ArgMax(s, len(s.Shape())-1)
	if err != nil {
		return nil, err
	}
	v, err := b.p.Reveal(idx, secure.PartyID(to))
	if err != nil || v == nil {
		return nil, err
	}
	out := make([]int, len(v))
	for i, f := range v {
		out[i] = int(math.Round(f))
	}
	return out, nil
}

package mpc

import (
	"fmt"
	"math"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// Mask is a secret 0/1 mask returned by ReLU and MaxPool2D for their backward passes: a
// boolean sharing, or for ReLU on large tensors an arithmetic sharing of the integers 0 and 1.
type Mask struct {
	b *aby3.BoolShared
	a *aby3.Shared
}

// Shape returns the mask's dimensions.
func (m *Mask) Shape() []int {
	if m.a != nil {
		return m.a.Shape()
	}
	return m.b.Shape()
}

func getMask(op string, t backend.Tensor) (*Mask, error) {
	m, ok := t.(*Mask)
	if !ok || m == nil || (m.b == nil && m.a == nil) {
		return nil, fmt.Errorf("aby3: %s: operand %T is not a mask of the secure backend", op, t)
	}
	return m, nil
}

func getBoolMask(op string, t backend.Tensor) (*aby3.BoolShared, error) {
	m, err := getMask(op, t)
	if err != nil {
		return nil, err
	}
	if m.b == nil {
		return nil, fmt.Errorf("aby3: %s: the mask of a ReLU is not a pooling mask", op)
	}
	return m.b, nil
}

// arithMaskMin is the number of elements from which ReLU keeps its mask as an arithmetic
// sharing ([aby3.Party.ReLUArith]: two rounds more, 5 words per element fewer, and 9 fewer in
// the backward pass): below it the rounds cost more than the bytes.
const arithMaskMin = 1024

// ReLU returns max(x, 0) exactly and the mask [x > 0] for the backward pass: eight rounds
// ([aby3.Party.ReLU]) for tensors of fewer than 1024 elements, whose cost is latency; ten
// rounds with fewer bytes in both passes for larger ones ([aby3.Party.ReLUArith]).
//
// On an unreduced product (a dense layer's pre-activations) the reduction and the ReLU share a
// round ([aby3.Party.ReduceReLU]).
func (b *Backend) ReLU(x backend.Tensor) (backend.Tensor, backend.Tensor, error) {
	b.p.Begin("ReLU", tensorShape(x))
	t, err := tensor("ReLU", x)
	if err != nil {
		return nil, nil, err
	}
	if t.p != nil {
		u, err := b.terms(t)
		if err != nil {
			return nil, nil, err
		}
		z, y, mb, ma, err := b.p.ReduceReLU(u, u.Len() >= arithMaskMin)
		if err != nil {
			return nil, nil, err
		}
		t.s, t.p = z, nil // the tensor keeps its reduction
		if ma != nil {
			return &Tensor{s: y}, &Mask{a: ma}, nil
		}
		return &Tensor{s: y}, &Mask{b: mb}, nil
	}
	s := t.s
	if s.Len() >= arithMaskMin {
		y, m, err := b.p.ReLUArith(s)
		if err != nil {
			return nil, nil, err
		}
		return &Tensor{s: y}, &Mask{a: m}, nil
	}
	y, m, err := b.p.ReLU(s)
	if err != nil {
		return nil, nil, err
	}
	return &Tensor{s: y}, &Mask{b: m}, nil
}

// MulMask keeps x where the ReLU mask is set (one round, exact, no comparison).
func (b *Backend) MulMask(x, mask backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("MulMask", tensorShape(x))
	s, err := b.get("MulMask", x)
	if err != nil {
		return nil, err
	}
	m, err := getMask("MulMask", mask)
	if err != nil {
		return nil, err
	}
	if m.a != nil {
		return wrap(b.p.MulRing(s, m.a))
	}
	return wrap(b.p.MulMask(s, m.b))
}

// Maximum returns the elementwise maximum (an exact comparison and a selection).
func (b *Backend) Maximum(x, y backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Maximum", tensorShape(x))
	sx, sy, err := b.get2("Maximum", x, y)
	if err != nil {
		return nil, err
	}
	return wrap(b.p.Maximum(sx, sy))
}

// Clip limits x to [lo, hi] with exact comparisons (on narrower values when x carries bounds,
// as a softmax's probabilities do). The result carries the bounds (the encodings of lo and
// hi), which spare a following Log its upper clamp and narrow its comparisons.
func (b *Backend) Clip(x backend.Tensor, lo, hi float64) (backend.Tensor, error) {
	b.p.Begin("Clip", tensorShape(x))
	s, err := b.get("Clip", x)
	if err != nil {
		return nil, err
	}
	var y *aby3.Shared
	if bd := x.(*Tensor).bounds; bd != nil {
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
	return &Tensor{s: y, bounds: &[2]float64{enc.Decode(elo), enc.Decode(ehi)}}, nil
}

// MaxPool2D takes the maximum over each window with a tree of exact comparisons and keeps the
// one-hot mask of the winners for the backward pass.
func (b *Backend) MaxPool2D(x backend.Tensor, w backend.Window) (backend.Tensor, backend.Tensor, error) {
	b.p.Begin("MaxPool2D", tensorShape(x))
	s, err := b.get("MaxPool2D", x)
	if err != nil {
		return nil, nil, err
	}
	g, _, err := geom("MaxPool2D", s.Shape(), w)
	if err != nil {
		return nil, nil, err
	}
	out, m, err := b.p.MaxPool2D(s, g)
	if err != nil {
		return nil, nil, err
	}
	return &Tensor{s: out}, &Mask{b: m}, nil
}

// MaxPool2DBackward routes dy to the winners of each window (one round).
func (b *Backend) MaxPool2DBackward(dy, argmax backend.Tensor, w backend.Window, inShape []int) (backend.Tensor, error) {
	b.p.Begin("MaxPool2DBackward", tensorShape(dy))
	s, err := b.get("MaxPool2DBackward", dy)
	if err != nil {
		return nil, err
	}
	m, err := getBoolMask("MaxPool2DBackward", argmax)
	if err != nil {
		return nil, err
	}
	g, _, err := geom("MaxPool2DBackward", inShape, w)
	if err != nil {
		return nil, err
	}
	return wrap(b.p.MaxPool2DBackward(s, m, g))
}

// ArgMaxMask returns the one-hot mask (as fixed-point 0/1) of the first maximum of each row
// along the last axis.
func (b *Backend) ArgMaxMask(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("ArgMaxMask", tensorShape(x))
	s, err := b.get("ArgMaxMask", x)
	if err != nil {
		return nil, err
	}
	if len(s.Shape()) == 0 {
		return nil, fmt.Errorf("aby3: ArgMaxMask of a scalar")
	}
	_, m, err := b.p.MaxWithMask(s, len(s.Shape())-1)
	if err != nil {
		return nil, err
	}
	return wrap(b.p.BitToFixed(m))
}

// ArgMax reveals the index of the first maximum of each row along the last axis to party to
// (-1: every party).
func (b *Backend) ArgMax(x backend.Tensor, to int) ([]int, error) {
	b.p.Begin("ArgMax", tensorShape(x))
	s, err := b.get("ArgMax", x)
	if err != nil {
		return nil, err
	}
	if len(s.Shape()) == 0 {
		return nil, fmt.Errorf("aby3: ArgMax of a scalar")
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

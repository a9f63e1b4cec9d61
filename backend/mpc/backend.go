package mpc

import (
	"fmt"
	"math"
	"slices"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/ring"
)

// Tensor is one party's shares of a secret tensor, with public bounds on its values when an
// operation guarantees them (Clip, and the exact affine maps of a clipped tensor), which later
// operations use to compare more cheaply (see Log).
//
// A matrix product stays pending (see pending) until an operation needs its shares; Reshape,
// Concat, AddBias and integer scalings keep it so, and Scale by a real factor applies the
// factor before the product's one truncation. A weight gradient times the learning rate is
// thus rounded once, in the optimizer's step.
type Tensor struct {
	s      *aby3.Shared
	p      *pending    // non-nil while the tensor is a pending product (s is nil)
	bounds *[2]float64 // every value lies in [bounds[0], bounds[1]] (on the encodings)
}

// Shape returns the tensor's dimensions.
func (t *Tensor) Shape() []int {
	if t.p != nil {
		return t.p.shape
	}
	return t.s.Shape()
}

// Shared returns the underlying sharing, or nil while the tensor is a pending product (any
// operation of the backend on it reduces it).
func (t *Tensor) Shared() *aby3.Shared { return t.s }

// Backend is one party's secure engine. It is used by one goroutine at a time.
type Backend struct {
	p *aby3.Party
}

var _ backend.Backend = (*Backend)(nil)

// New returns the backend of party p.
func New(p *aby3.Party) *Backend { return &Backend{p: p} }

// Party returns the party's index.
func (b *Backend) Party() int { return int(b.p.ID()) }

// Name returns "aby3".
func (b *Backend) Name() string { return aby3.ProtocolName }

// Engine returns the party runtime, for its counters.
func (b *Backend) Engine() *aby3.Party { return b.p }

func wrap(s *aby3.Shared, err error) (backend.Tensor, error) {
	if err != nil {
		return nil, err
	}
	return &Tensor{s: s}, nil
}

func tensor(op string, t backend.Tensor) (*Tensor, error) {
	x, ok := t.(*Tensor)
	if !ok || x == nil || (x.s == nil && x.p == nil) {
		return nil, fmt.Errorf("aby3: %s: operand %T is not a tensor of the secure backend", op, t)
	}
	return x, nil
}

// get returns the sharing of t, reducing an unreduced product first (two rounds; the tensor
// keeps the result).
func (b *Backend) get(op string, t backend.Tensor) (*aby3.Shared, error) {
	x, err := tensor(op, t)
	if err != nil {
		return nil, err
	}
	s, err := b.reduce(x)
	if err != nil {
		return nil, fmt.Errorf("aby3: %s: %w", op, err)
	}
	return s, nil
}

func (b *Backend) get2(op string, x, y backend.Tensor) (*aby3.Shared, *aby3.Shared, error) {
	sx, err := b.get(op, x)
	if err != nil {
		return nil, nil, err
	}
	sy, err := b.get(op, y)
	return sx, sy, err
}

// Input secret-shares the owner's data; the other parties pass nil data with the same shape.
func (b *Backend) Input(data []float64, shape []int, owner int) (backend.Tensor, error) {
	b.p.Begin("Input", shape)
	if b.Party() != owner {
		data = nil
	}
	return wrap(b.p.Share(secure.PartyID(owner), data, shape))
}

// Reveal opens t to party to (-1: every party).
func (b *Backend) Reveal(t backend.Tensor, to int) ([]float64, error) {
	b.p.Begin("Reveal", tensorShape(t))
	x, err := b.get("Reveal", t)
	if err != nil {
		return nil, err
	}
	return b.p.Reveal(x, secure.PartyID(to))
}

// Const makes a sharing of public values (no communication).
func (b *Backend) Const(data []float64, shape []int) (backend.Tensor, error) {
	b.p.Begin("Const", shape)
	n, err := backend.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("aby3: Const: %w", err)
	}
	if len(data) != n {
		return nil, fmt.Errorf("aby3: Const: %d values for shape %v", len(data), shape)
	}
	return wrap(b.p.Public(data, shape))
}

// Fill makes a sharing of the public value v repeated.
func (b *Backend) Fill(shape []int, v float64) (backend.Tensor, error) {
	b.p.Begin("Fill", shape)
	return wrap(b.p.Public([]float64{v}, shape))
}

// Zeros makes a sharing of zeros.
func (b *Backend) Zeros(shape []int) (backend.Tensor, error) {
	b.p.Begin("Zeros", shape)
	return b.Fill(shape, 0)
}

// RandomUniform secret-shares backend.UniformValues from party 0, so that a model starts from
// the same weights as on the plain engine with the same seed.
func (b *Backend) RandomUniform(shape []int, low, high float64, seed uint64) (backend.Tensor, error) {
	b.p.Begin("RandomUniform", shape)
	n, err := backend.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("aby3: RandomUniform: %w", err)
	}
	var v []float64
	if b.Party() == 0 {
		v = backend.UniformValues(n, low, high, seed)
	}
	return wrap(b.p.Share(0, v, shape))
}

// DropoutMask returns the public mask backend.DropoutValues as a sharing: the mask depends on
// no data, only on the public seed.
func (b *Backend) DropoutMask(shape []int, rate float64, seed uint64) (backend.Tensor, error) {
	b.p.Begin("DropoutMask", shape)
	n, err := backend.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("aby3: DropoutMask: %w", err)
	}
	if !(rate >= 0 && rate < 1) {
		return nil, fmt.Errorf("aby3: DropoutMask: rate %v not in [0, 1)", rate)
	}
	return wrap(b.p.Public(backend.DropoutValues(n, rate, seed), shape))
}

// Reshape returns x with a new shape (local, no copy).
func (b *Backend) Reshape(x backend.Tensor, shape []int) (backend.Tensor, error) {
	b.p.Begin("Reshape", tensorShape(x))
	t, err := tensor("Reshape", x)
	if err != nil {
		return nil, err
	}
	if t.p != nil {
		return b.reshapePending(t, shape)
	}
	r, err := b.p.Reshape(t.s, shape...)
	if err != nil {
		return nil, err
	}
	return &Tensor{s: r, bounds: t.bounds}, nil
}

// Transpose permutes the axes of x (nil perm reverses them); local.
func (b *Backend) Transpose(x backend.Tensor, perm []int) (backend.Tensor, error) {
	b.p.Begin("Transpose", tensorShape(x))
	s, err := b.get("Transpose", x)
	if err != nil {
		return nil, err
	}
	if perm == nil {
		r := len(s.Shape())
		perm = make([]int, r)
		for i := range perm {
			perm[i] = r - 1 - i
		}
	}
	return wrap(b.p.Permute(s, perm...))
}

// BroadcastTo repeats x to shape by the NumPy rule (local).
func (b *Backend) BroadcastTo(x backend.Tensor, shape []int) (backend.Tensor, error) {
	b.p.Begin("BroadcastTo", tensorShape(x))
	s, err := b.get("BroadcastTo", x)
	if err != nil {
		return nil, err
	}
	return wrap(aby3.MapLinear(s, func(t *ring.Tensor) (*ring.Tensor, error) { return broadcast(t, shape) }))
}

// Concat joins tensors of the same shape but along axis (local). When one of them is a
// pending product the result is pending too (the others join it).
func (b *Backend) Concat(axis int, xs ...backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Concat", nil)
	ts := make([]*Tensor, len(xs))
	anyPending, flat := false, axis == 0
	total := 0
	for i, x := range xs {
		t, err := tensor("Concat", x)
		if err != nil {
			return nil, err
		}
		ts[i], anyPending = t, anyPending || t.p != nil
		flat = flat && len(t.Shape()) == 1
		if flat {
			total += t.Shape()[0]
		}
	}
	if anyPending && flat {
		return &Tensor{p: &pending{shape: []int{total}, parts: ts}}, nil
	}
	if anyPending {
		us := make([]*aby3.Unreduced, len(ts))
		for i, t := range ts {
			var err error
			if us[i], err = b.terms(t); err != nil {
				return nil, err
			}
		}
		u, err := aby3.ConcatUnreduced(axis, us...)
		if err != nil {
			return nil, err
		}
		return &Tensor{p: &pending{shape: u.Shape(), u: u}}, nil
	}
	ss := make([]*aby3.Shared, len(ts))
	bd := &[2]float64{math.Inf(1), math.Inf(-1)} // the union of the parts' bounds
	for i, t := range ts {
		ss[i] = t.s
		if t.bounds == nil {
			bd = nil
		} else if bd != nil {
			bd[0], bd[1] = math.Min(bd[0], t.bounds[0]), math.Max(bd[1], t.bounds[1])
		}
	}
	if len(ts) == 0 {
		bd = nil
	}
	c, err := b.p.Concat(axis, ss...)
	if err != nil {
		return nil, err
	}
	return &Tensor{s: c, bounds: bd}, nil
}

// Split cuts a 1-D tensor into consecutive pieces of the given sizes, which must add up to its
// length (local).
func (b *Backend) Split(x backend.Tensor, sizes []int) ([]backend.Tensor, error) {
	b.p.Begin("Split", tensorShape(x))
	s, err := b.get("Split", x)
	if err != nil {
		return nil, err
	}
	total := 0
	for _, n := range sizes {
		if n < 0 {
			return nil, fmt.Errorf("aby3: Split: negative size %d", n)
		}
		total += n
	}
	if len(s.Shape()) != 1 || total != s.Len() {
		return nil, fmt.Errorf("aby3: Split of shape %v into pieces of %v: %w", s.Shape(), sizes, ring.ErrShape)
	}
	out := make([]backend.Tensor, len(sizes))
	off := 0
	for i, n := range sizes {
		if out[i], err = wrap(b.p.Slice(s, 0, off, off+n)); err != nil {
			return nil, err
		}
		off += n
	}
	return out, nil
}

// matMulShape returns the shape of x·y for matrices (m×k · k×n) or stacks (B×m×k · B×k×n).
func matMulShape(x, y []int) ([]int, error) {
	switch {
	case len(x) == 2 && len(y) == 2 && x[1] == y[0]:
		return []int{x[0], y[1]}, nil
	case len(x) == 3 && len(y) == 3 && x[0] == y[0] && x[2] == y[1]:
		return []int{x[0], x[1], y[2]}, nil
	}
	return nil, fmt.Errorf("aby3: matmul: %v · %v: want m×k · k×n or B×m×k · B×k×n: %w", x, y, ring.ErrShape)
}

// broadcast repeats t to shape by the NumPy rule.
func broadcast(t *ring.Tensor, shape []int) (*ring.Tensor, error) {
	in := t.Shape
	if len(in) > len(shape) {
		return nil, fmt.Errorf("broadcast %v to %v: %w", in, shape, ring.ErrShape)
	}
	// Align on the last axes.
	pad := make([]int, len(shape))
	for i := range pad {
		pad[i] = 1
	}
	copy(pad[len(shape)-len(in):], in)
	for i := range shape {
		if pad[i] != shape[i] && pad[i] != 1 {
			return nil, fmt.Errorf("broadcast %v to %v: %w", in, shape, ring.ErrShape)
		}
	}
	out, err := ring.New(shape...)
	if err != nil {
		return nil, err
	}
	if out.Len() == 0 {
		return out, nil
	}
	inStrides := make([]int, len(shape))
	st := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if pad[i] != 1 {
			inStrides[i] = st
		}
		st *= pad[i]
	}
	idx := make([]int, len(shape))
	for o := range out.Data {
		off := 0
		for i, v := range idx {
			off += v * inStrides[i]
		}
		out.Data[o] = t.Data[off]
		for i := len(idx) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, nil
}

// Add returns a + b (local).
func (b *Backend) Add(x, y backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Add", tensorShape(x))
	sx, sy, err := b.get2("Add", x, y)
	if err != nil {
		return nil, err
	}
	return wrap(b.p.Add(sx, sy))
}

// Sub returns a - b (local).
func (b *Backend) Sub(x, y backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Sub", tensorShape(x))
	sx, sy, err := b.get2("Sub", x, y)
	if err != nil {
		return nil, err
	}
	return wrap(b.p.Sub(sx, sy))
}

// Mul returns the elementwise fixed-point product (two rounds).
func (b *Backend) Mul(x, y backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Mul", tensorShape(x))
	sx, sy, err := b.get2("Mul", x, y)
	if err != nil {
		return nil, err
	}
	return wrap(b.p.Mul(sx, sy))
}

// AddBias adds bias over the last axis (local).
// An unreduced product stays unreduced (a dense layer's pre-activations, for a following ReLU).
func (b *Backend) AddBias(x, bias backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("AddBias", tensorShape(x))
	t, err := tensor("AddBias", x)
	if err != nil {
		return nil, err
	}
	if t.p != nil {
		sb, err := b.get("AddBias", bias)
		if err != nil {
			return nil, err
		}
		tu, err := b.terms(t)
		if err != nil {
			return nil, err
		}
		u, err := b.p.AddBiasUnreduced(tu, sb)
		if err != nil {
			return nil, err
		}
		return &Tensor{p: &pending{shape: u.Shape(), u: u}}, nil
	}
	sx, sb, err := b.get2("AddBias", x, bias)
	if err != nil {
		return nil, err
	}
	return wrap(b.p.AddBias(sx, sb))
}

// Neg returns -x (local).
func (b *Backend) Neg(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Neg", tensorShape(x))
	s, err := b.get("Neg", x)
	if err != nil {
		return nil, err
	}
	t := &Tensor{s: b.p.Neg(s)}
	if bd := x.(*Tensor).bounds; bd != nil {
		t.bounds = &[2]float64{-bd[1], -bd[0]}
	}
	return t, nil
}

// Scale returns s·x for a public s (one round for the truncation; none when s is an integer).
// On a pending product an integer s keeps it pending, and a real s is applied before the
// product's one truncation: to the product's smaller operand when that is much smaller (one
// round more, the weight gradients' case), else folded into the truncation
// ([aby3.Party.Reduce]: two rounds, one rounding).
func (b *Backend) Scale(x backend.Tensor, v float64) (backend.Tensor, error) {
	b.p.Begin("Scale", tensorShape(x))
	t, err := tensor("Scale", x)
	if err != nil {
		return nil, err
	}
	integer := v == float64(int64(v)) && v > -(1<<20) && v < 1<<20
	if t.p != nil {
		if integer {
			u, err := b.terms(t)
			if err != nil {
				return nil, err
			}
			return &Tensor{p: &pending{shape: u.Shape(), u: aby3.ScaleUnreduced(u, int64(v))}}, nil
		}
		if math.Abs(v) >= b.p.Encoding().Ulp() && math.Abs(v) < 1<<12 {
			if ops, ok := prescalable(t); ok {
				return wrap(b.scaleByOperands(t, ops, v))
			}
			u, err := b.terms(t)
			if err != nil {
				return nil, err
			}
			return wrap(b.p.Reduce(u, v))
		}
	}
	s, err := b.get("Scale", x)
	if err != nil {
		return nil, err
	}
	if integer {
		return &Tensor{s: b.p.MulPublicRing(s, uint64(int64(v)))}, nil
	}
	return wrap(b.p.MulPublic(s, v))
}

// AddScalar returns x + v for a public v (local).
func (b *Backend) AddScalar(x backend.Tensor, v float64) (backend.Tensor, error) {
	b.p.Begin("AddScalar", tensorShape(x))
	s, err := b.get("AddScalar", x)
	if err != nil {
		return nil, err
	}
	y, err := b.p.AddPublic(s, []float64{v})
	if err != nil {
		return nil, err
	}
	t := &Tensor{s: y}
	if bd := x.(*Tensor).bounds; bd != nil {
		e, _ := b.p.Encoding().Encode(v) // AddPublic adds this encoding: the bounds shift exactly
		c := b.p.Encoding().Decode(e)
		t.bounds = &[2]float64{bd[0] + c, bd[1] + c}
	}
	return t, nil
}

// Sum adds along axis (local, exact).
func (b *Backend) Sum(x backend.Tensor, axis int, keepDims bool) (backend.Tensor, error) {
	b.p.Begin("Sum", tensorShape(x))
	s, err := b.get("Sum", x)
	if err != nil {
		return nil, err
	}
	a, err := backend.NormAxis(axis, len(s.Shape()))
	if err != nil {
		return nil, fmt.Errorf("aby3: Sum of %v: %w", s.Shape(), err)
	}
	out, err := b.p.Sum(s, a)
	if err != nil {
		return nil, err
	}
	return keep(b, out, s.Shape(), a, keepDims)
}

func keep(b *Backend, out *aby3.Shared, in []int, axis int, keepDims bool) (backend.Tensor, error) {
	if !keepDims {
		return &Tensor{s: out}, nil
	}
	shape := slices.Clone(in)
	shape[axis] = 1
	return wrap(b.p.Reshape(out, shape...))
}

// SumAll adds every element into a scalar (local).
func (b *Backend) SumAll(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("SumAll", tensorShape(x))
	s, err := b.get("SumAll", x)
	if err != nil {
		return nil, err
	}
	flat, err := b.p.Reshape(s, s.Len())
	if err != nil {
		return nil, err
	}
	return wrap(b.p.Sum(flat, 0))
}

// Mean averages along axis (one round for the product with 1/n).
func (b *Backend) Mean(x backend.Tensor, axis int, keepDims bool) (backend.Tensor, error) {
	b.p.Begin("Mean", tensorShape(x))
	s, err := b.get("Mean", x)
	if err != nil {
		return nil, err
	}
	a, err := backend.NormAxis(axis, len(s.Shape()))
	if err != nil {
		return nil, fmt.Errorf("aby3: Mean of %v: %w", s.Shape(), err)
	}
	out, err := b.p.Mean(s, a)
	if err != nil {
		return nil, err
	}
	return keep(b, out, s.Shape(), a, keepDims)
}

// MatMul returns op(a)·op(b) for matrices or rank-3 stacks: local, an unreduced product that
// the first operation needing its shares truncates (two rounds for the whole product), or a
// scaling folds into its truncation.
func (b *Backend) MatMul(x, y backend.Tensor, transA, transB bool) (backend.Tensor, error) {
	b.p.Begin("MatMul", tensorShape(x))
	sx, sy, err := b.get2("MatMul", x, y)
	if err != nil {
		return nil, err
	}
	tr := func(s *aby3.Shared, t bool) (*aby3.Shared, error) {
		if !t {
			return s, nil
		}
		switch len(s.Shape()) {
		case 2:
			return b.p.Permute(s, 1, 0)
		case 3:
			return b.p.Permute(s, 0, 2, 1)
		}
		return nil, fmt.Errorf("aby3: MatMul: operand of shape %v is not a matrix or a stack of matrices", s.Shape())
	}
	if sx, err = tr(sx, transA); err != nil {
		return nil, err
	}
	if sy, err = tr(sy, transB); err != nil {
		return nil, err
	}
	shape, err := matMulShape(sx.Shape(), sy.Shape())
	if err != nil {
		return nil, err
	}
	return &Tensor{p: &pending{shape: shape, x: sx, y: sy}}, nil
}

// tensorShape returns t's shape for the party's operation log, or nil for an operand that is
// not a tensor (the operation then reports the error).
func tensorShape(t backend.Tensor) []int {
	if x, ok := t.(*Tensor); ok && x != nil && (x.s != nil || x.p != nil) {
		return x.Shape()
	}
	return nil
}

// BroadcastBytes makes public bytes that party from holds known to every party (one round):
// from returns data, the others what they receive from it (see aby3.Party.BroadcastBytes).
// A model's architecture travels so from the party holding the model file to the others.
func (b *Backend) BroadcastBytes(data []byte, from int) ([]byte, error) {
	b.p.Begin("BroadcastBytes", nil)
	return b.p.BroadcastBytes(data, secure.PartyID(from))
}

var _ backend.Padder = (*Backend)(nil)

// Pad2D pads the images of x [N, H, W, C] with zeros, or crops them (negative pads): local
// and exact, zeros being a valid sharing of zero.
func (b *Backend) Pad2D(x backend.Tensor, pads [4]int) (backend.Tensor, error) {
	b.p.Begin("Pad2D", tensorShape(x))
	s, err := b.get("Pad2D", x)
	if err != nil {
		return nil, err
	}
	return wrap(aby3.MapLinear(s, func(t *ring.Tensor) (*ring.Tensor, error) {
		data, shape, err := backend.PadImages(t.Data, t.Shape, pads)
		if err != nil {
			return nil, err
		}
		return &ring.Tensor{Shape: shape, Data: data}, nil
	}))
}

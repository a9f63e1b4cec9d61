package mpc

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/ring"
	"github.com/gotfe/gotfe/secure/session"
)

// tensor is one party's shares of a secret tensor, with public bounds on its values when an
// operation guarantees them (Clip, and the exact affine maps of a clipped tensor), which later
// operations use to compare more cheaply (see Log).
//
// A matrix product stays pending (see pending) until an operation needs its shares; Reshape,
// Concat, AddBias and integer scalings keep it so, and Scale by a real factor applies the
// factor before the product's one truncation. A weight gradient times the learning rate is
// thus rounded once, in the optimizer's step.
type tensor[S, U Sharing] struct {
	s      S
	p      *pending[S, U] // non-nil while the tensor is a pending product (s is unset)
	bounds *[2]float64    // every value lies in [bounds[0], bounds[1]] (on the encodings)
}

// Shape returns the tensor's dimensions.
func (t *tensor[S, U]) Shape() []int {
	if t.p != nil {
		return t.p.shape
	}
	return t.s.Shape()
}

// Backend is one party's secure engine: it implements [backend.Backend] (with
// [backend.Stepper], [backend.ShareCodec], [backend.Padder], [backend.PublicRandom] and
// [backend.InputLimiter]) over the party's [Protocol], and adds Concat and Split along a flat
// axis (with which Fit and the optimizers join work), BroadcastBytes and the party's Stats.
// It is used by one goroutine at a time.
type Backend struct {
	ops // the operations, over the protocol's own share types (see engine)
}

// ops is the method set of the backend, implemented by engine for each protocol.
type ops interface {
	backend.Backend
	backend.Stepper
	backend.ShareCodec
	backend.Padder
	backend.PublicRandom
	backend.InputLimiter
	Concat(axis int, xs ...backend.Tensor) (backend.Tensor, error)
	Split(x backend.Tensor, sizes []int) ([]backend.Tensor, error)
	BroadcastBytes(data []byte, from int) ([]byte, error)
	InvSqrtShifted(x backend.Tensor, max float64, shift int) (backend.Tensor, error)
	Stats() session.Stats
	fracBits() int
}

var _ backend.Backend = (*Backend)(nil)

// engine is the backend over a protocol with share types S, B and U.
type engine[S, B, U Sharing] struct {
	p Protocol[S, B, U]
}

// New returns the backend of party p, whichever its protocol.
func New[S, B, U Sharing](p Protocol[S, B, U]) *Backend {
	return &Backend{ops: &engine[S, B, U]{p: p}}
}

// Party returns the party's index.
func (b *engine[S, B, U]) Party() int { return int(b.p.ID()) }

// Name returns the protocol's name: "aby3" or "pond".
func (b *engine[S, B, U]) Name() string { return b.p.Name() }

// Stats returns the party's communication counters.
func (b *engine[S, B, U]) Stats() session.Stats { return b.p.Stats() }

// fracBits is the precision the parties agreed on.
func (b *engine[S, B, U]) fracBits() int { return b.p.Encoding().FracBits }

func (b *engine[S, B, U]) wrap(s S, err error) (backend.Tensor, error) {
	if err != nil {
		return nil, err
	}
	return &tensor[S, U]{s: s}, nil
}

func (b *engine[S, B, U]) tensor(op string, t backend.Tensor) (*tensor[S, U], error) {
	x, ok := t.(*tensor[S, U])
	if !ok || x == nil {
		return nil, fmt.Errorf("%s: %s: operand %T is not a tensor of the secure backend", b.p.Name(), op, t)
	}
	return x, nil
}

// get returns the sharing of t, reducing an unreduced product first (the tensor keeps the
// result).
func (b *engine[S, B, U]) get(op string, t backend.Tensor) (S, error) {
	x, err := b.tensor(op, t)
	if err != nil {
		var zero S
		return zero, err
	}
	s, err := b.reduce(x)
	if err != nil {
		return s, fmt.Errorf("%s: %s: %w", b.p.Name(), op, err)
	}
	return s, nil
}

func (b *engine[S, B, U]) get2(op string, x, y backend.Tensor) (S, S, error) {
	sx, err := b.get(op, x)
	if err != nil {
		return sx, sx, err
	}
	sy, err := b.get(op, y)
	return sx, sy, err
}

// Input secret-shares the owner's data; the other parties pass nil data with the same shape.
// The owner is part of the operation's name in the parties' position (see [Protocol].Begin):
// a sharing from party 0 or 1 costs pond no message, so two inputs from different owners
// swapped by one party are told apart by the next message's position instead.
func (b *engine[S, B, U]) Input(data []float64, shape []int, owner int) (backend.Tensor, error) {
	b.p.Begin("Input from P"+strconv.Itoa(owner), shape)
	if b.Party() != owner {
		data = nil
	}
	return b.wrap(b.p.Share(secure.PartyID(owner), data, shape))
}

// Reveal opens t to party to (-1: every party).
func (b *engine[S, B, U]) Reveal(t backend.Tensor, to int) ([]float64, error) {
	b.p.Begin("Reveal", b.shape(t))
	x, err := b.get("Reveal", t)
	if err != nil {
		return nil, err
	}
	return b.p.Reveal(x, secure.PartyID(to))
}

// Const makes a sharing of public values (no communication).
func (b *engine[S, B, U]) Const(data []float64, shape []int) (backend.Tensor, error) {
	b.p.Begin("Const", shape)
	n, err := backend.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("%s: Const: %w", b.p.Name(), err)
	}
	if len(data) != n {
		return nil, fmt.Errorf("%s: Const: %d values for shape %v", b.p.Name(), len(data), shape)
	}
	return b.wrap(b.p.Public(data, shape))
}

// Fill makes a sharing of the public value v repeated.
func (b *engine[S, B, U]) Fill(shape []int, v float64) (backend.Tensor, error) {
	b.p.Begin("Fill", shape)
	return b.wrap(b.p.Public([]float64{v}, shape))
}

// Zeros makes a sharing of zeros.
func (b *engine[S, B, U]) Zeros(shape []int) (backend.Tensor, error) {
	b.p.Begin("Zeros", shape)
	return b.Fill(shape, 0)
}

// RandomUniform secret-shares backend.UniformValues from party 0, so that a model starts from
// the same weights as on the plain engine with the same seed.
func (b *engine[S, B, U]) RandomUniform(shape []int, low, high float64, seed uint64) (backend.Tensor, error) {
	b.p.Begin("RandomUniform", shape)
	n, err := backend.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("%s: RandomUniform: %w", b.p.Name(), err)
	}
	var v []float64
	if b.Party() == 0 {
		v = backend.UniformValues(n, low, high, seed)
	}
	return b.wrap(b.p.Share(0, v, shape))
}

// DropoutMask returns the public mask backend.DropoutValues as a sharing: the mask depends on
// no data, only on the public seed.
func (b *engine[S, B, U]) DropoutMask(shape []int, rate float64, seed uint64) (backend.Tensor, error) {
	b.p.Begin("DropoutMask", shape)
	n, err := backend.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("%s: DropoutMask: %w", b.p.Name(), err)
	}
	if !(rate >= 0 && rate < 1) {
		return nil, fmt.Errorf("%s: DropoutMask: rate %v not in [0, 1)", b.p.Name(), rate)
	}
	return b.wrap(b.p.Public(backend.DropoutValues(n, rate, seed), shape))
}

// Reshape returns x with a new shape (local, no copy).
func (b *engine[S, B, U]) Reshape(x backend.Tensor, shape []int) (backend.Tensor, error) {
	b.p.Begin("Reshape", b.shape(x))
	t, err := b.tensor("Reshape", x)
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
	return &tensor[S, U]{s: r, bounds: t.bounds}, nil
}

// Transpose permutes the axes of x (nil perm reverses them); local.
func (b *engine[S, B, U]) Transpose(x backend.Tensor, perm []int) (backend.Tensor, error) {
	b.p.Begin("Transpose", b.shape(x))
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
	return b.wrap(b.p.Permute(s, perm...))
}

// BroadcastTo repeats x to shape by the NumPy rule (local).
func (b *engine[S, B, U]) BroadcastTo(x backend.Tensor, shape []int) (backend.Tensor, error) {
	b.p.Begin("BroadcastTo", b.shape(x))
	s, err := b.get("BroadcastTo", x)
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.MapLinear(s, func(t *ring.Tensor) (*ring.Tensor, error) { return broadcast(t, shape) }))
}

// Concat joins tensors of the same shape but along axis (local). When one of them is a
// pending product the result is pending too (the others join it).
func (b *engine[S, B, U]) Concat(axis int, xs ...backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Concat", nil)
	ts := make([]*tensor[S, U], len(xs))
	anyPending, flat := false, axis == 0
	total := 0
	for i, x := range xs {
		t, err := b.tensor("Concat", x)
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
		return &tensor[S, U]{p: &pending[S, U]{shape: []int{total}, parts: ts}}, nil
	}
	if anyPending {
		us := make([]U, len(ts))
		for i, t := range ts {
			var err error
			if us[i], err = b.terms(t); err != nil {
				return nil, err
			}
		}
		u, err := b.p.ConcatUnreduced(axis, us...)
		if err != nil {
			return nil, err
		}
		return &tensor[S, U]{p: &pending[S, U]{shape: u.Shape(), u: u, formed: true}}, nil
	}
	ss := make([]S, len(ts))
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
	return &tensor[S, U]{s: c, bounds: bd}, nil
}

// Split cuts a 1-D tensor into consecutive pieces of the given sizes, which must add up to its
// length (local).
func (b *engine[S, B, U]) Split(x backend.Tensor, sizes []int) ([]backend.Tensor, error) {
	b.p.Begin("Split", b.shape(x))
	s, err := b.get("Split", x)
	if err != nil {
		return nil, err
	}
	total := 0
	for _, n := range sizes {
		if n < 0 {
			return nil, fmt.Errorf("%s: Split: negative size %d", b.p.Name(), n)
		}
		total += n
	}
	if len(s.Shape()) != 1 || total != s.Len() {
		return nil, fmt.Errorf("%s: Split of shape %v into pieces of %v: %w", b.p.Name(), s.Shape(), sizes, ring.ErrShape)
	}
	out := make([]backend.Tensor, len(sizes))
	off := 0
	for i, n := range sizes {
		if out[i], err = b.wrap(b.p.Slice(s, 0, off, off+n)); err != nil {
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
	return nil, fmt.Errorf("matmul: %v · %v: want m×k · k×n or B×m×k · B×k×n: %w", x, y, ring.ErrShape)
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
func (b *engine[S, B, U]) Add(x, y backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Add", b.shape(x))
	sx, sy, err := b.get2("Add", x, y)
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.Add(sx, sy))
}

// Sub returns a - b (local).
func (b *engine[S, B, U]) Sub(x, y backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Sub", b.shape(x))
	sx, sy, err := b.get2("Sub", x, y)
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.Sub(sx, sy))
}

// Mul returns the elementwise fixed-point product (two rounds).
func (b *engine[S, B, U]) Mul(x, y backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Mul", b.shape(x))
	sx, sy, err := b.get2("Mul", x, y)
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.Mul(sx, sy))
}

// AddBias adds bias over the last axis (local).
// An unreduced product stays unreduced (a dense layer's pre-activations, for a following ReLU).
func (b *engine[S, B, U]) AddBias(x, bias backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("AddBias", b.shape(x))
	t, err := b.tensor("AddBias", x)
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
		return &tensor[S, U]{p: &pending[S, U]{shape: u.Shape(), u: u, formed: true}}, nil
	}
	sx, sb, err := b.get2("AddBias", x, bias)
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.AddBias(sx, sb))
}

// Neg returns -x (local).
func (b *engine[S, B, U]) Neg(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Neg", b.shape(x))
	s, err := b.get("Neg", x)
	if err != nil {
		return nil, err
	}
	t := &tensor[S, U]{s: b.p.Neg(s)}
	if bd := x.(*tensor[S, U]).bounds; bd != nil {
		t.bounds = &[2]float64{-bd[1], -bd[0]}
	}
	return t, nil
}

// Scale returns s·x for a public s (one round for the truncation; none when s is an integer).
// On a pending product an integer s keeps it pending, and a real s is applied before the
// product's one truncation: to the product's smaller operand when that is much smaller (one
// round more, the weight gradients' case), else folded into the truncation
// ([aby3.Party.Reduce]: two rounds, one rounding).
func (b *engine[S, B, U]) Scale(x backend.Tensor, v float64) (backend.Tensor, error) {
	b.p.Begin("Scale", b.shape(x))
	t, err := b.tensor("Scale", x)
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
			return &tensor[S, U]{p: &pending[S, U]{shape: u.Shape(), u: b.p.ScaleUnreduced(u, int64(v)), formed: true}}, nil
		}
		if math.Abs(v) >= b.p.Encoding().Ulp() && math.Abs(v) < 1<<12 {
			if ops, ok := prescalable(t); ok {
				return b.wrap(b.scaleByOperands(t, ops, v))
			}
			u, err := b.terms(t)
			if err != nil {
				return nil, err
			}
			return b.wrap(b.p.Reduce(u, v))
		}
	}
	s, err := b.get("Scale", x)
	if err != nil {
		return nil, err
	}
	if integer {
		return &tensor[S, U]{s: b.p.MulPublicRing(s, uint64(int64(v)))}, nil
	}
	return b.wrap(b.p.MulPublic(s, v))
}

// AddScalar returns x + v for a public v (local).
func (b *engine[S, B, U]) AddScalar(x backend.Tensor, v float64) (backend.Tensor, error) {
	b.p.Begin("AddScalar", b.shape(x))
	s, err := b.get("AddScalar", x)
	if err != nil {
		return nil, err
	}
	y, err := b.p.AddPublic(s, []float64{v})
	if err != nil {
		return nil, err
	}
	t := &tensor[S, U]{s: y}
	if bd := x.(*tensor[S, U]).bounds; bd != nil {
		e, _ := b.p.Encoding().Encode(v) // AddPublic adds this encoding: the bounds shift exactly
		c := b.p.Encoding().Decode(e)
		t.bounds = &[2]float64{bd[0] + c, bd[1] + c}
	}
	return t, nil
}

// Sum adds along axis (local, exact).
func (b *engine[S, B, U]) Sum(x backend.Tensor, axis int, keepDims bool) (backend.Tensor, error) {
	b.p.Begin("Sum", b.shape(x))
	s, err := b.get("Sum", x)
	if err != nil {
		return nil, err
	}
	a, err := backend.NormAxis(axis, len(s.Shape()))
	if err != nil {
		return nil, fmt.Errorf("%s: Sum of %v: %w", b.p.Name(), s.Shape(), err)
	}
	out, err := b.p.Sum(s, a)
	if err != nil {
		return nil, err
	}
	return b.keep(out, s.Shape(), a, keepDims)
}

func (b *engine[S, B, U]) keep(out S, in []int, axis int, keepDims bool) (backend.Tensor, error) {
	if !keepDims {
		return &tensor[S, U]{s: out}, nil
	}
	shape := slices.Clone(in)
	shape[axis] = 1
	return b.wrap(b.p.Reshape(out, shape...))
}

// SumAll adds every element into a scalar (local).
func (b *engine[S, B, U]) SumAll(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("SumAll", b.shape(x))
	s, err := b.get("SumAll", x)
	if err != nil {
		return nil, err
	}
	flat, err := b.p.Reshape(s, s.Len())
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.Sum(flat, 0))
}

// Mean averages along axis (one round for the product with 1/n).
func (b *engine[S, B, U]) Mean(x backend.Tensor, axis int, keepDims bool) (backend.Tensor, error) {
	b.p.Begin("Mean", b.shape(x))
	s, err := b.get("Mean", x)
	if err != nil {
		return nil, err
	}
	a, err := backend.NormAxis(axis, len(s.Shape()))
	if err != nil {
		return nil, fmt.Errorf("%s: Mean of %v: %w", b.p.Name(), s.Shape(), err)
	}
	out, err := b.p.Mean(s, a)
	if err != nil {
		return nil, err
	}
	return b.keep(out, s.Shape(), a, keepDims)
}

// MatMul returns op(a)·op(b) for matrices or rank-3 stacks: local, an unreduced product that
// the first operation needing its shares truncates (two rounds for the whole product), or a
// scaling folds into its truncation.
func (b *engine[S, B, U]) MatMul(x, y backend.Tensor, transA, transB bool) (backend.Tensor, error) {
	b.p.Begin("MatMul", b.shape(x))
	sx, sy, err := b.get2("MatMul", x, y)
	if err != nil {
		return nil, err
	}
	tr := func(s S, t bool) (S, error) {
		if !t {
			return s, nil
		}
		switch len(s.Shape()) {
		case 2:
			return b.p.Permute(s, 1, 0)
		case 3:
			return b.p.Permute(s, 0, 2, 1)
		}
		return s, fmt.Errorf("%s: MatMul: operand of shape %v is not a matrix or a stack of matrices", b.p.Name(), s.Shape())
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
	t := &tensor[S, U]{p: &pending[S, U]{shape: shape, x: sx, y: sy, product: true}}
	if formsAtOnce(sx.Len(), sy.Len(), numel(shape)) {
		if _, err := b.terms(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// formsAtOnce reports whether a product of operands of xn and yn values with out values forms
// its terms at once instead of keeping its operands until a later operation needs it: when
// its smaller operand holds more than eight times the values of the product, and at least
// 2^16 (a convolution kernel's gradient, the product of a batch's patches and output
// gradients). Such a product is far from what a real scaling would rather prescale
// ([prescalable] asks its operands to hold less than 3/5 of the product), and its terms take
// a fraction of the memory of its operands, which a pending value would keep until the
// optimizer's update.
func formsAtOnce(xn, yn, out int) bool {
	o := min(xn, yn)
	return o >= 1<<16 && o > 8*out
}

// shape returns t's shape for the party's operation log, or nil for an operand that is not a
// tensor (the operation then reports the error).
func (b *engine[S, B, U]) shape(t backend.Tensor) []int {
	if x, ok := t.(*tensor[S, U]); ok && x != nil {
		return x.Shape()
	}
	return nil
}

// BroadcastBytes makes public bytes that party from holds known to every party (one round):
// from returns data, the others what they receive from it (see [session.Session.BroadcastBytes]).
// A model's architecture travels so from the party holding the model file to the others.
func (b *engine[S, B, U]) BroadcastBytes(data []byte, from int) ([]byte, error) {
	b.p.Begin("BroadcastBytes", nil)
	return b.p.BroadcastBytes(data, secure.PartyID(from))
}

var _ backend.Padder = (*Backend)(nil)

// Pad2D pads the images of x [N, H, W, C] with zeros, or crops them (negative pads): local
// and exact, zeros being a valid sharing of zero.
func (b *engine[S, B, U]) Pad2D(x backend.Tensor, pads [4]int) (backend.Tensor, error) {
	b.p.Begin("Pad2D", b.shape(x))
	s, err := b.get("Pad2D", x)
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.MapLinear(s, func(t *ring.Tensor) (*ring.Tensor, error) {
		data, shape, err := backend.PadImages(t.Data, t.Shape, pads)
		if err != nil {
			return nil, err
		}
		return &ring.Tensor{Shape: shape, Data: data}, nil
	}))
}

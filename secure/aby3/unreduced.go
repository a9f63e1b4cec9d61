package aby3

import (
	"fmt"
	"math"

	"github.com/gotfe/gotfe/secure/ring"
)

// Unreduced is a fixed-point value before its truncation, typically a matrix product: this
// party's term t_i of a 3-out-of-3 sharing x·2^frac = t_0 + t_1 + t_2 (mod 2^64), without its
// zero-sharing. Linear maps and public integer factors apply to it locally; [Party.Reduce]
// truncates it to f fractional bits, folding a public real factor into that one truncation, so
// that a product followed by a scaling (a gradient times the learning rate) is rounded once
// instead of twice. Unreduced values are immutable.
type Unreduced struct {
	shape []int
	t     []uint64
	frac  int
}

// Shape returns the value's shape (do not modify it).
func (u *Unreduced) Shape() []int { return u.shape }

// Len returns the number of elements.
func (u *Unreduced) Len() int { return len(u.t) }

// MatMulUnreduced returns x·y (m×k · k×n, or B×m×k · B×k×n pairwise) before its truncation:
// local, no communication. [Party.Reduce] completes it as [Party.BatchMatMul] would.
func (p *Party) MatMulUnreduced(x, y *Shared) (*Unreduced, error) {
	var bs, m, k, n int
	switch {
	case len(x.shape) == 2:
		var err error
		if m, k, n, err = matShapes("matmul", x, y); err != nil {
			return nil, err
		}
		bs = 1
	case len(x.shape) == 3 && len(y.shape) == 3 && x.shape[0] == y.shape[0] && x.shape[2] == y.shape[1]:
		bs, m, k, n = x.shape[0], x.shape[1], x.shape[2], y.shape[2]
	default:
		return nil, fmt.Errorf("aby3: matmul: %v · %v: want m×k · k×n or B×m×k · B×k×n: %w", x.shape, y.shape, ring.ErrShape)
	}
	t := make([]uint64, bs*m*n)
	for i := 0; i < bs; i++ {
		productTerms(t[i*m*n:(i+1)*m*n], x.a[i*m*k:(i+1)*m*k], x.b[i*m*k:(i+1)*m*k], y.a[i*k*n:(i+1)*k*n], y.b[i*k*n:(i+1)*k*n], x.zero, y.zero, m, k, n)
	}
	shape := []int{m, n}
	if len(x.shape) == 3 {
		shape = []int{bs, m, n}
	}
	return &Unreduced{shape: shape, t: t, frac: 2 * p.enc.FracBits}, nil
}

// productTerms writes this party's local terms of the product of an m×k and a k×n sharing into
// t: T_i = X_i·Y_i + X_i·Y_{i+1} + X_{i+1}·Y_i, components a = i and b = i+1, in two matrix
// products, (X_i + X_{i+1})·Y_i + X_i·Y_{i+1} or X_i·(Y_i + Y_{i+1}) + X_{i+1}·Y_i, summing the
// components of the smaller operand (a single input row against a weight matrix). Products
// with a component known to be zero (xz, yz) are skipped: against a sharing from ShareRing,
// two of the three parties compute one product instead of two and read half the weights.
func productTerms(t, xa, xb, ya, yb []uint64, xz, yz uint8, m, k, n int) {
	aa := xz&zeroA == 0 && yz&zeroA == 0 // X_i·Y_i
	ab := xz&zeroA == 0 && yz&zeroB == 0 // X_i·Y_{i+1}
	ba := xz&zeroB == 0 && yz&zeroA == 0 // X_{i+1}·Y_i
	sumOf := func(u, v []uint64) []uint64 {
		s := getWords(len(u))
		ring.AddTo(s, u, v)
		return s
	}
	switch {
	case aa && ab && ba:
		if m*k < k*n {
			sum := sumOf(xa, xb)
			ring.MatMulTo(t, sum, ya, m, k, n)
			putWords(sum)
			ring.MatMulAddTo(t, xa, yb, m, k, n)
		} else {
			sum := sumOf(ya, yb)
			ring.MatMulTo(t, xa, sum, m, k, n)
			putWords(sum)
			ring.MatMulAddTo(t, xb, ya, m, k, n)
		}
	case aa && ab:
		sum := sumOf(ya, yb)
		ring.MatMulTo(t, xa, sum, m, k, n)
		putWords(sum)
	case aa && ba:
		sum := sumOf(xa, xb)
		ring.MatMulTo(t, sum, ya, m, k, n)
		putWords(sum)
	case aa:
		ring.MatMulTo(t, xa, ya, m, k, n)
	// Without X_i·Y_i one of X_i, Y_i is zero, so at most one other term is left.
	case ab:
		ring.MatMulTo(t, xa, yb, m, k, n)
	case ba:
		ring.MatMulTo(t, xb, ya, m, k, n)
	default:
		clear(t)
	}
}

// Lift returns x as an Unreduced value with 2f fractional bits (local: t_i = x_i·2^f), so
// that it can join products in [ConcatUnreduced].
func (p *Party) Lift(x *Shared) *Unreduced {
	t := make([]uint64, x.Len())
	ring.ShiftLeftTo(t, x.a, uint(p.enc.FracBits))
	return &Unreduced{shape: append([]int(nil), x.shape...), t: t, frac: 2 * p.enc.FracBits}
}

// ReshapeUnreduced returns u with a new shape (one dimension may be -1); no copy.
func ReshapeUnreduced(u *Unreduced, shape ...int) (*Unreduced, error) {
	s, err := ring.ResolveShape(len(u.t), shape)
	if err != nil {
		return nil, fmt.Errorf("aby3: %w", err)
	}
	return &Unreduced{shape: s, t: u.t, frac: u.frac}, nil
}

// MapLinearUnreduced applies a ring-linear function f (see [MapLinear]) to u's terms: local
// and exact, since f of the terms adds up to f of the value. A linear map that shrinks its
// input, such as the col2im of a convolution's input gradient, thus runs before the one
// truncation, which then costs the bytes of the smaller result.
func MapLinearUnreduced(u *Unreduced, f func(*ring.Tensor) (*ring.Tensor, error)) (*Unreduced, error) {
	t, err := f(&ring.Tensor{Shape: u.shape, Data: u.t})
	if err != nil {
		return nil, fmt.Errorf("aby3: %w", err)
	}
	return &Unreduced{shape: t.Shape, t: t.Data, frac: u.frac}, nil
}

// ConcatUnreduced joins values with the same fractional bits along axis (local).
func ConcatUnreduced(axis int, us ...*Unreduced) (*Unreduced, error) {
	if len(us) == 0 {
		return nil, fmt.Errorf("aby3: concat of no values")
	}
	ts := make([]*ring.Tensor, len(us))
	for i, u := range us {
		if u.frac != us[0].frac {
			return nil, fmt.Errorf("aby3: concat of values with %d and %d fractional bits", us[0].frac, u.frac)
		}
		ts[i] = &ring.Tensor{Shape: u.shape, Data: u.t}
	}
	c, err := ring.Concat(axis, ts...)
	if err != nil {
		return nil, fmt.Errorf("aby3: %w", err)
	}
	return &Unreduced{shape: c.Shape, t: c.Data, frac: us[0].frac}, nil
}

// ScaleUnreduced returns k·u for a public integer k (local, exact).
func ScaleUnreduced(u *Unreduced, k int64) *Unreduced {
	t := make([]uint64, len(u.t))
	ring.ScaleTo(t, u.t, uint64(k))
	return &Unreduced{shape: append([]int(nil), u.shape...), t: t, frac: u.frac}
}

// Reduce returns c·u truncated to f fractional bits, for a public real c rounded to a multiple
// of 2^-f, as [Party.MulPublic] rounds it: the terms are multiplied by L = c·2^f and the sum is
// reshared and truncated once by frac bits (the two rounds of [Party.MatMul]; every party
// sends one ring element per value, plus the exact truncation's lanes of frac bits). With
// c = 1 this is exactly the truncation [Party.MatMul] applies; otherwise it replaces that
// truncation and the one of a later [Party.MulPublic], with the same rounding of c.
//
// Error: below one unit in the last place, plus |u|·2^-(f+1) from rounding c. The value must
// satisfy |u·L|·2^frac < 2^62 (the range of the exact truncation): |c·u| < 2^14 at f = 16 for
// a product (frac = 2f), and |u| < 2^30 for c = 1, as for [Party.MatMul].
func (p *Party) Reduce(u *Unreduced, c float64) (*Shared, error) {
	f := p.enc.FracBits
	if math.IsNaN(c) || math.IsInf(c, 0) || math.Abs(c) >= math.Ldexp(1, 62-2*f) {
		return nil, fmt.Errorf("aby3: reduce by %v", c)
	}
	s, L := 0, int64(1)
	if c != 1 {
		s, L = f, int64(math.Round(math.Ldexp(c, f)))
		if L == 0 {
			return nil, fmt.Errorf("aby3: reduce by %v, which rounds to 0", c)
		}
	}
	d := u.frac - f + s
	if d < 1 || d > 62 {
		return nil, fmt.Errorf("aby3: reduce: truncation by %d bits out of range", d)
	}
	return p.reshareTrunc("reduce", p.maskedTerms(u.t, uint64(L)), u.shape, uint(d))
}

// maskedTerms returns L·t plus this party's share of a fresh zero-sharing, in one pass.
func (p *Party) maskedTerms(t []uint64, L uint64) []uint64 {
	out := newMsg(len(t))
	nx, pv := getWords(len(t)), getWords(len(t))
	p.next.Fill(nx)
	p.prev.Fill(pv)
	if L == 1 {
		for i, v := range t {
			out[i] = v + nx[i] - pv[i]
		}
	} else {
		for i, v := range t {
			out[i] = L*v + nx[i] - pv[i]
		}
	}
	putWords(nx, pv)
	return out
}

// reduceHalves runs the first round of Reduce(u, 1): it returns this party's half of the
// product before its truncation, A = t_0 + t_1 on party 0 and B = t_2 on parties 1 and 2
// (with a fresh zero-sharing), so that u's value is A + B.
func (p *Party) reduceHalves(op string, u *Unreduced) ([]uint64, error) {
	n := len(u.t)
	t := p.maskedTerms(u.t, 1)
	p.round()
	switch p.id {
	case 0:
		t1, err := p.recv(op, 1, n)
		if err != nil {
			return nil, err
		}
		ring.AddTo(t, t, t1)
		putWords(t1)
		return t, nil
	case 1:
		if err := p.send(op, 0, t); err != nil {
			return nil, err
		}
		return p.recv(op, 2, n)
	default:
		keep := append([]uint64(nil), t...)
		if err := p.send(op, 1, t); err != nil {
			return nil, err
		}
		return keep, nil
	}
}

// ReduceReLU is Reduce(u, 1) followed by ReLU, or ReLUArith when arith, in one round fewer:
// the sign is read from the two halves of the product before its truncation, so the first
// round of the sign-bit extraction shares the truncation's round. It returns the reduced
// product z, y = max(z, 0) and the mask [z > 0], boolean (ReLU) or arithmetic (ReLUArith).
// Nine rounds (eleven with arith) from the unreduced product, against two for Reduce and eight
// (ten) for ReLU; with the three-round sign bits (at most Params.FastCompareMax values), five
// (seven).
//
// The mask is [u ≥ 2^-f] on the product before its rounding: where the rounding takes a
// product just below one unit in the last place up to it, the mask is 0 and y is 0, which is
// still within the product's rounding error (below one unit).
func (p *Party) ReduceReLU(u *Unreduced, arith bool) (z, y *Shared, maskB *BoolShared, maskA *Shared, err error) {
	const op = "relu"
	f := p.enc.FracBits
	d := u.frac - f
	if d < 1 || d > 62 {
		return nil, nil, nil, nil, fmt.Errorf("aby3: relu: truncation by %d bits out of range", d)
	}
	half, err := p.reduceHalves(op, u)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	n := len(half)
	// The sign of A + B - 2^d, in the components gpShares reads: A + 0 on party 0, B on the others.
	da, db := getWords(n), getZeroWords(n)
	defer putWords(da, db)
	switch p.id {
	case 0:
		thr := uint64(1) << uint(d)
		for i, v := range half {
			da[i] = v - thr
		}
	case 1:
		copy(db, half)
	case 2:
		copy(da, half)
	}
	z = &Shared{shape: append([]int(nil), u.shape...)}
	ma, mb := make([]uint64, n), make([]uint64, n)
	var bt batch
	if p.fewRounds(n) {
		few := p.fewSend(&bt, da, db, 64)
		tr := p.truncSend(&bt, z, half, uint(d))
		if err := p.exchange(op, &bt); err != nil {
			return nil, nil, nil, nil, err
		}
		few.finish(p, &bt)
		tr.finish(p, &bt)
		bt.release()
		if err := few.rest(p, op, ma, mb); err != nil {
			return nil, nil, nil, nil, err
		}
	} else {
		gp := p.gpSend(&bt, da, db)
		tr := p.truncSend(&bt, z, half, uint(d))
		if err := p.exchange(op, &bt); err != nil {
			putWords(gp.ga, gp.gb, gp.pa, gp.pb)
			return nil, nil, nil, nil, err
		}
		gp.finish(p, &bt)
		tr.finish(p, &bt)
		bt.release()
		err := p.msbTreeTo(op, ma, mb, gp.ga, gp.gb, gp.pa, gp.pb)
		putWords(gp.ga, gp.gb, gp.pa, gp.pb)
		if err != nil {
			return nil, nil, nil, nil, err
		}
	}
	p.notBit(ma, mb) // [A + B ≥ 2^d]
	if arith {
		if maskA, err = p.injectBits(op, ma, mb, u.shape); err != nil {
			return nil, nil, nil, nil, err
		}
		if y, err = p.MulRing(maskA, z); err != nil {
			return nil, nil, nil, nil, err
		}
		return z, y, nil, maskA, nil
	}
	maskB = &BoolShared{shape: append([]int(nil), u.shape...), a: ma, b: mb}
	bt = batch{}
	st := p.bitMulSend(&bt, nil, nil, ma, mb, z.a, z.b, nil)
	if err := p.exchange(op, &bt); err != nil {
		return nil, nil, nil, nil, err
	}
	ya, yb := st.finish(p, &bt)
	bt.release()
	return z, &Shared{shape: append([]int(nil), u.shape...), a: ya, b: yb}, maskB, nil, nil
}

// AddBiasUnreduced returns u + bias with the sharing bias (of the size of u's last axis)
// broadcast over the other axes (local: every party adds its component of bias, raised to u's
// fractional bits, to its term). u must carry at least f fractional bits.
func (p *Party) AddBiasUnreduced(u *Unreduced, bias *Shared) (*Unreduced, error) {
	f := p.enc.FracBits
	if len(u.shape) == 0 || len(bias.shape) != 1 || bias.shape[0] != u.shape[len(u.shape)-1] || u.frac < f {
		return nil, fmt.Errorf("aby3: add bias %v to %v: %w", bias.shape, u.shape, ring.ErrShape)
	}
	lift := make([]uint64, bias.Len())
	ring.ShiftLeftTo(lift, bias.a, uint(u.frac-f))
	t := make([]uint64, len(u.t))
	if len(t) > 0 {
		ring.AddBiasTo(t, u.t, lift)
	}
	return &Unreduced{shape: append([]int(nil), u.shape...), t: t, frac: u.frac}, nil
}

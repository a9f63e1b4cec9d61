package aby3

import (
	"fmt"

	"github.com/gotfe/gotfe/secure/ring"
)

// addZeroShare adds this party's share α_i = F(k_{i,i+1}) - F(k_{i-1,i}) of a fresh sharing of
// zero to t. scratch must have t's length.
func (p *Party) addZeroShare(t, scratch []uint64) {
	p.next.Fill(scratch)
	ring.AddTo(t, t, scratch)
	p.prev.Fill(scratch)
	ring.SubTo(t, t, scratch)
}

// reshare turns the 3-out-of-3 sharing t (this party's t_i, already masked by a zero-sharing)
// into a replicated sharing: t_i goes to the previous party and t_{i+1} comes from the next.
// One round. t is handed over and must not be used afterwards.
func (p *Party) reshare(op string, t []uint64, shape []int) (*Shared, error) {
	n := len(t)
	keep := append([]uint64(nil), t...)
	p.round()
	if err := p.send(op, p.id.Prev(), t); err != nil {
		return nil, err
	}
	nxt, err := p.recv(op, p.id.Next(), n)
	if err != nil {
		return nil, err
	}
	return &Shared{shape: append([]int(nil), shape...), a: keep, b: nxt}, nil
}

// reshareTrunc turns the 3-out-of-3 sharing t into a replicated sharing of t / 2^d (ABY3's
// share truncation Π_trunc1, three-party form, with an exact wrap correction; see
// finishTrunc). Two rounds. t is handed over.
func (p *Party) reshareTrunc(op string, t []uint64, shape []int, d uint) (*Shared, error) {
	n := len(t)
	out := &Shared{shape: append([]int(nil), shape...)}
	// Round 1: P1 -> P0: t_1; P2 -> P1: t_2.
	p.round()
	var a []uint64
	switch p.id {
	case 0:
		t1, err := p.recv(op, 1, n)
		if err != nil {
			return nil, err
		}
		ring.AddTo(t, t, t1)
		a = t
	case 1:
		if err := p.send(op, 0, t); err != nil {
			return nil, err
		}
		t2, err := p.recv(op, 2, n)
		if err != nil {
			return nil, err
		}
		a = t2
	case 2:
		keep := append([]uint64(nil), t...)
		if err := p.send(op, 1, t); err != nil {
			return nil, err
		}
		a = keep
	}
	return p.finishTrunc(op, out, a, d)
}

// Trunc divides a sharing by 2^d (1 ≤ d ≤ 62), as after a fixed-point product: party 0, which
// holds x_0 and x_1, truncates their sum; parties 1 and 2 truncate x_2; the wrap-around of the
// two halves is corrected exactly (see finishTrunc), in one round. Error: below one unit in
// the last place, never more, for every x with |x| < 2^62.
func (p *Party) Trunc(x *Shared, d int) (*Shared, error) {
	if d < 1 || d > 62 {
		return nil, fmt.Errorf("aby3: trunc by %d bits out of range [1, 62]", d)
	}
	out := &Shared{shape: append([]int(nil), x.shape...)}
	a := make([]uint64, x.Len())
	switch p.id {
	case 0:
		ring.AddTo(a, x.a, x.b)
	case 1:
		copy(a, x.b)
	case 2:
		copy(a, x.a)
	}
	return p.finishTrunc("trunc", out, a, uint(d))
}

// mulLocal returns t_i = x_i·y_i + x_i·y_{i+1} + x_{i+1}·y_i + α_i.
func (p *Party) mulLocal(x, y *Shared) []uint64 {
	n := x.Len()
	t := newMsg(n)
	for i := range t {
		t[i] = x.a[i]*(y.a[i]+y.b[i]) + x.b[i]*y.a[i]
	}
	p.addZeroShare(t, make([]uint64, n))
	return t
}

// MulRing returns the elementwise product x·y of raw ring values (no truncation): one round,
// one ring element sent per value by every party.
func (p *Party) MulRing(x, y *Shared) (*Shared, error) {
	if err := checkSame("mul", x, y); err != nil {
		return nil, err
	}
	return p.reshare("mul", p.mulLocal(x, y), x.shape)
}

// Mul returns the elementwise fixed-point product x·y, truncated by f bits within the
// resharing: two rounds, one ring element sent per value by every party. Error: see the
// package documentation (below one unit in the last place, with a small failure probability).
func (p *Party) Mul(x, y *Shared) (*Shared, error) {
	if err := checkSame("mul", x, y); err != nil {
		return nil, err
	}
	return p.reshareTrunc("mul", p.mulLocal(x, y), x.shape, uint(p.enc.FracBits))
}

// matShapes checks x (m×k) · y (k×n).
func matShapes(op string, x, y *Shared) (m, k, n int, err error) {
	if len(x.shape) != 2 || len(y.shape) != 2 || x.shape[1] != y.shape[0] {
		return 0, 0, 0, fmt.Errorf("aby3: %s: %v · %v: want m×k · k×n: %w", op, x.shape, y.shape, ring.ErrShape)
	}
	return x.shape[0], x.shape[1], y.shape[1], nil
}

// matMulLocal returns T_i = X_i·(Y_i + Y_{i+1}) + X_{i+1}·Y_i + α_i.
func (p *Party) matMulLocal(x, y *Shared, m, k, n int) []uint64 {
	t := newMsg(m * n)
	productTerms(t, x.a, x.b, y.a, y.b, x.zero, y.zero, m, k, n)
	scratch := getWords(m * n)
	p.addZeroShare(t, scratch)
	putWords(scratch)
	return t
}

// MatMulRing returns the matrix product x·y of raw ring values for x m×k and y k×n: one round,
// one ring element sent per output element by every party.
func (p *Party) MatMulRing(x, y *Shared) (*Shared, error) {
	m, k, n, err := matShapes("matmul", x, y)
	if err != nil {
		return nil, err
	}
	return p.reshare("matmul", p.matMulLocal(x, y, m, k, n), []int{m, n})
}

// MatMul returns the fixed-point matrix product x·y (m×k · k×n), truncated by f bits within
// the resharing: two rounds, one ring element sent per output element by every party.
func (p *Party) MatMul(x, y *Shared) (*Shared, error) {
	m, k, n, err := matShapes("matmul", x, y)
	if err != nil {
		return nil, err
	}
	return p.reshareTrunc("matmul", p.matMulLocal(x, y, m, k, n), []int{m, n}, uint(p.enc.FracBits))
}

// BatchMatMul returns the fixed-point product of matrices (m×k · k×n), or of two stacks of
// matrices (B×m×k · B×k×n) pairwise, with one resharing for the whole stack: two rounds, one
// ring element sent per output element by every party.
func (p *Party) BatchMatMul(x, y *Shared) (*Shared, error) {
	if len(x.shape) == 2 {
		return p.MatMul(x, y)
	}
	if len(x.shape) != 3 || len(y.shape) != 3 || x.shape[0] != y.shape[0] || x.shape[2] != y.shape[1] {
		return nil, fmt.Errorf("aby3: matmul: %v · %v: want m×k · k×n or B×m×k · B×k×n: %w", x.shape, y.shape, ring.ErrShape)
	}
	bs, m, k, n := x.shape[0], x.shape[1], x.shape[2], y.shape[2]
	t := newMsg(bs * m * n)
	for i := 0; i < bs; i++ {
		productTerms(t[i*m*n:(i+1)*m*n], x.a[i*m*k:(i+1)*m*k], x.b[i*m*k:(i+1)*m*k], y.a[i*k*n:(i+1)*k*n], y.b[i*k*n:(i+1)*k*n], x.zero, y.zero, m, k, n)
	}
	p.addZeroShare(t, make([]uint64, len(t)))
	return p.reshareTrunc("matmul", t, []int{bs, m, n}, uint(p.enc.FracBits))
}

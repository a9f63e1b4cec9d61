package pond

import (
	"fmt"

	"github.com/gotfe/gotfe/secure/ring"
)

// prodStep is a batch of Beaver products waiting for its round: elementwise products of two
// vectors, or bs matrix products (m×k · k×n each).
//
// The producer draws this party's parts of a triple from the stream they share: party 0 its
// A_0, B_0 and C_0, party 1 its A_1 and B_1; the producer draws both and deals
// C_1 = (A_0 + A_1)·(B_0 + B_1) - C_0 to party 1, the only message of the triple. Party i
// sends E_i = X_i - A_i and F_i = Y_i - B_i to the other, both then know E = X - A and
// F = Y - B, and Z_i = C_i + E·B_i + A_i·F (+ E·F on party 0) adds up to X·Y. Each of E_i and
// F_i is masked by a share the receiver never sees, and C_1 by C_0.
//
// An operand that was opened before (its E or F is public, with the mask's shares kept in
// the operand's [opening]) is not opened again: its mask takes the place of a fresh one in the
// triple, and only the other operand travels. A weight is opened once in the forward pass and
// again neither in the backward pass (its transpose) nor, while it does not change, in later
// predictions; an activation's opening serves the weight gradient.
type prodStep struct {
	matrix      bool
	bs, m, k, n int
	a, b, c     []uint64 // this party's triple (the producer: A and B)
	x, y        []uint64 // its shares of the operands
	ox, oy      *Shared  // the operands whose openings are kept (nil: none)
	cx, cy      bool     // the operand was opened before
}

// opening is what a party keeps of a sharing's opening for a Beaver product: the public
// masked value e = x - a (parties 0 and 1) and the mask's share a (the producer: the whole
// mask). Sharings are immutable, so it stays valid as long as the sharing; linear maps and
// reshapes carry it over (f(x) - f(a) = f(e)).
type opening struct {
	e, a []uint64
}

// sizes returns the lengths of X, Y and Z.
func (st *prodStep) sizes() (nx, ny, nz int) {
	if !st.matrix {
		return st.n, st.n, st.n
	}
	return st.bs * st.m * st.k, st.bs * st.k * st.n, st.bs * st.m * st.n
}

// prodSend prepares the step's words in r: the masked operands, and on the producer the
// triple's dealt part. Elementwise products have matrix false and n elements. ox and oy, when
// not nil, are the operands as sharings, whose openings are reused and kept (x and y are then
// their shares); every party passes the same ones.
func (p *Party) prodSend(r *round, x, y []uint64, ox, oy *Shared, matrix bool, bs, m, k, n int) *prodStep {
	st := &prodStep{matrix: matrix, bs: bs, m: m, k: k, n: n, x: x, y: y, ox: ox, oy: oy}
	st.cx, st.cy = ox != nil && ox.open != nil, oy != nil && oy.open != nil
	nx, ny, nz := st.sizes()
	// mask returns the operand's kept mask, or a fresh one drawn from s0 (and s1, added, on
	// the producer).
	mask := func(cached bool, o *Shared, size int, s0, s1 interface{ Fill([]uint64) }) []uint64 {
		if cached {
			return o.open.a
		}
		v := make([]uint64, size)
		s0.Fill(v)
		if s1 != nil {
			w := make([]uint64, size)
			s1.Fill(w)
			ring.AddTo(v, v, w)
		}
		return v
	}
	switch p.id {
	case Producer:
		// Party 0's stream: A_0, B_0 (fresh ones), C_0; party 1's: A_1, B_1.
		var a0, b0 []uint64
		if !st.cx {
			a0 = make([]uint64, nx)
			p.d0.Fill(a0)
		}
		if !st.cy {
			b0 = make([]uint64, ny)
			p.d0.Fill(b0)
		}
		c0 := make([]uint64, nz)
		p.d0.Fill(c0)
		st.a = mask(st.cx, ox, nx, p.d1, nil)
		if !st.cx {
			ring.AddTo(st.a, st.a, a0)
		}
		st.b = mask(st.cy, oy, ny, p.d1, nil)
		if !st.cy {
			ring.AddTo(st.b, st.b, b0)
		}
		c1 := r.deal(nz)
		st.mul(c1, st.a, st.b)
		ring.SubTo(c1, c1, c0)
		return st
	case 0:
		st.a = mask(st.cx, ox, nx, p.deal, nil)
		st.b = mask(st.cy, oy, ny, p.deal, nil)
		st.c = make([]uint64, nz)
		p.deal.Fill(st.c)
	case 1:
		st.a = mask(st.cx, ox, nx, p.deal, nil)
		st.b = mask(st.cy, oy, ny, p.deal, nil)
		r.expectDealt(nz)
	}
	if !st.cx {
		ring.SubTo(r.put(nx), x, st.a)
	}
	if !st.cy {
		ring.SubTo(r.put(ny), y, st.b)
	}
	return st
}

// mul sets dst = x·y: elementwise, or matrix by matrix for each of the bs pairs.
func (st *prodStep) mul(dst, x, y []uint64) {
	if !st.matrix {
		ring.MulTo(dst, x, y)
		return
	}
	st.mulAdd(dst, x, y, true)
}

// mulAdd sets dst += x·y (dst = x·y when fresh).
func (st *prodStep) mulAdd(dst, x, y []uint64, fresh bool) {
	if !st.matrix {
		if fresh {
			ring.MulTo(dst, x, y)
		} else {
			ring.MulAddTo(dst, x, y)
		}
		return
	}
	m, k, n := st.m, st.k, st.n
	for i := range st.bs {
		d, a, b := dst[i*m*n:(i+1)*m*n], x[i*m*k:(i+1)*m*k], y[i*k*n:(i+1)*k*n]
		if fresh {
			ring.MatMulTo(d, a, b, m, k, n)
		} else {
			ring.MatMulAddTo(d, a, b, m, k, n)
		}
	}
}

// finish returns this party's share of the products (nil on the producer), and keeps the
// openings of the operands passed as sharings.
func (st *prodStep) finish(p *Party, r *round) []uint64 {
	if !p.holds() {
		if st.ox != nil && !st.cx {
			st.ox.open = &opening{a: st.a}
		}
		if st.oy != nil && !st.cy {
			st.oy.open = &opening{a: st.b}
		}
		return nil
	}
	nx, ny, nz := st.sizes()
	// E = e_0 + e_1 and F = f_0 + f_1: this party's own masked operands plus the other's.
	open := func(cached bool, o *Shared, v, a []uint64, size int) []uint64 {
		if cached {
			return o.open.e
		}
		E := make([]uint64, size)
		ring.SubTo(E, v, a)
		ring.AddTo(E, E, r.take(size))
		if o != nil {
			o.open = &opening{e: E, a: a}
		}
		return E
	}
	E := open(st.cx, st.ox, st.x, st.a, nx)
	F := open(st.cy, st.oy, st.y, st.b, ny)
	c := st.c
	if p.id == 1 {
		c = r.takeDealt(nz)
	}
	z := make([]uint64, nz)
	b := st.b
	if p.id == 0 {
		// E·(B_0 + F) + A_0·F + C_0
		b = make([]uint64, ny)
		ring.AddTo(b, st.b, F)
	}
	st.mulAdd(z, E, b, true)
	st.mulAdd(z, st.a, F, false)
	ring.AddTo(z, z, c)
	return z
}

// MulRing returns the elementwise product x·y of raw ring values (no truncation): one round
// of a Beaver product; parties 0 and 1 each send two ring elements per value, the producer
// deals one.
func (p *Party) MulRing(x, y *Shared) (*Shared, error) {
	if err := checkSame("mul", x, y); err != nil {
		return nil, err
	}
	r := p.newRound()
	st := p.prodSend(r, x.v, y.v, nil, nil, false, 1, 1, 1, x.n)
	if err := p.exchange("mul", r); err != nil {
		return nil, err
	}
	return wrapShared(x.shape, x.n, st.finish(p, r)), nil
}

// Mul returns the elementwise fixed-point product x·y, truncated by f bits: two rounds (the
// Beaver product, then [Party.Trunc]'s).
func (p *Party) Mul(x, y *Shared) (*Shared, error) {
	z, err := p.MulRing(x, y)
	if err != nil {
		return nil, err
	}
	return p.Trunc(z, p.enc.FracBits)
}

// matShapes checks x (m×k) · y (k×n), or stacks (B×m×k · B×k×n).
func matShapes(x, y []int) (bs, m, k, n int, out []int, err error) {
	switch {
	case len(x) == 2 && len(y) == 2 && x[1] == y[0]:
		return 1, x[0], x[1], y[1], []int{x[0], y[1]}, nil
	case len(x) == 3 && len(y) == 3 && x[0] == y[0] && x[2] == y[1]:
		return x[0], x[1], x[2], y[2], []int{x[0], x[1], y[2]}, nil
	}
	return 0, 0, 0, 0, nil, fmt.Errorf("pond: matmul: %v · %v: want m×k · k×n or B×m×k · B×k×n: %w", x, y, ring.ErrShape)
}

// MatMulRing returns the matrix product x·y of raw ring values for x m×k and y k×n (or
// stacks B×m×k · B×k×n, pairwise): one round in which parties 0 and 1 each send m·k + k·n ring
// elements, plus the producer's one message of m·n elements to party 1, dealt ahead. An
// operand opened in an earlier product (itself, or a sharing it is a linear map of, such as
// its transpose) is not sent again: its m·k or k·n elements are saved.
func (p *Party) MatMulRing(x, y *Shared) (*Shared, error) {
	bs, m, k, n, shape, err := matShapes(x.shape, y.shape)
	if err != nil {
		return nil, err
	}
	r := p.newRound()
	st := p.prodSend(r, x.v, y.v, x, y, true, bs, m, k, n)
	if err := p.exchange("matmul", r); err != nil {
		return nil, err
	}
	return wrapShared(shape, bs*m*n, st.finish(p, r)), nil
}

// MatMul returns the fixed-point matrix product x·y (m×k · k×n, or stacks pairwise),
// truncated by f bits: two rounds ([Party.MatMulRing], then [Party.Trunc]'s).
func (p *Party) MatMul(x, y *Shared) (*Shared, error) {
	z, err := p.MatMulRing(x, y)
	if err != nil {
		return nil, err
	}
	return p.Trunc(z, p.enc.FracBits)
}

// BatchMatMul is [Party.MatMul] for matrices or stacks of matrices.
func (p *Party) BatchMatMul(x, y *Shared) (*Shared, error) { return p.MatMul(x, y) }

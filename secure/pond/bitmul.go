package pond

import (
	"fmt"

	"github.com/gotfe/gotfe/secure/ring"
)

// bitMulStep is a batch of products b·x of secret bits b (bit 0 of XOR shares) with values x
// (shared, or public), waiting for its round.
//
// The producer deals a random bit r in both sharings, r = r_0 ⊕ r_1 with r_i from party i's
// stream and r = ρ_0 + ρ_1 (mod 2^64) with ρ_0 from party 0's stream and ρ_1 dealt, and for a
// shared x a Beaver mask A = A_0 + A_1 (from the streams) with an additive sharing
// q_0 + q_1 = r·A (q_1 dealt). Party i sends c_i = b_i ⊕ r_i (one bit, packed) and, for a
// shared x, e_i = x_i - A_i; both then know c = b ⊕ r and e = x - A. Since r·x = e·r + r·A,
// party i holds w_i = e·ρ_i + q_i of r·x, and b·x = c ? x - r·x : r·x is local; for a public x,
// b = c + (1 - 2c)·r is local too. The arithmetic bit [b] itself comes free with either.
// Parties 0 and 1 each send one bit (and one word for a shared x) per element; the producer
// deals one word per element (two for a shared x).
type bitMulStep struct {
	n      int
	public bool
	x      []uint64 // this party's share of x (shared x)
	pub    []uint64 // public x: one value, or one per element
	b      []uint64 // this party's bit shares
	rb     []uint64 // r_i, packed
	rho    []uint64 // party 0: ρ_0
	a, q   []uint64 // party 0: A_0, q_0; party 1: A_1
}

// bitMulSend prepares b·x in r: for a shared x, its shares and pub nil; for a public x, pub
// the public values (one, or one per element) on every party.
func (p *Party) bitMulSend(r *round, b, x, pub []uint64, n int) *bitMulStep {
	st := &bitMulStep{n: n, public: pub != nil, x: x, pub: pub, b: b}
	nb := (n + 63) / 64
	shared := !st.public
	switch p.id {
	case Producer:
		r0, rho0, r1 := make([]uint64, nb), make([]uint64, n), make([]uint64, nb)
		p.d0.Fill(r0)
		p.d0.Fill(rho0)
		var a0, q0, a1 []uint64
		if shared {
			a0, q0 = make([]uint64, n), make([]uint64, n)
			p.d0.Fill(a0)
			p.d0.Fill(q0)
		}
		p.d1.Fill(r1)
		if shared {
			a1 = make([]uint64, n)
			p.d1.Fill(a1)
		}
		rho1 := r.deal(n)
		var q1 []uint64
		if shared {
			q1 = r.deal(n)
		}
		for i := range rho1 {
			rv := (r0[i/64] ^ r1[i/64]) >> (i % 64) & 1
			rho1[i] = rv - rho0[i]
			if shared {
				q1[i] = rv*(a0[i]+a1[i]) - q0[i]
			}
		}
		return st
	case 0:
		st.rb, st.rho = make([]uint64, nb), make([]uint64, n)
		p.deal.Fill(st.rb)
		p.deal.Fill(st.rho)
		if shared {
			st.a, st.q = make([]uint64, n), make([]uint64, n)
			p.deal.Fill(st.a)
			p.deal.Fill(st.q)
		}
	case 1:
		st.rb = make([]uint64, nb)
		p.deal.Fill(st.rb)
		if shared {
			st.a = make([]uint64, n)
			p.deal.Fill(st.a)
		}
		r.expectDealt(n)
		if shared {
			r.expectDealt(n)
		}
	}
	c := r.put(nb)
	copy(c, st.rb)
	for i := range n {
		c[i/64] ^= (b[i] & 1) << (i % 64)
	}
	if shared {
		ring.SubTo(r.put(n), x, st.a)
	}
	return st
}

// finish returns this party's shares of b·x and of the arithmetic bit [b] (nil on the
// producer).
func (st *bitMulStep) finish(p *Party, r *round) (z, bit []uint64) {
	if !p.holds() {
		return nil, nil
	}
	n := st.n
	nb := (n + 63) / 64
	shared := !st.public
	theirs := r.take(nb)
	var e []uint64
	if shared {
		e = r.take(n)
	}
	rho, q := st.rho, st.q
	if p.id == 1 {
		rho = r.takeDealt(n)
		if shared {
			q = r.takeDealt(n)
		}
	}
	z, bit = make([]uint64, n), make([]uint64, n)
	for i := range n {
		c := (st.rb[i/64]^theirs[i/64])>>(i%64)&1 ^ st.b[i]&1
		b := (1 - 2*c) * rho[i] // this party's share of [b], without c itself
		if p.id == 0 {
			b += c
		}
		bit[i] = b
		if !shared {
			v := st.pub[0]
			if len(st.pub) > 1 {
				v = st.pub[i]
			}
			z[i] = v * b
			continue
		}
		E := st.x[i] - st.a[i] + e[i]
		w := E*rho[i] + q[i] // share of r·x
		if c == 1 {
			z[i] = st.x[i] - w
		} else {
			z[i] = w
		}
	}
	return z, bit
}

// MulBit returns b·x for a secret bit b (bit 0 of a boolean sharing) and arithmetic x of the
// same shape: x where the bit is set and 0 elsewhere, exactly. One round.
func (p *Party) MulBit(b *BoolShared, x *Shared) (*Shared, error) {
	if !ring.SameShape(b.shape, x.shape) {
		return nil, fmt.Errorf("pond: mul bit: shapes %v and %v differ: %w", b.shape, x.shape, ring.ErrShape)
	}
	r := p.newRound()
	st := p.bitMulSend(r, b.v, x.v, nil, x.n)
	if err := p.exchange("mul bit", r); err != nil {
		return nil, err
	}
	z, _ := st.finish(p, r)
	return wrapShared(x.shape, x.n, z), nil
}

// MulMask returns x where the secret bit of mask is set and 0 elsewhere (the backward pass of
// [Party.ReLU] and of max-pooling): one round, exact.
func (p *Party) MulMask(x *Shared, mask *BoolShared) (*Shared, error) { return p.MulBit(mask, x) }

// bitScaled returns the arithmetic sharing of c·b for secret bits b and a public c (one round).
func (p *Party) bitScaled(op string, b *BoolShared, c uint64) (*Shared, error) {
	r := p.newRound()
	st := p.bitMulSend(r, b.v, nil, []uint64{c}, b.n)
	if err := p.exchange(op, r); err != nil {
		return nil, err
	}
	z, _ := st.finish(p, r)
	return wrapShared(b.shape, b.n, z), nil
}

// BitToArith converts secret bits into an arithmetic sharing of the ring integers 0 and 1
// (one round; parties 0 and 1 send one bit per element, the producer deals one word).
func (p *Party) BitToArith(b *BoolShared) (*Shared, error) { return p.bitScaled("bit to arith", b, 1) }

// BitToFixed converts secret bits into an arithmetic sharing of the fixed-point values 0 and
// 1 (one round, as [Party.BitToArith]).
func (p *Party) BitToFixed(b *BoolShared) (*Shared, error) {
	return p.bitScaled("bit to fixed", b, p.enc.One())
}

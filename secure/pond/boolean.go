package pond

import (
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/ring"
	"github.com/gotfe/gotfe/secure/session"
)

// BoolShared is one party's XOR share of a secret tensor of 64-bit words: x = x_0 ⊕ x_1,
// party 0 holding x_0 and party 1 x_1 (the producer holds no share). A secret bit (a
// comparison result, a ReLU mask) is an element whose bit 0 holds the value and whose other
// bits are zero.
type BoolShared struct {
	shape []int
	n     int
	v     []uint64 // nil on the producer
}

// Shape returns the tensor's shape (do not modify it).
func (s *BoolShared) Shape() []int { return s.shape }

// Len returns the number of elements.
func (s *BoolShared) Len() int { return s.n }

// Component returns the party's share (shared memory; nil on the producer).
func (s *BoolShared) Component() []uint64 { return s.v }

// RevealBool opens x to every party (for tests): one round, as [Party.RevealRing].
func (p *Party) RevealBool(x *BoolShared) ([]uint64, error) {
	p.s.Round()
	if p.holds() {
		for _, q := range []secure.PartyID{p.other(), Producer} {
			if err := p.s.Send("reveal bool", q, append(make([]uint64, 0, len(x.v)+session.SendSlack), x.v...)); err != nil {
				return nil, err
			}
		}
	}
	out := make([]uint64, x.n)
	if p.holds() {
		copy(out, x.v)
	}
	for _, q := range []secure.PartyID{0, 1} {
		if q == p.id {
			continue
		}
		v, err := p.s.Recv("reveal bool", q, x.n)
		if err != nil {
			return nil, err
		}
		ring.XorTo(out, out, v)
	}
	return out, nil
}

// andStep is a batch of AND gates on XOR-shared words waiting for its round (Beaver's
// product in GF(2)^64): the producer deals a boolean triple (a, b, c = a∧b), party 0's part
// from its stream and party 1's c_1 in a message; party i sends x_i⊕a_i and y_i⊕b_i, and
// z_i = c_i ⊕ (E∧b_i) ⊕ (a_i∧F) (⊕ E∧F on party 0).
type andStep struct {
	a, b, c []uint64
	x, y    []uint64
}

// andSend prepares x ∧ y (this party's shares) in r.
func (p *Party) andSend(r *round, x, y []uint64, n int) *andStep {
	st := &andStep{x: x, y: y}
	switch p.id {
	case Producer:
		a0, b0, c0 := make([]uint64, n), make([]uint64, n), make([]uint64, n)
		a1, b1 := make([]uint64, n), make([]uint64, n)
		p.d0.Fill(a0)
		p.d0.Fill(b0)
		p.d0.Fill(c0)
		p.d1.Fill(a1)
		p.d1.Fill(b1)
		c1 := r.deal(n)
		for i := range c1 {
			c1[i] = ((a0[i] ^ a1[i]) & (b0[i] ^ b1[i])) ^ c0[i]
		}
		return st
	case 0:
		st.a, st.b, st.c = make([]uint64, n), make([]uint64, n), make([]uint64, n)
		p.deal.Fill(st.a)
		p.deal.Fill(st.b)
		p.deal.Fill(st.c)
	case 1:
		st.a, st.b = make([]uint64, n), make([]uint64, n)
		p.deal.Fill(st.a)
		p.deal.Fill(st.b)
		r.expectDealt(n)
	}
	ring.XorTo(r.put(n), x, st.a)
	ring.XorTo(r.put(n), y, st.b)
	return st
}

// finish returns this party's share of the AND (nil on the producer).
func (st *andStep) finish(p *Party, r *round) []uint64 {
	if !p.holds() {
		return nil
	}
	n := len(st.x)
	e, f := r.take(n), r.take(n)
	c := st.c
	if p.id == 1 {
		c = r.takeDealt(n)
	}
	z := make([]uint64, n)
	for i := range z {
		E := st.x[i] ^ st.a[i] ^ e[i]
		F := st.y[i] ^ st.b[i] ^ f[i]
		v := c[i] ^ (E & st.b[i]) ^ (st.a[i] & F)
		if p.id == 0 {
			v ^= E & F
		}
		z[i] = v
	}
	return z
}

// privAndStep is a batch of AND gates between words party 0 knows (u) and words party 1
// knows (v), waiting for its round: the producer deals random words α (to party 0) and β (to
// party 1) from their streams and an XOR sharing γ_0 ⊕ γ_1 = α∧β (γ_1 in a message); party 0
// sends e = u⊕α, party 1 sends f = v⊕β, and u∧v = (e∧f ⊕ α∧f ⊕ γ_0) ⊕ (e∧β ⊕ γ_1). One word
// each way and one dealt per word, half the traffic of a general AND.
type privAndStep struct {
	mask, gamma, own []uint64
}

// privAndSend prepares u∧v in r: party 0 passes u, party 1 passes v (n words).
func (p *Party) privAndSend(r *round, own []uint64, n int) *privAndStep {
	st := &privAndStep{own: own}
	switch p.id {
	case Producer:
		alpha, g0, beta := make([]uint64, n), make([]uint64, n), make([]uint64, n)
		p.d0.Fill(alpha)
		p.d0.Fill(g0)
		p.d1.Fill(beta)
		g1 := r.deal(n)
		for i := range g1 {
			g1[i] = (alpha[i] & beta[i]) ^ g0[i]
		}
		return st
	case 0:
		st.mask, st.gamma = make([]uint64, n), make([]uint64, n)
		p.deal.Fill(st.mask)
		p.deal.Fill(st.gamma)
	case 1:
		st.mask = make([]uint64, n)
		p.deal.Fill(st.mask)
		r.expectDealt(n)
	}
	ring.XorTo(r.put(n), own, st.mask)
	return st
}

// finish returns this party's XOR share of u∧v (nil on the producer).
func (st *privAndStep) finish(p *Party, r *round) []uint64 {
	if !p.holds() {
		return nil
	}
	n := len(st.own)
	theirs := r.take(n)
	z := make([]uint64, n)
	if p.id == 0 {
		for i := range z {
			e, f := st.own[i]^st.mask[i], theirs[i]
			z[i] = (e & f) ^ (st.mask[i] & f) ^ st.gamma[i]
		}
		return z
	}
	g1 := r.takeDealt(n)
	for i := range z {
		e := theirs[i]
		z[i] = (e & st.mask[i]) ^ g1[i]
	}
	return z
}

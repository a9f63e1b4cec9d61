package pond

import (
	"fmt"
)

// truncStep is a truncation by d bits of z = z_0 + z_1 waiting for its round.
//
// Party 0 adds 2^62 to its share: for every |z| < 2^62, z' = z + 2^62 lies in [0, 2^63), and
// as integers A + B = z' + w·2^64 for A = z_0 + 2^62 and B = z_1, with w = a ∨ b, a and b the
// top bits of A and B (both 0: the sum is below 2^64; either 1: the sum is at least
// 2^63 > z', so it wrapped). Hence, with logical shifts,
//
//	z/2^d ≈ (A >> d) + (B >> d) - (a + b - a·b)·2^(64-d) - 2^(62-d) + 1
//
// within one unit in the last place: the error is 1 - α - β for the fractional parts α and β
// of A/2^d and B/2^d, uniform multiples of 2^-d, so its mean is 2^-d units. Party 0 knows a and
// party 1 knows b; the product a·b, needed modulo 2^d, is a product of two private bits, which
// the producer's correlation makes one exchange of one bit each: it deals a random bit α to
// party 0, β to party 1 (both from their streams) and an additive sharing γ_0 + γ_1 = α·β
// modulo 2^lane (γ_0 from party 0's stream, γ_1 dealt). Party 0 sends e = a ⊕ α, party 1
// sends f = b ⊕ β; then a = e + (1-2e)α, b = f + (1-2f)β, and
//
//	a·b = e·f + f(1-2e)·α + e(1-2f)·β + (1-2e)(1-2f)·α·β
//
// splits into party 0's part (the first two terms and (1-2e)(1-2f)γ_0) and party 1's. Each
// party sees the other's bit masked by a bit it does not know, and γ_1 masked by γ_0.
type truncStep struct {
	n       int
	d, lane uint
	z       []uint64 // the shares to truncate (this party's)
	bits    []uint64 // party 0: α, party 1: β (packed)
	own     []uint64 // party 0: a, party 1: b (packed)
	gamma   []uint64 // party 0: γ_0 (lanes)
}

// laneBits is the width of the values of the wrap correction: a multiple of 16 bits covering d.
func laneBits(d uint) uint {
	switch {
	case d <= 16:
		return 16
	case d <= 32:
		return 32
	}
	return 64
}

// lanesWords is the number of words that hold k lanes of lane bits.
func lanesWords(k int, lane uint) int { return (k*int(lane) + 63) / 64 }

// laneAt returns lane i of packed words w.
func laneAt(w []uint64, i int, lane uint) uint64 {
	if lane == 64 {
		return w[i]
	}
	per := 64 / int(lane)
	return w[i/per] >> (uint(i%per) * lane) & (1<<lane - 1)
}

// bitAt returns bit i of packed words w.
func bitAt(w []uint64, i int) uint64 { return w[i/64] >> (i % 64) & 1 }

// truncSend prepares the truncation of the shares z by d bits (1 ≤ d ≤ 62) in r.
func (p *Party) truncSend(r *round, z []uint64, n int, d uint) *truncStep {
	lane := laneBits(d)
	st := &truncStep{n: n, d: d, lane: lane, z: z}
	nb, nw := (n+63)/64, lanesWords(n, lane)
	switch p.id {
	case Producer:
		alpha, gamma0, beta := make([]uint64, nb), make([]uint64, nw), make([]uint64, nb)
		p.d0.Fill(alpha)
		p.d0.Fill(gamma0)
		p.d1.Fill(beta)
		g1 := r.deal(nw)
		per := 64 / int(lane)
		mask := uint64(1)<<lane - 1
		if lane == 64 {
			mask = ^uint64(0)
		}
		for i := range n {
			ab := bitAt(alpha, i) & bitAt(beta, i)
			v := (ab - laneAt(gamma0, i, lane)) & mask
			g1[i/per] |= v << (uint(i%per) * lane)
		}
		return st
	case 0:
		st.bits, st.gamma = make([]uint64, nb), make([]uint64, nw)
		p.deal.Fill(st.bits)
		p.deal.Fill(st.gamma)
	case 1:
		st.bits = make([]uint64, nb)
		p.deal.Fill(st.bits)
		r.expectDealt(nw)
	}
	st.own = make([]uint64, nb)
	off := uint64(0)
	if p.id == 0 {
		off = 1 << 62
	}
	for i, v := range z {
		st.own[i/64] |= ((v + off) >> 63) << (i % 64)
	}
	out := r.put(nb)
	for q := range out {
		out[q] = st.own[q] ^ st.bits[q]
	}
	return st
}

// finish returns this party's share of the truncated value (nil on the producer).
func (st *truncStep) finish(p *Party, r *round) []uint64 {
	if !p.holds() {
		return nil
	}
	n, d, lane := st.n, st.d, st.lane
	nb, nw := (n+63)/64, lanesWords(n, lane)
	theirs := r.take(nb)
	high := 64 - d
	out := make([]uint64, n)
	if p.id == 0 {
		for i, v := range st.z {
			A := v + 1<<62
			a := A >> 63
			e, f := bitAt(st.own, i)^bitAt(st.bits, i), bitAt(theirs, i)
			alpha := bitAt(st.bits, i)
			s := e*f + f*(1-2*e)*alpha + (1-2*e)*(1-2*f)*laneAt(st.gamma, i, lane)
			out[i] = A>>d - a<<high + s<<high - 1<<(62-d) + 1
		}
		return out
	}
	g1 := r.takeDealt(nw)
	for i, v := range st.z {
		b := v >> 63
		e, f := bitAt(theirs, i), bitAt(st.own, i)^bitAt(st.bits, i)
		beta := bitAt(st.bits, i)
		s := e*(1-2*f)*beta + (1-2*e)*(1-2*f)*laneAt(g1, i, lane)
		out[i] = v>>d - b<<high + s<<high
	}
	return out
}

// Trunc divides a sharing by 2^d (1 ≤ d ≤ 62), as after a fixed-point product, exactly up to
// its rounding: one round in which parties 0 and 1 each send one bit per value, and the
// producer deals d bits per value (rounded up to 16, 32 or 64). Error: at most one unit in the
// last place, for every x with |x| < 2^62, with a mean of 2^-d units; no failure probability.
func (p *Party) Trunc(x *Shared, d int) (*Shared, error) {
	if d < 1 || d > 62 {
		return nil, fmt.Errorf("pond: trunc by %d bits out of range [1, 62]", d)
	}
	r := p.newRound()
	st := p.truncSend(r, x.v, x.n, uint(d))
	if err := p.exchange("trunc", r); err != nil {
		return nil, err
	}
	return wrapShared(x.shape, x.n, st.finish(p, r)), nil
}

package pond

import (
	"fmt"
)

// The sign bit of an arithmetic sharing x = x_0 + x_1 is the top bit of the sum of two words
// held by different parties: u = x_0 (party 0) and v = x_1 (party 1). With the adder's
// generate and propagate words g = u∧v and p = u⊕v, msb = p_63 ⊕ c_63, where c_63 is the carry
// into bit 63. p is already XOR-shared (party 0 holds u, party 1 holds v); g is an AND of
// private words (one round, [privAndStep]); c_63 comes from a tree of six levels of AND gates
// (one round each) whose level k combines groups of 2^k bits and packs 2^k elements per word,
// as in the aby3 package: seven rounds in all.

// Bit masks of the prefix tree: at level k (span s = 2^k) the groups that combine end at the
// positions i with (i+1) mod 2s = 0 (hi) and take the group ending s bits lower (lo).
var ksHi, ksLo [6]uint64

func init() {
	for k := range 6 {
		s := 1 << k
		for i := range 64 {
			switch (i + 1) % (2 * s) {
			case 0:
				ksHi[k] |= 1 << i
			case s:
				ksLo[k] |= 1 << i
			}
		}
	}
}

const top = uint64(1) << 63

// msbStep is the first round of a sign-bit extraction.
type msbStep struct {
	n   int
	add []uint64 // this party's addend: party 0 u = x_0 - c, party 1 v = x_1
	and *privAndStep
}

// msbSend prepares, in r, the first round of the sign bits of x - c for the shares x and a
// public ring value c (subtracted by party 0).
func (p *Party) msbSend(r *round, x []uint64, c uint64, n int) *msbStep {
	st := &msbStep{n: n}
	if p.holds() {
		st.add = make([]uint64, n)
		copy(st.add, x)
		if p.id == 0 && c != 0 {
			for i := range st.add {
				st.add[i] -= c
			}
		}
	}
	st.and = p.privAndSend(r, st.add, n)
	return st
}

// finish runs the remaining six rounds and returns this party's XOR shares of the sign bits
// (in bit 0; nil on the producer).
func (st *msbStep) finish(p *Party, r *round, op string) ([]uint64, error) {
	g := st.and.finish(p, r)
	return p.msbTree(op, g, st.add, st.n)
}

// msbTree returns the shares of p_63 ⊕ c_63 from the shares of the generate and propagate
// words g and pp (which it overwrites): six rounds of AND gates.
func (p *Party) msbTree(op string, g, pp []uint64, n int) ([]uint64, error) {
	out := make([]uint64, n)
	holds := p.holds()
	if holds {
		// Keep p_63, then run the tree with g_63 = 0 and p_63 = 1 (a public one: party 0's
		// share), so that the group ending at bit 63 generates exactly c_63.
		var one uint64
		if p.id == 0 {
			one = top
		}
		for i := range out {
			out[i] = pp[i] >> 63
			g[i] &^= top
			pp[i] = pp[i]&^top | one
		}
	}
	for k := range 6 {
		s := 1 << k
		hi, lo := ksHi[k], ksLo[k]
		nw := (n + s - 1) / s
		var x, y []uint64
		if holds {
			x, y = make([]uint64, nw), make([]uint64, nw)
			packLevel(x, y, g, pp, s, hi, lo)
		}
		r := p.newRound()
		st := p.andSend(r, x, y, nw)
		if err := p.exchange(op, r); err != nil {
			return nil, err
		}
		if holds {
			unpackLevel(st.finish(p, r), g, pp, s, hi, lo)
		}
	}
	if !holds {
		return nil, nil
	}
	for i := range out {
		out[i] ^= g[i] >> 63
	}
	return out, nil
}

// packLevel computes this party's shares of the AND operands of one level of the tree into x
// and y (⌈n/s⌉ words each): X = P_hi | P_hi>>s and Y = (G<<s)_hi | P_lo, so that X∧Y is
// P_hi∧G_lo on the hi positions and P_hi∧P_lo on the lo positions. Both are linear in the
// shares (shifts and masks commute with XOR). Word w packs elements w·s+j shifted right by j;
// their useful bits sit at the positions i with (i+1) mod s = 0, so the shifted copies do not
// overlap.
func packLevel(x, y, g, pp []uint64, s int, hi, lo uint64) {
	n := len(g)
	us := uint(s)
	for w := range x {
		i0, i1 := w*s, min(w*s+s, n)
		var xw, yw uint64
		for j := range i1 - i0 {
			ph := pp[i0+j] & hi
			xw |= (ph | ph>>us) >> j
			yw |= ((g[i0+j]<<us)&hi | pp[i0+j]&lo) >> j
		}
		x[w], y[w] = xw, yw
	}
}

// unpackLevel folds one level's AND results z (this party's shares) into the group generate
// and propagate words: G_hi ^= P_hi∧G_lo, P_hi = P_hi∧P_lo.
func unpackLevel(z, g, pp []uint64, s int, hi, lo uint64) {
	n := len(g)
	us := uint(s)
	useful := hi | lo
	for w, zw := range z {
		i0, i1 := w*s, min(w*s+s, n)
		for j := range i1 - i0 {
			a := (zw << j) & useful
			g[i0+j] ^= a & hi
			pp[i0+j] = (a & lo) << us
		}
	}
}

// MSB returns a boolean sharing of the most significant bit of every element of x (in bit 0):
// 1 exactly when x, read as a signed 64-bit integer, is negative. Seven rounds; parties 0
// and 1 each send about 5 words per element, the producer deals about 3.
func (p *Party) MSB(x *Shared) (*BoolShared, error) {
	return p.msbMinus("msb", x, 0)
}

// msbMinus returns the sign bits of x - c for a public ring value c.
func (p *Party) msbMinus(op string, x *Shared, c uint64) (*BoolShared, error) {
	r := p.newRound()
	st := p.msbSend(r, x.v, c, x.n)
	if err := p.exchange(op, r); err != nil {
		return nil, err
	}
	bits, err := st.finish(p, r, op)
	if err != nil {
		return nil, err
	}
	return &BoolShared{shape: append([]int(nil), x.shape...), n: x.n, v: bits}, nil
}

// LessThan returns the secret bits [x < y] (bit 0 of each element). Seven rounds.
func (p *Party) LessThan(x, y *Shared) (*BoolShared, error) {
	d, err := p.Sub(x, y)
	if err != nil {
		return nil, fmt.Errorf("pond: less than: %w", err)
	}
	return p.MSB(d)
}

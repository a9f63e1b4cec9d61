package aby3

import (
	"fmt"
	"math/bits"
)

// Sign bits of narrow values. When the values whose sign is wanted are known to be small, as
// the differences between a clamped input and public thresholds are, the sign is that of the
// value modulo 2^w for a lane width w < 64: the low w bits of the shares are shares of the value
// modulo 2^w (reduction is a ring homomorphism, so it is local), and a value in
// [-2^(w-1), 2^(w-1)) has its sign at bit w-1 of its residue. The adder then needs log2(w)
// levels instead of six, and 64/w values share every word sent.

// laneWidth returns the narrowest lane width in {8, 16, 32, 64} whose signed range
// [-2^(w-1), 2^(w-1)) holds every value in [lo, hi] (raw ring integers read as signed).
func laneWidth(lo, hi int64) int {
	for _, w := range []int{8, 16, 32} {
		if lo >= -(1<<(w-1)) && hi < 1<<(w-1) {
			return w
		}
	}
	return 64
}

// msbLanesTo is msbBitsTo for values that lie in [-2^(w-1), 2^(w-1)) as signed integers, for
// a lane width w in {8, 16, 32, 64}: the values' residues modulo 2^w are packed 64/w to a word
// and the sign-bit tree stops after log2(w) levels. 1 + log2(w) rounds, and the parties send
// about 10·w/64 words per value in all (10 at w = 64). For values outside the range the result
// is the sign of the residue, not of the value.
func (p *Party) msbLanesTo(op string, ba, bb, xa, xb []uint64, w int) error {
	if w >= 64 {
		return p.msbBitsTo(op, ba, bb, xa, xb)
	}
	if p.fewRounds(len(xa)) {
		return p.msbFewTo(op, ba, bb, xa, xb, w)
	}
	n := len(xa)
	per := 64 / w
	nw := (n + per - 1) / per
	lane := uint64(1)<<uint(w) - 1
	// This party's addend of the adder, packed: u = x_0 + x_1 on party 0, v = x_2 on the others
	// (gpShares reads x_0 + x_1 from party 0's two components, x_2 from the others' B or A).
	ua, ub := getZeroWords(nw), getZeroWords(nw)
	defer putWords(ua, ub)
	for i := 0; i < n; i++ {
		var v uint64
		switch p.id {
		case 0:
			v = xa[i] + xb[i]
		case 1:
			v = xb[i]
		case 2:
			v = xa[i]
		}
		sh := uint(i%per) * uint(w)
		if p.id == 1 {
			ub[i/per] |= (v & lane) << sh
		} else {
			ua[i/per] |= (v & lane) << sh
		}
	}
	ga, gb, pa, pb, err := p.gpShares(op, ua, ub)
	if err != nil {
		return err
	}
	defer putWords(ga, gb, pa, pb)
	// The sign of lane l is p ⊕ c at its top bit t_l = l·w + w - 1; as for the full word, keep
	// p_t and run the tree with g_t = 0 and p_t = 1, so that the group ending at t_l generates
	// exactly the carry into it.
	var tops uint64
	for l := range per {
		tops |= 1 << uint(l*w+w-1)
	}
	var flip uint64
	if p.id == 0 {
		flip = tops
	}
	ra, rb := getWords(nw), getWords(nw)
	defer putWords(ra, rb)
	for q := range ga {
		ra[q], rb[q] = pa[q]&tops, pb[q]&tops
		ga[q] &^= tops
		gb[q] &^= tops
		pa[q] = pa[q]&^tops | flip
		pb[q] &^= tops
	}
	if p.id == 2 {
		for q := range pb {
			pb[q] |= tops
		}
	}
	z := getWords(nw)
	defer putWords(z)
	levels := bits.TrailingZeros(uint(w))
	for k := range levels {
		s := 1 << k
		hi, lo := ksHi[k], ksLo[k]
		nm := (nw + s - 1) / s
		var bt batch
		msg := bt.put(p.id.Prev(), nm)
		p.prev.Fill(msg)
		zk := z[:nm]
		p.next.Fill(zk)
		parallelFor(nw, s, func(i0, i1 int) {
			msbPack(zk[i0/s:(i1+s-1)/s], msg[i0/s:(i1+s-1)/s], ga[i0:i1], gb[i0:i1], pa[i0:i1], pb[i0:i1], s, hi, lo)
		})
		bt.expect(p.id.Next(), nm)
		if err := p.exchange(op, &bt); err != nil {
			return err
		}
		zn := bt.take(p.id.Next(), nm)
		parallelFor(nw, s, func(i0, i1 int) {
			msbUnpack(zk[i0/s:(i1+s-1)/s], zn[i0/s:(i1+s-1)/s], ga[i0:i1], gb[i0:i1], pa[i0:i1], pb[i0:i1], s, hi, lo)
		})
		bt.release()
	}
	ba, bb = ba[:n], bb[:n]
	for i := range ba {
		sh := uint(i%per*w + w - 1)
		q := i / per
		ba[i] = (ra[q] ^ ga[q]) >> sh & 1
		bb[i] = (rb[q] ^ gb[q]) >> sh & 1
	}
	return nil
}

// MSBWithin is [Party.MSB] for values known to lie in [lo, hi] (raw ring elements read as
// signed integers; lo ≤ hi): when the range fits in a signed w-bit lane for w = 32, 16 or 8,
// the sign is read from the values' residues modulo 2^w, packed 64/w to a word, with a
// log2(w)-level adder: 1 + log2(w) rounds (six at w = 32) and 10·w/64 words per value sent by
// the three parties together (ten for [Party.MSB]). The caller guarantees the range; outside
// it the result is meaningless.
func (p *Party) MSBWithin(x *Shared, lo, hi int64) (*BoolShared, error) {
	if lo > hi {
		return nil, fmt.Errorf("aby3: msb: empty range [%d, %d]", lo, hi)
	}
	out := newBoolShared(x.shape, x.Len())
	if err := p.msbLanesTo("msb", out.a, out.b, x.a, x.b, laneWidth(lo, hi)); err != nil {
		return nil, err
	}
	return out, nil
}

package aby3

import (
	"github.com/gotfe/gotfe/secure/ring"
)

// allPairsMax is the number of comparisons (groups·k(k-1)/2) up to which a maximum compares
// all pairs of its k candidates at once (maxPairs) rather than running a tree of comparisons
// (maxTree): 7 + ⌈log2(k-1)⌉ + 1 rounds instead of 8·⌈log2 k⌉ (12 against 32 for k = 10),
// for k(k-1)/2 comparisons per group instead of k-1. Small maxima, such as the softmax of a
// few predictions, are latency-bound; large ones (the softmax of a training batch, pooling)
// are bandwidth-bound and keep the tree.
const allPairsMax = 2048

// useAllPairs reports whether a maximum over k candidates in each of groups groups compares
// all pairs.
func useAllPairs(groups, k int) bool {
	return k > 2 && groups*k*(k-1)/2 <= allPairsMax
}

// maxPairs computes the maximum along the middle axis of data laid out [outer, k, inner] by
// comparing all pairs of candidates in one batch: candidate a is the first maximum when it is
// strictly greater than every candidate before it and at least every candidate after it. The
// k-1 comparison bits of each candidate are packed in one word and ANDed together by halves
// (⌈log2(k-1)⌉ rounds of AND); the winner's bit then selects its value (one round of bit
// products, when wantMax). Seven rounds for the comparisons: 8 + ⌈log2(k-1)⌉ in all with the
// maximum. With withMask it also returns the one-hot mask laid out [outer, k, inner] (bit 0).
// k ≥ 2.
func (p *Party) maxPairs(op string, xa, xb []uint64, outer, k, inner int, wantMax, withMask bool) (ma, mb, hotA, hotB []uint64, err error) {
	groups := outer * inner
	pairs := k * (k - 1) / 2
	n := groups * pairs
	// Differences x_a - x_b of every pair a < b, laid out [outer, pairs, inner].
	da, db, sa, sb := getWords(n), getWords(n), getWords(n), getWords(n)
	defer putWords(da, db, sa, sb)
	for o := range outer {
		t := 0
		for a := range k {
			for b := a + 1; b < k; b++ {
				xa0, xb0 := xa[(o*k+a)*inner:(o*k+a+1)*inner], xb[(o*k+a)*inner:(o*k+a+1)*inner]
				xa1, xb1 := xa[(o*k+b)*inner:(o*k+b+1)*inner], xb[(o*k+b)*inner:(o*k+b+1)*inner]
				d := (o*pairs + t) * inner
				ring.SubTo(da[d:d+inner], xa0, xa1)
				ring.SubTo(db[d:d+inner], xb0, xb1)
				t++
			}
		}
	}
	if err := p.msbBitsTo(op, sa, sb, da, db); err != nil { // [x_a < x_b]: b beats a
		return nil, nil, nil, nil, err
	}
	// Candidate a's word: bit b (b < a) is [x_b < x_a], bit b-1 (b > a) is ¬[x_a < x_b].
	total := outer * k * inner
	wa, wb := getZeroWords(total), getZeroWords(total)
	defer putWords(wa, wb)
	c0 := p.comp0(wa, wb)
	for o := range outer {
		t := 0
		for a := range k {
			for b := a + 1; b < k; b++ {
				d := (o*pairs + t) * inner
				ja, jb := (o*k+a)*inner, (o*k+b)*inner
				for i := range inner {
					va, vb := sa[d+i]&1, sb[d+i]&1
					wa[ja+i] |= va << uint(b-1)
					wb[ja+i] |= vb << uint(b-1)
					wa[jb+i] |= va << uint(a)
					wb[jb+i] |= vb << uint(a)
				}
				t++
			}
		}
		if c0 != nil {
			for a := range k {
				not := rangeBits(a, k-1, 0) // bits b-1 for b > a
				for i := range inner {
					c0[(o*k+a)*inner+i] ^= not
				}
			}
		}
	}
	// AND the m = k-1 bits of every word together, halving m each round.
	ya, yb, za := getWords(total), getWords(total), getWords(total)
	defer putWords(ya, yb, za)
	for m := k - 1; m > 1; {
		half := (m + 1) / 2
		fill := rangeBits(m-half, half, 0) // bits whose partner lies beyond m: ANDed with 1
		for j := range ya {
			ya[j], yb[j] = wa[j]>>uint(half), wb[j]>>uint(half)
		}
		if c0 := p.comp0(ya, yb); c0 != nil && fill != 0 {
			for j := range c0 {
				c0[j] ^= fill
			}
		}
		var bt batch
		st := p.andSendInto(&bt, za, wa, wb, ya, yb)
		if err := p.exchange(op, &bt); err != nil {
			return nil, nil, nil, nil, err
		}
		ra, rb := st.finish(&bt)
		keep := rangeBits(0, half, 0)
		for j := range wa {
			wa[j], wb[j] = ra[j]&keep, rb[j]&keep
		}
		bt.release()
		m = half
	}
	if withMask {
		hotA, hotB = append([]uint64(nil), wa...), append([]uint64(nil), wb...)
	}
	if !wantMax {
		return nil, nil, hotA, hotB, nil
	}
	var bt batch
	pa, pb := getWords(total), getWords(total)
	defer putWords(pa, pb)
	st := p.bitMulSend(&bt, pa, pb, wa, wb, xa, xb, nil)
	if err := p.exchange(op, &bt); err != nil {
		return nil, nil, nil, nil, err
	}
	st.finish(p, &bt)
	bt.release()
	ma, mb = make([]uint64, groups), make([]uint64, groups)
	ring.SumAxisTo(ma, pa, outer, k, inner)
	ring.SumAxisTo(mb, pb, outer, k, inner)
	return ma, mb, hotA, hotB, nil
}

package aby3

import (
	"github.com/gotfe/gotfe/secure/ring"
)

// allPairsMax is the number of comparisons (groups·k(k-1)/2) up to which a maximum compares
// all pairs of its k candidates at once (maxPairs) rather than running a tree of comparisons
// (maxTree): 7 + ⌈log2(k-1)⌉ + 1 rounds instead of 8·⌈log2 k⌉ (12 against 32 for k = 10),
// for k(k-1)/2 comparisons per group instead of k-1. Small maxima, such as the softmax of a
// few predictions, are latency-bound; large ones (the softmax of a training batch, pooling)
// are bandwidth-bound and keep the tree, unless Params.FastCompareMax, which says how many
// values' comparisons are worth their bytes in rounds saved, is larger.
const allPairsMax = 2048

// allPairsPlainMax is allPairsMax for a maximum alone, without the thresholds of
// maxPairsSteps (which add k-1 comparisons per candidate and threshold): up to 8192
// comparisons, so that the maximum of a training batch of 128 rows of 10 (5760 pairs) takes
// 12 rounds instead of the tree's 20 (its levels of at most FastCompareMax values take
// three-round sign bits). Network A's training iteration (`gotfe bench mnist`) sends 0.44 MB
// more (17.38 MB) in 8 rounds fewer: no slower on loopback QUIC, and 2.09 s instead of 2.29 s
// at 40 ms round trips and 352 Mbit/s.
const allPairsPlainMax = 8192

// allPairsPlainK bounds the candidates per group of allPairsPlainMax: all pairs compare k/2
// times as many values as a tree, at most 8 times for 16 candidates. Wider maxima keep
// allPairsMax.
const allPairsPlainK = 16

// useAllPairs reports whether a maximum over k candidates in each of groups groups, with
// thresholds decided in the same rounds, compares all pairs.
func (p *Party) useAllPairs(groups, k int) bool {
	return k > 2 && groups*k*(k-1)/2 <= max(allPairsMax, p.fastMax)
}

// useAllPairsPlain reports whether a maximum over k candidates in each of groups groups,
// without thresholds, compares all pairs.
func (p *Party) useAllPairsPlain(groups, k int) bool {
	if k > allPairsPlainK {
		return p.useAllPairs(groups, k)
	}
	return k > 2 && groups*k*(k-1)/2 <= max(allPairsPlainMax, p.fastMax)
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
	r, err := p.maxPairsSteps(op, xa, xb, outer, k, inner, wantMax, withMask, nil)
	return r.ma, r.mb, r.hotA, r.hotB, err
}

// pairsResult is what maxPairsSteps computes.
type pairsResult struct {
	ma, mb     []uint64  // the maxima (when asked)
	hotA, hotB []uint64  // the one-hot masks (when asked)
	steps      []*Shared // per threshold: the ring integers [x - max ≥ at], shaped [outer, k, inner]
}

// maxPairsSteps is maxPairs that also decides, for each encoded threshold at in ats (at ≤ 0),
// [x - max ≥ at] for every candidate, in the same rounds: x - max ≥ at exactly when x - x_j ≥ at
// for every other candidate j, so the ordered pairs are compared with at in the same batch as
// the maximum's, their k-1 bits per candidate ANDed in the same rounds, and the results
// injected into the arithmetic sharing (ring integers 0 and 1) in the round that selects the
// maximum.
func (p *Party) maxPairsSteps(op string, xa, xb []uint64, outer, k, inner int, wantMax, withMask bool, ats []uint64) (res pairsResult, err error) {
	groups := outer * inner
	pairs := k * (k - 1) / 2
	total := outer * k * inner
	nt := len(ats)
	n := groups*pairs + nt*total*(k-1)
	// Differences x_a - x_b of every pair a < b, laid out [outer, pairs, inner]; then for every
	// threshold, x_i - x_j - at for every ordered pair i ≠ j, laid out [t, outer, k, k-1, inner].
	da, db, sa, sb := getWords(n), getWords(n), getWords(n), getWords(n)
	defer putWords(da, db, sa, sb)
	row := func(v []uint64, o, a int) []uint64 { return v[(o*k+a)*inner : (o*k+a+1)*inner] }
	for o := range outer {
		t := 0
		for a := range k {
			for b := a + 1; b < k; b++ {
				d := (o*pairs + t) * inner
				ring.SubTo(da[d:d+inner], row(xa, o, a), row(xa, o, b))
				ring.SubTo(db[d:d+inner], row(xb, o, a), row(xb, o, b))
				t++
			}
		}
	}
	stepAt := func(t, o, i, jj int) int { // index of the pair (i, jj-th other candidate)
		return groups*pairs + (((t*outer+o)*k+i)*(k-1)+jj)*inner
	}
	for t, at := range ats {
		for o := range outer {
			for i := range k {
				jj := 0
				for j := range k {
					if j == i {
						continue
					}
					d := stepAt(t, o, i, jj)
					ring.SubTo(da[d:d+inner], row(xa, o, i), row(xa, o, j))
					ring.SubTo(db[d:d+inner], row(xb, o, i), row(xb, o, j))
					if c := p.comp0(da[d:d+inner], db[d:d+inner]); c != nil {
						for q := range c {
							c[q] -= at
						}
					}
					jj++
				}
			}
		}
	}
	if err := p.msbBitsTo(op, sa, sb, da, db); err != nil { // [x_a < x_b]; [x_i - x_j < at]
		return res, err
	}
	// Candidate a's word: bit b (b < a) is [x_b < x_a], bit b-1 (b > a) is ¬[x_a < x_b]; then
	// for every threshold, bit jj is ¬[x_i - x_j < at] for the jj-th other candidate j.
	words := total * (1 + nt)
	wa, wb := getZeroWords(words), getZeroWords(words)
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
	for t := range ats {
		for o := range outer {
			for i := range k {
				w := (t+1)*total + (o*k+i)*inner
				for jj := range k - 1 {
					d := stepAt(t, o, i, jj)
					for q := range inner {
						wa[w+q] |= (sa[d+q] & 1) << uint(jj)
						wb[w+q] |= (sb[d+q] & 1) << uint(jj)
					}
				}
				if c0 != nil {
					for q := range inner {
						c0[w+q] ^= rangeBits(0, k-1, 0)
					}
				}
			}
		}
	}
	// AND the m = k-1 bits of every word together, halving m each round.
	ya, yb, za := getWords(words), getWords(words), getWords(words)
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
			return res, err
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
		res.hotA, res.hotB = append([]uint64(nil), wa[:total]...), append([]uint64(nil), wb[:total]...)
	}
	if !wantMax && nt == 0 {
		return res, nil
	}
	var bt batch
	var st *bitMulStep
	pa, pb := getWords(total), getWords(total)
	defer putWords(pa, pb)
	if wantMax {
		st = p.bitMulSend(&bt, pa, pb, wa[:total], wb[:total], xa, xb, nil)
	}
	inject := make([]*bitMulStep, nt)
	for t := range ats {
		w := wa[(t+1)*total : (t+2)*total]
		v := wb[(t+1)*total : (t+2)*total]
		inject[t] = p.bitMulSend(&bt, nil, nil, w, v, nil, nil, []uint64{1})
	}
	if err := p.exchange(op, &bt); err != nil {
		return res, err
	}
	if wantMax {
		st.finish(p, &bt)
		res.ma, res.mb = make([]uint64, groups), make([]uint64, groups)
		ring.SumAxisTo(res.ma, pa, outer, k, inner)
		ring.SumAxisTo(res.mb, pb, outer, k, inner)
	}
	for t := range ats {
		za, zb := inject[t].finish(p, &bt)
		res.steps = append(res.steps, &Shared{a: za, b: zb})
	}
	bt.release()
	return res, nil
}

package aby3

import (
	"github.com/gotfe/gotfe/secure"
)

// finishTrunc completes a truncation by d bits of z = A + B (mod 2^64), given A on party 0
// (the sum of components 0 and 1) and B on parties 1 and 2 (component 2), and writes the new
// replicated components into out. One round.
//
// The two halves are truncated locally, as in ABY3's Π_trunc1, but the wrap-around of their
// sum is corrected exactly instead of being left to chance. Party 0 adds 2^62 to A, so that
// z' = z + 2^62 lies in [0, 2^63) for every |z| < 2^62; then, as integers, A + B = z' + w·2^64
// with w = a ∨ b, a and b the top bits of A and B (if both are 0 the sum is below 2^64; if
// either is 1 it is at least 2^63 and so, z' being below 2^63, it wrapped). Hence
//
//	z/2^d ≈ (A >> d) + (B >> d) - (a + b - a·b)·2^(64-d) - 2^(62-d) + 1
//
// with logical shifts; the final +1 makes the result unbiased and the error is below one unit
// in the last place. Party 0 knows a, parties 1 and 2 know b; the product a·b, needed only
// modulo 2^d, comes from two three-party oblivious transfers run in the same round: party 0
// sends the pair (a·β - s - u + mask_β), β = 0, 1, to party 1 (masks from the PRG it shares
// with party 2) and to party 2 (masks shared with party 1), and parties 1 and 2, who both know
// the choice b, each send the other the mask of the chosen message. Both then hold
// q2 = a·b - s - u, party 0 and 1 hold s, party 0 and 2 hold u, all uniformly random to
// anyone who holds only one of them.
//
// Messages: party 0 sends ((A >> d) ... - r) to party 2, party 1 and 2 exchange one lane of
// ⌈d/16⌉·16 bits per value, and party 0 sends two lanes per value to each of them (lanes are
// packed 64/lane to a word).
func (p *Party) finishTrunc(op string, out *Shared, a []uint64, d uint) (*Shared, error) {
	var bt batch
	st := p.truncSend(&bt, out, a, d)
	if err := p.exchange(op, &bt); err != nil {
		return nil, err
	}
	st.finish(p, &bt)
	bt.release()
	return out, nil
}

// truncStep is a truncation (see finishTrunc) waiting for its round, so that other protocol
// steps can share the round.
//
// The lane values (the transfers' masks and messages) stay packed 64/lane to a word, as the
// PRG draws them, and are added and selected lane by lane within words (SWAR); only the final
// correction is unpacked into the components.
type truncStep struct {
	out     *Shared
	n       int
	d, lane uint
	sel     []uint64 // parties 1 and 2: per word, all ones in the lanes whose B has its top bit set
	c1      []uint64
}

// lanesWords is the number of words that hold k lanes of lane bits.
func lanesWords(k int, lane uint) int { return (k*int(lane) + 63) / 64 }

// laneHigh is the mask of the top bit of every lane of a word.
func laneHigh(lane uint) uint64 {
	switch lane {
	case 16:
		return 0x8000800080008000
	case 32:
		return 0x8000000080000000
	}
	return 1 << 63
}

// laneAdd and laneSub add and subtract words lane by lane (modulo 2^lane per lane), for the
// lane top-bit mask h.
func laneAdd(x, y, h uint64) uint64 { return ((x &^ h) + (y &^ h)) ^ ((x ^ y) & h) }
func laneSub(x, y, h uint64) uint64 { return ((x | h) - (y &^ h)) ^ ((x ^ ^y) & h) }

// drawWords returns k words from a PRG stream, from the scratch pool.
func drawWords(s interface{ Fill([]uint64) }, k int) []uint64 {
	w := getWords(k)
	s.Fill(w)
	return w
}

// topBits returns, per word of lanes, the lanes of the top bits of v[i] + offset, as all-ones
// lanes (sel) and as the values 0 or 1 (one), from the scratch pool.
func topBits(v []uint64, lane uint, offset uint64) (sel, one []uint64) {
	per := int(64 / lane)
	nw := (len(v) + per - 1) / per
	sel, one = getWords(nw), getWords(nw)
	m := laneMask(lane)
	for q := range nw {
		var sw, ow uint64
		blk := v[q*per : min((q+1)*per, len(v))]
		for j, x := range blk {
			b := (x + offset) >> 63
			sh := uint(j) * lane
			sw |= (-b & m) << sh
			ow |= b << sh
		}
		sel[q], one[q] = sw, ow
	}
	return sel, one
}

// addLanesHigh adds lane i of the packed words w, shifted left by high, to dst[i].
func addLanesHigh(dst, w []uint64, lane, high uint) {
	per := int(64 / lane)
	m := laneMask(lane)
	for q, x := range w {
		blk := dst[q*per : min((q+1)*per, len(dst))]
		for j := range blk {
			blk[j] += (x >> (uint(j) * lane) & m) << high
		}
	}
}

// truncSend puts this party's messages of the truncation of A + B by d bits (a: A on party 0,
// B on parties 1 and 2) into bt. The result goes to out when the step finishes.
func (p *Party) truncSend(bt *batch, out *Shared, a []uint64, d uint) *truncStep {
	n := len(a)
	lane := laneBits(d)
	high := 64 - d // where the correction lands
	h := laneHigh(lane)
	nw := lanesWords(n, lane)
	st := &truncStep{out: out, n: n, d: d, lane: lane}
	switch p.id {
	case 0:
		r := make([]uint64, n)
		p.next.Fill(r) // c1 = r (+ s << high)
		sw := drawWords(p.next, nw)
		sig0, sig1 := drawWords(p.next, nw), drawWords(p.next, nw)
		uw := drawWords(p.prev, nw)
		rho0, rho1 := drawWords(p.prev, nw), drawWords(p.prev, nw)
		_, one := topBits(a, lane, 1<<62)
		defer putWords(sw, sig0, sig1, uw, rho0, rho1, one)
		c0 := make([]uint64, n)
		for i, v := range a {
			v += 1 << 62
			c0[i] = v>>d - (v>>63)<<high - 1<<(62-d) + 1 - r[i]
		}
		addLanesHigh(c0, uw, lane, high)
		bt.grow(1, 2*nw)
		bt.grow(2, n+2*nw)
		copy(bt.put(2, n), c0)
		to1, to2 := bt.put(1, 2*nw), bt.put(2, 2*nw)
		for q := range nw {
			m0 := laneSub(0, laneAdd(sw[q], uw[q], h), h) // -s - u
			m1 := laneAdd(m0, one[q], h)                  // a - s - u
			to1[q], to1[nw+q] = laneAdd(m0, rho0[q], h), laneAdd(m1, rho1[q], h)
			to2[q], to2[nw+q] = laneAdd(m0, sig0[q], h), laneAdd(m1, sig1[q], h)
		}
		addLanesHigh(r, sw, lane, high) // c1
		out.a, out.b = c0, r
	case 1, 2:
		var other0, other1 []uint64 // the masks of party 0's transfer to the peer
		if p.id == 1 {
			r := make([]uint64, n)
			p.prev.Fill(r)
			sw := drawWords(p.prev, nw)
			other0, other1 = drawWords(p.prev, nw), drawWords(p.prev, nw)
			addLanesHigh(r, sw, lane, high)
			putWords(sw)
			st.c1 = r
		} else {
			putWords(drawWords(p.next, nw)) // u: already inside the c0 party 0 sends
			other0, other1 = drawWords(p.next, nw), drawWords(p.next, nw)
		}
		defer putWords(other0, other1)
		peer := secure.PartyID(3 - int(p.id)) // 1 <-> 2
		c2 := make([]uint64, n)
		for i, v := range a {
			c2[i] = v>>d - (v>>63)<<high
		}
		var one []uint64
		st.sel, one = topBits(a, lane, 0)
		putWords(one)
		chosen := bt.put(peer, nw)
		for q := range chosen {
			chosen[q] = other0[q] ^ ((other0[q] ^ other1[q]) & st.sel[q])
		}
		if p.id == 1 {
			out.a, out.b = st.c1, c2
			bt.expect(0, 2*nw)
		} else {
			out.a = c2
			bt.expect(0, n+2*nw)
		}
		bt.expect(peer, nw)
	}
	return st
}

// finish reads the step's words (in the order truncSend declared them) and completes out.
func (st *truncStep) finish(p *Party, bt *batch) {
	if p.id == 0 {
		return
	}
	n, lane, high := st.n, st.lane, 64-st.d
	h := laneHigh(lane)
	nw := lanesWords(n, lane)
	defer putWords(st.sel)
	var c2 []uint64
	if p.id == 1 {
		c2 = st.out.b
	} else {
		c2 = st.out.a
		st.out.b = bt.keep(0, n)
	}
	pair := bt.take(0, 2*nw)
	peer := secure.PartyID(3 - int(p.id))
	theirs := bt.take(peer, nw)
	q2 := getWords(nw)
	defer putWords(q2)
	for q := range q2 {
		chosen := pair[q] ^ ((pair[q] ^ pair[nw+q]) & st.sel[q])
		q2[q] = laneSub(chosen, theirs[q], h) // a·b - s - u
	}
	addLanesHigh(c2, q2, lane, high)
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

func laneMask(lane uint) uint64 {
	if lane == 64 {
		return ^uint64(0)
	}
	return 1<<lane - 1
}

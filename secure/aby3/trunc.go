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
type truncStep struct {
	out          *Shared
	n            int
	d, lane      uint
	bits, other0 []uint64 // parties 1 and 2: the top bits of B, and the masks of the peer's transfer
	other1       []uint64
	c1           []uint64
}

// lanesWords is the number of words that hold k lanes of lane bits.
func lanesWords(k int, lane uint) int { return (k*int(lane) + 63) / 64 }

// putLanes appends the values v (each below 2^lane) to the batch's message to peer, packed
// 64/lane to a word, lowest lane first.
func putLanes(bt *batch, peer secure.PartyID, v []uint64, lane uint) {
	w := bt.put(peer, lanesWords(len(v), lane))
	per := int(64 / lane)
	full := len(v) / per
	switch per {
	case 4:
		for q := range full {
			x := v[4*q : 4*q+4 : 4*q+4]
			w[q] = x[0] | x[1]<<16 | x[2]<<32 | x[3]<<48
		}
	case 2:
		for q := range full {
			x := v[2*q : 2*q+2 : 2*q+2]
			w[q] = x[0] | x[1]<<32
		}
	default:
		copy(w, v[:full])
	}
	if full < len(w) {
		w[full] = 0
		for i := full * per; i < len(v); i++ {
			w[full] |= v[i] << (uint(i%per) * lane)
		}
	}
}

// takeLanes reads k lanes appended by putLanes into a slice from the scratch pool.
func takeLanes(bt *batch, peer secure.PartyID, k int, lane uint) []uint64 {
	w := bt.take(peer, lanesWords(k, lane))
	out := getWords(k)
	per := int(64 / lane)
	m := laneMask(lane)
	full := k / per
	switch per {
	case 4:
		for q, x := range w[:full] {
			o := out[4*q : 4*q+4 : 4*q+4]
			o[0], o[1], o[2], o[3] = x&m, x>>16&m, x>>32&m, x>>48
		}
	case 2:
		for q, x := range w[:full] {
			o := out[2*q : 2*q+2 : 2*q+2]
			o[0], o[1] = x&m, x>>32
		}
	default:
		copy(out, w[:full])
	}
	for i := full * per; i < k; i++ {
		out[i] = w[i/per] >> (uint(i%per) * lane) & m
	}
	return out
}

// truncSend puts this party's messages of the truncation of A + B by d bits (a: A on party 0,
// B on parties 1 and 2) into bt. The result goes to out when the step finishes.
func (p *Party) truncSend(bt *batch, out *Shared, a []uint64, d uint) *truncStep {
	n := len(a)
	lane := laneBits(d)
	high := 64 - d // where the correction lands
	st := &truncStep{out: out, n: n, d: d, lane: lane}
	switch p.id {
	case 0:
		r := make([]uint64, n)
		p.next.Fill(r) // c1 = r (+ s << high)
		s := p.drawLanes(p.next, n, lane)
		sigma0, sigma1 := p.drawLanes(p.next, n, lane), p.drawLanes(p.next, n, lane)
		u := p.drawLanes(p.prev, n, lane)
		rho0, rho1 := p.drawLanes(p.prev, n, lane), p.drawLanes(p.prev, n, lane)
		bit := getWords(n)
		defer putWords(s, sigma0, sigma1, u, rho0, rho1, bit)
		c0 := make([]uint64, n)
		for i, v := range a {
			v += 1 << 62
			bit[i] = v >> 63
			c0[i] = v>>d - bit[i]<<high - 1<<(62-d) + 1 - r[i] + u[i]<<high
		}
		mask := laneMask(lane)
		to1, to2 := getWords(2*n), getWords(2*n)
		defer putWords(to1, to2)
		for i := range a {
			m0 := (-s[i] - u[i]) & mask
			m1 := (bit[i] - s[i] - u[i]) & mask
			to1[i], to1[n+i] = (m0+rho0[i])&mask, (m1+rho1[i])&mask
			to2[i], to2[n+i] = (m0+sigma0[i])&mask, (m1+sigma1[i])&mask
		}
		bt.grow(2, n+lanesWords(2*n, lane))
		copy(bt.put(2, n), c0)
		putLanes(bt, 1, to1, lane)
		putLanes(bt, 2, to2, lane)
		c1 := r
		for i := range c1 {
			c1[i] += s[i] << high
		}
		out.a, out.b = c0, c1
	case 1, 2:
		if p.id == 1 {
			r := make([]uint64, n)
			p.prev.Fill(r)
			s := p.drawLanes(p.prev, n, lane)
			st.other0, st.other1 = p.drawLanes(p.prev, n, lane), p.drawLanes(p.prev, n, lane)
			defer putWords(s)
			for i := range r {
				r[i] += s[i] << high
			}
			st.c1 = r // party 2's transfer is masked with other0, other1
		} else {
			putWords(p.drawLanes(p.next, n, lane)) // u: already inside the c0 party 0 sends
			st.other0, st.other1 = p.drawLanes(p.next, n, lane), p.drawLanes(p.next, n, lane)
		}
		peer := secure.PartyID(3 - int(p.id)) // 1 <-> 2
		c2 := make([]uint64, n)
		st.bits = getWords(n)
		chosen := getWords(n)
		defer putWords(chosen)
		for i, v := range a {
			b := v >> 63
			st.bits[i] = b
			c2[i] = v>>d - b<<high
			chosen[i] = st.other0[i] ^ ((st.other0[i] ^ st.other1[i]) & -b)
		}
		putLanes(bt, peer, chosen, lane)
		if p.id == 1 {
			out.a, out.b = st.c1, c2
			bt.expect(0, lanesWords(2*n, lane))
		} else {
			out.a = c2
			bt.expect(0, n+lanesWords(2*n, lane))
		}
		bt.expect(peer, lanesWords(n, lane))
	}
	return st
}

// finish reads the step's words (in the order truncSend declared them) and completes out.
func (st *truncStep) finish(p *Party, bt *batch) {
	if p.id == 0 {
		return
	}
	n, lane, high := st.n, st.lane, 64-st.d
	defer putWords(st.bits, st.other0, st.other1)
	var c2 []uint64
	if p.id == 1 {
		c2 = st.out.b
	} else {
		c2 = st.out.a
		st.out.b = bt.keep(0, n)
	}
	pair := takeLanes(bt, 0, 2*n, lane)
	peer := secure.PartyID(3 - int(p.id))
	theirMask := takeLanes(bt, peer, n, lane)
	defer putWords(pair, theirMask)
	m := laneMask(lane)
	for i := range c2 {
		q2 := (pair[int(st.bits[i])*n+i] - theirMask[i]) & m
		c2[i] += q2 << high
	}
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

// drawLanes returns n values of lane bits from a PRG stream (whole words are drawn and split,
// lowest lane first). The result comes from the scratch pool; the caller gives it back.
func (p *Party) drawLanes(s interface{ Fill([]uint64) }, n int, lane uint) []uint64 {
	per := int(64 / lane)
	words := getWords((n + per - 1) / per)
	defer putWords(words)
	s.Fill(words)
	out := getWords(n)
	m := laneMask(lane)
	full := n / per
	switch per {
	case 4:
		for w, x := range words[:full] {
			o := out[4*w : 4*w+4 : 4*w+4]
			o[0], o[1], o[2], o[3] = x&m, x>>16&m, x>>32&m, x>>48
		}
	case 2:
		for w, x := range words[:full] {
			o := out[2*w : 2*w+2 : 2*w+2]
			o[0], o[1] = x&m, x>>32
		}
	default:
		copy(out, words[:full])
	}
	for i := full * per; i < n; i++ {
		out[i] = words[i/per] >> (uint(i%per) * lane) & m
	}
	return out
}

package aby3

import (
	"encoding/binary"
	"fmt"
	"slices"

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
// ⌈d/16⌉·16 bits per value, and party 0 sends two lanes per value to each of them.
func (p *Party) finishTrunc(op string, out *Shared, a []uint64, d uint) (*Shared, error) {
	n := len(a)
	lane := laneBits(d)
	high := 64 - d // where the correction lands
	p.round()
	switch p.id {
	case 0:
		r := make([]uint64, n)
		p.next.Fill(r) // c1 = r (+ s << high)
		s := p.drawLanes(p.next, n, lane)
		sigma0, sigma1 := p.drawLanes(p.next, n, lane), p.drawLanes(p.next, n, lane)
		u := p.drawLanes(p.prev, n, lane)
		rho0, rho1 := p.drawLanes(p.prev, n, lane), p.drawLanes(p.prev, n, lane)
		c0 := make([]uint64, n)
		bit := getWords(n)
		defer putWords(s, sigma0, sigma1, u, rho0, rho1, bit)
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
		msg2 := make([]byte, 8*n, 8*n+int(lane/8)*2*n)
		for i, v := range c0 {
			binary.LittleEndian.PutUint64(msg2[8*i:], v)
		}
		msg2 = packLanes(msg2, to2, lane)
		if err := p.sendBytes(1, packLanes(nil, to1, lane)); err != nil {
			return nil, fmt.Errorf("aby3: %s: %w", op, err)
		}
		if err := p.sendBytes(2, msg2); err != nil {
			return nil, fmt.Errorf("aby3: %s: %w", op, err)
		}
		c1 := r
		for i := range c1 {
			c1[i] += s[i] << high
		}
		out.a, out.b = c0, c1
	case 1, 2:
		var c1 []uint64      // party 1's component c1 = r + s << high
		var other [][]uint64 // the masks of party 0's transfer to the peer, which this party shares with party 0
		if p.id == 1 {
			r := make([]uint64, n)
			p.prev.Fill(r)
			s := p.drawLanes(p.prev, n, lane)
			sigma0, sigma1 := p.drawLanes(p.prev, n, lane), p.drawLanes(p.prev, n, lane)
			defer putWords(s, sigma0, sigma1)
			for i := range r {
				r[i] += s[i] << high
			}
			c1 = r
			other = [][]uint64{sigma0, sigma1} // party 2's transfer is masked with these
		} else {
			putWords(p.drawLanes(p.next, n, lane)) // u: already inside the c0 party 0 sends
			rho0, rho1 := p.drawLanes(p.next, n, lane), p.drawLanes(p.next, n, lane)
			defer putWords(rho0, rho1)
			other = [][]uint64{rho0, rho1} // party 1's transfer is masked with these
		}
		peer := secure.PartyID(3 - int(p.id)) // 1 <-> 2
		c2 := make([]uint64, n)
		bits, chosen := getWords(n), getWords(n)
		defer putWords(bits, chosen)
		for i, v := range a {
			b := v >> 63
			bits[i] = b
			c2[i] = v>>d - b<<high
			chosen[i] = other[b][i]
		}
		if err := p.sendBytes(peer, packLanes(nil, chosen, lane)); err != nil {
			return nil, fmt.Errorf("aby3: %s: %w", op, err)
		}
		fromP0, err := p.recvBytes(0)
		if err != nil {
			return nil, fmt.Errorf("aby3: %s: %w", op, err)
		}
		var c0 []uint64
		if p.id == 2 {
			if len(fromP0) < 8*n {
				return nil, fmt.Errorf("aby3: %s: short message from %v", op, secure.PartyID(0))
			}
			c0 = make([]uint64, n)
			for i := range c0 {
				c0[i] = binary.LittleEndian.Uint64(fromP0[8*i:])
			}
			fromP0 = fromP0[8*n:]
		}
		pair, err := unpackLanes(fromP0, 2*n, lane)
		if err != nil {
			return nil, fmt.Errorf("aby3: %s: from %v: %w", op, secure.PartyID(0), err)
		}
		defer putWords(pair)
		fromPeer, err := p.recvBytes(peer)
		if err != nil {
			return nil, fmt.Errorf("aby3: %s: %w", op, err)
		}
		theirMask, err := unpackLanes(fromPeer, n, lane)
		if err != nil {
			return nil, fmt.Errorf("aby3: %s: from %v: %w", op, peer, err)
		}
		defer putWords(theirMask)
		m := laneMask(lane)
		for i := range c2 {
			q2 := (pair[int(bits[i])*n+i] - theirMask[i]) & m
			c2[i] += q2 << high
		}
		if p.id == 1 {
			out.a, out.b = c1, c2
		} else {
			out.a, out.b = c2, c0
		}
	}
	return out, nil
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

// packLanes appends the values v (each below 2^lane) to dst as little-endian lanes.
func packLanes(dst []byte, v []uint64, lane uint) []byte {
	w := int(lane / 8)
	off := len(dst)
	dst = slices.Grow(dst, w*len(v))[:off+w*len(v)]
	b := dst[off:]
	switch lane {
	case 16:
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
		}
	case 32:
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
		}
	default:
		for i, x := range v {
			binary.LittleEndian.PutUint64(b[8*i:], x)
		}
	}
	return dst
}

// unpackLanes reads exactly n lanes from b into a slice from the scratch pool.
func unpackLanes(b []byte, n int, lane uint) ([]uint64, error) {
	w := int(lane / 8)
	if len(b) != n*w {
		return nil, fmt.Errorf("message of %d bytes, want %d", len(b), n*w)
	}
	out := getWords(n)
	switch lane {
	case 16:
		for i := range out {
			out[i] = uint64(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case 32:
		for i := range out {
			out[i] = uint64(binary.LittleEndian.Uint32(b[4*i:]))
		}
	default:
		for i := range out {
			out[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
	}
	return out, nil
}

package aby3

import (
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/prg"
)

// Sign bits in three rounds. The adder of msbBitsTo takes seven rounds and about 10 words per
// element; where rounds cost more than bytes (small tensors, slow links) the sign bit is
// instead read from a comparison of the two addends in the manner of SecureNN's private
// compare (Wagh, Gupta, Chandran, PETS 2019, algorithm 1), which the replicated sharing makes
// cheaper: the two addends are already each known in the clear to one side.
//
// Write x = u + v (mod 2^64) with u = x_0 + x_1, known to party 0, and v = x_2, known to
// parties 1 and 2. With u' and v' the low 63 bits, msb(x) = u_63 ⊕ v_63 ⊕ c, where the carry
// c = [u' + v' ≥ 2^63] = [u' > w] for w = 2^63 - 1 - v', a value parties 1 and 2 both know.
//
//  1. Party 0 shares the 63 bits of u' additively modulo 67 between parties 1 and 2: party 1's
//     shares come from the PRG it shares with party 0, party 0 sends party 2 the differences.
//  2. Parties 1 and 2 flip a common coin β and compute, for each bit position i, shares of
//     t_i = 1 - u_i + w_i + Σ_{j>i} (u_j ⊕ w_j) if β = 0 (t_i = 0 exactly when u' > w with i
//     the highest differing bit) or t_i = 1 - w'_i + u_i + Σ_{j>i} (u_j ⊕ w'_j) with w' = w + 1
//     if β = 1 (a zero exactly when w' > u', that is u' ≤ w). The XORs are linear because the
//     w bits are public to both; every t_i lies in [0, 66), so it is 0 modulo 67 only when it
//     is 0. They multiply each t_i by a random non-zero s_i, add a common random mask with
//     opposite signs, rotate the 64 positions by a random amount, and send party 0 the
//     results. Party 0 adds the two messages and learns β'' = [some position is 0] = c ⊕ β,
//     and nothing else: every other position is a uniform non-zero value, the zero (if any)
//     sits at a uniform position, and β is a fair coin.
//  3. The carry is then c = β'' ⊕ β, with β known to parties 1 and 2 and β'' to party 0, and
//     the sign bit u_63 ⊕ v_63 ⊕ c has the replicated boolean sharing (e_0, e_1, e_2) =
//     (u_63 ⊕ β'' ⊕ ρ, ρ, v_63 ⊕ β), with ρ from the PRG of parties 0 and 1: one more
//     message, e_0 from party 0 to party 2.
//
// Traffic per element: 63 bytes from party 0 to party 2, 64 from each of parties 1 and 2 to
// party 0, one bit from party 0 to party 2: about 191 bytes, against about 80 for the adder.
// Party 1 receives nothing. For values known to lie in a w-bit signed range (the lanes of
// msbLanesTo) the same runs on the residues modulo 2^w: w-1 and w bytes instead of 63 and 64.
//
// Where the processor has AVX-512 (BW, VBMI, VBMI2) the masks are drawn 64 stream bytes at a
// time (zpCompress) and, for w = 64, a value's masked terms and party 0's zero test run in
// vector registers (fewMasked64, fewHasZero64), with the same bytes as the Go loops.

// fewMod is the modulus of the comparison's arithmetic: a prime above 65, the largest t_i.
const fewMod = 67

// zpSampler draws uniform values modulo 67 from a PRG stream by rejection on bytes, so that
// the two parties that share the stream draw the same values. Its buffer is pooled: release
// gives it back.
type zpSampler struct {
	s   *prg.Stream
	buf []uint64
	b   []byte
	pos int
}

func newZpSampler(s *prg.Stream) zpSampler {
	b, buf := getBytes(zpBuffer)
	return zpSampler{s: s, buf: buf, b: b, pos: len(b)}
}

// zpBuffer is the number of stream bytes a sampler draws at a time.
const zpBuffer = 4096

// release gives the sampler's buffer back; the sampler must not be used afterwards.
func (z *zpSampler) release() {
	putWords(z.buf)
	z.buf, z.b = nil, nil
}

func (z *zpSampler) next() byte {
	if z.pos == len(z.b) {
		z.s.Fill(z.buf)
		z.pos = 0
	}
	v := z.b[z.pos]
	z.pos++
	return v
}

// fill writes uniform values of [0, 67) into dst: the stream's bytes below 3·67, modulo 67.
func (z *zpSampler) fill(dst []byte) { z.draw(dst, 3*fewMod, fewMod, 0, &mod67Table) }

// fillNonZero writes uniform values of [1, 67) into dst: one plus the stream's bytes below
// 3·66, modulo 66.
func (z *zpSampler) fillNonZero(dst []byte) { z.draw(dst, 3*(fewMod-1), fewMod-1, 1, &nonZeroTable) }

// mod67Table[v] = v mod 67 and nonZeroTable[v] = 1 + v mod 66, for the samplers.
var mod67Table, nonZeroTable = func() (a, b [256]byte) {
	for v := range 256 {
		a[v], b[v] = byte(v%fewMod), byte(1+v%(fewMod-1))
	}
	return a, b
}()

// zpVector lets draw use zpCompress where it runs (tests turn it off to compare).
var zpVector = hasZpCompress

// draw writes v mod m + add into dst for the stream's bytes v below limit = 3m, in order,
// skipping the others; it consumes the stream up to the byte of the last value written.
// table[v] is v mod m + add, for the bytes taken one by one.
func (z *zpSampler) draw(dst []byte, limit, m, add byte, table *[256]byte) {
	i := 0
	for i < len(dst) {
		if z.pos == len(z.b) {
			z.s.Fill(z.buf)
			z.pos = 0
		}
		if zpVector {
			n, used := zpCompress(dst[i:], z.b[z.pos:], limit, m, add)
			i += n
			z.pos += used
		}
		// Byte by byte: the block that fills dst, and the tail of the buffer. Every byte is
		// written; only the accepted ones advance (no branch on the random data).
		j := z.pos
		b := z.b
		for ; j < len(b) && i < len(dst); j++ {
			v := b[j]
			dst[i] = table[v]
			i += int(uint32(int32(v)-int32(limit)) >> 31) // 1 when v < limit
		}
		z.pos = j
	}
}

// fewStep is a three-round sign-bit extraction after its first round's messages are queued.
type fewStep struct {
	n, w   int      // elements, and the width of the residues whose sign is taken
	u      []uint64 // party 0: x_0 + x_1; parties 1 and 2: x_2 (modulo 2^w)
	shares []byte   // parties 1 and 2: this party's shares of the w-1 low bits of u, per element
	held   []uint64 // pooled words that hold shares
}

// release gives the step's pooled buffers back.
func (st *fewStep) release() {
	putWords(st.u, st.held)
	st.u, st.shares, st.held = nil, nil, nil
}

// fewWords is the number of words that hold n bytes.
func fewWords(n int) int { return (n + 7) / 8 }

// fewSend puts the first round of the three-round sign-bit extraction of the arithmetic
// sharing with components xa, xb into bt (see the comment at the top of this file). The sign
// taken is that of the residues modulo 2^w, w a power of two in [8, 64]: bit w-1 of the sum
// modulo 2^w, with every bit count above (63, 64) read as w-1 and w.
func (p *Party) fewSend(bt *batch, xa, xb []uint64, w int) *fewStep {
	n := len(xa)
	st := &fewStep{n: n, w: w, u: getWords(n)}
	k := w - 1
	nb := k * n
	switch p.id {
	case 0:
		for i := range st.u {
			st.u[i] = xa[i] + xb[i]
		}
		r, rw := getBytes(nb)
		defer putWords(rw)
		z := newZpSampler(p.next)
		z.fill(r)
		z.release()
		msg := bt.put(2, fewWords(nb))
		out := secure.Uint64sToBytes(msg)
		for i, u := range st.u {
			o, ri := out[k*i:k*i+k], r[k*i:k*i+k]
			for j := range k {
				bit := byte(u>>uint(j)) & 1
				v := bit + fewMod - ri[j] // in [1, 68]
				if v >= fewMod {
					v -= fewMod
				}
				o[j] = v
			}
		}
		clear(out[nb:])
	case 1:
		copy(st.u, xb)
		st.shares, st.held = getBytes(nb)
		z := newZpSampler(p.prev)
		z.fill(st.shares)
		z.release()
	case 2:
		copy(st.u, xa)
		bt.expect(0, fewWords(nb))
	}
	return st
}

// finish reads the step's first-round words.
func (st *fewStep) finish(p *Party, bt *batch) {
	if p.id == 2 {
		nb := (st.w - 1) * st.n
		st.shares, st.held = getBytes(nb)
		copy(st.shares, secure.Uint64sToBytes(bt.take(0, fewWords(nb))))
	}
}

// rest runs the second and third rounds and writes the sign bits' sharing (bit 0) into ba, bb.
func (st *fewStep) rest(p *Party, op string, ba, bb []uint64) error {
	defer st.release()
	n, w := st.n, st.w
	k := w - 1
	nw := (n + 63) / 64
	sign := uint(k) // the bit whose value is wanted
	low := uint64(1)<<uint(k) - 1
	switch p.id {
	case 0:
		var bt batch
		mw := fewWords(w * n)
		bt.expect(1, mw)
		bt.expect(2, mw)
		if err := p.exchange(op, &bt); err != nil {
			return err
		}
		m1 := secure.Uint64sToBytes(bt.take(1, mw))
		m2 := secure.Uint64sToBytes(bt.take(2, mw))
		rho := getWords(nw)
		defer putWords(rho)
		p.next.Fill(rho)
		var bt3 batch
		e0 := bt3.put(2, nw)
		clear(e0)
		vector := w == 64 && hasFewMasked64
		parallelFor(n, 64, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				a, b := m1[w*i:w*i+w], m2[w*i:w*i+w]
				var zero byte
				if vector {
					if fewHasZero64(&a[0], &b[0]) {
						zero = 1
					}
				} else {
					for j := range w {
						// Both terms lie in [0, 67): their sum is 0 modulo 67 only at 0 and 67.
						if v := uint16(a[j]) + uint16(b[j]); v == 0 || v == fewMod {
							zero = 1
						}
					}
				}
				e1 := rho[i/64] >> uint(i%64) & 1
				e := st.u[i]>>sign&1 ^ uint64(zero) ^ e1
				e0[i/64] |= e << uint(i%64)
				ba[i], bb[i] = e, e1
			}
		})
		bt.release()
		return p.exchange(op, &bt3)
	default:
		pair := p.next // parties 1 and 2 share: party 1's next, party 2's prev
		if p.id == 2 {
			pair = p.prev
		}
		z := newZpSampler(pair)
		head := getWords(nw) // β in bit i of word i/64
		pair.Fill(head)
		rot, rotW := getBytes(n) // uniform bytes: the rotation is the low 6 bits
		for i := range rot {
			rot[i] = z.next()
		}
		s, sW := getBytes(w * n)
		z.fillNonZero(s)
		m, mW := getBytes(w * n)
		z.fill(m)
		z.release()
		defer putWords(head, rotW, sW, mW)
		var bt batch
		msg := bt.put(0, fewWords(w*n))
		out := secure.Uint64sToBytes(msg)
		clear(out[w*n:])
		c := int32(0)
		if p.id == 1 {
			c = 1
		}
		if p.id == 2 { // party 2 subtracts the masks that party 1 adds
			for i, v := range m {
				m[i] = (fewMod - v) % fewMod
			}
		}
		vector := w == 64 && hasFewMasked64
		parallelFor(n, 64, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				beta := head[i/64] >> uint(i%64) & 1
				pub := low - st.u[i]&low // 2^(w-1) - 1 - v'
				if beta == 1 {
					pub++
				}
				if vector {
					fewMasked64(&out[w*i], &st.shares[k*i], &s[w*i], &m[w*i], pub, uint16(-beta), uint16(c), rot[i]&uint8(k))
					continue
				}
				fewMasked(out[w*i:w*i+w], st.shares[k*i:k*i+k], s[w*i:w*i+w], m[w*i:w*i+w], pub, beta == 1, uint(rot[i])&uint(k), c)
			}
		})
		if p.id == 1 {
			rho := getWords(nw)
			defer putWords(rho)
			p.prev.Fill(rho)
			for i := range n {
				beta := head[i/64] >> uint(i%64) & 1
				ba[i], bb[i] = rho[i/64]>>uint(i%64)&1, st.u[i]>>sign&1^beta
			}
		}
		if err := p.exchange(op, &bt); err != nil {
			return err
		}
		var bt3 batch
		if p.id == 2 {
			bt3.expect(0, nw)
		}
		if err := p.exchange(op, &bt3); err != nil {
			return err
		}
		if p.id == 2 {
			e0 := bt3.take(0, nw)
			for i := range n {
				beta := head[i/64] >> uint(i%64) & 1
				ba[i], bb[i] = st.u[i]>>sign&1^beta, e0[i/64]>>uint(i%64)&1
			}
			bt3.release()
		}
		return nil
	}
}

// fewMasked writes one value's masked, rotated terms (this party's share of s_j·t_j plus its
// mask, at position j + r modulo w) into o, from this party's shares sh of the value's w-1 low
// bits, the public bits pub, the multipliers si and the masks mi (see the top of this file).
// c is 1 on the party that adds the public constants, 0 on the other. No branch depends on the
// data: the sums stay below 2^13 in magnitude and are reduced once per term.
func fewMasked(o, sh, si, mi []byte, pub uint64, flipped bool, r uint, c int32) {
	k := len(sh)
	o, si, mi = o[:k+1], si[:k+1], mi[:k+1]
	mask := uint(k)
	sign := int32(1)
	if flipped {
		sign = -1
	}
	const bias = fewMod * 128 // makes every t positive: |t| < 2 + 2·67·64 < bias
	var acc int32             // Σ_{i>j} (u_i ⊕ pub_i), this party's share, unreduced
	for j := k; j >= 0; j-- {
		wj := int32(pub>>uint(j)) & 1
		var sj int32
		if j < k {
			sj = int32(sh[j])
		}
		// t_j = c(1 + w_j) - s_j + acc, or c(1 - w_j) + s_j + acc when flipped; with the bias
		// it lies in [0, 2·bias), so s_j·t_j + m_j < 2^21 and one reduction does.
		t := uint32(c + sign*(c*wj-sj) + acc + bias)
		acc += c*wj + sj - 2*wj*sj
		o[(uint(j)+r)&mask] = byte((uint32(si[j])*t + uint32(mi[j])) % fewMod)
	}
}

// msbFewTo writes a boolean sharing (in bit 0) of the most significant bit of the arithmetic
// sharing with components xa, xb into ba, bb, in three rounds (see the comment at the top of
// this file).
func (p *Party) msbFewTo(op string, ba, bb, xa, xb []uint64, w int) error {
	var bt batch
	st := p.fewSend(&bt, xa, xb, w)
	if err := p.exchange(op, &bt); err != nil {
		return err
	}
	st.finish(p, &bt)
	bt.release()
	return st.rest(p, op, ba, bb)
}

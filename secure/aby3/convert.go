package aby3

import (
	"fmt"

	"github.com/gotfe/gotfe/secure/ring"
)

// Conversions between the arithmetic sharing (x = x_0 + x_1 + x_2 mod 2^64) and the boolean one
// (x = x_0 ⊕ x_1 ⊕ x_2), after ABY3 §5.3.
//
// Both A2B and the sign-bit extraction add the two addends u = x_0 + x_1, which party 0 knows,
// and v = x_2, which parties 1 and 2 know, with a parallel-prefix adder on bit-sliced words. The
// first round produces the adder's generate and propagate words g = u ∧ v and p = u ⊕ v
// directly as replicated sharings (see gpShares); each level of the prefix tree is then one
// round of AND gates. Kogge-Stone (all 64 carries) takes 6 levels; the sign bit only needs the
// carry into bit 63, a tree of 6 levels whose gates thin out by half per level, so its levels
// pack 1, 2, 4, ..., 32 elements per word.

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

// gpShares returns replicated boolean sharings of g = u ∧ v and p = u ⊕ v, where u = x_0 + x_1
// (known to party 0) and v = x_2 (known to parties 1 and 2), for the arithmetic sharing with
// components xa, xb. One round; party 0 sends one word per element to each peer, parties 1 and
// 2 one to each other.
//
// With r, γ_1 drawn from the PRG of parties 0 and 1 and r', γ_0 from that of parties 0 and 2:
// p has components (u⊕r, r, v) and g has components (γ_0, γ_1, g_2) with g_2 = u∧v ⊕ γ_0 ⊕ γ_1.
// Party 0 sends u⊕r' to party 1 and u⊕r to party 2; party 1 sends (r∧v)⊕γ_1 to party 2 and
// party 2 sends (r'∧v)⊕γ_0 to party 1; each of them then computes g_2 from what it received.
// Every message is masked by a PRG value its receiver does not know. The four results come
// from the scratch pool; the caller gives them back.
func (p *Party) gpShares(op string, xa, xb []uint64) (ga, gb, pa, pb []uint64, err error) {
	var bt batch
	st := p.gpSend(&bt, xa, xb)
	if err := p.exchange(op, &bt); err != nil {
		putWords(st.ga, st.gb, st.pa, st.pb)
		return nil, nil, nil, nil, err
	}
	st.finish(p, &bt)
	bt.release()
	return st.ga, st.gb, st.pa, st.pb, nil
}

// gpStep is gpShares waiting for its round, so that other protocol steps can share it.
type gpStep struct {
	ga, gb, pa, pb []uint64
	n              int
}

// gpSend puts this party's messages of gpShares into bt (see gpShares).
func (p *Party) gpSend(bt *batch, xa, xb []uint64) *gpStep {
	n := len(xa)
	st := &gpStep{n: n, ga: getWords(n), gb: getWords(n), pa: getWords(n), pb: getWords(n)}
	ga, gb, pa, pb := st.ga, st.gb, st.pa, st.pb
	switch p.id {
	case 0:
		r, g1 := pb, gb
		p.next.Fill(r)
		p.next.Fill(g1)
		bt.grow(1, n)
		bt.grow(2, n)
		r2 := bt.put(1, n)
		p.prev.Fill(r2)
		p.prev.Fill(ga)
		toP2 := bt.put(2, n)
		for i := range r2 {
			u := xa[i] + xb[i]
			r2[i] ^= u
			toP2[i] = u ^ r[i]
			pa[i] = toP2[i]
		}
	case 1:
		r, g1 := pa, ga
		p.prev.Fill(r)
		p.prev.Fill(g1)
		q := bt.put(2, n)
		for i := range q {
			v := xb[i]
			pb[i] = v
			q[i] = (r[i] & v) ^ g1[i]
		}
		bt.expect(0, n)
		bt.expect(2, n)
	case 2:
		q := bt.put(1, n)
		p.next.Fill(q) // r'
		p.next.Fill(gb)
		for i := range q {
			v := xa[i]
			pa[i] = v
			q[i] = (q[i] & v) ^ gb[i]
		}
		bt.expect(0, n)
		bt.expect(1, n)
	}
	return st
}

// finish reads the step's words and completes the generate and propagate words.
func (st *gpStep) finish(p *Party, bt *batch) {
	n := st.n
	switch p.id {
	case 1:
		c, q2 := bt.take(0, n), bt.take(2, n)
		for i := range st.gb {
			st.gb[i] = (c[i] & st.pb[i]) ^ q2[i] ^ st.ga[i]
		}
	case 2:
		p0, q1 := bt.take(0, n), bt.take(1, n)
		copy(st.pb, p0)
		for i := range st.ga {
			st.ga[i] = (p0[i] & st.pa[i]) ^ q1[i] ^ st.gb[i]
		}
	}
}

// msbBits returns a boolean sharing (in bit 0) of the most significant bit of the arithmetic
// sharing with components xa, xb (see msbBitsTo).
func (p *Party) msbBits(op string, xa, xb []uint64) (ba, bb []uint64, err error) {
	ba, bb = make([]uint64, len(xa)), make([]uint64, len(xa))
	return ba, bb, p.msbBitsTo(op, ba, bb, xa, xb)
}

// msbBitsTo writes a boolean sharing (in bit 0) of the most significant bit of the arithmetic
// sharing with components xa, xb into ba, bb. Seven rounds: gpShares, then a 6-level tree for
// the carry into bit 63 whose level k packs 2^k elements per word, so every party sends about
// 2 words per element over the tree.
func (p *Party) msbBitsTo(op string, ba, bb, xa, xb []uint64) error {
	if p.fewRounds(len(xa)) {
		return p.msbFewTo(op, ba, bb, xa, xb, 64)
	}
	ga, gb, pa, pb, err := p.gpShares(op, xa, xb)
	if err != nil {
		return err
	}
	defer putWords(ga, gb, pa, pb)
	return p.msbTreeTo(op, ba, bb, ga, gb, pa, pb)
}

// fewRounds reports whether the sign bits of n values are taken in three rounds (msbFewTo)
// rather than with the adder: n is at most the parameters' FastCompareMax.
func (p *Party) fewRounds(n int) bool { return n <= p.fastMax }

// msbTreeTo is msbBitsTo after its first round, from the generate and propagate words (which
// it overwrites): six rounds.
func (p *Party) msbTreeTo(op string, ba, bb, ga, gb, pa, pb []uint64) error {
	n := len(ga)
	// msb = p_63 ⊕ c_63, where c_63 is the carry out of bits 0..62. Keep p_63, then run the tree
	// with g_63 = 0 and p_63 = 1, so that the group ending at bit 63 generates exactly c_63.
	ba, bb = ba[:n], bb[:n]
	var flip uint64
	if p.id == 0 {
		flip = top
	}
	for i := range ba {
		ba[i], bb[i] = pa[i]>>63, pb[i]>>63
		ga[i] &^= top
		gb[i] &^= top
		pa[i] = pa[i]&^top | flip
		pb[i] &^= top
	}
	if p.id == 2 {
		for i := range pb {
			pb[i] |= top
		}
	}
	z := getWords(n)
	defer putWords(z)
	for k := range 6 {
		s := 1 << k
		hi, lo := ksHi[k], ksLo[k]
		nw := (n + s - 1) / s
		var bt batch
		msg := bt.put(p.id.Prev(), nw)
		p.prev.Fill(msg)
		zk := z[:nw]
		p.next.Fill(zk)
		parallelFor(n, s, func(i0, i1 int) {
			msbPack(zk[i0/s:(i1+s-1)/s], msg[i0/s:(i1+s-1)/s], ga[i0:i1], gb[i0:i1], pa[i0:i1], pb[i0:i1], s, hi, lo)
		})
		bt.expect(p.id.Next(), nw)
		if err := p.exchange(op, &bt); err != nil {
			return err
		}
		zn := bt.take(p.id.Next(), nw)
		parallelFor(n, s, func(i0, i1 int) {
			msbUnpack(zk[i0/s:(i1+s-1)/s], zn[i0/s:(i1+s-1)/s], ga[i0:i1], gb[i0:i1], pa[i0:i1], pb[i0:i1], s, hi, lo)
		})
		bt.release()
	}
	for i := range ba {
		ba[i] ^= ga[i] >> 63
		bb[i] ^= gb[i] >> 63
	}
	return nil
}

// msbPack computes this party's masked cross terms of one level of the sign-bit tree into z
// (already holding the zero-sharing's next-party part) and msg (its previous-party part),
// both ⌈n/s⌉ words. The AND operands are X = P_hi | P_hi>>s and Y = (G<<s)_hi | P_lo: on the
// hi positions X∧Y = P_hi∧G_lo, on the lo positions P_hi∧P_lo. Word w packs elements w·s+j
// shifted right by j; their useful bits sit at the positions i with (i+1) mod s = 0, so the
// shifted copies do not overlap.
func msbPack(z, msg, ga, gb, pa, pb []uint64, s int, hi, lo uint64) {
	n := len(ga)
	gb, pa, pb = gb[:n], pa[:n], pb[:n]
	if s == 1 {
		z, msg = z[:n], msg[:n]
		for i := range ga {
			pah, pbh := pa[i]&hi, pb[i]&hi
			x0, x1 := pah|pah>>1, pbh|pbh>>1
			y0 := (ga[i]<<1)&hi | pa[i]&lo
			y1 := (gb[i]<<1)&hi | pb[i]&lo
			v := z[i] ^ msg[i] ^ (x0 & (y0 ^ y1)) ^ (x1 & y0)
			z[i], msg[i] = v, v
		}
		return
	}
	us := uint(s)
	for w := range z {
		i0, i1 := w*s, min(w*s+s, n)
		ga, gb, pa, pb := ga[i0:i1], gb[i0:i1], pa[i0:i1], pb[i0:i1]
		var x0, x1, y0, y1 uint64
		for j := range ga {
			pah, pbh := pa[j]&hi, pb[j]&hi
			x0 |= (pah | pah>>us) >> j
			x1 |= (pbh | pbh>>us) >> j
			y0 |= ((ga[j]<<us)&hi | pa[j]&lo) >> j
			y1 |= ((gb[j]<<us)&hi | pb[j]&lo) >> j
		}
		v := z[w] ^ msg[w] ^ (x0 & (y0 ^ y1)) ^ (x1 & y0)
		z[w], msg[w] = v, v
	}
}

// msbUnpack folds one level's AND results (this party's components za, zb) into the group
// generate and propagate words: G_hi ^= (P_hi∧G_lo), P_hi = P_hi∧P_lo.
func msbUnpack(za, zb, ga, gb, pa, pb []uint64, s int, hi, lo uint64) {
	n := len(ga)
	gb, pa, pb = gb[:n], pa[:n], pb[:n]
	us := uint(s)
	if s == 1 {
		za, zb = za[:n], zb[:n]
		for i := range ga {
			a, b := za[i], zb[i]
			ga[i] ^= a & hi
			gb[i] ^= b & hi
			pa[i] = (a & lo) << 1
			pb[i] = (b & lo) << 1
		}
		return
	}
	useful := hi | lo
	zb = zb[:len(za)]
	for w := range za {
		i0, i1 := w*s, min(w*s+s, n)
		ga, gb, pa, pb := ga[i0:i1], gb[i0:i1], pa[i0:i1], pb[i0:i1]
		wa, wb := za[w], zb[w]
		for j := range ga {
			a, b := (wa<<j)&useful, (wb<<j)&useful
			ga[j] ^= a & hi
			gb[j] ^= b & hi
			pa[j] = (a & lo) << us
			pb[j] = (b & lo) << us
		}
	}
}

// MSB returns a boolean sharing of the most significant bit of every element of x (in bit 0 of
// each word): 1 exactly when x, read as a signed 64-bit integer, is negative. Seven rounds,
// whatever the size of x; party 0 sends about 4 words per element, parties 1 and 2 about 3.
func (p *Party) MSB(x *Shared) (*BoolShared, error) {
	ba, bb, err := p.msbBits("msb", x.a, x.b)
	if err != nil {
		return nil, err
	}
	return &BoolShared{shape: append([]int(nil), x.shape...), a: ba, b: bb}, nil
}

// A2B converts an arithmetic sharing of ring elements into a boolean sharing of the same
// 64-bit words (ABY3 §5.3): the parties add party 0's u = x_0 + x_1 and the others' v = x_2 with
// a Kogge-Stone adder. Seven rounds (one for the generate and propagate words, six prefix
// levels); every party sends about 13 words per element.
func (p *Party) A2B(x *Shared) (*BoolShared, error) {
	const op = "a2b"
	ga, gb, pa, pb, err := p.gpShares(op, x.a, x.b)
	if err != nil {
		return nil, err
	}
	defer putWords(ga, gb, pa, pb)
	n := x.Len()
	out := newBoolShared(x.shape, n)
	copy(out.a, pa)
	copy(out.b, pb)
	if err := p.koggeStone(op, ga, gb, pa, pb); err != nil {
		return nil, err
	}
	for i := range out.a {
		out.a[i] ^= ga[i] << 1
		out.b[i] ^= gb[i] << 1
	}
	return out, nil
}

// koggeStone turns generate and propagate words into the prefix generates in place: six rounds
// of two AND gates per element; afterwards bit i of G is the carry out of bits 0..i.
func (p *Party) koggeStone(op string, ga, gb, pa, pb []uint64) error {
	n := len(ga)
	sga, sgb, spa, spb := make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n)
	zg, zp := make([]uint64, n), make([]uint64, n)
	for k := range 6 {
		s := uint(1) << k
		ring.ShiftLeftTo(sga, ga, s)
		ring.ShiftLeftTo(sgb, gb, s)
		var bt batch
		stG := p.andSendInto(&bt, zg, pa, pb, sga, sgb)
		var stP andStep
		last := k == 5
		if !last {
			ring.ShiftLeftTo(spa, pa, s)
			ring.ShiftLeftTo(spb, pb, s)
			stP = p.andSendInto(&bt, zp, pa, pb, spa, spb)
		}
		if err := p.exchange(op, &bt); err != nil {
			return err
		}
		za, zb := stG.finish(&bt)
		ring.XorTo(ga, ga, za)
		ring.XorTo(gb, gb, zb)
		if !last {
			za, zb := stP.finish(&bt)
			copy(pa, za)
			copy(pb, zb)
		}
	}
	return nil
}

// B2A converts a boolean sharing of 64-bit words into an arithmetic sharing of the same ring
// elements (ABY3 §5.3). Parties 0 and 1 draw the component y_1 and parties 1 and 2 the component
// y_2 from their common PRGs; the parties compute y_0 = x - y_1 - y_2 in the boolean domain with
// a carry-save layer and a Kogge-Stone adder and open y_0 to parties 0 and 2, who hold it. Nine
// rounds (carry-save, generate, six prefix levels, opening).
func (p *Party) B2A(x *BoolShared) (*Shared, error) {
	const op = "b2a"
	n := x.Len()
	y1, y2 := make([]uint64, n), make([]uint64, n)
	// The boolean operands -y_1 (component 1) and -y_2 (component 2), as this party's components.
	w1a, w1b, w2a, w2b := make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n)
	switch p.id {
	case 0:
		p.next.Fill(y1)
		ring.NegTo(w1b, y1)
	case 1:
		p.prev.Fill(y1)
		p.next.Fill(y2)
		ring.NegTo(w1a, y1)
		ring.NegTo(w2b, y2)
	case 2:
		p.prev.Fill(y2)
		ring.NegTo(w2a, y2)
	}
	// Carry-save: x + w1 + w2 = s + 2c with s = x⊕w1⊕w2 and c = ((x⊕w2)∧(w1⊕w2))⊕w2.
	sa, sb := make([]uint64, n), make([]uint64, n)
	ua, ub, va, vb := make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n)
	for i := range sa {
		sa[i] = x.a[i] ^ w1a[i] ^ w2a[i]
		sb[i] = x.b[i] ^ w1b[i] ^ w2b[i]
		ua[i], ub[i] = x.a[i]^w2a[i], x.b[i]^w2b[i]
		va[i], vb[i] = w1a[i]^w2a[i], w1b[i]^w2b[i]
	}
	var bt batch
	st := p.andSend(&bt, ua, ub, va, vb)
	if err := p.exchange(op, &bt); err != nil {
		return nil, err
	}
	ca, cb := st.finish(&bt)
	for i := range ca {
		ca[i] = (ca[i] ^ w2a[i]) << 1
		cb[i] = (cb[i] ^ w2b[i]) << 1
	}
	// Adder s + c: generate g = s ∧ c (one round), propagate p = s ⊕ c.
	bt = batch{}
	st = p.andSend(&bt, sa, sb, ca, cb)
	if err := p.exchange(op, &bt); err != nil {
		return nil, err
	}
	ga, gb := st.finish(&bt)
	pa, pb := ua, ub
	for i := range pa {
		pa[i], pb[i] = sa[i]^ca[i], sb[i]^cb[i]
		sa[i], sb[i] = pa[i], pb[i] // keep p for the sum
	}
	if err := p.koggeStone(op, ga, gb, pa, pb); err != nil {
		return nil, err
	}
	for i := range sa {
		sa[i] ^= ga[i] << 1
		sb[i] ^= gb[i] << 1
	}
	// Open y_0 (the sum) to parties 0 and 2: party 0 lacks component 2, party 2 component 1.
	out := &Shared{shape: append([]int(nil), x.shape...)}
	bt = batch{}
	switch p.id {
	case 0:
		copy(bt.put(2, n), sb) // component 1
		bt.expect(2, n)
	case 2:
		copy(bt.put(0, n), sa) // component 2
		bt.expect(0, n)
	}
	if err := p.exchange(op, &bt); err != nil {
		return nil, err
	}
	switch p.id {
	case 0:
		m := bt.take(2, n)
		for i := range sa {
			sa[i] ^= sb[i] ^ m[i]
		}
		out.a, out.b = sa, y1
	case 1:
		out.a, out.b = y1, y2
	case 2:
		m := bt.take(0, n)
		for i := range sb {
			sb[i] ^= sa[i] ^ m[i]
		}
		out.a, out.b = y2, sb
	}
	return out, nil
}

// bitMulStep is a batch of products b·x of secret bits b (boolean, bit 0) with arithmetic values
// x (shared, or public) waiting for its round.
//
// The protocol is ABY3's bit injection by three-party OT (§5.4), arranged so that both receivers
// of each OT end up with the same share component and the result is a replicated sharing after
// a single round. Write b = d ⊕ e with d = b_0⊕b_1 (party 0) and e = b_2 (parties 1 and 2), and
// b = s ⊕ c with s = b_1⊕b_2 (party 1) and c = b_0 (parties 0 and 2); split x = u + v with
// u = x_0 + x_1 (party 0) and v = x_2 (parties 1 and 2). Then b·x = b·u + b·v:
//
//   - b·u: party 0 draws the components A_0 (with party 2) and A_1 (with party 1) and offers
//     m_t = (d⊕t)·u - A_0 - A_1 for t = 0, 1 to parties 1 and 2 in two OTs with choice e: the
//     messages are masked with pads the sender shares with the helper, and the helper (the
//     other receiver) sends the pad of the chosen message. Both learn A_2 = b·u - A_0 - A_1.
//   - b·v: party 1 symmetrically offers n_t = (s⊕t)·v - B_1 - B_2 to parties 0 and 2 with
//     choice c; both learn B_0.
//
// Each receiver sees one message in the clear, masked by a component it does not hold. Words
// sent per element: party 0 five, party 1 five, party 2 two; for a public x only the first half
// runs (party 0 sends four, the others one).
type bitMulStep struct {
	n       int
	public  bool
	za, zb  []uint64 // outputs (this party's components)
	sel     []uint64 // choice bits (bit 0) of the b·u OT this party receives
	selB    []uint64 // choice bits (bit 0) of the b·v OT this party receives
	scratch [][]uint64
}

// bitMulSend writes this party's messages for z = b·x (b the bit components ba, bb; x the value
// components xa, xb, or the public values pub, one or one per element when xa is nil) into bt.
// The result goes to za, zb (fresh slices when nil).
func (p *Party) bitMulSend(bt *batch, za, zb, ba, bb, xa, xb, pub []uint64) *bitMulStep {
	n := len(ba)
	if za == nil {
		za, zb = make([]uint64, n), make([]uint64, n)
	}
	st := &bitMulStep{n: n, public: xa == nil, za: za[:n], zb: zb[:n]}
	scratch := func() []uint64 {
		b := getWords(n)
		st.scratch = append(st.scratch, b)
		return b
	}
	// Reserve the messages' room (see the word counts above) so that they are not regrown.
	half := 1 // the b·v half runs only for a shared x
	if st.public {
		half = 0
		// The components B_1, B_2 that the b·v half would draw are zero.
		switch p.id {
		case 1:
			clear(st.zb)
		case 2:
			clear(st.za)
		}
	}
	switch p.id {
	case 0:
		bt.grow(1, 2*n)
		bt.grow(2, (2+half)*n)
	case 1:
		bt.grow(2, (1+2*half)*n)
		bt.grow(0, 2*half*n)
	case 2:
		bt.grow(1, n)
		bt.grow(0, half*n)
	}
	pubAt := func(i int) uint64 {
		if len(pub) == 1 {
			return pub[0]
		}
		return pub[i]
	}
	switch p.id {
	case 0:
		// Pair (0,1): A_1, pads of the OT to party 2, then B_1 and pads of party 1's OT to
		// party 2. Pair (0,2): A_0 and pads of the OT to party 1.
		a1, w20, w21 := st.zb, scratch(), scratch()
		p.next.Fill(a1)
		p.next.Fill(w20)
		p.next.Fill(w21)
		a0 := st.za
		toP1 := bt.put(1, 2*n)
		p.prev.Fill(a0)
		p.prev.Fill(toP1) // pads of the OT to party 1, masked in place below
		toP2 := bt.put(2, 2*n)
		parallelFor(n, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				var u uint64
				if st.public {
					u = pubAt(i)
				} else {
					u = xa[i] + xb[i]
				}
				du := u & -((ba[i] ^ bb[i]) & 1)
				m0 := du - a0[i] - a1[i]
				m1 := u - du - a0[i] - a1[i]
				toP1[i] ^= m0
				toP1[n+i] ^= m1
				toP2[i] = m0 ^ w20[i]
				toP2[n+i] = m1 ^ w21[i]
			}
		})
		if !st.public {
			b1, wb0, wb1 := scratch(), w20, w21
			p.next.Fill(b1)
			p.next.Fill(wb0)
			p.next.Fill(wb1)
			ring.AddTo(st.zb, st.zb, b1)
			help := bt.put(2, n)
			for i := range help {
				c := ba[i] & 1
				help[i] = wb0[i] ^ ((wb0[i] ^ wb1[i]) & -c)
			}
			bt.expect(1, 2*n)
			bt.expect(2, n)
			st.selB = ba // choice c = b_0
		}
	case 1:
		a1, w20, w21 := st.za, scratch(), scratch()
		p.prev.Fill(a1)
		p.prev.Fill(w20)
		p.prev.Fill(w21)
		help := bt.put(2, n)
		for i := range help {
			e := bb[i] & 1
			help[i] = w20[i] ^ ((w20[i] ^ w21[i]) & -e)
		}
		if !st.public {
			b1, wb0, wb1 := scratch(), w20, w21
			p.prev.Fill(b1)
			p.prev.Fill(wb0)
			p.prev.Fill(wb1)
			b2 := st.zb
			p.next.Fill(b2)
			toP0 := bt.put(0, 2*n)
			p.next.Fill(toP0) // pads of the OT to party 0
			toP2 := bt.put(2, 2*n)
			parallelFor(n, 1, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					v := xb[i]
					sv := v & -((ba[i] ^ bb[i]) & 1)
					n0 := sv - b1[i] - b2[i]
					n1 := v - sv - b1[i] - b2[i]
					toP0[i] ^= n0
					toP0[n+i] ^= n1
					toP2[i] = n0 ^ wb0[i]
					toP2[n+i] = n1 ^ wb1[i]
				}
			})
			ring.AddTo(st.za, st.za, b1)
		}
		bt.expect(0, 2*n)
		bt.expect(2, n)
		st.sel = bb // choice e = b_2
	case 2:
		a0 := st.zb
		p.next.Fill(a0)
		w10, w11 := scratch(), scratch()
		p.next.Fill(w10)
		p.next.Fill(w11)
		help := bt.put(1, n)
		for i := range help {
			e := ba[i] & 1
			help[i] = w10[i] ^ ((w10[i] ^ w11[i]) & -e)
		}
		if !st.public {
			b2 := st.za
			p.prev.Fill(b2)
			wb0, wb1 := w10, w11
			p.prev.Fill(wb0)
			p.prev.Fill(wb1)
			help := bt.put(0, n)
			for i := range help {
				c := bb[i] & 1
				help[i] = wb0[i] ^ ((wb0[i] ^ wb1[i]) & -c)
			}
			bt.expect(1, 2*n)
			st.selB = bb // choice c = b_0
		}
		bt.expect(0, 2*n)
		if !st.public {
			bt.expect(0, n)
		}
		bt.expect(1, n)
		st.sel = ba // choice e = b_2
	}
	return st
}

// pick returns, for OT messages m (2n words: all m_0 then all m_1) and the chosen pads, the
// chosen messages m_{sel} ⊕ pad.
func pick(dst, m, pad, sel []uint64) {
	n := len(dst)
	for i := range dst {
		c := sel[i] & 1
		dst[i] = (m[i] ^ ((m[i] ^ m[n+i]) & -c)) ^ pad[i]
	}
}

// finish reads the received words (the batch may be released afterwards) and completes the
// output components.
func (st *bitMulStep) finish(p *Party, bt *batch) (za, zb []uint64) {
	n := st.n
	tmp := getWords(n)
	defer putWords(tmp)
	defer putWords(st.scratch...)
	switch p.id {
	case 0:
		if !st.public {
			m, pad := bt.take(1, 2*n), bt.take(2, n)
			pick(tmp, m, pad, st.selB)
			ring.AddTo(st.za, st.za, tmp) // B_0
		}
	case 1:
		m, pad := bt.take(0, 2*n), bt.take(2, n)
		pick(tmp, m, pad, st.sel)
		ring.AddTo(st.zb, st.zb, tmp) // A_2
	case 2:
		mA := bt.take(0, 2*n)
		padA := bt.take(1, n)
		var padB, mB []uint64
		if !st.public {
			padB = bt.take(0, n)
			mB = bt.take(1, 2*n)
		}
		pick(tmp, mA, padA, st.sel)
		ring.AddTo(st.za, st.za, tmp) // A_2
		if !st.public {
			pick(tmp, mB, padB, st.selB)
			ring.AddTo(st.zb, st.zb, tmp) // B_0
		}
	}
	return st.za, st.zb
}

// MulBit returns b·x for a secret bit b (bit 0 of each element of a boolean sharing) and
// arithmetic x of the same shape: x where the bit is set and 0 elsewhere, exactly (no
// truncation; x may be fixed point or raw ring values). One round (ABY3 bit injection by
// three-party OT); parties 0 and 1 send five words per element, party 2 two.
func (p *Party) MulBit(b *BoolShared, x *Shared) (*Shared, error) {
	if !ring.SameShape(b.shape, x.shape) {
		return nil, fmt.Errorf("aby3: mul bit: shapes %v and %v differ: %w", b.shape, x.shape, ring.ErrShape)
	}
	var bt batch
	st := p.bitMulSend(&bt, nil, nil, b.a, b.b, x.a, x.b, nil)
	if err := p.exchange("mul bit", &bt); err != nil {
		return nil, err
	}
	za, zb := st.finish(p, &bt)
	bt.release()
	return &Shared{shape: append([]int(nil), x.shape...), a: za, b: zb}, nil
}

// BitToArith converts secret bits (bit 0 of a boolean sharing) into an arithmetic sharing of
// the ring elements 0 and 1 (bit injection). One round; party 0 sends four words per element,
// parties 1 and 2 one. Use [Party.BitToFixed] for the fixed-point values 0 and 1.
func (p *Party) BitToArith(b *BoolShared) (*Shared, error) {
	return p.bitScaled("bit to arith", b, 1)
}

// BitToFixed converts secret bits into an arithmetic sharing of the fixed-point values 0 and 1
// (one round, as [Party.BitToArith]).
func (p *Party) BitToFixed(b *BoolShared) (*Shared, error) {
	return p.bitScaled("bit to fixed", b, p.enc.One())
}

func (p *Party) bitScaled(op string, b *BoolShared, c uint64) (*Shared, error) {
	var bt batch
	st := p.bitMulSend(&bt, nil, nil, b.a, b.b, nil, nil, []uint64{c})
	if err := p.exchange(op, &bt); err != nil {
		return nil, err
	}
	za, zb := st.finish(p, &bt)
	bt.release()
	return &Shared{shape: append([]int(nil), b.shape...), a: za, b: zb}, nil
}

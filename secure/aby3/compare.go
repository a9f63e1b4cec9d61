package aby3

import (
	"fmt"
	"math"

	"github.com/gotfe/gotfe/secure/ring"
)

// Exact comparisons. Every comparison reduces to the sign bit of a difference ([Party.MSB],
// seven rounds) and every use of its result to a bit product ([Party.MulBit], one round), so a
// comparison-and-select costs eight rounds whatever the size of the tensors, and several
// comparisons of one operation share those rounds (they are batched into one sign-bit
// extraction). Where bytes matter more than rounds (large tensors: [Party.ReLUArith], the
// batches of thresholds from 2048 elements) the bits are injected into the arithmetic sharing
// in two rounds with fewer words and used in ring products.
//
// Comparisons are exact on the encoded values (fixed-point encodings are integers), provided
// the difference of the operands does not overflow: |x - y| < 2^63 as signed 64-bit integers,
// which holds whenever both magnitudes are below 2^62 raw (2^(62-f) as real numbers, 2^46 at
// f = 16). Beyond that the result is undefined; the engine's values stay far below it.

// subPublicTo writes the components of x - c (c a public ring value) into dst.
func (p *Party) subPublicTo(dstA, dstB, xa, xb []uint64, c uint64) {
	copy(dstA, xa)
	copy(dstB, xb)
	if d := p.comp0(dstA, dstB); d != nil {
		for i := range d {
			d[i] -= c
		}
	}
}

// notBit flips bit 0 of a boolean sharing in place (component 0 holds the public one).
func (p *Party) notBit(a, b []uint64) {
	if d := p.comp0(a, b); d != nil {
		for i := range d {
			d[i] ^= 1
		}
	}
}

// LessThan returns the secret bits [x < y] (bit 0 of each element). Seven rounds.
func (p *Party) LessThan(x, y *Shared) (*BoolShared, error) {
	d, err := p.Sub(x, y)
	if err != nil {
		return nil, fmt.Errorf("aby3: less than: %w", err)
	}
	return p.MSB(d)
}

// LessThanPublic returns the secret bits [x < c] for a public real c, compared with the
// encoding of c (rounded to the nearest multiple of 2^-f). Seven rounds.
func (p *Party) LessThanPublic(x *Shared, c float64) (*BoolShared, error) {
	enc, err := p.enc.Encode(c)
	if err != nil {
		return nil, fmt.Errorf("aby3: less than: %w", err)
	}
	d := newShared(x.shape, x.Len())
	p.subPublicTo(d.a, d.b, x.a, x.b, enc)
	return p.MSB(d)
}

// GreaterThanPublic returns the secret bits [x > c] for a public real c, compared with the
// encoding of c. Seven rounds.
func (p *Party) GreaterThanPublic(x *Shared, c float64) (*BoolShared, error) {
	enc, err := p.enc.Encode(c)
	if err != nil {
		return nil, fmt.Errorf("aby3: greater than: %w", err)
	}
	// x > c ⟺ x ≥ c + 2^-f ⟺ ¬(x - c - 2^-f < 0).
	d := newShared(x.shape, x.Len())
	p.subPublicTo(d.a, d.b, x.a, x.b, enc+1)
	m, err := p.MSB(d)
	if err != nil {
		return nil, err
	}
	p.notBit(m.a, m.b)
	return m, nil
}

// Sign returns the fixed-point sign of x: +1 where x ≥ 0 and -1 where x < 0 (zero counts as
// positive). Eight rounds.
func (p *Party) Sign(x *Shared) (*Shared, error) {
	m, err := p.MSB(x)
	if err != nil {
		return nil, err
	}
	// 1 - 2·msb: the bit times the public -2, plus 1.
	var bt batch
	st := p.bitMulSend(&bt, nil, nil, m.a, m.b, nil, nil, []uint64{-(2 * p.enc.One())})
	if err := p.exchange("sign", &bt); err != nil {
		return nil, err
	}
	za, zb := st.finish(p, &bt)
	bt.release()
	return p.AddPublicRing(&Shared{shape: append([]int(nil), x.shape...), a: za, b: zb}, []uint64{p.enc.One()})
}

// ReLU returns y = max(x, 0) and the derivative mask [x > 0] (bit 0 of a boolean sharing), to
// be kept for the backward pass, where [Party.MulMask] applies it to the incoming gradient
// with no second comparison. Exact (y equals x or 0 bit for bit). Eight rounds: seven for the
// sign bit of x - 2^-f and one for the product; every party sends about 8 words per element.
func (p *Party) ReLU(x *Shared) (y *Shared, mask *BoolShared, err error) {
	d := newShared(x.shape, x.Len())
	p.subPublicTo(d.a, d.b, x.a, x.b, 1) // x > 0 ⟺ x - 1 ≥ 0 on the encodings
	ma, mb, err := p.msbBits("relu", d.a, d.b)
	if err != nil {
		return nil, nil, err
	}
	p.notBit(ma, mb)
	mask = &BoolShared{shape: append([]int(nil), x.shape...), a: ma, b: mb}
	var bt batch
	st := p.bitMulSend(&bt, nil, nil, ma, mb, x.a, x.b, nil)
	if err := p.exchange("relu", &bt); err != nil {
		return nil, nil, err
	}
	za, zb := st.finish(p, &bt)
	bt.release()
	return &Shared{shape: append([]int(nil), x.shape...), a: za, b: zb}, mask, nil
}

// ReLUArith is [Party.ReLU] with the derivative mask [x > 0] returned as an arithmetic
// sharing of the ring integers 0 and 1, which a backward pass applies to a gradient with
// [Party.MulRing]: one round and one ring element per element per party, exact, instead of
// the five words party 0 sends in [Party.MulMask]. The mask is injected into the arithmetic
// sharing (two rounds, four words per element in all) and y = mask·x is a ring product (one
// round, one word per party): ten rounds, and 17 words per element sent by the three parties
// together (22 for [Party.ReLU]); the backward product costs 3 (12 for [Party.MulMask]).
// Exact, as [Party.ReLU].
func (p *Party) ReLUArith(x *Shared) (y, mask *Shared, err error) {
	d := newShared(x.shape, x.Len())
	p.subPublicTo(d.a, d.b, x.a, x.b, 1)
	ma, mb, err := p.msbBits("relu", d.a, d.b)
	if err != nil {
		return nil, nil, err
	}
	p.notBit(ma, mb)
	if mask, err = p.injectBits("relu", ma, mb, x.shape); err != nil {
		return nil, nil, err
	}
	if y, err = p.MulRing(mask, x); err != nil {
		return nil, nil, err
	}
	return y, mask, nil
}

// MulMask returns x where the secret bit of mask is set and 0 elsewhere (the backward pass of
// [Party.ReLU] and of max-pooling): one round, exact. An alias of [Party.MulBit] with the
// operands in the order of the layers' calls.
func (p *Party) MulMask(x *Shared, mask *BoolShared) (*Shared, error) {
	return p.MulBit(mask, x)
}

// Select returns x where the secret bit b is set and y elsewhere: y + b·(x - y). One round.
func (p *Party) Select(b *BoolShared, x, y *Shared) (*Shared, error) {
	d, err := p.Sub(x, y)
	if err != nil {
		return nil, fmt.Errorf("aby3: select: %w", err)
	}
	z, err := p.MulBit(b, d)
	if err != nil {
		return nil, err
	}
	return p.Add(y, z)
}

// Maximum returns the elementwise maximum of x and y. Eight rounds.
func (p *Party) Maximum(x, y *Shared) (*Shared, error) {
	lt, err := p.LessThan(x, y)
	if err != nil {
		return nil, fmt.Errorf("aby3: maximum: %w", err)
	}
	return p.Select(lt, y, x)
}

// Minimum returns the elementwise minimum of x and y. Eight rounds.
func (p *Party) Minimum(x, y *Shared) (*Shared, error) {
	lt, err := p.LessThan(x, y)
	if err != nil {
		return nil, fmt.Errorf("aby3: minimum: %w", err)
	}
	return p.Select(lt, x, y)
}

// threshold is one output of [Party.thresholds]: the ramp max(x - at, 0) when ramp is set,
// else the step value·[x ≥ at] (value a raw ring element).
type threshold struct {
	at    uint64 // encoded threshold
	ramp  bool
	value uint64
}

// anyRaw is the range of raw values of an x nothing is known about.
var anyRaw = [2]int64{math.MinInt64, math.MaxInt64}

// thresholds compares x with public thresholds in one batch: one sign-bit extraction over all
// distinct thresholds (seven rounds) and one round of bit products for all outputs (three
// rounds with fewer bytes from leanMin elements). Outputs are exact: ramps are x - at or 0,
// steps value or 0. When the caller knows that the raw values
// of x lie in the range in (signed), the sign bits come from the narrowest lanes that hold the
// differences x - at (see [Party.MSBWithin]): six rounds instead of seven for 32-bit lanes.
func (p *Party) thresholds(op string, x *Shared, ts []threshold, in [2]int64) ([]*Shared, error) {
	n := x.Len()
	var ats []uint64
	idx := make([]int, len(ts))
	for i, t := range ts {
		idx[i] = -1
		for j, a := range ats {
			if a == t.at {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			idx[i] = len(ats)
			ats = append(ats, t.at)
		}
	}
	k := len(ats)
	da, db, ba, bb := getWords(k*n), getWords(k*n), getWords(k*n), getWords(k*n)
	defer putWords(da, db, ba, bb)
	for j, a := range ats {
		p.subPublicTo(da[j*n:(j+1)*n], db[j*n:(j+1)*n], x.a, x.b, a)
	}
	if err := p.msbLanesTo(op, ba, bb, da, db, diffLanes(in, ats)); err != nil {
		return nil, err
	}
	p.notBit(ba, bb) // [x ≥ at]
	if n >= leanMin {
		return p.thresholdsLean(op, x, ts, idx, k, da, db, ba, bb)
	}
	// One bit product per ramp, and one bit injection per threshold that has steps: every step
	// at that threshold is then a public multiple of the injected bit (local).
	var bt batch
	ramps := make([]*bitMulStep, len(ts))
	inject := make([]*bitMulStep, k)
	for i, t := range ts {
		j := idx[i]
		sa, sb := ba[j*n:(j+1)*n], bb[j*n:(j+1)*n]
		switch {
		case t.ramp:
			ramps[i] = p.bitMulSend(&bt, nil, nil, sa, sb, da[j*n:(j+1)*n], db[j*n:(j+1)*n], nil)
		case inject[j] == nil:
			inject[j] = p.bitMulSend(&bt, getWords(n), getWords(n), sa, sb, nil, nil, []uint64{1})
		}
	}
	if err := p.exchange(op, &bt); err != nil {
		return nil, err
	}
	// Read the replies in the order the steps were sent.
	out := make([]*Shared, len(ts))
	done := make([]bool, k)
	for i, t := range ts {
		j := idx[i]
		switch {
		case t.ramp:
			za, zb := ramps[i].finish(p, &bt)
			out[i] = &Shared{shape: append([]int(nil), x.shape...), a: za, b: zb}
		case !done[j]:
			inject[j].finish(p, &bt)
			done[j] = true
		}
	}
	for i, t := range ts {
		if t.ramp {
			continue
		}
		st := inject[idx[i]]
		z := newShared(x.shape, n)
		ring.ScaleTo(z.a, st.za, t.value)
		ring.ScaleTo(z.b, st.zb, t.value)
		out[i] = z
	}
	for _, st := range inject {
		if st != nil {
			putWords(st.za, st.zb)
		}
	}
	bt.release()
	return out, nil
}

// leanMin is the number of elements from which thresholds trades rounds for bytes: it injects
// the comparison bits in two rounds (four words per bit in all, against six) and forms ramps
// as ring products of the injected bits (one round more, three words, against twelve for a bit
// product), so ten rounds instead of eight. Large tensors (the loss and metrics of many steps,
// the optimizer's inverse square root over every weight) are bandwidth-bound.
const leanMin = 2048

// thresholdsLean completes thresholds for large tensors from the comparison bits ba, bb [k·n]
// and the differences da, db (see leanMin).
func (p *Party) thresholdsLean(op string, x *Shared, ts []threshold, idx []int, k int, da, db, ba, bb []uint64) ([]*Shared, error) {
	n := x.Len()
	inj, err := p.injectBits(op, ba[:k*n], bb[:k*n], []int{k * n})
	if err != nil {
		return nil, err
	}
	out := make([]*Shared, len(ts))
	var rampIdx []int
	for i, t := range ts {
		j := idx[i]
		if t.ramp {
			rampIdx = append(rampIdx, i)
			continue
		}
		z := newShared(x.shape, n)
		ring.ScaleTo(z.a, inj.a[j*n:(j+1)*n], t.value)
		ring.ScaleTo(z.b, inj.b[j*n:(j+1)*n], t.value)
		out[i] = z
	}
	if len(rampIdx) == 0 {
		return out, nil
	}
	// Ramps: [x ≥ at]·(x - at), ring products of the injected bits, all in one resharing.
	m := len(rampIdx) * n
	t := newMsg(m)
	for r, i := range rampIdx {
		j := idx[i]
		ia, ib := inj.a[j*n:(j+1)*n], inj.b[j*n:(j+1)*n]
		xa, xb := da[j*n:(j+1)*n], db[j*n:(j+1)*n]
		tr := t[r*n : (r+1)*n]
		for q := range tr {
			tr[q] = ia[q]*(xa[q]+xb[q]) + ib[q]*xa[q]
		}
	}
	scratch := getWords(m)
	p.addZeroShare(t, scratch)
	putWords(scratch)
	z, err := p.reshare(op, t, []int{m})
	if err != nil {
		return nil, err
	}
	for r, i := range rampIdx {
		out[i] = &Shared{shape: append([]int(nil), x.shape...), a: z.a[r*n : (r+1)*n : (r+1)*n], b: z.b[r*n : (r+1)*n : (r+1)*n]}
	}
	return out, nil
}

// diffLanes returns the lane width that holds x - a for every raw x in the range in and every
// threshold a.
func diffLanes(in [2]int64, ats []uint64) int {
	const lim = 1 << 60 // far from overflow, and wider than any lane
	if in[0] < -lim || in[1] > lim {
		return 64
	}
	lo, hi := in[0], in[1]
	for _, a := range ats {
		if int64(a) < -lim || int64(a) > lim {
			return 64
		}
	}
	dlo, dhi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, a := range ats {
		dlo, dhi = min(dlo, lo-int64(a)), max(dhi, hi-int64(a))
	}
	return laneWidth(dlo, dhi)
}

// Clip limits every element of x to [lo, hi] (public bounds, lo ≤ hi, compared on their
// encodings): lo + max(x - lo, 0) - max(x - hi, 0). Eight rounds (ten from 2048 elements, for
// fewer bytes: see the package documentation); exact.
func (p *Party) Clip(x *Shared, lo, hi float64) (*Shared, error) {
	return p.clip(x, lo, hi, anyRaw)
}

// ClipWithin is [Party.Clip] for an x the caller knows to lie in [xlo, xhi] (on the
// encodings): the comparisons run on the narrowest lanes that hold the differences (see
// [Party.MSBWithin]), six rounds instead of seven and half the bytes of the sign bits for
// 32-bit lanes. Outside the range the result is meaningless.
func (p *Party) ClipWithin(x *Shared, lo, hi, xlo, xhi float64) (*Shared, error) {
	f := p.enc.FracBits
	l, h := math.Floor(math.Ldexp(xlo, f)), math.Ceil(math.Ldexp(xhi, f))
	if !(l <= h) || l < -0x1p62 || h > 0x1p62 {
		return nil, fmt.Errorf("aby3: clip: input range [%v, %v]", xlo, xhi)
	}
	return p.clip(x, lo, hi, [2]int64{int64(l), int64(h)})
}

func (p *Party) clip(x *Shared, lo, hi float64, in [2]int64) (*Shared, error) {
	if !(lo <= hi) {
		return nil, fmt.Errorf("aby3: clip: bounds [%v, %v] are not ordered", lo, hi)
	}
	elo, err := p.enc.Encode(lo)
	if err != nil {
		return nil, fmt.Errorf("aby3: clip: %w", err)
	}
	ehi, err := p.enc.Encode(hi)
	if err != nil {
		return nil, fmt.Errorf("aby3: clip: %w", err)
	}
	r, err := p.thresholds("clip", x, []threshold{{at: elo, ramp: true}, {at: ehi, ramp: true}}, in)
	if err != nil {
		return nil, err
	}
	z := newShared(x.shape, x.Len())
	ring.SubTo(z.a, r[0].a, r[1].a)
	ring.SubTo(z.b, r[0].b, r[1].b)
	return p.AddPublicRing(z, []uint64{elo})
}

package pond

import (
	"fmt"

	"github.com/gotfe/gotfe/secure/ring"
)

// Exact comparisons. Every comparison reduces to the sign bit of a difference (seven rounds)
// and every use of its result to a bit product (one round), so a comparison-and-select costs
// eight rounds whatever the size of the tensors, and several comparisons of one operation
// share those rounds. Comparisons are exact on the encodings provided the difference of the
// operands does not overflow: |x - y| < 2^63 as signed 64-bit integers, which holds whenever
// both magnitudes are below 2^62 raw (2^46 at f = 16).

// notBits flips bit 0 of XOR shares in place (party 0 holds the public one).
func (p *Party) notBits(b []uint64) {
	if p.id == 0 {
		for i := range b {
			b[i] ^= 1
		}
	}
}

// ReLU returns y = max(x, 0) and the derivative mask [x > 0] (bit 0 of a boolean sharing) for
// the backward pass ([Party.MulMask]). Exact. Eight rounds: seven for the sign bit of x - 2^-f
// and one for the product.
func (p *Party) ReLU(x *Shared) (y *Shared, mask *BoolShared, err error) {
	y, mask, _, err = p.relu(x, false)
	return y, mask, err
}

// ReLUArith is [Party.ReLU] with the derivative mask [x > 0] also returned as an arithmetic
// sharing of the ring integers 0 and 1, which a backward pass applies with [Party.MulRing]:
// the same eight rounds (the dealt bit of the product gives the arithmetic mask).
func (p *Party) ReLUArith(x *Shared) (y, mask *Shared, err error) {
	y, _, mask, err = p.relu(x, true)
	return y, mask, err
}

func (p *Party) relu(x *Shared, arith bool) (y *Shared, maskB *BoolShared, maskA *Shared, err error) {
	m, err := p.msbMinus("relu", x, 1) // x > 0 ⟺ x - 1 ≥ 0 on the encodings
	if err != nil {
		return nil, nil, nil, err
	}
	p.notBits(m.v)
	return p.applyMask("relu", m, x, arith)
}

// applyMask returns m·x, and m as a boolean or arithmetic mask (one round).
func (p *Party) applyMask(op string, m *BoolShared, x *Shared, arith bool) (*Shared, *BoolShared, *Shared, error) {
	r := p.newRound()
	st := p.bitMulSend(r, m.v, x.v, nil, x.n)
	if err := p.exchange(op, r); err != nil {
		return nil, nil, nil, err
	}
	z, bit := st.finish(p, r)
	y := wrapShared(x.shape, x.n, z)
	if arith {
		return y, nil, wrapShared(x.shape, x.n, bit), nil
	}
	return y, m, nil, nil
}

// ReduceReLU is Reduce(u, 1) followed by ReLU, or ReLUArith when arith, in one round fewer:
// the sign is read from the shares of the product before its truncation, so the first round
// of the sign-bit extraction shares the truncation's round. It returns the reduced product z,
// y = max(z, 0) and the mask [z > 0], boolean or arithmetic. Eight rounds from the unreduced
// product.
//
// The mask is [u ≥ 2^-f] on the product before its rounding: where the rounding takes a
// product just below one unit in the last place up to it, the mask is 0 and y is 0, which is
// still within the product's rounding error (below one unit).
func (p *Party) ReduceReLU(u *Unreduced, arith bool) (z, y *Shared, maskB *BoolShared, maskA *Shared, err error) {
	const op = "relu"
	f := p.enc.FracBits
	d := u.frac - f
	if d < 1 || d > 62 {
		return nil, nil, nil, nil, fmt.Errorf("pond: relu: truncation by %d bits out of range", d)
	}
	r := p.newRound()
	tr := p.truncSend(r, u.v, u.n, uint(d))
	ms := p.msbSend(r, u.v, 1<<uint(d), u.n)
	if err := p.exchange(op, r); err != nil {
		return nil, nil, nil, nil, err
	}
	z = wrapShared(u.shape, u.n, tr.finish(p, r))
	bits, err := ms.finish(p, r, op)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	p.notBits(bits) // [u ≥ 2^d]
	m := &BoolShared{shape: append([]int(nil), u.shape...), n: u.n, v: bits}
	y, maskB, maskA, err = p.applyMask(op, m, z, arith)
	return z, y, maskB, maskA, err
}

// Select returns x where the secret bit b is set and y elsewhere: y + b·(x - y). One round.
func (p *Party) Select(b *BoolShared, x, y *Shared) (*Shared, error) {
	d, err := p.Sub(x, y)
	if err != nil {
		return nil, fmt.Errorf("pond: select: %w", err)
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
		return nil, fmt.Errorf("pond: maximum: %w", err)
	}
	return p.Select(lt, y, x)
}

// Minimum returns the elementwise minimum of x and y. Eight rounds.
func (p *Party) Minimum(x, y *Shared) (*Shared, error) {
	lt, err := p.LessThan(x, y)
	if err != nil {
		return nil, fmt.Errorf("pond: minimum: %w", err)
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

// thresholds compares x with public thresholds in one batch: one sign-bit extraction over all
// distinct thresholds (seven rounds) and one round of bit products for all outputs. Outputs
// are exact: ramps are x - at or 0, steps value or 0.
func (p *Party) thresholds(op string, x *Shared, ts []threshold) ([]*Shared, error) {
	n := x.n
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
	// The differences x - at, laid out [k, n].
	var d []uint64
	if p.holds() {
		d = make([]uint64, k*n)
		for j, a := range ats {
			dj := d[j*n : (j+1)*n]
			copy(dj, x.v)
			if p.id == 0 {
				for i := range dj {
					dj[i] -= a
				}
			}
		}
	}
	r := p.newRound()
	ms := p.msbSend(r, d, 0, k*n)
	if err := p.exchange(op, r); err != nil {
		return nil, err
	}
	bits, err := ms.finish(p, r, op)
	if err != nil {
		return nil, err
	}
	p.notBits(bits) // [x ≥ at]
	// One bit product per ramp, and one bit injection per threshold that has steps: every step
	// at that threshold is then a public multiple of the injected bit (local).
	r = p.newRound()
	ramps := make([]*bitMulStep, len(ts))
	inject := make([]*bitMulStep, k)
	part := func(v []uint64, j int) []uint64 {
		if v == nil {
			return nil
		}
		return v[j*n : (j+1)*n]
	}
	for i, t := range ts {
		j := idx[i]
		switch {
		case t.ramp:
			dj := part(d, j)
			if !p.holds() {
				dj = nil
			}
			ramps[i] = p.bitMulSend(r, part(bits, j), dj, nil, n)
		case inject[j] == nil:
			inject[j] = p.bitMulSend(r, part(bits, j), nil, []uint64{1}, n)
		}
	}
	if err := p.exchange(op, r); err != nil {
		return nil, err
	}
	out := make([]*Shared, len(ts))
	injected := make([][]uint64, k)
	done := make([]bool, k)
	for i, t := range ts {
		j := idx[i]
		switch {
		case t.ramp:
			z, _ := ramps[i].finish(p, r)
			out[i] = wrapShared(x.shape, n, z)
		case !done[j]:
			injected[j], _ = inject[j].finish(p, r)
			done[j] = true
		}
	}
	for i, t := range ts {
		if t.ramp {
			continue
		}
		z := p.newShared(x.shape, n)
		ring.ScaleTo(z.v, injected[idx[i]], t.value)
		out[i] = z
	}
	return out, nil
}

// Clip limits every element of x to [lo, hi] (public bounds, lo ≤ hi, compared on their
// encodings): lo + max(x - lo, 0) - max(x - hi, 0). Eight rounds; exact.
func (p *Party) Clip(x *Shared, lo, hi float64) (*Shared, error) {
	if !(lo <= hi) {
		return nil, fmt.Errorf("pond: clip: bounds [%v, %v] are not ordered", lo, hi)
	}
	elo, err := p.enc.Encode(lo)
	if err != nil {
		return nil, fmt.Errorf("pond: clip: %w", err)
	}
	ehi, err := p.enc.Encode(hi)
	if err != nil {
		return nil, fmt.Errorf("pond: clip: %w", err)
	}
	r, err := p.thresholds("clip", x, []threshold{{at: elo, ramp: true}, {at: ehi, ramp: true}})
	if err != nil {
		return nil, err
	}
	z := p.newShared(x.shape, x.n)
	ring.SubTo(z.v, r[0].v, r[1].v)
	return p.AddPublicRing(z, []uint64{elo})
}

// ClipWithin is [Party.Clip] for an x the caller knows to lie in [xlo, xhi]; pond compares on
// whole words, so the range only needs to be valid.
func (p *Party) ClipWithin(x *Shared, lo, hi, xlo, xhi float64) (*Shared, error) {
	if !(xlo <= xhi) {
		return nil, fmt.Errorf("pond: clip: input range [%v, %v]", xlo, xhi)
	}
	return p.Clip(x, lo, hi)
}

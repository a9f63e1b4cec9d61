package pond

import (
	"fmt"
	"math"

	"github.com/gotfe/gotfe/secure/ring"
)

// Unreduced is a fixed-point value before its truncation, typically a matrix product: this
// party's additive share of x·2^frac (nil on the producer). Linear maps and public integer
// factors apply to it locally; [Party.Reduce] truncates it to f fractional bits, folding a
// public real factor into that one truncation. Unreduced values are immutable.
type Unreduced struct {
	shape []int
	n     int
	v     []uint64
	frac  int
}

// Shape returns the value's shape (do not modify it).
func (u *Unreduced) Shape() []int { return u.shape }

// Len returns the number of elements.
func (u *Unreduced) Len() int { return u.n }

// MatMulUnreduced returns x·y (m×k · k×n, or B×m×k · B×k×n pairwise) before its truncation:
// the Beaver product of [Party.MatMulRing], one round and the producer's one message.
func (p *Party) MatMulUnreduced(x, y *Shared) (*Unreduced, error) {
	z, err := p.MatMulRing(x, y)
	if err != nil {
		return nil, err
	}
	return &Unreduced{shape: z.shape, n: z.n, v: z.v, frac: 2 * p.enc.FracBits}, nil
}

// Lift returns x as an Unreduced value with 2f fractional bits (local: x·2^f).
func (p *Party) Lift(x *Shared) *Unreduced {
	u := &Unreduced{shape: append([]int(nil), x.shape...), n: x.n, frac: 2 * p.enc.FracBits}
	if p.holds() {
		u.v = make([]uint64, x.n)
		ring.ShiftLeftTo(u.v, x.v, uint(p.enc.FracBits))
	}
	return u
}

// ReshapeUnreduced returns u with a new shape (one dimension may be -1); no copy.
func (p *Party) ReshapeUnreduced(u *Unreduced, shape ...int) (*Unreduced, error) {
	s, err := ring.ResolveShape(u.n, shape)
	if err != nil {
		return nil, fmt.Errorf("pond: %w", err)
	}
	return &Unreduced{shape: s, n: u.n, v: u.v, frac: u.frac}, nil
}

// MapLinearUnreduced applies a ring-linear function f (see [Party.MapLinear]) to u's shares:
// local and exact. A linear map that shrinks its input, such as the col2im of a convolution's
// input gradient, thus runs before the one truncation, which then costs the bytes of the
// smaller result. The producer applies f to zeros for the shape of the result.
func (p *Party) MapLinearUnreduced(u *Unreduced, f func(*ring.Tensor) (*ring.Tensor, error)) (*Unreduced, error) {
	data := u.v
	if !p.holds() {
		data = make([]uint64, u.n)
	}
	t, err := f(&ring.Tensor{Shape: u.shape, Data: data})
	if err != nil {
		return nil, fmt.Errorf("pond: %w", err)
	}
	out := &Unreduced{shape: t.Shape, n: len(t.Data), frac: u.frac}
	if p.holds() {
		out.v = t.Data
	}
	return out, nil
}

// ConcatUnreduced joins values with the same fractional bits along axis (local).
func (p *Party) ConcatUnreduced(axis int, us ...*Unreduced) (*Unreduced, error) {
	if len(us) == 0 {
		return nil, fmt.Errorf("pond: concat of no values")
	}
	xs := make([]*Shared, len(us))
	for i, u := range us {
		if u.frac != us[0].frac {
			return nil, fmt.Errorf("pond: concat of values with %d and %d fractional bits", us[0].frac, u.frac)
		}
		xs[i] = &Shared{shape: u.shape, n: u.n, v: u.v}
	}
	c, err := p.Concat(axis, xs...)
	if err != nil {
		return nil, err
	}
	return &Unreduced{shape: c.shape, n: c.n, v: c.v, frac: us[0].frac}, nil
}

// ScaleUnreduced returns k·u for a public integer k (local, exact).
func (p *Party) ScaleUnreduced(u *Unreduced, k int64) *Unreduced {
	out := &Unreduced{shape: append([]int(nil), u.shape...), n: u.n, frac: u.frac}
	if u.v != nil {
		out.v = make([]uint64, u.n)
		ring.ScaleTo(out.v, u.v, uint64(k))
	}
	return out
}

// AddBiasUnreduced returns u + bias with the sharing bias (of the size of u's last axis)
// broadcast over the other axes (local). u must carry at least f fractional bits.
func (p *Party) AddBiasUnreduced(u *Unreduced, bias *Shared) (*Unreduced, error) {
	f := p.enc.FracBits
	if len(u.shape) == 0 || len(bias.shape) != 1 || bias.shape[0] != u.shape[len(u.shape)-1] || u.frac < f {
		return nil, fmt.Errorf("pond: add bias %v to %v: %w", bias.shape, u.shape, ring.ErrShape)
	}
	out := &Unreduced{shape: append([]int(nil), u.shape...), n: u.n, frac: u.frac}
	if p.holds() {
		lift := make([]uint64, bias.n)
		ring.ShiftLeftTo(lift, bias.v, uint(u.frac-f))
		out.v = make([]uint64, u.n)
		if u.n > 0 {
			ring.AddBiasTo(out.v, u.v, lift)
		}
	}
	return out, nil
}

// reduceParams returns the factor L = c·2^s (s = 0 for c = 1, else f) and the truncation
// d = frac - f + s of Reduce(u, c).
func (p *Party) reduceParams(u *Unreduced, c float64) (L uint64, d uint, err error) {
	f := p.enc.FracBits
	if math.IsNaN(c) || math.IsInf(c, 0) || math.Abs(c) >= math.Ldexp(1, 62-2*f) {
		return 0, 0, fmt.Errorf("pond: reduce by %v", c)
	}
	s, l := 0, int64(1)
	if c != 1 {
		s, l = f, int64(math.Round(math.Ldexp(c, f)))
		if l == 0 {
			return 0, 0, fmt.Errorf("pond: reduce by %v, which rounds to 0", c)
		}
	}
	dd := u.frac - f + s
	if dd < 1 || dd > 62 {
		return 0, 0, fmt.Errorf("pond: reduce: truncation by %d bits out of range", dd)
	}
	return uint64(l), uint(dd), nil
}

// Reduce returns c·u truncated to f fractional bits, for a public real c rounded to a multiple
// of 2^-f: the shares are multiplied by L = c·2^f (c = 1: by 1) and truncated once (one round,
// [Party.Trunc]'s). Error: below one unit in the last place, plus |u|·2^-(f+1) from rounding c.
// The value must satisfy |u·L|·2^frac < 2^62, as for aby3.
func (p *Party) Reduce(u *Unreduced, c float64) (*Shared, error) {
	L, d, err := p.reduceParams(u, c)
	if err != nil {
		return nil, err
	}
	x := &Shared{shape: append([]int(nil), u.shape...), n: u.n}
	if p.holds() {
		x.v = make([]uint64, u.n)
		ring.ScaleTo(x.v, u.v, L)
	}
	r := p.newRound()
	st := p.truncSend(r, x.v, x.n, d)
	if err := p.exchange("reduce", r); err != nil {
		return nil, err
	}
	x.v = st.finish(p, r)
	return x, nil
}

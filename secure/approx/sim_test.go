package approx

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
)

// sim is a tensor of the simulated engine: raw fixed-point integers, as a protocol holds them
// once reconstructed.
type sim struct {
	shape []int
	v     []int64
}

// simOps implements Ops and RowOps in the clear with the rounding of the aby3 protocols:
// products and non-integer linear combinations are truncated to ⌊z/2^d⌋ or ⌊z/2^d⌋+1 (the
// latter with probability the dropped fraction), coefficients are represented with 20
// significant bits, comparisons are exact. It counts the operations that communicate.
type simOps struct {
	f      int
	r      *rand.Rand
	muls   int // MulMany calls
	cmps   int // Compare calls
	rounds int // LinComb calls that round
}

func newSim(f int, seed uint64) *simOps { return &simOps{f: f, r: rand.New(rand.NewPCG(seed, 99))} }

func (s *simOps) enc(x float64) int64 { return int64(math.Round(math.Ldexp(x, s.f))) }

func (s *simOps) dec(v int64) float64 { return math.Ldexp(float64(v), -s.f) }

func (s *simOps) input(xs []float64) *sim {
	t := &sim{shape: []int{len(xs)}, v: make([]int64, len(xs))}
	for i, x := range xs {
		t.v[i] = s.enc(x)
	}
	return t
}

func (s *simOps) output(t *sim) []float64 {
	out := make([]float64, len(t.v))
	for i, v := range t.v {
		out[i] = s.dec(v)
	}
	return out
}

// trunc divides the 128-bit signed value (hi, lo) by 2^d with the protocol's rounding.
func (s *simOps) trunc(hi int64, lo uint64, d int) int64 {
	q := int64(lo>>d | uint64(hi)<<(64-d)) // floor for d < 64 when the result fits
	if d == 0 {
		q = int64(lo)
	}
	frac := lo & (1<<d - 1)
	if d > 0 && s.r.Uint64()&(1<<d-1) < frac {
		q++
	}
	return q
}

// mul128 returns the signed 128-bit product a·b.
func mul128(a, b int64) (hi int64, lo uint64) {
	h, l := bits.Mul64(uint64(a), uint64(b))
	hs := int64(h)
	if a < 0 {
		hs -= b
	}
	if b < 0 {
		hs -= a
	}
	return hs, l
}

func (s *simOps) FracBits() int { return s.f }

func (s *simOps) like(x *sim) *sim {
	return &sim{shape: append([]int(nil), x.shape...), v: make([]int64, len(x.v))}
}

func (s *simOps) Add(x, y *sim) (*sim, error) {
	z := s.like(x)
	for i := range z.v {
		z.v[i] = x.v[i] + y.v[i]
	}
	return z, nil
}

func (s *simOps) Sub(x, y *sim) (*sim, error) {
	z := s.like(x)
	for i := range z.v {
		z.v[i] = x.v[i] - y.v[i]
	}
	return z, nil
}

func (s *simOps) AddConst(x *sim, c float64) (*sim, error) {
	z := s.like(x)
	for i := range z.v {
		z.v[i] = x.v[i] + s.enc(c)
	}
	return z, nil
}

func (s *simOps) LinComb(c0 float64, cs []float64, xs []*sim) (*sim, error) {
	if len(cs) != len(xs) || len(xs) == 0 {
		return nil, fmt.Errorf("sim: lincomb of %d coefficients and %d tensors", len(cs), len(xs))
	}
	z := s.like(xs[0])
	integer, cmax := true, 0.0
	for _, c := range cs {
		integer = integer && c == math.Trunc(c)
		cmax = math.Max(cmax, math.Abs(c))
	}
	sh := 0
	if !integer {
		_, e := math.Frexp(cmax) // cmax in [2^(e-1), 2^e)
		sh = max(0, min(62-s.f, 20-e))
		s.rounds++
	}
	for i := range z.v {
		var hi int64
		var lo uint64
		for k, c := range cs {
			h, l := mul128(int64(math.Round(math.Ldexp(c, sh))), xs[k].v[i])
			var carry uint64
			lo, carry = bits.Add64(lo, l, 0)
			hi += h + int64(carry)
		}
		z.v[i] = s.trunc(hi, lo, sh) + s.enc(c0)
	}
	return z, nil
}

func (s *simOps) MulMany(xs, ys []*sim, shift int) ([]*sim, error) {
	s.muls++
	out := make([]*sim, len(xs))
	for k := range xs {
		z := s.like(xs[k])
		for i := range z.v {
			hi, lo := mul128(xs[k].v[i], ys[k].v[i])
			z.v[i] = s.trunc(hi, lo, s.f+shift)
		}
		out[k] = z
	}
	return out, nil
}

func (s *simOps) Compare(x *sim, ts []Threshold) ([]*sim, error) {
	s.cmps++
	out := make([]*sim, len(ts))
	for k, t := range ts {
		z, at := s.like(x), s.enc(t.At)
		for i, v := range x.v {
			switch {
			case v < at:
			case t.Ramp:
				z.v[i] = v - at
			default:
				z.v[i] = s.enc(t.Step)
			}
		}
		out[k] = z
	}
	return out, nil
}

// CompareIn checks that x lies in [lo, hi], as its callers guarantee, and compares.
func (s *simOps) CompareIn(x *sim, lo, hi float64, ts []Threshold) ([]*sim, error) {
	for _, v := range x.v {
		if v < s.enc(lo) || v > s.enc(hi) {
			return nil, fmt.Errorf("sim: compare: %v outside the guaranteed range [%v, %v]", s.dec(v), lo, hi)
		}
	}
	return s.Compare(x, ts)
}

func (s *simOps) Shape(x *sim) []int { return x.shape }

func (s *simOps) reduce(x *sim, op func(acc, v int64) int64) *sim {
	k := x.shape[len(x.shape)-1]
	shape := append(append([]int(nil), x.shape[:len(x.shape)-1]...), 1)
	z := &sim{shape: shape, v: make([]int64, len(x.v)/k)}
	for r := range z.v {
		acc := x.v[r*k]
		for j := 1; j < k; j++ {
			acc = op(acc, x.v[r*k+j])
		}
		z.v[r] = acc
	}
	return z
}

func (s *simOps) MaxLast(x *sim) (*sim, error) {
	return s.reduce(x, func(a, b int64) int64 { return max(a, b) }), nil
}

func (s *simOps) MaxLastSteps(x *sim, ts []Threshold) (*sim, []*sim, error) {
	s.cmps++
	m, _ := s.MaxLast(x)
	k := x.shape[len(x.shape)-1]
	out := make([]*sim, len(ts))
	for j, t := range ts {
		if t.Ramp || t.At > 0 {
			return nil, nil, fmt.Errorf("sim: max steps: threshold %+v", t)
		}
		z := s.like(x)
		for i, v := range x.v {
			if v-m.v[i/k] >= s.enc(t.At) {
				z.v[i] = s.enc(t.Step)
			}
		}
		out[j] = z
	}
	return m, out, nil
}

func (s *simOps) SumLast(x *sim) (*sim, error) {
	return s.reduce(x, func(a, b int64) int64 { return a + b }), nil
}

func (s *simOps) BroadcastLast(x *sim, n int) (*sim, error) {
	shape := append(append([]int(nil), x.shape[:len(x.shape)-1]...), n)
	z := &sim{shape: shape, v: make([]int64, len(x.v)*n)}
	for r, v := range x.v {
		for j := range n {
			z.v[r*n+j] = v
		}
	}
	return z, nil
}

var (
	_ Ops[*sim]    = (*simOps)(nil)
	_ RowOps[*sim] = (*simOps)(nil)
)

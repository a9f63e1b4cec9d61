package pond_test

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure/pond"
)

// truncValues returns raw ring values z with |z| < 2^62: the extremes, zero, ±1, values on and
// next to multiples of 2^d, and random magnitudes log-uniform over the whole range.
func truncValues(r *rand.Rand, n int, d uint) []uint64 {
	neg := func(x uint64) uint64 { return -x }
	v := []uint64{0, 1, ^uint64(0), 1<<62 - 1, neg(1<<62 - 1), 1 << d, neg(1 << d), 1<<d - 1, 1<<d + 1, neg(1<<d + 1)}
	for len(v) < n {
		m := uint64(1) << r.IntN(62)
		x := r.Uint64() % m
		if r.IntN(2) == 0 {
			x = -x
		}
		v = append(v, x)
	}
	return v
}

// The truncation is exact up to its rounding, whatever the shares: for every |z| < 2^62 the
// result differs from z/2^d by at most one unit (there is no failure probability),  and the
// errors average to 2^-d units. Shares are uniform, so about half of the values wrap around the
// ring when their shares are added: the wrap correction is exercised on every run.
func TestTruncIsExact(t *testing.T) {
	const n = 1 << 12
	for _, d := range []uint{1, 16, 32, 45, 62} {
		t.Run(fmt.Sprint(d), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(d), 9))
			z := truncValues(r, n, d)
			var got []uint64
			run3(t, uint64(d), func(p *pond.Party) error {
				var in []uint64
				if p.ID() == 0 {
					in = z
				}
				x, err := p.ShareRing(0, in, []int{n})
				if err != nil {
					return err
				}
				y, err := p.Trunc(x, int(d))
				if err != nil {
					return err
				}
				v, err := p.RevealRing(y, -1)
				if p.ID() == 1 {
					got = v
				}
				return err
			})
			var sum float64
			for i, v := range z {
				exact := new(big.Rat).SetFrac(big.NewInt(int64(v)), new(big.Int).Lsh(big.NewInt(1), d))
				e, _ := new(big.Rat).Sub(new(big.Rat).SetInt64(int64(got[i])), exact).Float64()
				require.LessOrEqual(t, math.Abs(e), 1.0, "element %d: %d / 2^%d gave %d", i, int64(v), d, int64(got[i]))
				sum += e
			}
			// The error is 1 - a - b for the fractional parts a and b of the two halves, uniform
			// multiples of 2^-d: its mean is 2^-d, and the mean of n of them lies within
			// 6/sqrt(6n) (standard deviation at most 1/sqrt(6)) of it.
			assert.InDelta(t, math.Ldexp(1, -int(d)), sum/n, 6/math.Sqrt(6*n), "mean error")
		})
	}
}

// Products at the magnitudes the Keras surface produces (inputs within ±64 at f = 16, weights
// and activations of the same order) and far beyond, up to the range of the truncation
// (|x·y| < 2^30 at f = 16, operands up to 2^14.9 here), are within one ulp of the exact
// product of the encodings, on every element.
func TestMulRange(t *testing.T) {
	const n = 1 << 12
	for _, hi := range []float64{6, 10, 14.9} {
		t.Run(fmt.Sprint(hi), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(hi), 10))
			x, y := randValues(r, n, -16, hi), randValues(r, n, -16, hi)
			var got []float64
			run3(t, 7, func(p *pond.Party) error {
				sx, err := p.Share(0, pick(p, 0, x), []int{n})
				if err != nil {
					return err
				}
				sy, err := p.Share(1, pick(p, 1, y), []int{n})
				if err != nil {
					return err
				}
				z, err := p.Mul(sx, sy)
				if err != nil {
					return err
				}
				v, err := p.Reveal(z, 2)
				if p.ID() == 2 {
					got = v
				}
				return err
			})
			for i := range x {
				require.InDelta(t, quantize(x[i])*quantize(y[i]), got[i], ulp, "element %d: %v·%v", i, x[i], y[i])
			}
		})
	}
}

func TestTruncBadShift(t *testing.T) {
	run3(t, 1, func(p *pond.Party) error {
		x, err := p.Public([]float64{1}, []int{1})
		require.NoError(t, err)
		for _, d := range []int{0, 63, -1} {
			_, err := p.Trunc(x, d)
			assert.ErrorContains(t, err, "out of range")
		}
		return nil
	})
}

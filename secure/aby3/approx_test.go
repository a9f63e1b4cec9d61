package aby3_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/approx"
)

// uniform returns n values uniform in [lo, hi], or log-uniform when logScale, with both ends.
func uniform(r *rand.Rand, n int, lo, hi float64, logScale bool) []float64 {
	v := make([]float64, n)
	for i := range v {
		u := r.Float64()
		switch i {
		case 0:
			u = 0
		case 1:
			u = 1
		}
		if logScale {
			v[i] = math.Exp2(math.Log2(lo) + (math.Log2(hi)-math.Log2(lo))*u)
		} else {
			v[i] = lo + (hi-lo)*u
		}
	}
	return v
}

// Rounds of the approximations' steps on aby3, and their defaults' totals as the functions
// document them (secure/approx): cmp a batch of comparisons with public thresholds and the
// use of their results, mul a level of products with its truncation.
const (
	cmp = 8
	mul = 2
	// Sigmoid and tanh: the clamp, the scaling (one rounding), ⌈log2 11⌉ = 4 levels of
	// products for the Chebyshev terms, the final rounding.
	sigmoidRounds = cmp + 1 + 4*mul + 1
	// Exp: the interval's comparisons, ⌈log2 8⌉ = 3 levels for the Chebyshev terms, the final
	// product.
	expRounds = cmp + 3*mul + mul
	// Reciprocal: the comparisons, the scaling product, the quadratic first guess (one
	// product), two Newton steps of two products each, the final product.
	recipRounds = cmp + mul + mul + 2*2*mul + mul
	// Inverse square root: the comparisons and the scaling product, the quadratic first
	// guess, two Newton steps of two levels each, the final product.
	isqrtRounds = cmp + mul + mul + 2*2*mul + mul
	// Log: the comparisons and the scaling product, one rounding for u, ⌈log2 8⌉ = 3 levels
	// for the Chebyshev terms, the rounding of the sum.
	logRounds = cmp + mul + 1 + 3*mul + 1
)

// Every approximation meets its documented bound against float64 on random inputs across its
// stated range (and saturates outside it), in a number of rounds that does not depend on the
// size of the input.
func TestApproximations(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	recip := func(x float64) float64 { return 1 / x }
	isqrt := func(x float64) float64 { return 1 / math.Sqrt(x) }
	abs := func(e float64) func(float64) float64 { return func(float64) float64 { return e } }
	rel := func(g func(float64) float64, e, ulps float64) func(float64) float64 {
		return func(x float64) float64 { return e*math.Abs(g(x)) + ulps*ulp }
	}
	cases := []struct {
		name     string
		op       func(p *aby3.Party, x *aby3.Shared) (*aby3.Shared, error)
		ref      func(float64) float64
		lo, hi   float64
		logScale bool
		bound    func(float64) float64
		rounds   int64 // below 2048 elements; two more from there (lean comparisons), three staged
	}{
		// The round counts follow from the costs each function documents (secure/approx), with
		// the aby3 costs of its steps: a batch of comparisons with public thresholds and the
		// use of its results, cmp = 8 rounds (seven for the sign bits, one to apply them), or
		// six on 32-bit lanes of a known range (cmp32); a level of products with its
		// truncation, mul = 2; a rounding of a linear combination, 1.
		{"Sigmoid", (*aby3.Party).Sigmoid, sig, -8, 8, false, abs(1e-2), sigmoidRounds},
		{"Sigmoid/outside", (*aby3.Party).Sigmoid, sig, -1000, 1000, false, abs(1e-2), sigmoidRounds},
		// Piecewise: one batch of comparisons (the segments' ramps) and the rounding of their
		// combination.
		{"Sigmoid/piecewise", func(p *aby3.Party, x *aby3.Shared) (*aby3.Shared, error) {
			return p.SigmoidWith(x, approx.SigmoidConfig{Method: approx.Piecewise})
		}, sig, -12, 12, false, abs(1e-2), cmp + 1},
		// Tanh: as the sigmoid, degree 13 (also ⌈log2 13⌉ = 4 levels of products).
		{"Tanh", (*aby3.Party).Tanh, math.Tanh, -6, 6, false, abs(1e-2), sigmoidRounds},
		{"Exp/relative", (*aby3.Party).Exp, math.Exp, -3, 4, false, rel(math.Exp, 1e-3, 0), expRounds},
		{"Exp/range", (*aby3.Party).Exp, math.Exp, -17 * math.Ln2, 4, false, rel(math.Exp, 1e-3, 2), expRounds},
		{"Exp/below", (*aby3.Party).Exp, math.Exp, -500, -17 * math.Ln2, false, abs(2 * ulp), expRounds},
		{"Reciprocal", (*aby3.Party).Reciprocal, recip, 0x1p-8, 32, true, rel(recip, 1e-3, 0), recipRounds},
		{"Reciprocal/range", (*aby3.Party).Reciprocal, recip, 32, 0x1p12, true, rel(recip, 3e-5, 1.5), recipRounds},
		{"InvSqrt", (*aby3.Party).InvSqrt, isqrt, 0x1p-8, 0x1p10, true, rel(isqrt, 1e-3, 0), isqrtRounds},
		// The range down to 2^-16, radix 16, clamped first: the staging adds a batch of
		// comparisons on 32-bit lanes less one round (seven), and the quartic first guess
		// takes five rounds instead of two.
		{"InvSqrt/staged", func(p *aby3.Party, x *aby3.Shared) (*aby3.Shared, error) {
			return p.InvSqrtWith(x, approx.NewtonConfig{Min: 0x1p-16, Radix: 16, Staged: true})
		}, isqrt, 0x1p-16, 0x1p12, true, rel(isqrt, 1e-3, 1.5), isqrtRounds + 7 + 3},
		{"Log", (*aby3.Party).Log, math.Log, 0x1p-16, 0x1p16, true, abs(2e-4), logRounds},
		// Inputs known to lie in [0, 1]: comparisons on 32-bit lanes (six rounds instead of
		// seven for the sign bits), no upper clamp, no powers of 4 above 1.
		{"Log/bounded", func(p *aby3.Party, x *aby3.Shared) (*aby3.Shared, error) {
			return p.LogWith(x, approx.LogConfig{InputMin: 0, InputMax: 1})
		}, math.Log, 0x1p-16, 1, true, abs(2e-4), logRounds - 1},
		{"Reciprocal/bounded", func(p *aby3.Party, x *aby3.Shared) (*aby3.Shared, error) {
			return p.ReciprocalWith(x, approx.NewtonConfig{Min: 1, Max: 16, InputMin: 0, InputMax: 10})
		}, recip, 1, 10, false, rel(recip, 1e-3, 0), recipRounds - 1},
	}
	for _, c := range cases {
		for _, n := range []int{3, 3000} {
			t.Run(fmt.Sprintf("%s/%d", c.name, n), func(t *testing.T) {
				x := uniform(r, n, c.lo, c.hi, c.logScale)
				var got []float64
				var rounds int64
				run3(t, 83, func(p *aby3.Party) error {
					sx, err := p.Share(2, x, []int{n})
					if err != nil {
						return err
					}
					if sx, err = p.AddPublic(sx, []float64{0}); err != nil {
						return err
					}
					s := p.Stats()
					y, err := c.op(p, sx)
					if err != nil {
						return err
					}
					if p.ID() == 1 {
						rounds = p.Stats().Sub(s).Rounds
					}
					v, err := p.Reveal(y, 1)
					if p.ID() == 1 {
						got = v
					}
					return err
				})
				worst := 0.0
				for i, xi := range x {
					q := quantize(xi)
					want := c.ref(q)
					e := math.Abs(got[i] - want)
					worst = math.Max(worst, e/c.bound(q))
					require.LessOrEqual(t, e, c.bound(q), "x = %v (encoded %v): got %v, want %v", xi, q, got[i], want)
				}
				want := c.rounds
				if n >= 2048 {
					want += 2
					if strings.HasSuffix(c.name, "staged") {
						want++
					}
				}
				assert.Equal(t, want, rounds)
				t.Logf("worst error %.2f of the bound", worst)
			})
		}
	}
}

func TestSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(85, 86))
	for _, c := range []struct {
		rows, k int
		scale   float64
		rounds  int64
	}{
		// Rows of 10 and of 4 whose maximum compares all pairs: 8 + ⌈log2(k-1)⌉ rounds for the
		// maximum and the exponential's comparisons, eight for the exponential, seven for the
		// comparisons of the sums, two for the product (secure/approx.Softmax).
		{1, 10, 10, 8 + 4 + 8 + 7 + 2}, {2, 10, 1000, 8 + 4 + 8 + 7 + 2}, {8, 4, 10, 8 + 2 + 8 + 7 + 2},
		// 128 rows of 10 (5,760 pairs, within allPairsPlainMax but not allPairsMax): all pairs
		// for the maximum alone (7 + 4 + 1 rounds), then eight for the exponential's
		// comparisons, eight for the exponential, seven for the sums' comparisons and two Newton
		// steps of four, the last one's product giving the probabilities.
		{128, 10, 10, 12 + 8 + 8 + 7 + 2*4},
		// Rows of 2, of 1 and of 33 take the special cases of the maximum (one pair, none,
		// a tree of 33): counts measured on this implementation, pinned.
		{7, 2, 10, 33}, {3, 1, 10, 18}, {5, 33, 100, 73},
	} {
		t.Run(fmt.Sprintf("%dx%d", c.rows, c.k), func(t *testing.T) {
			x := make([]float64, c.rows*c.k)
			for i := range x {
				x[i] = c.scale * (2*r.Float64() - 1)
			}
			var got []float64
			var rounds int64
			run3(t, 87, func(p *aby3.Party) error {
				sx, err := p.Share(0, x, []int{c.rows, c.k})
				if err != nil {
					return err
				}
				s := p.Stats()
				y, err := p.Softmax(sx)
				if err != nil {
					return err
				}
				if p.ID() == 0 {
					rounds = p.Stats().Sub(s).Rounds
				}
				v, err := p.Reveal(y, 0)
				if p.ID() == 0 {
					got = v
				}
				return err
			})
			worst := 0.0
			for row := range c.rows {
				mx, sum := math.Inf(-1), 0.0
				for j := range c.k {
					mx = math.Max(mx, quantize(x[row*c.k+j]))
				}
				for j := range c.k {
					sum += math.Exp(quantize(x[row*c.k+j]) - mx)
				}
				for j := range c.k {
					want := math.Exp(quantize(x[row*c.k+j])-mx) / sum
					e := math.Abs(got[row*c.k+j] - want)
					worst = math.Max(worst, e)
					require.LessOrEqual(t, e, 2e-3, "row %d col %d", row, j)
				}
			}
			assert.Equal(t, c.rounds, rounds)
			t.Logf("max error %.2e", worst)
		})
	}
}

func TestDivPublicLinComb(t *testing.T) {
	r := rand.New(rand.NewPCG(87, 88))
	x := randValues(r, 2000, -10, 12)
	y := randValues(r, 2000, -10, 5)
	for _, c := range []float64{3, -7, 0.3, 1000, 1e-3, 1 << 20, 12345.678} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			var got []float64
			var rounds int64
			run3(t, 89, func(p *aby3.Party) error {
				sx, err := p.Share(1, x, []int{len(x)})
				if err != nil {
					return err
				}
				s := p.Stats()
				z, err := p.DivPublic(sx, c)
				if err != nil {
					return err
				}
				v, err := p.Reveal(z, 0)
				if p.ID() == 0 {
					rounds = p.Stats().Sub(s).Rounds - 1
					got = v
				}
				return err
			})
			wantRounds := int64(1)
			if 1/c == math.Trunc(1/c) {
				wantRounds = 0 // an integer coefficient: local and exact
			}
			assert.Equal(t, wantRounds, rounds)
			for i := range x {
				want := quantize(x[i]) / c
				require.InDelta(t, want, got[i], ulp+math.Abs(want)*0x1p-20, "%v / %v", x[i], c)
			}
		})
	}
	t.Run("integer", func(t *testing.T) {
		var got []float64
		var rounds int64
		run3(t, 91, func(p *aby3.Party) error {
			sx, err := p.Share(1, x, []int{len(x)})
			if err != nil {
				return err
			}
			sy, err := p.Share(2, y, []int{len(y)})
			if err != nil {
				return err
			}
			s := p.Stats()
			z, err := p.LinComb(0.5, []float64{3, -2}, []*aby3.Shared{sx, sy})
			if err != nil {
				return err
			}
			v, err := p.Reveal(z, 0)
			if p.ID() == 0 {
				rounds = p.Stats().Sub(s).Rounds - 1
				got = v
			}
			return err
		})
		assert.Equal(t, int64(0), rounds, "integer coefficients are local")
		for i := range x {
			assert.Equal(t, 0.5+3*quantize(x[i])-2*quantize(y[i]), got[i])
		}
	})
	err := try3(1, func(p *aby3.Party) error {
		sx, err := p.Public([]float64{1}, []int{3})
		if err != nil {
			return err
		}
		_, err = p.DivPublic(sx, 0)
		return err
	})
	assert.ErrorContains(t, err, "divide by 0")
}

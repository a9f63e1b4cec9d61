package approx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ulp16 = 0x1p-16

// points returns a uniform grid of n points over [lo, hi] followed by n random ones.
func points(r *rand.Rand, lo, hi float64, n int) []float64 {
	v := make([]float64, 0, 2*n)
	for i := range n {
		v = append(v, lo+(hi-lo)*float64(i)/float64(n-1))
	}
	for range n {
		v = append(v, lo+(hi-lo)*r.Float64())
	}
	return v
}

// check runs fn on xs in the simulated engine and asserts |got - ref(q(x))| ≤ bound(q(x)) for
// the encoded inputs q(x). It returns the largest error seen.
func check(t *testing.T, s *simOps, xs []float64, fn func(*sim) (*sim, error), ref, bound func(float64) float64) float64 {
	t.Helper()
	y, err := fn(s.input(xs))
	require.NoError(t, err)
	got := s.output(y)
	worst := 0.0
	for i, x := range xs {
		qx := s.dec(s.enc(x))
		e := math.Abs(got[i] - ref(qx))
		worst = math.Max(worst, e)
		require.LessOrEqual(t, e, bound(qx), "x = %v: got %v, want %v", x, got[i], ref(qx))
	}
	return worst
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func TestSigmoidTanh(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name  string
		fn    func(o Ops[*sim], x *sim, cfg SigmoidConfig) (*sim, error)
		ref   func(float64) float64
		maxFn func(SigmoidConfig) (float64, error)
		cfg   SigmoidConfig
		exact float64 // documented error in exact arithmetic (defaults) or 0
	}{
		{"sigmoid", Sigmoid[*sim], sigmoid, SigmoidMaxError, SigmoidConfig{}, 6.3e-3},
		{"sigmoid/piecewise", Sigmoid[*sim], sigmoid, SigmoidMaxError, SigmoidConfig{Method: Piecewise}, 5.6e-3},
		{"sigmoid/degree7", Sigmoid[*sim], sigmoid, SigmoidMaxError, SigmoidConfig{Degree: 7, Radius: 6}, 0},
		{"sigmoid/piecewise24", Sigmoid[*sim], sigmoid, SigmoidMaxError, SigmoidConfig{Method: Piecewise, Segments: 24}, 0},
		{"tanh", Tanh[*sim], math.Tanh, TanhMaxError, SigmoidConfig{}, 6.0e-3},
		{"tanh/piecewise", Tanh[*sim], math.Tanh, TanhMaxError, SigmoidConfig{Method: Piecewise}, 6.3e-3},
		{"tanh/degree21", Tanh[*sim], math.Tanh, TanhMaxError, SigmoidConfig{Degree: 21, Radius: 5}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exact, err := c.maxFn(c.cfg)
			require.NoError(t, err)
			if c.exact > 0 {
				assert.Less(t, exact, c.exact, "documented exact-arithmetic error")
				assert.Less(t, exact+3e-3, 1e-2, "default must stay below 1e-2 with the rounding")
			}
			s := newSim(16, 3)
			worst := check(t, s, points(r, -30, 30, 4000), func(x *sim) (*sim, error) { return c.fn(s, x, c.cfg) },
				c.ref, func(float64) float64 { return exact + 3e-3 })
			t.Logf("max error %.2e (exact arithmetic %.2e)", worst, exact)
			if c.cfg.Method == Piecewise {
				assert.Equal(t, [3]int{1, 0, 1}, [3]int{s.cmps, s.muls, s.rounds}, "one comparison batch and one rounding")
			}
			if c.cfg == (SigmoidConfig{}) {
				assert.Equal(t, [3]int{1, 4, 2}, [3]int{s.cmps, s.muls, s.rounds}, "18 rounds in aby3")
			}
		})
	}
}

func TestExp(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	min16 := -17 * math.Ln2
	cases := []struct {
		name   string
		lo, hi float64
		bound  func(x float64) float64
	}{
		{"relative", -3, 4, func(x float64) float64 { return 1e-3 * math.Exp(x) }},
		{"range", min16, 4, func(x float64) float64 { return 1e-3*math.Exp(x) + 2*ulp16 }},
		{"below", -200, min16, func(x float64) float64 { return 2 * ulp16 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSim(16, 5)
			worst := check(t, s, points(r, c.lo, c.hi, 5000), func(x *sim) (*sim, error) { return Exp(s, x, ExpConfig{}) }, math.Exp, c.bound)
			t.Logf("max error %.2e", worst)
			assert.Equal(t, [3]int{1, 4, 0}, [3]int{s.cmps, s.muls, s.rounds}, "16 rounds in aby3")
		})
	}
	t.Run("above", func(t *testing.T) {
		s := newSim(16, 5)
		check(t, s, points(r, 4, 300, 1000), func(x *sim) (*sim, error) { return Exp(s, x, ExpConfig{}) },
			func(float64) float64 { return math.Exp(4) }, func(float64) float64 { return 1e-3 * math.Exp(4) })
	})
	// Other configurations keep their range. Degree 1 is the classic limit form, whose
	// relative error grows as 2^n times the rounding and the interpolation error of 1 + t.
	for _, c := range []struct {
		cfg ExpConfig
		rel float64
	}{
		{ExpConfig{Min: -8, Max: 8}, 1e-3},
		{ExpConfig{Squarings: 4, Degree: 3}, 1e-3},
		{ExpConfig{Min: -2, Max: 1}, 1e-3},
		{ExpConfig{Squarings: 6, Degree: 1, Min: -4, Max: 0}, 2e-2},
	} {
		t.Run(fmt.Sprintf("%+v", c.cfg), func(t *testing.T) {
			s := newSim(16, 6)
			full, err := c.cfg.resolve(16)
			require.NoError(t, err)
			worst := check(t, s, points(r, full.Min, full.Max, 2000), func(x *sim) (*sim, error) { return Exp(s, x, c.cfg) }, math.Exp,
				func(x float64) float64 { return c.rel*math.Exp(x) + 4*ulp16 })
			t.Logf("max error %.2e", worst)
		})
	}
}

func TestReciprocalInvSqrtLog(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	recip := func(x float64) float64 { return 1 / x }
	isqrt := func(x float64) float64 { return 1 / math.Sqrt(x) }
	rel := func(g func(float64) float64, e float64) func(float64) float64 {
		return func(x float64) float64 { return e * g(x) }
	}
	relUlp := func(g func(float64) float64, e, u float64) func(float64) float64 {
		return func(x float64) float64 { return e*g(x) + u*ulp16 }
	}
	cases := []struct {
		name   string
		fn     func(s *simOps, x *sim) (*sim, error)
		ref    func(float64) float64
		lo, hi float64
		bound  func(float64) float64
		muls   int
	}{
		{"reciprocal/relative", func(s *simOps, x *sim) (*sim, error) { return Reciprocal(s, x, NewtonConfig{}) }, recip, 0x1p-8, 32, rel(recip, 1e-3), 7},
		{"reciprocal/range", func(s *simOps, x *sim) (*sim, error) { return Reciprocal(s, x, NewtonConfig{}) }, recip, 32, 0x1p12, relUlp(recip, 3e-5, 1.5), 7},
		{"reciprocal/softmax range", func(s *simOps, x *sim) (*sim, error) { return Reciprocal(s, x, NewtonConfig{Min: 1, Max: 10}) }, recip, 1, 10, rel(recip, 2e-4), 7},
		{"invsqrt/relative", func(s *simOps, x *sim) (*sim, error) { return InvSqrt(s, x, NewtonConfig{}) }, isqrt, 0x1p-8, 0x1p10, rel(isqrt, 1e-3), 7},
		{"invsqrt/range", func(s *simOps, x *sim) (*sim, error) { return InvSqrt(s, x, NewtonConfig{}) }, isqrt, 0x1p10, 0x1p12, relUlp(isqrt, 1e-5, 1.5), 7},
		{"invsqrt/radix 16", func(s *simOps, x *sim) (*sim, error) { return InvSqrt(s, x, NewtonConfig{Radix: 16}) }, isqrt, 0x1p-8, 0x1p10, rel(isqrt, 1e-3), 8},
		{"reciprocal/radix 16", func(s *simOps, x *sim) (*sim, error) { return Reciprocal(s, x, NewtonConfig{Radix: 16}) }, recip, 0x1p-8, 32, rel(recip, 1e-3), 10},
		{"log", func(s *simOps, x *sim) (*sim, error) { return Log(s, x, LogConfig{}) }, math.Log, 0x1p-16, 0x1p16, func(float64) float64 { return 2e-4 }, 4},
		{"log/small", func(s *simOps, x *sim) (*sim, error) { return Log(s, x, LogConfig{}) }, math.Log, 0x1p-16, 1, func(float64) float64 { return 2e-4 }, 4},
		// Inputs known to be in [0, 1] (clipped probabilities): no upper clamp, no powers of 4
		// above 1.
		{"log/bounded", func(s *simOps, x *sim) (*sim, error) { return Log(s, x, LogConfig{InputMin: 0, InputMax: 1}) }, math.Log, 0x1p-16, 1, func(float64) float64 { return 2e-4 }, 4},
		{"log/bounded above min", func(s *simOps, x *sim) (*sim, error) { return Log(s, x, LogConfig{InputMin: 0x1p-10, InputMax: 3}) }, math.Log, 0x1p-10, 3, func(float64) float64 { return 2e-4 }, 4},
		{"reciprocal/bounded", func(s *simOps, x *sim) (*sim, error) {
			return Reciprocal(s, x, NewtonConfig{Min: 1, Max: 16, InputMin: 0.5, InputMax: 10})
		}, recip, 1, 10, rel(recip, 2e-4), 7},
		{"invsqrt/bounded", func(s *simOps, x *sim) (*sim, error) {
			return InvSqrt(s, x, NewtonConfig{InputMin: 0x1p-8, InputMax: 64})
		}, isqrt, 0x1p-8, 64, rel(isqrt, 1e-3), 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSim(16, 7)
			// Log-uniform points cover every power of 4 of the range.
			xs := points(r, math.Log2(c.lo), math.Log2(c.hi), 4000)
			for i := range xs {
				xs[i] = math.Exp2(xs[i])
			}
			worst := check(t, s, xs, func(x *sim) (*sim, error) { return c.fn(s, x) }, c.ref, c.bound)
			t.Logf("max error %.2e", worst)
			assert.Equal(t, 1, s.cmps)
			assert.Equal(t, c.muls, s.muls)
		})
	}
	// Staged: a first batch clamps, a second compares the clamped values (on a known range).
	t.Run("invsqrt/staged radix 16", func(t *testing.T) {
		s := newSim(16, 7)
		xs := points(r, -16, 12, 4000)
		for i := range xs {
			xs[i] = math.Exp2(xs[i])
		}
		cfg := NewtonConfig{Min: 0x1p-16, Radix: 16, Staged: true}
		worst := check(t, s, xs, func(x *sim) (*sim, error) { return InvSqrt(s, x, cfg) }, isqrt, relUlp(isqrt, 1e-3, 1.5))
		t.Logf("max error %.2e", worst)
		assert.Equal(t, 2, s.cmps)
		y, err := InvSqrt(s, s.input([]float64{0, 0x1p-17, 1e6}), cfg)
		require.NoError(t, err)
		assert.InDeltaSlice(t, []float64{256, 256, 1.0 / 64}, s.output(y), 256e-3)
	})
	// A range above 2^f with a shifted result (Adam's second moments): the scale keeps extra
	// bits, and the result 2^8/sqrt(x) keeps 8 more significant bits where it is small. Bound:
	// 1e-3 relative (the method) plus 1.5 units in the last place of the shifted result.
	t.Run("invsqrt/wide shifted", func(t *testing.T) {
		s := newSim(16, 7)
		xs := points(r, -16, 24, 4000)
		for i := range xs {
			xs[i] = math.Exp2(xs[i])
		}
		cfg := NewtonConfig{Min: 0x1p-16, Max: 0x1p24, Radix: 16, Staged: true, Shift: 8}
		shifted := func(x float64) float64 { return 256 / math.Sqrt(x) }
		worst := check(t, s, xs, func(x *sim) (*sim, error) { return InvSqrt(s, x, cfg) }, shifted, relUlp(shifted, 1e-3, 1.5))
		t.Logf("max error %.2e", worst)
		y, err := InvSqrt(s, s.input([]float64{0, 0x1p-17, 0x1p26}), cfg)
		require.NoError(t, err)
		assert.InDeltaSlice(t, []float64{256 * 256, 256 * 256, 256.0 / 4096}, s.output(y), 256*256e-3)
		assert.InDelta(t, 256.0/4096, s.output(y)[2], 1e-3*256/4096+2*ulp16, "saturates at Max")
	})
	// Saturation: below Min (including x ≤ 0) the result is the value at Min, above Max the
	// value at Max.
	sat := []struct {
		name string
		fn   func(s *simOps, x *sim) (*sim, error)
		lo   float64
		hi   float64
	}{
		{"reciprocal", func(s *simOps, x *sim) (*sim, error) { return Reciprocal(s, x, NewtonConfig{}) }, 256, 0x1p-12},
		{"invsqrt", func(s *simOps, x *sim) (*sim, error) { return InvSqrt(s, x, NewtonConfig{}) }, 16, 0x1p-6},
		{"log", func(s *simOps, x *sim) (*sim, error) { return Log(s, x, LogConfig{}) }, -16 * math.Ln2, 16 * math.Ln2},
	}
	for _, c := range sat {
		t.Run(c.name+"/saturation", func(t *testing.T) {
			s := newSim(16, 8)
			y, err := c.fn(s, s.input([]float64{-5, 0, 0x1p-16, 0x1p16, 100000}))
			require.NoError(t, err)
			got := s.output(y)
			for i, want := range []float64{c.lo, c.lo, c.lo, c.hi, c.hi} {
				assert.InDelta(t, want, got[i], 1e-3*math.Abs(want)+2*ulp16, "input %d", i)
			}
		})
	}
}

func TestSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		rows, k int
		scale   float64
	}{{64, 10, 10}, {16, 2, 10}, {8, 1, 10}, {32, 33, 10}, {16, 10, 1000}, {16, 5, 0.01}} {
		t.Run(fmt.Sprintf("%dx%d/%v", c.rows, c.k, c.scale), func(t *testing.T) {
			s := newSim(16, 9)
			xs := make([]float64, c.rows*c.k)
			for i := range xs {
				xs[i] = c.scale * (2*r.Float64() - 1)
			}
			x := s.input(xs)
			x.shape = []int{c.rows, c.k}
			y, err := Softmax(s, x)
			require.NoError(t, err)
			got := s.output(y)
			worst := 0.0
			for row := range c.rows {
				mx, sum := math.Inf(-1), 0.0
				for j := range c.k {
					mx = math.Max(mx, s.dec(s.enc(xs[row*c.k+j])))
				}
				for j := range c.k {
					sum += math.Exp(s.dec(s.enc(xs[row*c.k+j])) - mx)
				}
				for j := range c.k {
					want := math.Exp(s.dec(s.enc(xs[row*c.k+j]))-mx) / sum
					e := math.Abs(got[row*c.k+j] - want)
					worst = math.Max(worst, e)
					require.LessOrEqual(t, e, 2e-3, "row %d col %d", row, j)
				}
			}
			t.Logf("max error %.2e", worst)
		})
	}
}

// With bounds that leave the low clamp in, inputs below Min saturate as without bounds; inputs
// outside the bounds are the caller's error (the simulated engine rejects them).
func TestBoundedSaturation(t *testing.T) {
	s := newSim(16, 9)
	y, err := Log(s, s.input([]float64{0, 0x1p-17, 0x1p-16, 1}), LogConfig{InputMin: 0, InputMax: 1})
	require.NoError(t, err)
	for i, want := range []float64{-16 * math.Ln2, -16 * math.Ln2, -16 * math.Ln2, 0} {
		assert.InDelta(t, want, s.output(y)[i], 2e-4, "input %d", i)
	}
	_, err = Log(s, s.input([]float64{2}), LogConfig{InputMin: 0, InputMax: 1})
	assert.ErrorContains(t, err, "outside the guaranteed range")
}

func TestConfigErrors(t *testing.T) {
	s := newSim(16, 1)
	x := s.input([]float64{1, 2})
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"sigmoid degree", func() error { _, err := Sigmoid(s, x, SigmoidConfig{Degree: 4}); return err }, "must be odd"},
		{"sigmoid radius", func() error { _, err := Sigmoid(s, x, SigmoidConfig{Radius: -1}); return err }, "radius"},
		{"tanh segments", func() error { _, err := Tanh(s, x, SigmoidConfig{Segments: 1000}); return err }, "segments"},
		{"method", func() error { _, err := Tanh(s, x, SigmoidConfig{Method: 7}); return err }, "unknown method Method(7)"},
		{"exp range", func() error { _, err := Exp(s, x, ExpConfig{Min: 3, Max: 2}); return err }, "empty"},
		{"exp degree", func() error { _, err := Exp(s, x, ExpConfig{Degree: 40}); return err }, "degree"},
		{"reciprocal range", func() error { _, err := Reciprocal(s, x, NewtonConfig{Min: -1, Max: 2}); return err }, "0 < min < max"},
		{"invsqrt range", func() error { _, err := InvSqrt(s, x, NewtonConfig{Max: 0x1p31}); return err }, "exceeds"},
		{"reciprocal range", func() error { _, err := Reciprocal(s, x, NewtonConfig{Max: 0x1p17}); return err }, "exceeds"},
		{"shift", func() error { _, err := InvSqrt(s, x, NewtonConfig{Shift: 15}); return err }, "shift 15"},
		{"reciprocal shift", func() error { _, err := Reciprocal(s, x, NewtonConfig{Shift: 1}); return err }, "inverse square root only"},
		{"iterations", func() error { _, err := InvSqrt(s, x, NewtonConfig{Iterations: 20}); return err }, "iterations"},
		{"invsqrt iterations", func() error { _, err := InvSqrt(s, x, NewtonConfig{Iterations: 3}); return err }, "iterations"},
		{"radix", func() error { _, err := InvSqrt(s, x, NewtonConfig{Radix: 8}); return err }, "radix 8"},
		{"log degree", func() error { _, err := Log(s, x, LogConfig{Degree: 99}); return err }, "degree"},
		{"log bounds", func() error { _, err := Log(s, x, LogConfig{InputMin: 2, InputMax: 1}); return err }, "not a range"},
		{"reciprocal bounds", func() error { _, err := Reciprocal(s, x, NewtonConfig{InputMin: 2, InputMax: 1}); return err }, "not a range"},
		{"softmax scalar", func() error { _, err := Softmax(s, &sim{}); return err }, "scalar"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.ErrorContains(t, c.run(), c.want)
		})
	}
}

// The product plans reach term k in ⌈log2 k⌉ levels; the basis conversions agree with direct
// evaluation.
func TestPlansAndBases(t *testing.T) {
	for _, c := range []struct {
		want  []int
		depth int
	}{{[]int{2}, 1}, {[]int{3, 4}, 2}, {[]int{1, 3, 5, 7, 9, 11}, 4}, {[]int{13}, 4}, {[]int{8}, 3}, {[]int{17}, 5}} {
		plan := productPlan(c.want)
		assert.Len(t, plan, c.depth, "%v", c.want)
		have := map[int]bool{1: true}
		for _, lv := range plan {
			for _, s := range lv {
				assert.True(t, have[s.m] && have[s.n] && s.m+s.n == s.k, "%+v", s)
			}
			for _, s := range lv {
				have[s.k] = true
			}
		}
		for _, k := range c.want {
			assert.True(t, have[k], "term %d", k)
		}
	}
	c := chebFit(math.Exp, 6)
	m := chebToMonomial(c)
	p := compose(m, 0.5, -0.5) // p(t) ≈ e^(t/2 - 1/2)
	for _, u := range []float64{-1, -0.3, 0, 0.7, 1} {
		assert.InDelta(t, math.Exp(u), evalMonomial(m, u), 1e-5)
		assert.InDelta(t, math.Exp(u/2-0.5), evalMonomial(p, u), 1e-5)
	}
}

package approx

import (
	"fmt"
	"math"
)

// NewtonConfig configures [Reciprocal] and [InvSqrt]. The zero value selects the defaults.
type NewtonConfig struct {
	// Min and Max bound the input: x is clamped to [Min, Max]. Each power of 4 inside the
	// range costs one comparison per element. 0 means 2^-8 and 2^12. Min must be at least
	// 2^-f and Max at most 2^f.
	Min, Max float64
	// Iterations is the number of Newton-Raphson steps; 0 means 2.
	Iterations int
	// InputMin and InputMax, unless both are 0, are bounds the caller guarantees on x
	// (InputMin ≤ x ≤ InputMax on the encodings, InputMin ≤ InputMax): the comparisons then
	// run on narrower values ([Ops.CompareIn]), and a clamp the bounds make redundant is left
	// out, with the powers of 4 beyond them.
	InputMin, InputMax float64
}

// LogConfig configures [Log]. The zero value selects the defaults.
type LogConfig struct {
	// Min and Max bound the input: x is clamped to [Min, Max]; 0 means 2^-16 and 2^16, at
	// f = 16 the whole positive range (clamped to 2^-f and 2^f).
	Min, Max float64
	// Degree is the degree of the polynomial for log on [1, 4]; 0 means 8.
	Degree int
	// InputMin and InputMax, unless both are 0, are bounds the caller guarantees on x, as for
	// [NewtonConfig]: with x known to be at most 1 (a clipped probability), the comparisons
	// with the powers of 4 above 1 and the upper clamp are left out.
	InputMin, InputMax float64
}

// inputRange is the range of x a caller guarantees, if any.
type inputRange struct {
	known  bool
	lo, hi float64
}

func newInputRange(name string, lo, hi float64) (inputRange, error) {
	if lo == 0 && hi == 0 {
		return inputRange{}, nil
	}
	if !(lo <= hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return inputRange{}, fmt.Errorf("approx: %s: input bounds [%v, %v] are not a range", name, lo, hi)
	}
	return inputRange{known: true, lo: lo, hi: hi}, nil
}

// compareIn runs o.Compare, or o.CompareIn when the range of x is known.
func compareIn[T any](o Ops[T], x T, r inputRange, ts []Threshold) ([]T, error) {
	if r.known {
		return o.CompareIn(x, r.lo, r.hi, ts)
	}
	return o.Compare(x, ts)
}

// pow4Range returns j0 = the largest j with 4^j ≤ lo and the thresholds 4^j in (lo, hi].
func pow4Range(lo, hi float64) (j0 int, steps []int) {
	j0 = int(math.Floor(math.Log2(lo) / 2))
	for math.Ldexp(1, 2*j0) > lo {
		j0--
	}
	for math.Ldexp(1, 2*(j0+1)) <= lo {
		j0++
	}
	for j := j0 + 1; math.Ldexp(1, 2*j) <= hi; j++ {
		steps = append(steps, j)
	}
	return j0, steps
}

func checkRange(name string, lo, hi float64, f int) error {
	if !(lo > 0 && lo < hi) {
		return fmt.Errorf("approx: %s: range [%v, %v] must satisfy 0 < min < max", name, lo, hi)
	}
	if lo < math.Ldexp(1, -f) || hi > math.Ldexp(1, f) {
		return fmt.Errorf("approx: %s: range [%v, %v] exceeds [2^-%d, 2^%d]", name, lo, hi, f, f)
	}
	return nil
}

// normalized is x clamped to [lo, hi] and brought to [1, 4] by a power of 4 found with exact
// comparisons: xn = xc·4^-J with 4^J ≤ xc < 4^(J+1) (or xc = 4^(J+1) at the top of a range
// that needs no clamp).
type normalized[T any] struct {
	xn    T   // xc·4^-J, in [1, 4]
	scale T   // 4^-J
	half  T   // 2^-J (when asked)
	steps []T // [x ≥ 4^j] for the thresholds (when asked)
	j0    int // J for x below the first threshold
}

// normalize runs one batch of comparisons (the clamps and one threshold per power of 4 in the
// range), then the product xc·4^-J: ten rounds (fewer when the comparisons run on a known
// range of x, see [Ops.CompareIn]). A range in guarantees the input's bounds: the clamps it
// makes redundant and the powers of 4 above its top are left out.
func normalize[T any](o Ops[T], name string, x T, lo, hi float64, in inputRange, wantHalf, wantSteps bool) (normalized[T], error) {
	var nz normalized[T]
	clampLo, clampHi := true, true
	if in.known && in.hi >= lo {
		clampLo = in.lo < lo
		if in.hi <= hi {
			hi, clampHi = math.Max(in.hi, lo), false
		}
	}
	j0, js := pow4Range(lo, hi)
	if !clampHi && len(js) > 0 && math.Ldexp(1, 2*js[len(js)-1]) >= hi {
		js = js[:len(js)-1] // x ≤ hi = 4^j: J = j - 1 and xn = 4 at the top
	}
	nz.j0 = j0
	var ts []Threshold
	if clampLo {
		ts = append(ts, Threshold{At: lo, Ramp: true})
	}
	if clampHi {
		ts = append(ts, Threshold{At: hi, Ramp: true})
	}
	ramps := len(ts)
	for _, j := range js {
		ts = append(ts, Threshold{At: math.Ldexp(1, 2*j), Step: math.Ldexp(1, -2*j) - math.Ldexp(1, -2*(j-1))})
		if wantHalf {
			ts = append(ts, Threshold{At: math.Ldexp(1, 2*j), Step: math.Ldexp(1, -j) - math.Ldexp(1, -(j-1))})
		}
		if wantSteps {
			ts = append(ts, Threshold{At: math.Ldexp(1, 2*j), Step: 1})
		}
	}
	var out []T
	if len(ts) > 0 {
		var err error
		if out, err = compareIn(o, x, in, ts); err != nil {
			return nz, fmt.Errorf("approx: %s: %w", name, err)
		}
	}
	// xc = lo + max(x - lo, 0) - max(x - hi, 0), with x itself for a low clamp left out.
	var c0 float64
	var cs []float64
	var xs []T
	if clampLo {
		c0, cs, xs = lo, append(cs, 1), append(xs, out[0])
	} else {
		cs, xs = append(cs, 1), append(xs, x)
	}
	if clampHi {
		cs, xs = append(cs, -1), append(xs, out[ramps-1])
	}
	xc, err := o.LinComb(c0, cs, xs)
	if err != nil {
		return nz, err
	}
	per := 1
	if wantHalf {
		per++
	}
	if wantSteps {
		per++
	}
	var sc, hf []T
	ones := make([]float64, len(js))
	for i := range js {
		ones[i] = 1
		sc = append(sc, out[ramps+per*i])
		k := 1
		if wantHalf {
			hf = append(hf, out[ramps+per*i+k])
			k++
		}
		if wantSteps {
			nz.steps = append(nz.steps, out[ramps+per*i+k])
		}
	}
	if len(js) == 0 { // one power of 4 for the whole range: constant tensors
		ones, sc, hf = []float64{0}, []T{xc}, []T{xc}
	}
	if nz.scale, err = o.LinComb(math.Ldexp(1, -2*j0), ones, sc); err != nil {
		return nz, err
	}
	if wantHalf {
		if nz.half, err = o.LinComb(math.Ldexp(1, -j0), ones, hf); err != nil {
			return nz, err
		}
	}
	p, err := o.MulMany([]T{xc}, []T{nz.scale}, 0)
	if err != nil {
		return nz, fmt.Errorf("approx: %s: %w", name, err)
	}
	nz.xn = p[0]
	return nz, nil
}

// firstGuess returns the quadratic interpolant of g at the Chebyshev nodes of [1, 4],
// c0 + c1·x' + c2·x'², evaluated from x' (one product and one rounding: three rounds).
func firstGuess[T any](o Ops[T], g func(float64) float64, xn T) (T, error) {
	var zero T
	c := chebFit(func(u float64) float64 { return g(2.5 + 1.5*u) }, 2)
	m := compose(chebToMonomial(c), 1/1.5, -2.5/1.5) // u = (x' - 2.5)/1.5
	sq, err := o.MulMany([]T{xn}, []T{xn}, 0)
	if err != nil {
		return zero, err
	}
	return o.LinComb(m[0], m[1:], []T{xn, sq[0]})
}

func (c NewtonConfig) resolve(name string, f, iters int) (NewtonConfig, error) {
	if c.Min == 0 {
		c.Min = 0x1p-8
	}
	if c.Max == 0 {
		c.Max = 0x1p12
	}
	if c.Iterations == 0 {
		c.Iterations = iters
	}
	if err := checkRange(name, c.Min, c.Max, f); err != nil {
		return c, err
	}
	if c.Iterations < 1 || c.Iterations > 10 {
		return c, fmt.Errorf("approx: %s: %d iterations out of range [1, 10]", name, c.Iterations)
	}
	if _, err := newInputRange(name, c.InputMin, c.InputMax); err != nil {
		return c, err
	}
	return c, nil
}

// Reciprocal returns 1/x for x clamped to [Min, Max] (saturation: 1/Min below Min, including
// x ≤ 0; 1/Max above Max).
//
// Method: exact comparisons with the powers of 4 in the range give xc = x'·4^J with x' in
// [1, 4]; a quadratic first guess (interpolating 1/x' at the Chebyshev nodes: |1 - x'y| ≤
// 0.074) and Newton's y ← y·(2 - x'·y), which squares that error at each step (2 steps: below
// 3e-5), then the product with 4^-J.
//
// Error with the default configuration at f = 16: relative error below 1e-3 for x in
// [2^-8, 32] (measured: 5e-4); above 32 the result (below 1/32) is within (1 + 4^-J) units in
// the last place plus 3e-5 relative.
//
// Cost (aby3): eight rounds of comparisons (one per power of 4 in the range plus the clamp:
// 11 per element by default), two for the scaling, three for the first guess, four per Newton
// step and two for the final product: 23 rounds by default.
func Reciprocal[T any](o Ops[T], x T, cfg NewtonConfig) (T, error) {
	var zero T
	cfg, err := cfg.resolve("reciprocal", o.FracBits(), 2)
	if err != nil {
		return zero, err
	}
	return reciprocal(o, x, cfg)
}

func reciprocal[T any](o Ops[T], x T, cfg NewtonConfig) (T, error) {
	var zero T
	in, _ := newInputRange("reciprocal", cfg.InputMin, cfg.InputMax)
	nz, err := normalize(o, "reciprocal", x, cfg.Min, cfg.Max, in, false, false)
	if err != nil {
		return zero, err
	}
	y, err := firstGuess(o, func(v float64) float64 { return 1 / v }, nz.xn)
	if err != nil {
		return zero, fmt.Errorf("approx: reciprocal: %w", err)
	}
	for range cfg.Iterations {
		u, err := o.MulMany([]T{nz.xn}, []T{y}, 0)
		if err != nil {
			return zero, fmt.Errorf("approx: reciprocal: %w", err)
		}
		w, err := o.LinComb(2, []float64{-1}, u)
		if err != nil {
			return zero, err
		}
		r, err := o.MulMany([]T{y}, []T{w}, 0)
		if err != nil {
			return zero, fmt.Errorf("approx: reciprocal: %w", err)
		}
		y = r[0]
	}
	// Scale last, so that the result is rounded once more only (error (1 + 4^-J) units).
	r, err := o.MulMany([]T{y}, []T{nz.scale}, 0)
	if err != nil {
		return zero, fmt.Errorf("approx: reciprocal: %w", err)
	}
	y = r[0]
	return y, nil
}

// InvSqrt returns 1/sqrt(x) for x clamped to [Min, Max] (saturation as for [Reciprocal]).
//
// Method: as [Reciprocal], with x' = xc·4^-J in [1, 4] and 1/sqrt(xc) = 2^-J/sqrt(x'): a
// quadratic first guess (|1 - x'y²| ≤ 0.059) and Newton's y ← y·(3 - x'·y²)/2, whose error
// e = 1 - x'y² falls as e ← 3e²/4 (2 steps: below 1e-5), then the product with 2^-J.
//
// Error with the default configuration at f = 16: relative error below 1e-3 for x in
// [2^-8, 2^10] (measured: 5e-4); above, within (1 + 2^-J) units in the last place plus 1e-5
// relative.
//
// Cost (aby3): ten rounds for the comparisons and scaling, three for the first guess, six per
// Newton step and two for the final product: 27 rounds by default.
func InvSqrt[T any](o Ops[T], x T, cfg NewtonConfig) (T, error) {
	var zero T
	cfg, err := cfg.resolve("inverse square root", o.FracBits(), 2)
	if err != nil {
		return zero, err
	}
	in, _ := newInputRange("inverse square root", cfg.InputMin, cfg.InputMax)
	nz, err := normalize(o, "inverse square root", x, cfg.Min, cfg.Max, in, true, false)
	if err != nil {
		return zero, err
	}
	y, err := firstGuess(o, func(v float64) float64 { return 1 / math.Sqrt(v) }, nz.xn)
	if err != nil {
		return zero, fmt.Errorf("approx: inverse square root: %w", err)
	}
	for range cfg.Iterations {
		u, err := o.MulMany([]T{nz.xn}, []T{y}, 0)
		if err != nil {
			return zero, fmt.Errorf("approx: inverse square root: %w", err)
		}
		v, err := o.MulMany(u, []T{y}, 0) // x'·y²
		if err != nil {
			return zero, fmt.Errorf("approx: inverse square root: %w", err)
		}
		w, err := o.LinComb(3, []float64{-1}, v)
		if err != nil {
			return zero, err
		}
		r, err := o.MulMany([]T{y}, []T{w}, 1) // y·(3 - x'·y²)/2
		if err != nil {
			return zero, fmt.Errorf("approx: inverse square root: %w", err)
		}
		y = r[0]
	}
	r, err := o.MulMany([]T{y}, []T{nz.half}, 0)
	if err != nil {
		return zero, fmt.Errorf("approx: inverse square root: %w", err)
	}
	y = r[0]
	return y, nil
}

// Log returns the natural logarithm of x clamped to [Min, Max] (saturation: log(Min) below
// Min, including x ≤ 0, and log(Max) above Max).
//
// Method: exact comparisons give xc = x'·4^J with x' in [1, 4], and log(xc) = J·ln 4 +
// log(x'), with log on [1, 4] interpolated at the Chebyshev nodes by a polynomial of degree
// Degree in u = (2x' - 5)/3, evaluated in the Chebyshev basis.
//
// Error with the default configuration at f = 16: absolute error below 2e-4 over [Min, Max]
// (measured: 7e-5), relative to the logarithm of the encoded input.
//
// Cost (aby3): ten rounds for the comparisons and scaling (one comparison per power of 4
// in the range: 17 per element by default), one for u, 2⌈log2 Degree⌉ for the Chebyshev
// terms and one for the sum: 18 rounds by default.
func Log[T any](o Ops[T], x T, cfg LogConfig) (T, error) {
	var zero T
	f := o.FracBits()
	if cfg.Min == 0 {
		cfg.Min = math.Max(0x1p-16, math.Ldexp(1, -f))
	}
	if cfg.Max == 0 {
		cfg.Max = math.Min(0x1p16, math.Ldexp(1, f))
	}
	if cfg.Degree == 0 {
		cfg.Degree = 8
	}
	if err := checkRange("log", cfg.Min, cfg.Max, f); err != nil {
		return zero, err
	}
	if cfg.Degree < 1 || cfg.Degree > 24 {
		return zero, fmt.Errorf("approx: log: degree %d out of range [1, 24]", cfg.Degree)
	}
	in, err := newInputRange("log", cfg.InputMin, cfg.InputMax)
	if err != nil {
		return zero, err
	}
	nz, err := normalize(o, "log", x, cfg.Min, cfg.Max, in, false, true)
	if err != nil {
		return zero, err
	}
	u, err := o.LinComb(-5.0/3, []float64{2.0 / 3}, []T{nz.xn})
	if err != nil {
		return zero, err
	}
	c := chebFit(func(u float64) float64 { return math.Log(2.5 + 1.5*u) }, cfg.Degree)
	want := make([]int, cfg.Degree)
	for i := range want {
		want[i] = i + 1
	}
	terms, err := chebyshev(o, u, want)
	if err != nil {
		return zero, fmt.Errorf("approx: log: %w", err)
	}
	cs, xs := make([]float64, 0, cfg.Degree+len(nz.steps)), make([]T, 0, cfg.Degree+len(nz.steps))
	for k := 1; k <= cfg.Degree; k++ {
		cs, xs = append(cs, c[k]), append(xs, terms[k])
	}
	ln4 := 2 * math.Ln2
	for _, s := range nz.steps {
		cs, xs = append(cs, ln4), append(xs, s)
	}
	return o.LinComb(c[0]+float64(nz.j0)*ln4, cs, xs)
}

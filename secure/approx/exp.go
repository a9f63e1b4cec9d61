package approx

import (
	"fmt"
	"math"
)

// ExpConfig configures [Exp]. The zero value selects the defaults.
type ExpConfig struct {
	// Min and Max bound the input: x is clamped to [Min, Max] (saturation: e^Min below, e^Max
	// above). When both are 0 the range is [-(f+1)·ln 2, 4] ([-11.8, 4] at f = 16): below
	// -(f+1)·ln 2, e^x is less than half a unit in the last place.
	Min, Max float64
	// Squarings is n of the limit form (p(x/2^n))^(2^n); 0 means none: p then interpolates e^x
	// over a whole interval of the range reduction.
	Squarings int
	// Degree is the degree of p; 0 means 8 without squarings, 4 with.
	Degree int
}

// expSegment is the width of the intervals of the range reduction.
const expSegment = 4

// expExtraBits is the precision the squarings run at: f + e fractional bits with
// e = expExtraBits - f when f is smaller (e = 4 at f = 16). The values stay below 1 there,
// so the extra bits cost nothing in the failure probability of the truncations.
const expExtraBits = 20

func (c ExpConfig) resolve(f int) (ExpConfig, error) {
	if c.Min == 0 && c.Max == 0 {
		c.Min, c.Max = -float64(f+1)*math.Ln2, 4
	}
	if c.Degree == 0 {
		c.Degree = 8
		if c.Squarings > 0 {
			c.Degree = 4
		}
	}
	switch {
	case !(c.Min < c.Max):
		return c, fmt.Errorf("approx: exp: range [%v, %v] is empty", c.Min, c.Max)
	case c.Min < -64 || c.Max > 20:
		return c, fmt.Errorf("approx: exp: range [%v, %v] exceeds [-64, 20]", c.Min, c.Max)
	case c.Squarings < 0 || c.Squarings > 12:
		return c, fmt.Errorf("approx: exp: %d squarings out of range [0, 12]", c.Squarings)
	case c.Degree < 1 || c.Degree > 16:
		return c, fmt.Errorf("approx: exp: degree %d out of range [1, 16]", c.Degree)
	}
	return c, nil
}

// Exp returns e^x for x clamped to [Min, Max].
//
// Method: an exact range reduction, then a polynomial. Comparisons with the points Max - 4j
// find the interval [b, b + 4) of x (one batch with the clamp); y = x - (b+4) lies in [-4, 0]
// and e^x = e^(b+4)·e^y. By default e^y is the degree-8 polynomial interpolating it at the
// Chebyshev nodes of [-4, 0], evaluated in the Chebyshev basis of u = 1 + y/2 (whose terms stay
// in [-1, 1], so rounding errors stay small) with expExtraBits fractional bits, and its
// coefficients are folded into the final product with e^(b+4): the sum of the terms is formed
// exactly, scaled to integers, and rounded once with that product. With Squarings n > 0 it is
// instead the limit form (p(y/2^n))^(2^n), p interpolating e^t on [-4/2^n, 0]; with degree 1
// and p(t) = 1 + t this is the classic (1 + x/2^n)^(2^n), which cannot reach a relative error
// of 1e-3 in 16-bit fixed point (the squarings multiply the relative rounding error of the
// base by 2^n).
//
// Error with the default configuration at f = 16: relative error below 1e-3 for x in [-3, 4]
// (the values are at least 0.05 there), and absolute error below 1e-3·e^x + 2·2^-f for every
// x in [Min, Max]; below Min the result is e^Min (below half a unit in the last place), above
// Max it is e^Max = 54.6.
//
// Cost (aby3): eight rounds for the comparisons (five per element), 2⌈log2 d⌉ for the
// Chebyshev terms and two for the final product: 16 rounds by default. (With squarings:
// 2⌈log2 d⌉ + 1 for the polynomial, 2n for the squarings and two for the final product.)
func Exp[T any](o Ops[T], x T, cfg ExpConfig) (T, error) {
	var zero T
	cfg, err := cfg.resolve(o.FracBits())
	if err != nil {
		return zero, err
	}
	return expReduced(o, x, cfg, true)
}

// expSegments returns the interval bounds b_1 < ... < b_m strictly inside (Min, Max), spaced by
// expSegment down from Max, and top: x in [b_j, b_{j+1}) is shifted by top[j] = b_{j+1}
// (b_{m+1} = Max), x < b_1 by top[0] = b_1.
func expSegments(cfg ExpConfig) (bs, top []float64) {
	for b := cfg.Max - expSegment; b > cfg.Min; b -= expSegment {
		bs = append([]float64{b}, bs...)
	}
	return bs, append(append([]float64(nil), bs...), cfg.Max)
}

// expBelowZeroSteps returns the thresholds of e^z for z ≤ Max = 0 without a clamp: at Min the
// scale step e^top[0] (below Min the scale is 0, and so the result: e^Min is below half a unit
// in the last place), at every b_j the shift and scale steps. See expBelowZero.
func expBelowZeroSteps(cfg ExpConfig) []Threshold {
	bs, top := expSegments(cfg)
	ts := []Threshold{{At: cfg.Min, Step: math.Exp(top[0])}}
	for j, b := range bs {
		ts = append(ts,
			Threshold{At: b, Step: top[j+1] - top[j]},                     // shift
			Threshold{At: b, Step: math.Exp(top[j+1]) - math.Exp(top[j])}) // scale
	}
	return ts
}

// expBelowZero returns e^z for z ≤ 0 from the outputs of the steps of expBelowZeroSteps: y =
// z - top[0] - Σ shifts and the Chebyshev evaluation of [Exp]. Below Min, y leaves [-4, 0] and
// the polynomial's terms are meaningless (they may wrap around the ring), but the scale is
// exactly 0 there, and so is its product with them: the result is 0 up to the last place.
func expBelowZero[T any](o Ops[T], z T, cfg ExpConfig, out []T) (T, error) {
	bs, top := expSegments(cfg)
	cs, xs := []float64{1}, []T{z}
	scaleTerms := []T{out[0]}
	for j := range bs {
		cs, xs = append(cs, -1), append(xs, out[1+2*j])
		scaleTerms = append(scaleTerms, out[2+2*j])
	}
	return expChebyshev(o, cfg, -top[0], cs, xs, 0, scaleTerms, max(expExtraBits-o.FracBits(), 0))
}

// expReduced implements Exp; clampHigh false skips the upper clamp for inputs known to be at
// most cfg.Max.
func expReduced[T any](o Ops[T], x T, cfg ExpConfig, clampHigh bool) (T, error) {
	var zero T
	f := o.FracBits()
	n, d := cfg.Squarings, cfg.Degree
	bs, top := expSegments(cfg)
	ts := []Threshold{{At: cfg.Min, Ramp: true}}
	if clampHigh {
		ts = append(ts, Threshold{At: cfg.Max, Ramp: true})
	}
	for j, b := range bs {
		ts = append(ts,
			Threshold{At: b, Step: top[j+1] - top[j]},                     // shift
			Threshold{At: b, Step: math.Exp(top[j+1]) - math.Exp(top[j])}) // scale
	}
	out, err := o.Compare(x, ts)
	if err != nil {
		return zero, fmt.Errorf("approx: exp: %w", err)
	}
	// y = clamp(x) - shift = Min + ramp(Min) [- ramp(Max)] - top[0] - Σ shift steps (exact).
	ramps := 1
	if clampHigh {
		ramps = 2
	}
	cs, xs := []float64{1}, []T{out[0]}
	if clampHigh {
		cs, xs = append(cs, -1), append(xs, out[1])
	}
	scaleTerms := make([]T, 0, len(bs))
	for j := range bs {
		cs, xs = append(cs, -1), append(xs, out[ramps+2*j])
		scaleTerms = append(scaleTerms, out[ramps+2*j+1])
	}
	e := max(expExtraBits-f, 0)
	if n == 0 {
		return expChebyshev(o, cfg, cfg.Min-top[0], cs, xs, math.Exp(top[0]), scaleTerms, e)
	}
	// t = y/2^n in the representation with e extra fractional bits: t·2^e = y·2^(e-n).
	for i := range cs {
		cs[i] = math.Ldexp(cs[i], e-n)
	}
	t, err := o.LinComb(math.Ldexp(cfg.Min-top[0], e-n), cs, xs)
	if err != nil {
		return zero, err
	}
	// p(t) ≈ e^t on [-expSegment/2^n, 0], from its monomial coefficients.
	lo := -math.Ldexp(math.Max(expSegment, top[0]-cfg.Min), -n)
	cheb := chebFit(func(u float64) float64 { return math.Exp(lo / 2 * (1 - u)) }, d) // u ↦ t = lo(1-u)/2
	a := compose(chebToMonomial(cheb), -2/lo, 1)                                      // u = 1 - 2t/lo
	v := t
	if d > 1 {
		want := make([]int, 0, d)
		for k := 2; k <= d; k++ {
			want = append(want, k)
		}
		pw, err := powers(o, t, want, e)
		if err != nil {
			return zero, fmt.Errorf("approx: exp: %w", err)
		}
		ps := []T{t}
		for k := 2; k <= d; k++ {
			ps = append(ps, pw[k])
		}
		v, err = o.LinComb(math.Ldexp(a[0], e), a[1:], ps)
		if err != nil {
			return zero, err
		}
	} else {
		v, err = o.LinComb(math.Ldexp(a[0], e), a[1:], []T{t})
		if err != nil {
			return zero, err
		}
	}
	for range n {
		sq, err := o.MulMany([]T{v}, []T{v}, e)
		if err != nil {
			return zero, fmt.Errorf("approx: exp: %w", err)
		}
		v = sq[0]
	}
	// e^x = e^y · (e^top[0] + Σ scale steps), back to f fractional bits.
	if len(bs) == 0 {
		return o.LinComb(0, []float64{math.Ldexp(math.Exp(top[0]), -e)}, []T{v})
	}
	sc := make([]float64, len(scaleTerms))
	for i := range sc {
		sc[i] = 1
	}
	scale, err := o.LinComb(math.Exp(top[0]), sc, scaleTerms)
	if err != nil {
		return zero, err
	}
	r, err := o.MulMany([]T{v}, []T{scale}, e)
	if err != nil {
		return zero, fmt.Errorf("approx: exp: %w", err)
	}
	return r[0], nil
}

// expChebyshev evaluates e^x = e^y·scale for y = c0 + Σ cs[i]·xs[i] in [-expSegment, 0] (exact
// terms from the comparisons) and scale = scale0 + Σ scaleTerms: the degree-d interpolant of
// e^y at the Chebyshev nodes, in the basis of u = 1 + 2y/expSegment, with e extra fractional
// bits; its coefficients are folded into the final product with the scale when the product's
// magnitude leaves room for them (the default ranges), so that the sum costs no rounding of
// its own.
func expChebyshev[T any](o Ops[T], cfg ExpConfig, c0 float64, cs []float64, xs []T, scale0 float64, scaleTerms []T, e int) (T, error) {
	var zero T
	f, d := o.FracBits(), cfg.Degree
	// u·2^e = 2^e + y·2^(e+1)/expSegment: integer coefficients (local) when e ≥ 1.
	ucs := make([]float64, len(cs))
	for i, c := range cs {
		ucs[i] = c * math.Ldexp(2.0/expSegment, e)
	}
	u, err := o.LinComb(math.Ldexp(1, e)+c0*math.Ldexp(2.0/expSegment, e), ucs, xs)
	if err != nil {
		return zero, err
	}
	c := chebFit(func(u float64) float64 { return math.Exp(expSegment / 2.0 * (u - 1)) }, d)
	terms := map[int]T{1: u}
	if d > 1 {
		want := make([]int, 0, d-1)
		for k := 2; k <= d; k++ {
			want = append(want, k)
		}
		if terms, err = chebyshevScaled(o, u, want, e); err != nil {
			return zero, fmt.Errorf("approx: exp: %w", err)
		}
	}
	ts := make([]T, d)
	for k := 1; k <= d; k++ {
		ts[k-1] = terms[k]
	}
	if len(scaleTerms) == 0 { // one interval: a public scale
		sc := scale0
		ks := make([]float64, d)
		for k := range ks {
			ks[k] = math.Ldexp(sc*c[k+1], -e)
		}
		return o.LinComb(sc*c[0], ks, ts)
	}
	ones := make([]float64, len(scaleTerms))
	for i := range ones {
		ones[i] = 1
	}
	scale, err := o.LinComb(scale0, ones, scaleTerms)
	if err != nil {
		return zero, err
	}
	// Fold: the sum scaled by 2^(e+s) with integer coefficients of s = 20 bits, rounded once in
	// the product, whose magnitude (1+δ)·e^Max·2^(2f+e+s) must stay below 2^62 (the range of
	// an exact truncation). Ranges reaching higher round the sum first (one round more).
	sh := min(20, int(math.Floor(62-float64(2*f+e)-math.Log2(math.Exp(cfg.Max)*1.001))))
	if sh < 20 {
		ks := make([]float64, d)
		copy(ks, c[1:])
		v, err := o.LinComb(math.Ldexp(c[0], e), ks, ts)
		if err != nil {
			return zero, err
		}
		r, err := o.MulMany([]T{v}, []T{scale}, e)
		if err != nil {
			return zero, fmt.Errorf("approx: exp: %w", err)
		}
		return r[0], nil
	}
	ks := make([]float64, d)
	for k := range ks {
		ks[k] = math.Round(math.Ldexp(c[k+1], sh))
	}
	v, err := o.LinComb(math.Round(math.Ldexp(c[0], sh+e)), ks, ts)
	if err != nil {
		return zero, err
	}
	r, err := o.MulMany([]T{v}, []T{scale}, e+sh)
	if err != nil {
		return zero, fmt.Errorf("approx: exp: %w", err)
	}
	return r[0], nil
}

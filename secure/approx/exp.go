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
	// Squarings is n of the limit form (p(x/2^n))^(2^n); 0 means 3.
	Squarings int
	// Degree is the degree of p; 0 means 4.
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
	if c.Squarings == 0 {
		c.Squarings = 3
	}
	if c.Degree == 0 {
		c.Degree = 4
	}
	switch {
	case !(c.Min < c.Max):
		return c, fmt.Errorf("approx: exp: range [%v, %v] is empty", c.Min, c.Max)
	case c.Min < -64 || c.Max > 20:
		return c, fmt.Errorf("approx: exp: range [%v, %v] exceeds [-64, 20]", c.Min, c.Max)
	case c.Squarings < 0 || c.Squarings > 12:
		return c, fmt.Errorf("approx: exp: %d squarings out of range [0, 12]", c.Squarings)
	case c.Degree < 1 || c.Degree > 12:
		return c, fmt.Errorf("approx: exp: degree %d out of range [1, 12]", c.Degree)
	}
	return c, nil
}

// Exp returns e^x for x clamped to [Min, Max].
//
// Method: an exact range reduction, then the limit method. Comparisons with the points
// Max - 4j find the interval [b, b + 4) of x (one batch with the clamp); y = x - (b+4) lies in
// [-4, 0] and e^x = e^(b+4)·e^y. The factor e^y is computed as (p(y/2^n))^(2^n): p is the
// degree-d polynomial interpolating e^t on [-4/2^n, 0] and the n squarings run with
// expExtraBits fractional bits. With d = 1 and p(t) = 1 + t this is the classic
// (1 + x/2^n)^(2^n); that form alone cannot reach a relative error of 1e-3 in 16-bit fixed
// point, because the squarings multiply the relative rounding error of the base by 2^n, hence
// the higher degree after the reduction.
//
// Error with the default configuration at f = 16: relative error below 1e-3 for x in [-3, 4]
// (the values are at least 0.05 there), and absolute error below 1e-3·e^x + 2·2^-f for every
// x in [Min, Max]; below Min the result is e^Min (below half a unit in the last place), above
// Max it is e^Max = 54.6.
//
// Cost (aby3): eight rounds for the comparisons (five per element), 2⌈log2 d⌉ + 1 rounds for
// the polynomial, 2n for the squarings and two for the final product: 21 rounds by default.
// The final product has magnitude |e^x|·2^(f+20), so its truncation fails with probability
// about e^x·2^(f-43) (2^-21 at x = 4, f = 16).
func Exp[T any](o Ops[T], x T, cfg ExpConfig) (T, error) {
	var zero T
	cfg, err := cfg.resolve(o.FracBits())
	if err != nil {
		return zero, err
	}
	return expReduced(o, x, cfg, true)
}

// expReduced implements Exp; clampHigh false skips the upper clamp for inputs known to be at
// most cfg.Max (softmax after the max subtraction).
func expReduced[T any](o Ops[T], x T, cfg ExpConfig, clampHigh bool) (T, error) {
	var zero T
	f := o.FracBits()
	n, d := cfg.Squarings, cfg.Degree
	// Interval bounds b_1 < ... < b_m strictly inside (Min, Max), spaced by expSegment down
	// from Max; x in [b_j, b_{j+1}) is shifted by b_{j+1} (b_{m+1} = Max), x < b_1 by b_1.
	var bs []float64
	for b := cfg.Max - expSegment; b > cfg.Min; b -= expSegment {
		bs = append([]float64{b}, bs...)
	}
	top := append(append([]float64(nil), bs...), cfg.Max)
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
	// t = y/2^n in the representation with e extra fractional bits: t·2^e = y·2^(e-n).
	e := max(expExtraBits-f, 0)
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

package approx

import (
	"fmt"
	"math"
)

// Softmax returns exp(x)/Σexp(x) along the last axis.
//
// Method: the maximum of each row is subtracted (exact comparisons), so the exponents z are at
// most 0 and each row's sum s lies in [1, k] for rows of k elements. The exponential is
// [Exp]'s Chebyshev evaluation over intervals of width 4, whose comparisons (z against the
// interval bounds) come with the maximum ([RowOps.MaxLastSteps]: a small maximum decides them
// in its own rounds, from all pairs of the row); below -(f+1)·ln 2 the scale of the interval
// is 0, so e^z is 0 there (it is below half a unit in the last place) without a clamp. The
// reciprocal of s is a piecewise-linear interpolant from one batch of comparisons of s with
// knots in geometric progression, scaled so that its relative error is centred: with ratio 2,
// |1 - s·y0| ≤ 0.06, and two Newton steps y ← y·(2 - s·y) follow, the last one's product
// formed with the exponentials so that the probabilities come out of it; for at most 32 rows,
// where latency matters more than the bytes of the knots, ratio 1.08 (|1 - s·y0| ≤ 7.4e-4) and
// no Newton step: the probabilities are e·y0. The guess's fractional coefficients are folded
// into the products that use it.
//
// Error at f = 16: below 2e-3 per probability for any logits (the softmax is invariant under
// the max subtraction, so the range of the logits does not matter as long as differences stay
// within the comparisons' range).
//
// Cost (aby3): for a maximum that compares all pairs together with the exponential's
// thresholds (at most 2048 comparisons), 8 + ⌈log2(k-1)⌉ rounds for both, eight for the
// exponential, seven for the comparisons of the sums (on 32-bit lanes) and two for the
// product: 29 rounds for one row of 10. For 128 rows of 10 the maximum alone compares all
// pairs (12 rounds; a tree takes 32 where the pairs exceed 8192), then eight for the
// exponential's comparisons and four per Newton step: 43 rounds.
func Softmax[T any](o RowOps[T], x T) (T, error) {
	var zero T
	shape := o.Shape(x)
	if len(shape) == 0 {
		return zero, fmt.Errorf("approx: softmax of a scalar")
	}
	k := shape[len(shape)-1]
	if k == 0 {
		return zero, fmt.Errorf("approx: softmax: empty last axis of shape %v", shape)
	}
	rows := 1
	for _, d := range shape[:len(shape)-1] {
		rows *= d
	}
	f := o.FracBits()
	// The exponents z = x - max are at most 0; the interval of each comes with the maximum.
	ecfg, err := ExpConfig{Min: -float64(f+1) * math.Ln2, Max: 0}.resolve(f)
	if err != nil {
		return zero, err
	}
	m, steps, err := o.MaxLastSteps(x, expBelowZeroSteps(ecfg))
	if err != nil {
		return zero, fmt.Errorf("approx: softmax: %w", err)
	}
	mb, err := o.BroadcastLast(m, k)
	if err != nil {
		return zero, err
	}
	z, err := o.Sub(x, mb)
	if err != nil {
		return zero, err
	}
	e, err := expBelowZero(o, z, ecfg, steps)
	if err != nil {
		return zero, fmt.Errorf("approx: softmax: %w", err)
	}
	s, err := o.SumLast(e)
	if err != nil {
		return zero, err
	}
	p, err := divideRows(o, e, s, k, rows <= 32)
	if err != nil {
		return zero, fmt.Errorf("approx: softmax: %w", err)
	}
	return p, nil
}

// foldBits is the number of extra fractional bits with which a linear combination with
// fractional coefficients is formed exactly (integer coefficients) and left for the product
// that uses it to round.
const foldBits = 20

// divideRows returns e/s with s, the rows' sums of e (e in [0, 1], so s ≤ k·(1 + 1e-3); s ≥
// 1 - 1e-3 since every row holds e^0), broadcast along the last axis of e. See [Softmax].
func divideRows[T any](o RowOps[T], e, s T, k int, fine bool) (T, error) {
	var zero T
	rho, iters := 2.0, 2
	if fine {
		rho, iters = 1.08, 0
	}
	top := float64(k) * 1.01
	knots := []float64{1}
	for knots[len(knots)-1] < top {
		knots = append(knots, knots[len(knots)-1]*rho)
	}
	// The chord of 1/x between knots a and ρa overestimates it by a factor up to
	// (1+ρ)²/(4ρ) = 1 + em; scaling by 2/(2 + em) centres the error: |1 - x·y0| ≤ em/(2+em).
	em := (1+rho)*(1+rho)/(4*rho) - 1
	g := 2 / (2 + em)
	v := make([]float64, len(knots))
	for j, t := range knots {
		v[j] = g / t
	}
	slope := func(j int) float64 { return (v[j+1] - v[j]) / (knots[j+1] - knots[j]) }
	var ts []Threshold
	for j := 1; j+1 < len(knots); j++ {
		ts = append(ts, Threshold{At: knots[j], Ramp: true})
	}
	// y0 = v0 + s0·(x - 1) + Σ (s_j - s_{j-1})·max(x - t_j, 0), with 20 extra bits.
	cs, xs := []float64{slope(0)}, []T{s}
	if len(ts) > 0 {
		ramps, err := o.CompareIn(s, 0, top+1, ts)
		if err != nil {
			return zero, err
		}
		for j := 1; j+1 < len(knots); j++ {
			cs, xs = append(cs, slope(j)-slope(j-1)), append(xs, ramps[j-1])
		}
	}
	for i := range cs {
		cs[i] = math.Round(math.Ldexp(cs[i], foldBits))
	}
	y, err := o.LinComb(math.Round(math.Ldexp(v[0]-slope(0), foldBits)), cs, xs)
	if err != nil {
		return zero, err
	}
	sh := foldBits  // extra bits of y
	if iters == 0 { // the guess is the reciprocal: e·y directly
		yb, err := o.BroadcastLast(y, k)
		if err != nil {
			return zero, err
		}
		r, err := o.MulMany([]T{e}, []T{yb}, sh)
		if err != nil {
			return zero, err
		}
		return r[0], nil
	}
	for it := 1; ; it++ {
		if it == iters { // the last step: s·y and e·y together, then e·y·(2 - s·y)
			yb, err := o.BroadcastLast(y, k)
			if err != nil {
				return zero, err
			}
			r, err := o.MulMany([]T{s, e}, []T{y, yb}, sh)
			if err != nil {
				return zero, err
			}
			w, err := o.LinComb(2, []float64{-1}, r[:1])
			if err != nil {
				return zero, err
			}
			wb, err := o.BroadcastLast(w, k)
			if err != nil {
				return zero, err
			}
			out, err := o.MulMany([]T{r[1]}, []T{wb}, 0)
			if err != nil {
				return zero, err
			}
			return out[0], nil
		}
		u, err := o.MulMany([]T{s}, []T{y}, sh)
		if err != nil {
			return zero, err
		}
		w, err := o.LinComb(2, []float64{-1}, u)
		if err != nil {
			return zero, err
		}
		ys, err := o.MulMany([]T{y}, []T{w}, sh)
		if err != nil {
			return zero, err
		}
		y, sh = ys[0], 0
	}
}

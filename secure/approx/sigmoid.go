package approx

import (
	"fmt"
	"math"
)

// Method selects how [Sigmoid] and [Tanh] approximate their function.
type Method int

const (
	// Polynomial clamps the input to [-R, R] with two exact comparisons and evaluates an odd
	// polynomial fitted on that interval (Chebyshev interpolation, evaluated in the Chebyshev
	// basis so that rounding errors stay small), as TF Encrypted fits its sigmoid.
	Polynomial Method = iota
	// Piecewise evaluates the continuous piecewise-linear interpolant of the function on
	// segments of [-R, R] (knots denser where the curvature is larger), constant outside:
	// f(-R) + Σ_j Δs_j·max(x - t_j, 0), one exact comparison per knot, all in one batch.
	Piecewise
)

// String returns "polynomial" or "piecewise".
func (m Method) String() string {
	switch m {
	case Polynomial:
		return "polynomial"
	case Piecewise:
		return "piecewise"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// SigmoidConfig configures [Sigmoid] and [Tanh]. The zero value selects the defaults, which
// keep the error below 1e-2 for every input.
type SigmoidConfig struct {
	// Method is Polynomial (the default) or Piecewise.
	Method Method
	// Degree is the odd degree of the polynomial; 0 means 11 for Sigmoid, 13 for Tanh.
	Degree int
	// Radius R is the half-width of the fitted interval; inputs outside [-R, R] give f(±R)
	// (saturation). 0 means 8 for Sigmoid, 4 for Tanh.
	Radius float64
	// Segments is the number of linear pieces over [-R, R] of the piecewise form; 0 means 12
	// for Sigmoid, 16 for Tanh.
	Segments int
}

// squash is an odd-symmetric S-shaped function: f(x) = mid + g(x) with g odd.
type squash struct {
	name      string
	f, f2     func(float64) float64 // the function and its second derivative
	mid       float64
	degree    int
	radius    float64
	segments  int
	maxDegree int
}

var (
	sigmoidFn = squash{
		name: "sigmoid", mid: 0.5, degree: 11, radius: 8, segments: 12, maxDegree: 31,
		f: func(x float64) float64 { return 1 / (1 + math.Exp(-x)) },
		f2: func(x float64) float64 {
			s := 1 / (1 + math.Exp(-x))
			return s * (1 - s) * (1 - 2*s)
		},
	}
	tanhFn = squash{
		name: "tanh", mid: 0, degree: 13, radius: 4, segments: 16, maxDegree: 31,
		f: math.Tanh,
		f2: func(x float64) float64 {
			t := math.Tanh(x)
			return -2 * t * (1 - t*t)
		},
	}
)

// resolve fills in the defaults of cfg for fn and checks it.
func (fn squash) resolve(cfg SigmoidConfig) (SigmoidConfig, error) {
	if cfg.Degree == 0 {
		cfg.Degree = fn.degree
	}
	if cfg.Radius == 0 {
		cfg.Radius = fn.radius
	}
	if cfg.Segments == 0 {
		cfg.Segments = fn.segments
	}
	switch {
	case cfg.Method != Polynomial && cfg.Method != Piecewise:
		return cfg, fmt.Errorf("approx: %s: unknown method %v", fn.name, cfg.Method)
	case cfg.Degree < 1 || cfg.Degree%2 == 0 || cfg.Degree > fn.maxDegree:
		return cfg, fmt.Errorf("approx: %s: degree %d must be odd, in [1, %d]", fn.name, cfg.Degree, fn.maxDegree)
	case !(cfg.Radius > 0 && cfg.Radius <= 64):
		return cfg, fmt.Errorf("approx: %s: radius %v out of range (0, 64]", fn.name, cfg.Radius)
	case cfg.Segments < 1 || cfg.Segments > 256:
		return cfg, fmt.Errorf("approx: %s: %d segments out of range [1, 256]", fn.name, cfg.Segments)
	}
	return cfg, nil
}

// oddCoeffs returns the Chebyshev coefficients of g(R·u) = f(R·u) - mid on [-1, 1]; the even
// ones vanish by symmetry and are dropped (set to zero).
func (fn squash) oddCoeffs(cfg SigmoidConfig) []float64 {
	c := chebFit(func(u float64) float64 { return fn.f(cfg.Radius*u) - fn.mid }, cfg.Degree)
	for k := 0; k < len(c); k += 2 {
		c[k] = 0
	}
	return c
}

// knots returns the Segments+1 knots of the piecewise form: they split [-R, R] into pieces of
// equal ∫ sqrt(|f”|) (the placement that balances the interpolation error h²·|f”|/8), with a
// small floor so that flat stretches still get knots.
func (fn squash) knots(cfg SigmoidConfig) []float64 {
	const grid = 4096
	R, K := cfg.Radius, cfg.Segments
	cum := make([]float64, grid+1)
	for i := 1; i <= grid; i++ {
		x := -R + 2*R*(float64(i)-0.5)/grid
		cum[i] = cum[i-1] + math.Sqrt(math.Abs(fn.f2(x))) + 1e-3
	}
	ks := []float64{-R}
	j := 1
	for i := 1; i < K; i++ {
		target := cum[grid] * float64(i) / float64(K)
		for cum[j] < target {
			j++
		}
		ks = append(ks, -R+2*R*float64(j)/grid)
	}
	return append(ks, R)
}

// evaluator returns the approximation of fn chosen by cfg as a float64 function (exact
// arithmetic), for error statements and tests.
func (fn squash) evaluator(cfg SigmoidConfig) func(x float64) float64 {
	R := cfg.Radius
	if cfg.Method == Piecewise {
		ks := fn.knots(cfg)
		return func(x float64) float64 {
			x = math.Max(-R, math.Min(R, x))
			for j := 1; j < len(ks); j++ {
				if x <= ks[j] {
					a, b := ks[j-1], ks[j]
					return fn.f(a) + (fn.f(b)-fn.f(a))*(x-a)/(b-a)
				}
			}
			return fn.f(R)
		}
	}
	c := fn.oddCoeffs(cfg)
	return func(x float64) float64 {
		u := math.Max(-1, math.Min(1, x/R))
		s, t0, t1 := fn.mid, 1.0, u
		for k := 1; k < len(c); k++ {
			s += c[k] * t1
			t0, t1 = t1, 2*u*t1-t0
		}
		return s
	}
}

// maxError is the largest |approximation - f| over a dense grid of [-4R, 4R] in exact
// arithmetic.
func (fn squash) maxError(cfg SigmoidConfig) (float64, error) {
	cfg, err := fn.resolve(cfg)
	if err != nil {
		return 0, err
	}
	eval := fn.evaluator(cfg)
	m := 0.0
	const n = 16384
	for i := 0; i <= n; i++ {
		x := -4*cfg.Radius + 8*cfg.Radius*float64(i)/n
		m = math.Max(m, math.Abs(eval(x)-fn.f(x)))
	}
	return m, nil
}

// squashApply evaluates the approximation of fn chosen by cfg on x.
func squashApply[T any](o Ops[T], fn squash, x T, cfg SigmoidConfig) (T, error) {
	var zero T
	cfg, err := fn.resolve(cfg)
	if err != nil {
		return zero, err
	}
	R := cfg.Radius
	if cfg.Method == Piecewise {
		ks := fn.knots(cfg)
		ts := make([]Threshold, len(ks))
		slopes := make([]float64, len(ks)) // Δ slope at each knot
		prev := 0.0
		for j, t := range ks {
			ts[j] = Threshold{At: t, Ramp: true}
			s := 0.0
			if j+1 < len(ks) {
				s = (fn.f(ks[j+1]) - fn.f(t)) / (ks[j+1] - t)
			}
			slopes[j] = s - prev
			prev = s
		}
		ramps, err := o.Compare(x, ts)
		if err != nil {
			return zero, fmt.Errorf("approx: %s: %w", fn.name, err)
		}
		return o.LinComb(fn.f(-R), slopes, ramps)
	}
	// Clamp to [-R, R] and scale to u = x/R in [-1, 1] (one rounding).
	r, err := o.Compare(x, []Threshold{{At: -R, Ramp: true}, {At: R, Ramp: true}})
	if err != nil {
		return zero, fmt.Errorf("approx: %s: %w", fn.name, err)
	}
	u, err := o.LinComb(-1, []float64{1 / R, -1 / R}, r)
	if err != nil {
		return zero, err
	}
	c := fn.oddCoeffs(cfg)
	var want []int
	for k := 1; k <= cfg.Degree; k += 2 {
		want = append(want, k)
	}
	terms, err := chebyshev(o, u, want)
	if err != nil {
		return zero, fmt.Errorf("approx: %s: %w", fn.name, err)
	}
	cs, xs := make([]float64, len(want)), make([]T, len(want))
	for i, k := range want {
		cs[i], xs[i] = c[k], terms[k]
	}
	return o.LinComb(fn.mid, cs, xs)
}

// Sigmoid returns 1/(1+e^-x).
//
// With the default configuration (odd polynomial of degree 11 on [-8, 8], input clamped) the
// error is below 1e-2 for every input: 6.3e-3 in exact arithmetic (of which 3.4e-4 is the
// saturation beyond ±8) plus the fixed-point rounding, below 2e-3 at f = 16. The piecewise
// form with 12 segments is within 5.6e-3 in exact arithmetic. [SigmoidMaxError] gives the
// exact-arithmetic error of any configuration.
//
// Cost (aby3): the clamp (eight rounds, two comparisons per element), the scaling (one
// round), ⌈log2 Degree⌉ products (two rounds each) and a final rounding: 18 rounds for the
// default; the piecewise form takes 9 rounds and Segments+1 comparisons per element.
func Sigmoid[T any](o Ops[T], x T, cfg SigmoidConfig) (T, error) {
	return squashApply(o, sigmoidFn, x, cfg)
}

// Tanh returns tanh(x).
//
// With the default configuration (odd polynomial of degree 13 on [-4, 4], input clamped) the
// error is below 1e-2 for every input: 6.0e-3 in exact arithmetic plus the fixed-point
// rounding, below 3e-3 at f = 16. Costs as for [Sigmoid].
func Tanh[T any](o Ops[T], x T, cfg SigmoidConfig) (T, error) {
	return squashApply(o, tanhFn, x, cfg)
}

// SigmoidMaxError returns the largest error of the approximation [Sigmoid] uses with cfg, in
// exact arithmetic, over a dense grid of [-4R, 4R] (beyond, the error only shrinks).
func SigmoidMaxError(cfg SigmoidConfig) (float64, error) { return sigmoidFn.maxError(cfg) }

// TanhMaxError is [SigmoidMaxError] for [Tanh].
func TanhMaxError(cfg SigmoidConfig) (float64, error) { return tanhFn.maxError(cfg) }

package approx

// Ops is what the approximations need from a protocol: the fixed-point arithmetic on its
// secret tensors T, and exact comparisons with public thresholds. A protocol implements it
// with its own types (an adapter in the protocol's package); the approximations are written
// once against it.
//
// Every method may communicate; all parties call the same methods in the same order with the
// same public arguments. No method modifies its operands.
type Ops[T any] interface {
	// FracBits is the number f of fractional bits of the fixed-point encoding.
	FracBits() int
	// Add returns x + y (same shapes).
	Add(x, y T) (T, error)
	// Sub returns x - y (same shapes).
	Sub(x, y T) (T, error)
	// AddConst returns x + c.
	AddConst(x T, c float64) (T, error)
	// LinComb returns c0 + Σ cs[i]·xs[i] (the xs of one shape). When every cs[i] is an
	// integer the result must be exact and should be local; otherwise it is rounded once (one
	// truncation) with the coefficients represented to at least 20 significant bits.
	LinComb(c0 float64, cs []float64, xs []T) (T, error)
	// MulMany returns the fixed-point products xs[i]·ys[i]·2^-shift (shift ≥ 0; xs[i] and ys[i]
	// of one shape), all in the rounds of a single product and each rounded once (an error
	// below one unit in the last place, as a product).
	MulMany(xs, ys []T, shift int) ([]T, error)
	// Compare compares x with public thresholds, all in one batch of exact comparisons of x
	// with the encodings of the thresholds, and returns one tensor shaped like x per
	// threshold: max(x - t.At, 0) for a ramp, t.Step·[x ≥ t.At] for a step (t.Step rounded to
	// the encoding). Both are exact up to the encoding of the public values.
	Compare(x T, ts []Threshold) ([]T, error)
	// CompareIn is Compare for an x the caller knows to lie in [lo, hi] (on the encodings):
	// the protocol may use cheaper comparisons, whose results are only defined in that range.
	CompareIn(x T, lo, hi float64, ts []Threshold) ([]T, error)
}

// Threshold is one public threshold of [Ops.Compare].
type Threshold struct {
	// At is the threshold.
	At float64
	// Ramp selects the output max(x - At, 0); otherwise the output is Step·[x ≥ At].
	Ramp bool
	// Step is the value of a step output where x ≥ At.
	Step float64
}

// RowOps adds the reductions along the last axis that [Softmax] needs.
type RowOps[T any] interface {
	Ops[T]
	// Shape returns the shape of x (not to be modified).
	Shape(x T) []int
	// MaxLast returns the maximum along the last axis, which is kept with size 1 (exact).
	MaxLast(x T) (T, error)
	// MaxLastSteps returns MaxLast(x) and, for each threshold t (steps, t.At ≤ 0), the tensor
	// t.Step·[x - max ≥ t.At] shaped like x (exact up to the encoding of the step): the
	// comparisons of the elements with their row's maximum, which a protocol may make in the
	// rounds of the maximum itself (a small maximum that compares all pairs of a row).
	MaxLastSteps(x T, ts []Threshold) (T, []T, error)
	// SumLast returns the sum along the last axis, which is kept with size 1 (exact).
	SumLast(x T) (T, error)
	// BroadcastLast repeats x, whose last axis has size 1, n times along that axis.
	BroadcastLast(x T, n int) (T, error)
}

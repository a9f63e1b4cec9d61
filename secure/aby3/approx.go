package aby3

import (
	"fmt"
	"math"

	"github.com/gotfe/gotfe/secure/approx"
	"github.com/gotfe/gotfe/secure/ring"
)

// LinComb returns c0 + Σ cs[i]·xs[i] for public reals c0 and cs and fixed-point xs of one
// shape. When every coefficient is an integer the result is exact and local. Otherwise the
// coefficients are scaled by 2^s so that the largest has 20 significant bits, the scaled
// products are summed exactly and the sum is truncated once by s bits (one round): the error
// is below one unit in the last place plus Σ|xs[i]|·2^-(s+1) ≤ 2^-20·Σ|cs[i]·xs[i]| from the
// coefficients. The truncation fails with probability about |Σ cs[i]·xs[i]|·2^(f+s-63) per
// element (see the package documentation).
func (p *Party) LinComb(c0 float64, cs []float64, xs []*Shared) (*Shared, error) {
	if len(cs) != len(xs) || len(xs) == 0 {
		return nil, fmt.Errorf("aby3: linear combination of %d coefficients and %d tensors", len(cs), len(xs))
	}
	integer, cmax := true, 0.0
	for i, c := range cs {
		if math.IsNaN(c) || math.IsInf(c, 0) || math.Abs(c) >= 0x1p62 {
			return nil, fmt.Errorf("aby3: linear combination: coefficient %v out of range", c)
		}
		if err := checkSame("linear combination", xs[0], xs[i]); err != nil {
			return nil, err
		}
		integer = integer && c == math.Trunc(c)
		cmax = math.Max(cmax, math.Abs(c))
	}
	enc0, err := p.enc.Encode(c0)
	if err != nil {
		return nil, fmt.Errorf("aby3: linear combination: %w", err)
	}
	s := 0
	if !integer {
		_, e := math.Frexp(cmax) // cmax in [2^(e-1), 2^e)
		s = max(0, min(62-p.enc.FracBits, 20-e))
	}
	z := newShared(xs[0].shape, xs[0].Len())
	for i, x := range xs {
		k := uint64(int64(math.Round(math.Ldexp(cs[i], s))))
		if i == 0 {
			ring.ScaleTo(z.a, x.a, k)
			ring.ScaleTo(z.b, x.b, k)
			continue
		}
		scaleAddTo(z.a, x.a, k)
		scaleAddTo(z.b, x.b, k)
	}
	if s > 0 {
		if z, err = p.Trunc(z, s); err != nil {
			return nil, err
		}
	}
	if d := p.comp0(z.a, z.b); d != nil && enc0 != 0 {
		ring.AddScalarTo(d, d, enc0)
	}
	return z, nil
}

// scaleAddTo sets dst[i] += k·x[i].
func scaleAddTo(dst, x []uint64, k uint64) {
	x = x[:len(dst)]
	switch k {
	case 1:
		for i := range dst {
			dst[i] += x[i]
		}
	case ^uint64(0): // -1
		for i := range dst {
			dst[i] -= x[i]
		}
	default:
		for i := range dst {
			dst[i] += k * x[i]
		}
	}
}

// DivPublic returns x/c for a public real c ≠ 0 that need not be a power of two: one round
// (a [Party.LinComb] with the coefficient 1/c). The error is below one unit in the last place
// plus |x/c|·2^-20.
func (p *Party) DivPublic(x *Shared, c float64) (*Shared, error) {
	if c == 0 || math.IsNaN(c) || math.IsInf(c, 0) {
		return nil, fmt.Errorf("aby3: divide by %v", c)
	}
	return p.LinComb(0, []float64{1 / c}, []*Shared{x})
}

// mulMany returns the fixed-point products xs[i]·ys[i]·2^-shift, all resharing and truncating
// together (two rounds, one ring element sent per output element by every party).
func (p *Party) mulMany(op string, xs, ys []*Shared, shift int) ([]*Shared, error) {
	if len(xs) != len(ys) {
		return nil, fmt.Errorf("aby3: %s: %d left and %d right operands", op, len(xs), len(ys))
	}
	d := p.enc.FracBits + shift
	if shift < 0 || d > 62 {
		return nil, fmt.Errorf("aby3: %s: shift %d out of range", op, shift)
	}
	total := 0
	for i := range xs {
		if err := checkSame(op, xs[i], ys[i]); err != nil {
			return nil, err
		}
		total += xs[i].Len()
	}
	t := make([]uint64, total)
	off := 0
	for i, x := range xs {
		y := ys[i]
		for j := range x.a {
			t[off+j] = x.a[j]*(y.a[j]+y.b[j]) + x.b[j]*y.a[j]
		}
		off += x.Len()
	}
	p.addZeroShare(t, make([]uint64, total))
	z, err := p.reshareTrunc(op, t, []int{total}, uint(d))
	if err != nil {
		return nil, err
	}
	out := make([]*Shared, len(xs))
	off = 0
	for i, x := range xs {
		n := x.Len()
		out[i] = &Shared{shape: append([]int(nil), x.shape...), a: z.a[off : off+n : off+n], b: z.b[off : off+n : off+n]}
		off += n
	}
	return out, nil
}

// approxOps adapts a Party to the operations the approximations of
// [github.com/gotfe/gotfe/secure/approx] are written against.
type approxOps struct{ p *Party }

var _ approx.RowOps[*Shared] = approxOps{}

func (o approxOps) FracBits() int                     { return o.p.enc.FracBits }
func (o approxOps) Add(x, y *Shared) (*Shared, error) { return o.p.Add(x, y) }
func (o approxOps) Sub(x, y *Shared) (*Shared, error) { return o.p.Sub(x, y) }
func (o approxOps) Shape(x *Shared) []int             { return x.shape }

func (o approxOps) AddConst(x *Shared, c float64) (*Shared, error) {
	return o.p.AddPublic(x, []float64{c})
}

func (o approxOps) LinComb(c0 float64, cs []float64, xs []*Shared) (*Shared, error) {
	return o.p.LinComb(c0, cs, xs)
}

func (o approxOps) MulMany(xs, ys []*Shared, shift int) ([]*Shared, error) {
	return o.p.mulMany("mul", xs, ys, shift)
}

func (o approxOps) Compare(x *Shared, ts []approx.Threshold) ([]*Shared, error) {
	return o.compare(x, anyRaw, ts)
}

func (o approxOps) CompareIn(x *Shared, lo, hi float64, ts []approx.Threshold) ([]*Shared, error) {
	in := anyRaw
	if l, h := math.Floor(math.Ldexp(lo, o.p.enc.FracBits)), math.Ceil(math.Ldexp(hi, o.p.enc.FracBits)); l >= -0x1p62 && h <= 0x1p62 {
		in = [2]int64{int64(l), int64(h)}
	}
	return o.compare(x, in, ts)
}

func (o approxOps) compare(x *Shared, in [2]int64, ts []approx.Threshold) ([]*Shared, error) {
	th := make([]threshold, len(ts))
	for i, t := range ts {
		at, err := o.p.enc.Encode(t.At)
		if err != nil {
			return nil, fmt.Errorf("aby3: compare: %w", err)
		}
		v, err := o.p.enc.Encode(t.Step)
		if err != nil {
			return nil, fmt.Errorf("aby3: compare: %w", err)
		}
		th[i] = threshold{at: at, ramp: t.Ramp, value: v}
	}
	return o.p.thresholds("compare", x, th, in)
}

// lastAxis returns the shape with the last axis set to 1, and the sizes around it.
func lastAxis(shape []int) (rows, k int, kept []int, err error) {
	if len(shape) == 0 {
		return 0, 0, nil, fmt.Errorf("aby3: reduction of a scalar: %w", ring.ErrShape)
	}
	k = shape[len(shape)-1]
	rows = 1
	for _, d := range shape[:len(shape)-1] {
		rows *= d
	}
	kept = append(append([]int(nil), shape[:len(shape)-1]...), 1)
	return rows, k, kept, nil
}

func (o approxOps) MaxLast(x *Shared) (*Shared, error) {
	_, _, kept, err := lastAxis(x.shape)
	if err != nil {
		return nil, err
	}
	m, err := o.p.Max(x, -1)
	if err != nil {
		return nil, err
	}
	return o.p.Reshape(m, kept...)
}

func (o approxOps) MaxLastSteps(x *Shared, ts []approx.Threshold) (*Shared, []*Shared, error) {
	rows, k, kept, err := lastAxis(x.shape)
	if err != nil {
		return nil, nil, err
	}
	ats := make([]uint64, 0, len(ts))
	idx := make([]int, len(ts))
	vals := make([]uint64, len(ts))
	for i, t := range ts {
		if t.Ramp || t.At > 0 {
			return nil, nil, fmt.Errorf("aby3: max steps: threshold %+v is not a step at or below 0", t)
		}
		at, err := o.p.enc.Encode(t.At)
		if err != nil {
			return nil, nil, fmt.Errorf("aby3: max steps: %w", err)
		}
		if vals[i], err = o.p.enc.Encode(t.Step); err != nil {
			return nil, nil, fmt.Errorf("aby3: max steps: %w", err)
		}
		idx[i] = -1
		for j, a := range ats {
			if a == at {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			idx[i] = len(ats)
			ats = append(ats, at)
		}
	}
	if !o.p.useAllPairs(rows, k) {
		m, err := o.MaxLast(x)
		if err != nil {
			return nil, nil, err
		}
		mb, err := o.BroadcastLast(m, k)
		if err != nil {
			return nil, nil, err
		}
		z, err := o.p.Sub(x, mb)
		if err != nil {
			return nil, nil, err
		}
		outs, err := o.Compare(z, ts)
		return m, outs, err
	}
	r, err := o.p.maxPairsSteps("max", x.a, x.b, rows, k, 1, true, false, ats)
	if err != nil {
		return nil, nil, err
	}
	outs := make([]*Shared, len(ts))
	for i := range ts {
		st := r.steps[idx[i]]
		z := newShared(x.shape, x.Len())
		ring.ScaleTo(z.a, st.a, vals[i])
		ring.ScaleTo(z.b, st.b, vals[i])
		outs[i] = z
	}
	return &Shared{shape: kept, a: r.ma, b: r.mb}, outs, nil
}

func (o approxOps) SumLast(x *Shared) (*Shared, error) {
	rows, k, kept, err := lastAxis(x.shape)
	if err != nil {
		return nil, err
	}
	z := newShared(kept, rows)
	ring.SumAxisTo(z.a, x.a, rows, k, 1)
	ring.SumAxisTo(z.b, x.b, rows, k, 1)
	return z, nil
}

func (o approxOps) BroadcastLast(x *Shared, n int) (*Shared, error) {
	rows, k, _, err := lastAxis(x.shape)
	if err != nil || k != 1 {
		return nil, fmt.Errorf("aby3: broadcast of shape %v along its last axis: %w", x.shape, ring.ErrShape)
	}
	shape := append(append([]int(nil), x.shape[:len(x.shape)-1]...), n)
	z := newShared(shape, rows*n)
	for r := range rows {
		for j := range n {
			z.a[r*n+j], z.b[r*n+j] = x.a[r], x.b[r]
		}
	}
	return z, nil
}

// Sigmoid returns 1/(1+e^-x) with the default configuration of [approx.Sigmoid]: error below
// 1e-2 for every input (inputs beyond ±8 saturate), 18 rounds.
func (p *Party) Sigmoid(x *Shared) (*Shared, error) {
	return approx.Sigmoid(approxOps{p}, x, approx.SigmoidConfig{})
}

// SigmoidWith is [Party.Sigmoid] with a configuration (polynomial degree and interval, or the
// piecewise-linear form on exact comparisons); see [approx.Sigmoid].
func (p *Party) SigmoidWith(x *Shared, cfg approx.SigmoidConfig) (*Shared, error) {
	return approx.Sigmoid(approxOps{p}, x, cfg)
}

// Tanh returns tanh(x) with the default configuration of [approx.Tanh]: error below 1e-2 for
// every input (inputs beyond ±4 saturate), 18 rounds.
func (p *Party) Tanh(x *Shared) (*Shared, error) {
	return approx.Tanh(approxOps{p}, x, approx.SigmoidConfig{})
}

// TanhWith is [Party.Tanh] with a configuration; see [approx.Tanh].
func (p *Party) TanhWith(x *Shared, cfg approx.SigmoidConfig) (*Shared, error) {
	return approx.Tanh(approxOps{p}, x, cfg)
}

// Exp returns e^x for x clamped to [-(f+1)·ln 2, 4] with the default configuration of
// [approx.Exp]: relative error below 1e-3 on [-3, 4] and below 1e-3 plus 2·2^-f over the
// range, 16 rounds.
func (p *Party) Exp(x *Shared) (*Shared, error) {
	return approx.Exp(approxOps{p}, x, approx.ExpConfig{})
}

// ExpWith is [Party.Exp] with a configuration (range, squarings, degree); see [approx.Exp].
func (p *Party) ExpWith(x *Shared, cfg approx.ExpConfig) (*Shared, error) {
	return approx.Exp(approxOps{p}, x, cfg)
}

// Log returns the natural logarithm of x clamped to [2^-16, 2^16] (at f = 16) with the
// default configuration of [approx.Log]: absolute error below 2e-4, 18 rounds.
func (p *Party) Log(x *Shared) (*Shared, error) {
	return approx.Log(approxOps{p}, x, approx.LogConfig{})
}

// LogWith is [Party.Log] with a configuration; see [approx.Log].
func (p *Party) LogWith(x *Shared, cfg approx.LogConfig) (*Shared, error) {
	return approx.Log(approxOps{p}, x, cfg)
}

// Reciprocal returns 1/x for x clamped to [2^-8, 2^12] with the default configuration of
// [approx.Reciprocal]: relative error below 1e-3 on [2^-8, 32], 22 rounds.
func (p *Party) Reciprocal(x *Shared) (*Shared, error) {
	return approx.Reciprocal(approxOps{p}, x, approx.NewtonConfig{})
}

// ReciprocalWith is [Party.Reciprocal] with a configuration (a narrower range costs fewer
// comparisons); see [approx.Reciprocal].
func (p *Party) ReciprocalWith(x *Shared, cfg approx.NewtonConfig) (*Shared, error) {
	return approx.Reciprocal(approxOps{p}, x, cfg)
}

// InvSqrt returns 1/sqrt(x) for x clamped to [2^-8, 2^12] with the default configuration of
// [approx.InvSqrt]: relative error below 1e-3 on [2^-8, 2^10], 22 rounds.
func (p *Party) InvSqrt(x *Shared) (*Shared, error) {
	return approx.InvSqrt(approxOps{p}, x, approx.NewtonConfig{})
}

// InvSqrtWith is [Party.InvSqrt] with a configuration; see [approx.InvSqrt].
func (p *Party) InvSqrtWith(x *Shared, cfg approx.NewtonConfig) (*Shared, error) {
	return approx.InvSqrt(approxOps{p}, x, cfg)
}

// Softmax returns exp(x)/Σexp(x) along the last axis ([approx.Softmax]): the maximum of each
// row is subtracted first, so any logits work; error below 2e-3 per probability; 43 rounds for
// 128 rows of 10, 29 for one row (whose maximum compares all pairs, with the exponential's
// comparisons in the same rounds).
func (p *Party) Softmax(x *Shared) (*Shared, error) {
	return approx.Softmax(approxOps{p}, x)
}

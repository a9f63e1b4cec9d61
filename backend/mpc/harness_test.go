package mpc_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/backend/plain"
	"github.com/gotfe/gotfe/secure"
)

// Error model of the agreement tests of layers, losses and optimizers (f = 16 fractional bits).
//
//   - Encoding an input rounds it to the nearest multiple of ulp: an error of at most ulp/2.
//   - A product of two fixed-point values is truncated once, fused with its resharing: less than
//     one ulp (see the aby3 package). A matrix product sums its k products exactly on the ring
//     and truncates the sum once, so an output of fan-in k over operands of magnitude at most 1
//     errs by at most k·ulp (each product carries the encoding errors of both operands, ulp/2
//     each) plus one ulp: lin(k).
//   - A product with a public non-integer scalar is one rounded linear combination: one ulp plus
//     2^-20 of the value.
//   - Sums, reshapes, transposes, im2col and col2im are exact on the ring: col2im adds up the
//     errors of the overlapping windows it folds back.
//   - Comparisons (ReLU, max-pooling, clipping) are exact on the encodings, so their results err
//     only by the encodings, unless an input lies within the error of its inputs of a threshold
//     or of a tie (not the case for the fixed seeds below).
//   - The approximations err by their documented bounds (secure/approx): sigmoid and tanh 1e-2
//     absolute, softmax 2e-3 per probability (an exp and a reciprocal of 1e-3 relative error
//     each), exp, reciprocal and inverse square root 1e-3 relative inside their ranges, log 2e-4
//     absolute.
//
// A derivative propagates these errors: an activation's error times the fan-in of the matrix
// products that follow it in the backward pass.
const ulp = 0x1p-16

// lin is the error bound of a fixed-point matrix product of fan-in k over operands of
// magnitude at most 1: k·ulp for the encodings of the operands, one ulp for the truncation,
// and one more for the encoding of a bias added to it.
func lin(k int) float64 { return float64(k+2) * ulp }

// Documented errors of the approximations at f = 16 (secure/approx).
const (
	sigmoidErr = 1e-2 // absolute, every input
	tanhErr    = 1e-2 // absolute, every input
	softmaxErr = 2e-3 // absolute, per probability
	expRel     = 1e-3 // relative, inputs in [-3, 4]
	recipRel   = 1e-3 // relative, inputs in [2^-8, 32]
	invSqrtRel = 1e-3 // relative, inputs in [2^-8, 2^10]
	logErr     = 2e-4 // absolute, inputs in [2^-16, 2^16]
)

// output is a tensor a program computed, the name it is reported by, and the absolute
// tolerance of the secure result against the plain one.
type output struct {
	name string
	t    backend.Tensor
	tol  float64
}

// opened is a revealed output.
type opened struct {
	name  string
	shape []int
	vals  []float64
	tol   float64
}

// openAll runs prog on b and reveals its outputs to every party.
func openAll(b backend.Backend, prog func(b backend.Backend) ([]output, error)) ([]opened, error) {
	outs, err := prog(b)
	if err != nil {
		return nil, err
	}
	res := make([]opened, len(outs))
	for i, o := range outs {
		if o.t == nil {
			return nil, fmt.Errorf("%s: no tensor", o.name)
		}
		v, err := b.Reveal(o.t, -1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.name, err)
		}
		res[i] = opened{name: o.name, shape: o.t.Shape(), vals: v, tol: o.tol}
	}
	return res, nil
}

// agree runs prog on the plain engine and on the three parties of runner, and checks that
// every output of every party agrees with the plain one within the output's tolerance. prog
// must compute the same thing on every engine (its data captured from the test, input by
// party 0). It logs and returns the largest error of each output over the parties.
func agree(t *testing.T, runner *mpc.LocalRunner, prog func(b backend.Backend) ([]output, error)) map[string]float64 {
	t.Helper()
	want, err := openAll(plain.New(), prog)
	require.NoError(t, err)
	var got [3][]opened
	require.NoError(t, runner.Run(func(b backend.Backend) error {
		r, err := openAll(b, prog)
		got[b.Party()] = r
		return err
	}))
	errs := map[string]float64{}
	for p := range got {
		require.Len(t, got[p], len(want), "party %d", p)
		for i, w := range want {
			g := got[p][i]
			require.Equal(t, w.name, g.name)
			require.True(t, slices.Equal(w.shape, g.shape), "party %d: %s: shape %v, want %v", p, w.name, g.shape, w.shape)
			require.Len(t, g.vals, len(w.vals))
			worst, at := 0.0, 0
			for j := range w.vals {
				d := math.Abs(g.vals[j] - w.vals[j])
				if math.IsNaN(d) || d > worst {
					worst, at = d, j
				}
			}
			if p == 0 {
				t.Logf("%-16s max error %.2e  tolerance %.2e", w.name, worst, w.tol)
			}
			errs[w.name] = math.Max(errs[w.name], worst)
			if !(worst <= w.tol) {
				assert.Failf(t, "secure and plain disagree",
					"party %d: %s[%d]: plain %v, secure %v: error %.3g above tolerance %.3g",
					p, w.name, at, w.vals[at], g.vals[at], worst, w.tol)
			}
		}
	}
	return errs
}

// uniform returns n values uniform in [lo, hi).
func uniform(r *rand.Rand, n int, lo, hi float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + (hi-lo)*r.Float64()
	}
	return v
}

// numel returns the number of elements of shape.
func numel(t *testing.T, shape []int) int {
	t.Helper()
	n, err := backend.NumElements(shape)
	require.NoError(t, err)
	return n
}

// forEachProtocol runs fn as a subtest per protocol of the secure backend, with the
// configuration that selects it: every agreement test holds for each of them.
func forEachProtocol(t *testing.T, fn func(t *testing.T, cfg mpc.Config)) {
	t.Helper()
	for _, name := range mpc.Protocols() {
		t.Run(name, func(t *testing.T) {
			fn(t, mpc.Config{Params: secure.Params{Protocol: name}})
		})
	}
}

package models_test

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/backend/plain"
	"github.com/gotfe/gotfe/datasets"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/models"
	"github.com/gotfe/gotfe/optimizers"
	"github.com/gotfe/gotfe/secure/aby3"
)

const ulp = 0x1p-16 // the last place of the secure engine's 16-bit fixed point

// Documented errors of the secure approximations (secure/approx).
const (
	softmaxErr = 2e-3 // absolute, per probability
	sigmoidErr = 1e-2 // absolute
	recipRel   = 1e-3 // relative
	logErr     = 2e-4 // absolute
)

// step is one layer of a network as the error bound sees it: a weighted layer (dense or conv,
// whose kernel has fanIn inputs per output and outs outputs), a 1-Lipschitz exact one (ReLU,
// max-pooling, flatten: "exact"), or the final softmax or sigmoid.
type step struct {
	kind       string
	fanIn, out int
}

var steps = map[string][]step{
	"a":  {{"w", 784, 128}, {"exact", 0, 0}, {"w", 128, 128}, {"exact", 0, 0}, {"w", 128, 10}, {"softmax", 0, 0}},
	"b":  {{"w", 25, 16}, {"exact", 0, 0}, {"w", 400, 16}, {"exact", 0, 0}, {"w", 256, 100}, {"exact", 0, 0}, {"w", 100, 10}, {"softmax", 0, 0}},
	"c":  {{"w", 25, 20}, {"exact", 0, 0}, {"w", 500, 50}, {"exact", 0, 0}, {"w", 800, 500}, {"exact", 0, 0}, {"w", 500, 10}, {"softmax", 0, 0}},
	"d":  {{"w", 25, 5}, {"exact", 0, 0}, {"w", 980, 100}, {"exact", 0, 0}, {"w", 100, 10}, {"softmax", 0, 0}},
	"lr": {{"w", 784, 1}, {"sigmoid", 0, 0}},
}

// outputBound returns bounds on |secure - plain| of every output probability of the
// network with weights w (kernels and biases in GetWeights order, multiples of ulp, as are
// the inputs: no encoding errors), on inputs in [0, 1].
//
// The secure errors are the truncations of the layers' products, each below one ulp,
// independent and zero-mean (the exact truncation is unbiased, see secure/aby3), and the
// approximations' documented worst-case errors. Through a dense or conv layer (each output
// Σ w·x summed exactly on the ring and truncated once) an error e of the inputs becomes at
// worst max_o Σ|w_o|·e + ulp, and its standard deviation σ becomes max_o sqrt(Σ w_o²·σ² +
// ulp²/3); ReLU, max-pooling and flatten are exact comparisons or moves (1-Lipschitz). Logits
// off by δ move a softmax probability p_i by p_i(δ_i - Σ p_j δ_j): a standard deviation
// below √2·σ; a sigmoid's by δ/4. worst is the worst case (which grows with the products of
// the layers' norms and says little for deep networks); bound is six standard deviations
// plus the approximation's worst case (softmax 2e-3, sigmoid 1e-2).
func outputBound(name string, w [][]float64) (bound, worst float64) {
	e, sd := 0.0, 0.0
	k := 0
	for _, s := range steps[name] {
		switch s.kind {
		case "w":
			kern := w[k]
			k += 2
			worstE, worstSD := 0.0, 0.0
			for o := range s.out {
				n1, n2 := 0.0, 0.0
				for i := o; i < len(kern); i += s.out {
					n1 += math.Abs(kern[i])
					n2 += kern[i] * kern[i]
				}
				worstE = math.Max(worstE, n1*e+ulp)
				worstSD = math.Max(worstSD, math.Sqrt(n2*sd*sd+ulp*ulp/3))
			}
			e, sd = worstE, worstSD
		case "softmax":
			return 6*math.Sqrt2*sd + softmaxErr, math.Expm1(2*e) + softmaxErr
		case "sigmoid":
			return 6*sd/4 + sigmoidErr, e/4 + sigmoidErr
		}
	}
	panic("network without a final activation")
}

// onGrid rounds v to multiples of ulp, so that the secure engine encodes it exactly.
func onGrid(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x/ulp) * ulp
	}
	return out
}

// The standard networks give the same predictions, classes, loss and metrics on the secure
// engine as on the plain one, from the same weights, within outputBound: probabilities
// elementwise; classes wherever the plain top two are further apart than twice the bound
// (ambiguous samples are counted, and accuracy may differ by them); the loss through the
// bound's relative effect on the true class's probability (plus, for the categorical loss,
// the row sum's normalisation: ten probabilities' errors and the reciprocal's 1e-3), the
// log's 2e-4; mse by 2e + e² and mae by e per output, plus the roundings of the means.
func TestSecureMatchesPlainEndToEnd(t *testing.T) {
	n := 8
	if testing.Short() {
		n = 3
	}
	d, err := datasets.LoadMNIST("")
	require.NoError(t, err)
	d, err = d.Subset(1, n)
	require.NoError(t, err)
	testX := onGrid(d.TestX())
	runner := mpc.NewLocalRunner(aby3.Config{}, nil)
	defer runner.Close()
	for _, name := range models.Names {
		t.Run(name, func(t *testing.T) {
			y, err := models.Targets(name, d.TestY)
			require.NoError(t, err)
			type result struct {
				pred  []float64
				cls   []int
				logs  keras.Logs
				w     [][]float64
				outSz int
			}
			run := func(secure bool, w [][]float64) result {
				m, err := models.New(name)
				require.NoError(t, err)
				require.NoError(t, m.Compile(optimizers.SGD(0.1), models.Loss(name), keras.Metrics("accuracy", "mse", "mae")))
				if w != nil {
					require.NoError(t, m.SetWeights(w))
				}
				if secure {
					require.NoError(t, m.SetRunner(runner))
				} else {
					require.NoError(t, m.SetRunner(plain.NewRunner()))
				}
				var r result
				x := models.Images(name, testX)
				pred, err := m.Predict(x, keras.Verbose(0), keras.BatchSize(n))
				require.NoError(t, err)
				r.pred = pred.Data()
				r.cls, err = m.PredictClasses(x, keras.Verbose(0), keras.BatchSize(n))
				require.NoError(t, err)
				r.logs, err = m.Evaluate(x, y, keras.Verbose(0), keras.BatchSize(n))
				require.NoError(t, err)
				r.w, err = m.GetWeights()
				require.NoError(t, err)
				r.outSz = len(r.pred) / n
				return r
			}
			m, err := models.New(name)
			require.NoError(t, err)
			w0, err := m.GetWeights()
			require.NoError(t, err)
			for i := range w0 {
				w0[i] = onGrid(w0[i])
			}
			p := run(false, w0)
			s := run(true, w0)
			bound, worst := outputBound(name, w0)
			t.Logf("%s: output bound %.2e (worst case %.2e)", name, bound, worst)
			require.Less(t, bound, 0.05, "a bound that says something")
			k := p.outSz
			ambiguous := 0
			lossBound, mseBound, maeBound := 0.0, 0.0, 0.0
			for i := range n {
				row, srow := p.pred[i*k:(i+1)*k], s.pred[i*k:(i+1)*k]
				for j := range row {
					require.InDelta(t, row[j], srow[j], bound, "sample %d output %d", i, j)
				}
				var margin, pTrue float64
				if k == 1 {
					margin = 2 * math.Abs(row[0]-0.5)
					pTrue = row[0]
					if y.Data()[i] == 0 {
						pTrue = 1 - row[0]
					}
					// -ln p: the relative error of p, and the log's 2e-4.
					lossBound += -math.Log(1-bound/pTrue) + logErr
				} else {
					sorted := slices.Clone(row)
					slices.Sort(sorted)
					margin = sorted[k-1] - sorted[k-2]
					pTrue = row[slices.Index(y.Data()[i*k:(i+1)*k], 1)]
					rel := bound/pTrue + float64(k)*bound + recipRel + 4*ulp/pTrue
					lossBound += -math.Log(1-rel) + logErr
				}
				if margin <= 2*bound {
					ambiguous++
				} else {
					assert.Equal(t, p.cls[i], s.cls[i], "sample %d", i)
				}
				mseBound += 2*bound + bound*bound + 3*ulp
				maeBound += bound + 3*ulp
			}
			ln := float64(n)
			t.Logf("%s: %d of %d samples ambiguous; loss %.4f vs %.4f (bound %.2e)", name, ambiguous, n, p.logs["loss"], s.logs["loss"], lossBound/ln+2*ulp)
			assert.InDelta(t, p.logs["loss"], s.logs["loss"], lossBound/ln+2*ulp, "loss")
			assert.InDelta(t, p.logs["accuracy"], s.logs["accuracy"], float64(ambiguous)/ln+1e-9, "accuracy")
			assert.InDelta(t, p.logs["mse"], s.logs["mse"], mseBound/ln+2*ulp, "mse")
			assert.InDelta(t, p.logs["mae"], s.logs["mae"], maeBound/ln+2*ulp, "mae")
			if k == 1 { // the one-unit head is thresholded, not all 0
				want := make([]int, n)
				for i := range n {
					if p.pred[i] > 0.5 {
						want[i] = 1
					}
				}
				assert.Equal(t, want, p.cls, "plain")
			}
			require.Len(t, s.cls, n)
		})
	}
}

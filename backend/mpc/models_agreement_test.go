package mpc_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/backend/plain"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/optimizers"
)

// The data of the model-level cases: samples of mlpIn features in [-1, 1), labelled by the
// largest of mlpClasses fixed linear functions of them.
const mlpSamples, mlpIn, mlpClasses, mlpBatch = 64, 6, 3, 16

func mlpData() (x, y []float64) {
	r := rand.New(rand.NewPCG(11, 0xd47a))
	x = uniform(r, mlpSamples*mlpIn, -1, 1)
	w := uniform(r, mlpIn*mlpClasses, -1, 1)
	y = make([]float64, mlpSamples*mlpClasses)
	for n := range mlpSamples {
		best, arg := math.Inf(-1), 0
		for c := range mlpClasses {
			s := 0.0
			for i := range mlpIn {
				s += x[n*mlpIn+i] * w[i*mlpClasses+c]
			}
			if s > best {
				best, arg = s, c
			}
		}
		y[n*mlpClasses+arg] = 1
	}
	return x, y
}

// Each optimizer trains the same small MLP (6 - Dense(8, relu) - Dense(3, softmax), categorical
// cross-entropy) for one epoch of four batches on both engines from the same initial weights:
// the weights agree after the four steps, and so does the epoch's loss.
//
// Tolerances: a step's gradient errs mostly by the softmax's 2e-3 per probability, which the
// last layer's kernel gradient multiplies by the hidden activations (at most 6·0.66 for
// glorot-uniform weights over 6 inputs in [-1, 1)) and the first layer's by 3·0.75 (the last
// kernel's rows): G = 2e-3·4 = 8e-3 per weight. SGD moves the weights by lr·G per step, four
// steps: 4·lr·G; momentum m carries each step's error into the following ones, Σ_t Σ_k m^k =
// 1 + 1.9 + 2.71 + 3.44 = 9.05 steps' worth (Nesterov one more factor m: 12.2). Adam: see
// adamModelTol. The loss is an average of logs of probabilities (2e-3 relative each, 2e-4 for
// the log) at weights off by the tolerance: 1e-2.
// optimizerModelCase is an optimizer and the tolerance of the weights it trains.
type optimizerModelCase struct {
	name string
	opt  optimizers.Optimizer
	tol  float64
}

func TestOptimizersTrainModelsAlike(t *testing.T) {
	const lr, mom = 0.1, 0.9
	const g = 4 * softmaxErr
	adam := optimizers.Adam(0.01, optimizers.Epsilon(0x1p-5))
	adamTol := adamModelTol(adam.Config().(optimizers.AdamConfig), 4, g, 0.5)
	cases := []optimizerModelCase{
		{"sgd", optimizers.SGD(lr), 4 * lr * g},
		{"sgd momentum", optimizers.SGD(lr, optimizers.Momentum(mom)), 9.05 * lr * g},
		{"sgd nesterov", optimizers.SGD(lr, optimizers.Momentum(mom), optimizers.Nesterov(true)), 12.2 * lr * g},
		{"adam", adam, adamTol},
		{"amsgrad", optimizers.Adam(0.01, optimizers.Epsilon(0x1p-5), optimizers.AMSGrad(true)), adamTol},
	}
	x, y := mlpData()
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) { trainModelsAlike(t, cfg, cases, x, y) })
}

// trainModelsAlike is TestOptimizersTrainModelsAlike on one protocol.
func trainModelsAlike(t *testing.T, cfg mpc.Config, cases []optimizerModelCase, x, y []float64) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var weights [2][][]float64
			var loss [2]float64
			for i := range 2 {
				m, err := keras.NewSequential(layers.Input(mlpIn), layers.Dense(8, layers.Activation("relu")),
					layers.Dense(mlpClasses, layers.Activation("softmax")))
				require.NoError(t, err)
				require.NoError(t, m.Compile(c.opt, losses.CategoricalCrossentropy()))
				if i == 0 {
					require.NoError(t, m.SetRunner(plain.NewRunner()))
				} else {
					r := mpc.NewLocalRunner(cfg, nil)
					defer r.Close()
					require.NoError(t, m.SetRunner(r))
				}
				h, err := m.Fit(xsOf(m, x), ysOf(m, y), keras.Epochs(1), keras.BatchSize(mlpBatch), keras.Shuffle(false), keras.Verbose(0))
				require.NoError(t, err)
				loss[i] = h.History["loss"][0]
				weights[i], err = m.GetWeights()
				require.NoError(t, err)
			}
			require.Len(t, weights[1], len(weights[0]))
			worst := 0.0
			for i := range weights[0] {
				require.Len(t, weights[1][i], len(weights[0][i]))
				for j, w := range weights[0][i] {
					worst = math.Max(worst, math.Abs(weights[1][i][j]-w))
					require.InDelta(t, w, weights[1][i][j], c.tol, "weight %d[%d]", i, j)
				}
			}
			t.Logf("weights: max error %.2e  tolerance %.2e; loss %.5f plain, %.5f secure", worst, c.tol, loss[0], loss[1])
			require.InDelta(t, loss[0], loss[1], 1e-2, "epoch loss")
		})
	}
}

// adamModelTol bounds the error of the weights after steps steps of Adam with cfg when each
// gradient errs by at most gErr and is at most gMax in magnitude (below 0.2 for the MLP of
// TestOptimizersTrainModelsAlike on the plain engine; 0.5 assumed). As in adamBounds, m errs
// by β1 times its error plus (1-β1)·gErr and two roundings per step, v by β2 times its error
// plus two roundings and (1-β2) times the error of g² (2·gMax·gErr); the step α·m/sqrt(v + ε²)
// then errs by α times m's error over ε, plus |m| ≤ (1-β1^t)·gMax times the error of the
// inverse square root: half v's error over ε³, and its own 1e-3 relative (of at most 1/ε).
// The model's cases take ε = 2^-5 rather than the smallest recommended 2^-8: the gradients of
// a model averaged over a batch are small, (1-β2)·g² is then below one unit in the last place,
// and with ε² = 2^-16 the secure step could differ from the plain one by as much as itself
// (the unit cases of TestOptimizersAgree cover ε = 2^-8 with larger gradients).
func adamModelTol(cfg optimizers.AdamConfig, steps int, gErr, gMax float64) float64 {
	b1, b2, eps := cfg.Beta1, cfg.Beta2, cfg.Epsilon
	tol, dm, dv := ulp/2, 0.0, 0.0
	for t := 1; t <= steps; t++ {
		alpha := cfg.LearningRate * math.Sqrt(1-math.Pow(b2, float64(t))) / (1 - math.Pow(b1, float64(t)))
		dm = b1*dm + (1-b1)*gErr + 2.1*ulp
		dv = b2*dv + 2*ulp + (1-b2)*(2*gMax*gErr+ulp)
		m := (1 - math.Pow(b1, float64(t))) * gMax
		dinv := 0.5*(dv+ulp/2)/(eps*eps*eps) + invSqrtRel/eps
		tol += alpha*(dm*(1+invSqrtRel)/eps+m*dinv+ulp) + ulp
	}
	return tol
}

// The secure inverse square root covers inputs down to one unit in the last place (for
// batch normalisation's var + ε and Adam's v + ε²), within 1e-3 relative of the inverse
// square root of the encoded input; inputs below saturate at 2^(f/2).
func TestInvSqrtSmallInputs(t *testing.T) {
	var xs []float64
	for k := 1.0; k <= 300; k = math.Ceil(k * 1.4) { // k units in the last place, 2^-16 to 2^-8
		xs = append(xs, k*ulp)
	}
	xs = append(xs, 1e-3, 0.5, 3, 100)
	below := []float64{0, 0.3 * ulp, -1}
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		runner := mpc.NewLocalRunner(cfg, nil)
		defer runner.Close()
		var got []float64
		require.NoError(t, runner.Run(func(b backend.Backend) error {
			in, err := b.Input(append(slices.Clone(xs), below...), []int{len(xs) + len(below)}, 0)
			if err != nil {
				return err
			}
			y, err := b.InvSqrt(in)
			if err != nil {
				return err
			}
			v, err := b.Reveal(y, 0)
			if v != nil {
				got = v
			}
			return err
		}))
		for i, x := range xs {
			enc := math.Round(x/ulp) * ulp
			want := 1 / math.Sqrt(enc)
			require.InDelta(t, 1, got[i]/want, invSqrtRel, "1/sqrt(%v) = %v, got %v", x, want, got[i])
		}
		for i := range below {
			require.InDelta(t, 256, got[len(xs)+i], 256*invSqrtRel, "saturation of 1/sqrt(%v)", below[i])
		}
	})
}

// AMSGrad differs from Adam only once the second moment falls: the first batch of each epoch
// has features 8 times larger, so its gradients dominate v, which (with β2 = 0.5: with
// 0.999 the raw v still grows over a dozen steps) falls over the following batches while
// the running maximum holds it, and the
// plain AMSGrad weights move away from Adam's by far more than the tolerance; the secure
// AMSGrad follows the plain one. Tolerance: Adam's step lr·m̂/sqrt(v̂) is invariant to the
// gradients' scale, so their errors count relatively: the secure gradients err by the
// softmax's 2e-3 per probability against probabilities' errors p - y of order 0.5 (a few
// 1e-3 relative), and the optimizer's fixed-point arithmetic by under 1% of a step for
// gradients well above 1.5e-4 (see TestAdamDefaultsAgree): 1% of lr per step, over the
// twelve steps (measured: 2.4e-4 at most over 20 runs).
// The model is a softmax regression (Dense(3, softmax)): with a hidden ReLU layer, a unit
// whose pre-activation lies within the engines' difference of 0 may switch on one engine
// only, which turns a weight's Adam steps around in that batch (2.8e-3 to 4.8e-3 in one run
// of four), a discrete event no smooth bound covers.
func TestAMSGradMaximumMatters(t *testing.T) {
	const epochs = 3
	x, y := mlpData()
	// The first batch's features are 8 times larger: its gradients, and so v, are much larger
	// than the later batches'.
	for i := range mlpBatch * mlpIn {
		x[i] *= 8
	}
	fit := func(opt optimizers.Optimizer, secure bool) [][]float64 {
		m, err := keras.NewSequential(layers.Input(mlpIn), layers.Dense(mlpClasses, layers.Activation("softmax")))
		require.NoError(t, err)
		require.NoError(t, m.Compile(opt, losses.CategoricalCrossentropy()))
		if secure {
			r := mpc.NewLocalRunner(mpc.Config{}, nil)
			defer r.Close()
			require.NoError(t, m.SetRunner(r))
		} else {
			require.NoError(t, m.SetRunner(plain.NewRunner()))
		}
		_, err = m.Fit(xsOf(m, x), ysOf(m, y), keras.Epochs(epochs), keras.BatchSize(mlpBatch), keras.Shuffle(false), keras.Verbose(0))
		require.NoError(t, err)
		w, err := m.GetWeights()
		require.NoError(t, err)
		return w
	}
	const lr = 0.01
	ams := optimizers.Adam(lr, optimizers.Beta2(0.5), optimizers.AMSGrad(true))
	tol := 0.01 * lr * epochs * mlpSamples / mlpBatch
	plainAdam := fit(optimizers.Adam(lr, optimizers.Beta2(0.5)), false)
	plainAMS := fit(ams, false)
	apart := 0.0
	for i := range plainAMS {
		for j, w := range plainAMS[i] {
			apart = math.Max(apart, math.Abs(w-plainAdam[i][j]))
		}
	}
	secureAMS := fit(ams, true)
	worst := 0.0
	for i := range plainAMS {
		for j, w := range plainAMS[i] {
			worst = math.Max(worst, math.Abs(w-secureAMS[i][j]))
			require.InDelta(t, w, secureAMS[i][j], tol, "weight %d[%d]", i, j)
		}
	}
	t.Logf("AMSGrad against Adam: %.2e apart; secure against plain AMSGrad: %.2e (tolerance %.2e)", apart, worst, tol)
	require.Greater(t, apart, 10*tol, "the running maximum must matter")
}

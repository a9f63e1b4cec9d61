package mpc_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/backend/plain"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/nd"
	"github.com/gotfe/gotfe/optimizers"
)

// unscaled returns n samples of two features around 700 and 50 (like prices and ages) with
// the label 1 when the first feature, relative to its spread, exceeds the second.
func unscaled(n int, seed uint64) (x, y *nd.Array) {
	r := rand.New(rand.NewPCG(seed, 9))
	var xv, yv []float64
	for range n {
		a, c := r.NormFloat64(), r.NormFloat64()
		xv = append(xv, 700+100*a, 50+10*c)
		if a > c {
			yv = append(yv, 1)
		} else {
			yv = append(yv, 0)
		}
	}
	return nd.New(xv, n, 2), nd.New(yv, n)
}

// Features around 700 are beyond the secure engine's range: without scaling, Fit says which
// layer fixes it; with a Normalization adapted to the owner's data as first layer, the secure
// engine trains as the plain one does.
func TestUnscaledFeaturesWithNormalization(t *testing.T) {
	x, y := unscaled(96, 1)
	runner := mpc.Local()
	defer runner.Close()

	raw, err := keras.NewSequential(layers.Input(2), layers.Dense(1, layers.Activation("sigmoid")))
	require.NoError(t, err)
	require.NoError(t, raw.Compile(keras.Optimizer("adam"), keras.Loss("binary_crossentropy")))
	require.NoError(t, raw.SetRunner(runner))
	_, err = raw.Fit(x, y, keras.Verbose(0))
	require.ErrorContains(t, err, "training data: sample 0, feature 0 is 723.68")
	require.ErrorContains(t, err, "beyond ±16, the range the aby3 engine takes: scale the features "+
		"(standardise them with a layers.Normalization adapted to them (norm.Adapt(x)) as the model's first layer, or rescale them with layers.Rescaling)")

	accs := map[string]float64{}
	preds := map[string][]float64{}
	for _, engine := range []string{"plain", "secure"} {
		norm := layers.Normalization()
		require.NoError(t, norm.Adapt(x))
		m, err := keras.NewSequential(layers.Input(2), norm, layers.Dense(1, layers.Activation("sigmoid")))
		require.NoError(t, err)
		require.NoError(t, m.Compile(optimizers.Adam(0.1), keras.Loss("binary_crossentropy"), keras.Metrics("accuracy")))
		if engine == "secure" {
			require.NoError(t, m.SetRunner(runner))
		}
		h, err := m.Fit(x, y, keras.Epochs(8), keras.BatchSize(32), keras.Verbose(0))
		require.NoError(t, err, engine)
		accs[engine] = h.History["accuracy"][7]
		p, err := m.Predict(x, keras.Verbose(0))
		require.NoError(t, err)
		preds[engine] = p.Data()
	}
	t.Logf("accuracy after 8 epochs: %v", accs)
	assert.Greater(t, accs["plain"], 0.85)
	assert.Greater(t, accs["secure"], 0.85, "the secure engine learns from features around 700")
	worst := 0.0
	for i := range preds["plain"] {
		worst = max(worst, math.Abs(preds["plain"][i]-preds["secure"][i]))
	}
	// 24 Adam steps from the same weights: the sigmoid's 1e-2 per step moves the weights
	// apart by a few percent of a step; the predictions stay within a few hundredths.
	assert.Less(t, worst, 0.05)
}

// Precision, recall and AUC of the secure engine agree with the plain engine's: a linear
// model whose weights and inputs lie on the fixed-point grid predicts exactly on both, so the
// counts agree and only the AUC's final product rounds.
func TestRatioMetricsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 64
	var xv, yv []float64
	for len(yv) < n {
		a, c := float64(r.IntN(256))/256, float64(r.IntN(256))/256
		p := 0.5*a + 0.25*c + 0.125
		if !farFromThresholds(p) {
			continue
		}
		xv = append(xv, a, c)
		if r.Float64() < p {
			yv = append(yv, 1)
		} else {
			yv = append(yv, 0)
		}
	}
	x, y := nd.New(xv, n, 2), nd.New(yv, n)
	runner := mpc.Local()
	defer runner.Close()
	logs := map[string]keras.Logs{}
	for _, engine := range []string{"plain", "secure"} {
		m, err := keras.NewSequential(layers.Input(2), layers.Dense(1))
		require.NoError(t, err)
		require.NoError(t, m.Compile(keras.Optimizer("sgd"), keras.Loss("mse"), keras.Metrics("precision", "recall", "auc")))
		require.NoError(t, m.SetWeights([][]float64{{0.5, 0.25}, {0.125}}))
		if engine == "secure" {
			require.NoError(t, m.SetRunner(runner))
		} else {
			require.NoError(t, m.SetRunner(plain.NewRunner()))
		}
		logs[engine], err = m.Evaluate(x, y, keras.BatchSize(16), keras.Verbose(0))
		require.NoError(t, err)
	}
	t.Logf("plain %v\nsecure %v", logs["plain"], logs["secure"])
	pos := 0.0
	for _, v := range yv {
		pos += v
	}
	pr := pos / float64(n)
	// Counts of products of exact 0/1 values: each product within one ulp, n of them; the
	// ratios divide by at least a tenth of the samples here.
	countTol := float64(n) * ulp / (0.1 * float64(n))
	for _, k := range []string{"precision", "recall"} {
		assert.InDelta(t, logs["plain"][k], logs["secure"][k], countTol, k)
	}
	// AUC: each of the T-1 = 199 scaled differences and sums errs by one ulp (and 2^-20 of
	// itself), weighted by at most 1 in the one product, whose truncation adds one ulp; the
	// positive fraction p errs by one ulp; the area is divided by p(1-p).
	aucTol := (2*199*ulp+ulp)/(pr*(1-pr)) + 4*ulp
	assert.InDelta(t, logs["plain"]["auc"], logs["secure"]["auc"], aucTol)
	assert.Greater(t, logs["plain"]["auc"], 0.6)
}

// farFromThresholds reports whether p lies at least 2^-15 away from every AUC threshold and
// from 0.5, so that the engines' encodings of the thresholds decide alike.
func farFromThresholds(p float64) bool {
	for i := 0; i < keras.AUCThresholds; i++ {
		if math.Abs(p-float64(i)/(keras.AUCThresholds-1)) < 0x1p-15 {
			return false
		}
	}
	return true
}

// Sample weights on the secure engine: the weighted loss and the weighted step agree with the
// plain engine's within the sigmoid's and the logarithm's bounds.
func TestSampleWeightsAgree(t *testing.T) {
	x := nd.Rows([][]float64{{0.5, -1}, {1, 0.25}, {-0.5, 0.5}, {0.25, 1}})
	y := nd.New([]float64{1, 0, 1, 0}, 4)
	w := []float64{2, 0.5, 1, 3}
	runner := mpc.Local()
	defer runner.Close()
	loss := map[string]float64{}
	weights := map[string][][]float64{}
	for _, engine := range []string{"plain", "secure"} {
		m, err := keras.NewSequential(layers.Input(2), layers.Dense(1, layers.Activation("sigmoid")))
		require.NoError(t, err)
		require.NoError(t, m.SetWeights([][]float64{{0.5, -0.25}, {0.1}}))
		require.NoError(t, m.Compile(optimizers.SGD(0.5), keras.Loss("binary_crossentropy")))
		if engine == "secure" {
			require.NoError(t, m.SetRunner(runner))
		}
		h, err := m.Fit(x, y, keras.SampleWeight(nd.New(w, 4)), keras.BatchSize(4), keras.Shuffle(false), keras.Verbose(0))
		require.NoError(t, err)
		loss[engine] = h.History["loss"][0]
		weights[engine], err = m.GetWeights()
		require.NoError(t, err)
	}
	// The predictions lie in [0.35, 0.65] here: -ln p errs by the sigmoid's 1e-2 over p plus
	// the logarithm's 2e-4; each sample's loss is weighted, and the mean divides by 4.
	lossTol := 0.0
	for _, wi := range w {
		lossTol += wi * (sigmoidErr/0.35 + logErr) / 4
	}
	assert.InDelta(t, loss["plain"], loss["secure"], lossTol)
	// One step of 0.5·Σ w_i (p_i - y_i)·x_i / 4: p errs by 1e-2, |x| ≤ 1, Σ w_i = 6.5.
	stepTol := 0.5*6.5*sigmoidErr/4 + lin(4)
	for i := range weights["plain"] {
		assert.InDeltaSlice(t, weights["plain"][i], weights["secure"][i], stepTol)
	}
	t.Logf("loss plain %.5f secure %.5f (tolerance %.3g); weights %v / %v", loss["plain"], loss["secure"], lossTol, weights["plain"], weights["secure"])
}

package keras

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/plain"
	"github.com/gotfe/gotfe/losses"
)

// Every metric's per-batch sum against values computed by hand: the sum over samples of each
// sample's value, averaged over the sample's outputs.
func TestMetricsHandComputed(t *testing.T) {
	b := plain.New()
	for _, tc := range []struct {
		name, metric string
		loss         losses.Loss
		pred, y      []float64
		shape        []int
		want         float64
	}{
		// Rows [0.1 0.7 0.2] (argmax 1, hit) and [0.5 0.3 0.2] (argmax 0, miss: class 2).
		{"categorical accuracy", "accuracy", losses.CategoricalCrossentropy(),
			[]float64{0.1, 0.7, 0.2, 0.5, 0.3, 0.2}, []float64{0, 1, 0, 0, 0, 1}, []int{2, 3}, 1},
		{"categorical accuracy by name", "categorical_accuracy", losses.MeanSquaredError(),
			[]float64{0.1, 0.7, 0.2, 0.2, 0.3, 0.5}, []float64{0, 1, 0, 0, 0, 1}, []int{2, 3}, 2},
		// Threshold 0.5, strictly above: 0.5 counts as 0, 0.51 as 1. Hits: 0.9/1, 0.5/0,
		// 0.51/1, 0.2/0; misses: 0.6/0, 0.4/1.
		{"binary accuracy", "accuracy", losses.BinaryCrossentropy(),
			[]float64{0.9, 0.5, 0.51, 0.2, 0.6, 0.4}, []float64{1, 0, 1, 0, 0, 1}, []int{6, 1}, 4},
		{"binary accuracy by name", "binary_accuracy", losses.MeanSquaredError(),
			[]float64{0.9, 0.5, 0.51, 0.2, 0.6, 0.4}, []float64{1, 0, 1, 0, 0, 1}, []int{6, 1}, 4},
		// From logits the threshold is 0: -0.1/0 hit, 0.1/1 hit, 0/1 miss, 2/0 miss.
		{"binary accuracy logits", "accuracy", losses.BinaryCrossentropy(losses.FromLogits(true)),
			[]float64{-0.1, 0.1, 0, 2}, []float64{0, 1, 1, 0}, []int{4, 1}, 2},
		// Two outputs per sample, averaged per sample: sample 0 hits 1 of 2, sample 1 both.
		{"binary accuracy per sample", "binary_accuracy", losses.BinaryCrossentropy(),
			[]float64{0.7, 0.7, 0.1, 0.9}, []float64{1, 0, 0, 1}, []int{2, 2}, 0.5 + 1},
		// mse: sample 0 ((1-0)² + (2-4)²)/2 = 2.5, sample 1 ((-1-1)² + (0.5-0)²)/2 = 2.125.
		{"mse", "mse", losses.MeanSquaredError(),
			[]float64{1, 2, -1, 0.5}, []float64{0, 4, 1, 0}, []int{2, 2}, 2.5 + 2.125},
		// mae: sample 0 (1 + 2)/2 = 1.5, sample 1 (2 + 0.5)/2 = 1.25.
		{"mae", "mae", losses.MeanSquaredError(),
			[]float64{1, 2, -1, 0.5}, []float64{0, 4, 1, 0}, []int{2, 2}, 1.5 + 1.25},
		{"mean_absolute_error", "mean_absolute_error", losses.MeanSquaredError(),
			[]float64{-3}, []float64{1}, []int{1, 1}, 4},
		{"mean_squared_error", "mean_squared_error", losses.MeanSquaredError(),
			[]float64{-3}, []float64{1}, []int{1, 1}, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mt, err := newMetric(tc.metric, tc.loss)
			require.NoError(t, err)
			p, err := b.Const(tc.pred, tc.shape)
			require.NoError(t, err)
			y, err := b.Const(tc.y, tc.shape)
			require.NoError(t, err)
			s, err := mt.batchSum(b, p, y)
			require.NoError(t, err)
			assert.InDelta(t, tc.want, s.(*plain.Tensor).Values()[0], 1e-12)
		})
	}
}

// runMetric accumulates a metric over batches on the plain engine as Fit does and returns its
// value for the epoch.
func runMetric(t *testing.T, name string, loss losses.Loss, batches [][2][]float64) float64 {
	t.Helper()
	b := plain.New()
	mt, err := newMetric(name, loss)
	require.NoError(t, err)
	var acc []backend.Tensor
	n := 0
	for _, bt := range batches {
		shape := []int{len(bt[0]), 1}
		p, err := b.Const(bt[0], shape)
		require.NoError(t, err)
		y, err := b.Const(bt[1], shape)
		require.NoError(t, err)
		s, err := mt.sums(b, p, y)
		require.NoError(t, err)
		require.Len(t, s, mt.numSums())
		if acc == nil {
			acc = s
		} else {
			for i := range s {
				acc[i], err = b.Add(acc[i], s[i])
				require.NoError(t, err)
			}
		}
		n += len(bt[0])
	}
	ts, err := mt.reveal(b, acc, n)
	require.NoError(t, err)
	vals := make([]float64, len(ts))
	for i, tt := range ts {
		v, err := b.Reveal(tt, -1)
		require.NoError(t, err)
		vals[i] = v[0]
	}
	return mt.value(vals, n)
}

// kerasAUC is Keras's AUC by its definition: confusion counts at the 200 thresholds and the
// interpolated (trapezoidal) area under the ROC curve.
func kerasAUC(pred, y []float64) float64 {
	ts := aucThresholds()
	tp, fp := make([]float64, len(ts)), make([]float64, len(ts))
	pos, neg := 0.0, 0.0
	for i, p := range pred {
		pos += y[i]
		neg += 1 - y[i]
		for j, th := range ts {
			if p > th {
				tp[j] += y[i]
				fp[j] += 1 - y[i]
			}
		}
	}
	area := 0.0
	for j := 0; j < len(ts)-1; j++ {
		area += (fp[j]/neg - fp[j+1]/neg) * (tp[j]/pos + tp[j+1]/pos) / 2
	}
	return area
}

// Precision, recall and AUC over an epoch of two batches, against hand-computed values.
func TestRatioMetricsHandComputed(t *testing.T) {
	// Threshold 0.5, strictly above. Batch 1: 0.9/1 TP, 0.6/0 FP, 0.4/1 FN, 0.1/0 TN;
	// batch 2: 0.7/1 TP, 0.51/1 TP, 0.5/1 FN (0.5 is not above), 0.2/0 TN.
	batches := [][2][]float64{
		{{0.9, 0.6, 0.4, 0.1}, {1, 0, 1, 0}},
		{{0.7, 0.51, 0.5, 0.2}, {1, 1, 1, 0}},
	}
	bce := losses.BinaryCrossentropy()
	assert.InDelta(t, 3.0/4, runMetric(t, "precision", bce, batches), 1e-12, "3 TP of 4 predicted")
	assert.InDelta(t, 3.0/5, runMetric(t, "recall", bce, batches), 1e-12, "3 TP of 5 positives")
	assert.InDelta(t, 3.0/5, runMetric(t, "Recall", bce, batches), 1e-12)
	// No predicted positive: Keras's divide_no_nan gives 0.
	assert.Equal(t, 0.0, runMetric(t, "precision", bce, [][2][]float64{{{0.1, 0.2}, {1, 0}}}))

	// The classic example: scores 0.1, 0.4, 0.35, 0.8 of labels 0, 0, 1, 1 rank 3 of the 4
	// positive-negative pairs right: AUC 0.75, which the thresholds, 1/199 apart, resolve.
	auc := runMetric(t, "auc", bce, [][2][]float64{{{0.1, 0.4}, {0, 0}}, {{0.35, 0.8}, {1, 1}}})
	assert.InDelta(t, 0.75, auc, 1e-12)
	assert.InDelta(t, 0.75, kerasAUC([]float64{0.1, 0.4, 0.35, 0.8}, []float64{0, 0, 1, 1}), 1e-12)
	// Ties within one interval between thresholds count half, as the trapezoids do; every
	// score equal gives 0.5, perfect ranking 1, reversed 0; 0 and 1 lie inside the outer
	// thresholds.
	assert.InDelta(t, 0.5, runMetric(t, "AUC", bce, [][2][]float64{{{0.3, 0.3, 0.3}, {1, 0, 1}}}), 1e-12)
	assert.InDelta(t, 1, runMetric(t, "auc", bce, [][2][]float64{{{0, 1, 0.2, 0.9}, {0, 1, 0, 1}}}), 1e-12)
	assert.InDelta(t, 0, runMetric(t, "auc", bce, [][2][]float64{{{1, 0, 0.9, 0.2}, {0, 1, 0, 1}}}), 1e-12)
	// Random scores: the epoch's value is Keras's.
	r := rand.New(rand.NewPCG(3, 4))
	var pred, y []float64
	for range 300 {
		p := r.Float64()
		pred = append(pred, p)
		if r.Float64() < p {
			y = append(y, 1)
		} else {
			y = append(y, 0)
		}
	}
	got := runMetric(t, "auc", bce, [][2][]float64{{pred[:100], y[:100]}, {pred[100:], y[100:]}})
	assert.InDelta(t, kerasAUC(pred, y), got, 1e-12)
	assert.Greater(t, got, 0.7)
}

package keras

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

package keras

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/nd"
	"github.com/gotfe/gotfe/optimizers"
)

// sliceable is Data with Slice, as nd.Array has.
type sliceable interface {
	Data
	Slice(lo, hi int) *nd.Array
}

// wholeArray hides the Rows methods of an array: the Keras surface reads its values whole.
type wholeArray struct{ a *nd.Array }

func (w wholeArray) Array() ([]int, []float64, error) { return w.a.Array() }
func (w wholeArray) Slice(lo, hi int) *nd.Array       { return w.a.Slice(lo, hi) }

// Samples read a batch at a time from an indexed array (one byte a value) train, evaluate and
// predict exactly as the same values held as float64: with a preprocessing layer applied per
// batch, a validation split that offsets the batches into the source, and shuffled batches.
func TestIndexedSamplesMatchFloat64(t *testing.T) {
	const n, k = 96, 6
	table := make([]float64, 256)
	for i := range table {
		table[i] = float64(i) // pixels 0..255, which the Rescaling layer brings into [0, 1]
	}
	codes := make([]byte, n*k)
	labels := make([]float64, n)
	for i := range n {
		sum := 0
		for j := range k {
			c := byte((i*37 + j*101 + i*j*13) % 256)
			codes[i*k+j] = c
			sum += int(c)
		}
		if sum > 128*k {
			labels[i] = 1
		}
	}
	floats := nd.Indexed(codes, table, n, k).Data()
	type result struct {
		h     *History
		logs  Logs
		pred  []float64
		cls   []int
		final [][]float64
	}
	run := func(x sliceable) result {
		m, err := NewSequential(layers.Input(k), layers.Rescaling(1.0/255),
			layers.Dense(8, layers.Activation("relu")), layers.Dense(1, layers.Activation("sigmoid")))
		require.NoError(t, err)
		require.NoError(t, m.Compile(optimizers.Adam(0.05), losses.BinaryCrossentropy(), Metrics("accuracy")))
		var r result
		r.h, err = m.Fit(x, nd.New(labels, n), Epochs(3), BatchSize(16), ValidationSplit(0.25), Seed(7), Verbose(0))
		require.NoError(t, err)
		part := func(lo, hi int) Data {
			if _, whole := x.(wholeArray); whole {
				return wholeArray{x.Slice(lo, hi)}
			}
			return x.Slice(lo, hi)
		}
		r.logs, err = m.Evaluate(part(10, 50), nd.New(labels[10:50], 40), BatchSize(16), Verbose(0))
		require.NoError(t, err)
		p, err := m.Predict(part(5, 30), BatchSize(7), Verbose(0))
		require.NoError(t, err)
		r.pred = p.Data()
		r.cls, err = m.PredictClasses(part(5, 30), BatchSize(7), Verbose(0))
		require.NoError(t, err)
		r.final, err = m.GetWeights()
		require.NoError(t, err)
		return r
	}
	want := run(wholeArray{nd.New(floats, n, k)})
	got := run(nd.Indexed(codes, table, n, k))
	assert.Equal(t, want.h.History, got.h.History)
	assert.Equal(t, want.logs, got.logs)
	assert.Equal(t, want.pred, got.pred)
	assert.Equal(t, want.cls, got.cls)
	assert.Equal(t, want.final, got.final)
	assert.Greater(t, want.h.History["accuracy"][2], 0.5, "the model learns something, so that equal results mean something")

	// A bad source is an error of the call, not a panic.
	m, err := NewSequential(layers.Input(k), layers.Dense(1, layers.Activation("sigmoid")))
	require.NoError(t, err)
	require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.BinaryCrossentropy()))
	_, err = m.Fit(nd.Indexed(codes, table[:3], n, k), nd.New(labels, n), Verbose(0))
	require.ErrorContains(t, err, "beyond the table of 3 values")
	_, err = m.Predict(nd.Indexed(codes, table, n, k+1), Verbose(0))
	require.ErrorContains(t, err, "do not fit shape")
}

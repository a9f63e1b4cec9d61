package layers

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend/plain"
	"github.com/gotfe/gotfe/nd"
)

// Adapt computes every feature's mean and population variance over all other axes, and the
// layer standardises with them.
func TestNormalizationAdapt(t *testing.T) {
	// Two samples of 2×2 features... of 2 features along the last axis: feature 0 takes
	// 1, 3, 5, 7 (mean 4, variance 5), feature 1 takes 700, 700, 800, 600 (mean 700, variance 5000).
	data := nd.New([]float64{1, 700, 3, 700, 5, 800, 7, 600}, 2, 2, 2)
	l := Normalization()
	_, err := l.Build(plain.New(), []int{2, 2}, nil, 0)
	assert.ErrorContains(t, err, "normalization (Normalization): no mean and variance: call Adapt(data) before the model runs, or give Mean and Variance")
	require.NoError(t, l.Adapt(data))
	c := l.Config().(NormalizationConfig)
	assert.Equal(t, []float64{4, 700}, c.Mean)
	assert.InDeltaSlice(t, []float64{5, 5000}, c.Variance, 1e-9)

	b := plain.New()
	inst := buildWith(t, b, l, []int{2, 2})
	y, err := inst.Forward(tensor(t, b, data.Data(), []int{2, 2, 2}), false)
	require.NoError(t, err)
	want := []float64{-3 / math.Sqrt(5), 0, -1 / math.Sqrt(5), 0, 1 / math.Sqrt(5), 100 / math.Sqrt(5000), 3 / math.Sqrt(5), -100 / math.Sqrt(5000)}
	assert.InDeltaSlice(t, want, values(t, y), 1e-12)
	p, err := l.Preprocess(data.Data())
	require.NoError(t, err)
	assert.InDeltaSlice(t, want, p, 1e-12, "the clear map the data owner applies")
	dx, err := inst.Backward(tensor(t, b, []float64{1, 1, 1, 1, 1, 1, 1, 1}, []int{2, 2, 2}), true)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{1 / math.Sqrt(5), 1 / math.Sqrt(5000)}, values(t, dx)[:2], 1e-12)

	// Given statistics, a zero variance, and errors.
	l2 := Normalization(Mean(1, 2), Variance(4, 0))
	p, err = l2.Preprocess([]float64{3, 5})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 3}, p, "a constant feature is only centred")
	_, err = l2.OutputShape([]int{3})
	assert.ErrorContains(t, err, "adapted to 2 features, input shape (None, 3) has 3")
	_, err = Normalization(Mean(1)).OutputShape([]int{1})
	assert.ErrorContains(t, err, "mean and variance of 1 and 0 features")
	assert.ErrorContains(t, Normalization().Adapt(nd.New([]float64{1, 2}, 2)), "want samples of features")
	assert.ErrorContains(t, Normalization().Adapt(nd.New([]float64{1, 2}, 3)), "nd: 2 values do not fit shape (3,)")

	raw, err := jsonMarshal(l.Config())
	require.NoError(t, err)
	back, err := FromConfig("Normalization", raw)
	require.NoError(t, err)
	assert.Equal(t, l.Config(), back.Config())
}

func TestRescaling(t *testing.T) {
	b := plain.New()
	l := Rescaling(1.0/255, Offset(-0.5))
	inst := buildWith(t, b, l, []int{3})
	y, err := inst.Forward(tensor(t, b, []float64{0, 127.5, 255}, []int{1, 3}), false)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{-0.5, 0, 0.5}, values(t, y), 1e-15)
	dx, err := inst.Backward(tensor(t, b, []float64{255, 510, 0}, []int{1, 3}), true)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{1, 2, 0}, values(t, dx), 1e-15)
	p, err := l.Preprocess([]float64{51})
	require.NoError(t, err)
	assert.InDelta(t, -0.3, p[0], 1e-15)
	raw, err := jsonMarshal(l.Config())
	require.NoError(t, err)
	back, err := FromConfig("Rescaling", raw)
	require.NoError(t, err)
	assert.Equal(t, l.Config(), back.Config())
	_, err = Rescaling(math.Inf(1)).OutputShape([]int{1})
	assert.ErrorContains(t, err, "must be finite")
}

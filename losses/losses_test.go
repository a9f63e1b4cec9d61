package losses

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/plain"
)

func tensor(t *testing.T, b *plain.Backend, v []float64, shape ...int) backend.Tensor {
	t.Helper()
	x, err := b.Const(v, shape)
	require.NoError(t, err)
	return x
}

// vf returns a function that checks err and returns the values of x.
func vf(t *testing.T) func(x backend.Tensor, err error) []float64 {
	return func(x backend.Tensor, err error) []float64 {
		t.Helper()
		require.NoError(t, err)
		return x.(*plain.Tensor).Values()
	}
}

func TestHandComputedValues(t *testing.T) {
	b := plain.New()
	ln := math.Log
	for _, tc := range []struct {
		name     string
		loss     Loss
		pred, y  []float64
		shape    []int
		wantLoss float64
		wantGrad []float64
	}{
		{
			name: "mse", loss: MeanSquaredError(),
			pred: []float64{1, 2, 3, 4}, y: []float64{0, 2, 5, 4}, shape: []int{2, 2},
			wantLoss: (1 + 0 + 4 + 0) / 4.0,
			wantGrad: []float64{2 * 1 / 4.0, 0, 2 * -2 / 4.0, 0},
		},
		{
			name: "categorical", loss: CategoricalCrossentropy(),
			pred: []float64{0.7, 0.2, 0.1, 0.1, 0.8, 0.1}, y: []float64{1, 0, 0, 0, 0, 1}, shape: []int{2, 3},
			wantLoss: -(ln(0.7) + ln(0.1)) / 2,
			// Through the division by the row sum s = 1: (sum(y) - y/p)/s/n.
			wantGrad: []float64{(1 - 1/0.7) / 2, 0.5, 0.5, 0.5, 0.5, (1 - 1/0.1) / 2},
		},
		{
			// Predictions that do not sum to 1 are divided by their sum first (Keras, TF.js):
			// -ln(0.2/0.8) = ln 4, not -ln 0.2.
			name: "categorical unnormalized", loss: CategoricalCrossentropy(),
			pred: []float64{0.2, 0.2, 0.4}, y: []float64{1, 0, 0}, shape: []int{1, 3},
			wantLoss: ln(4),
			wantGrad: []float64{(1 - 4) / 0.8, 1 / 0.8, 1 / 0.8},
		},
		{
			name: "sparse unnormalized", loss: SparseCategoricalCrossentropy(),
			pred: []float64{0.2, 0.2, 0.4}, y: []float64{1, 0, 0}, shape: []int{1, 3},
			wantLoss: ln(4),
			wantGrad: []float64{(1 - 4) / 0.8, 1 / 0.8, 1 / 0.8},
		},
		{
			name: "binary", loss: BinaryCrossentropy(),
			pred: []float64{0.9, 0.2, 0.6, 0.5}, y: []float64{1, 0, 0, 1}, shape: []int{4, 1},
			wantLoss: -(ln(0.9) + ln(0.8) + ln(0.4) + ln(0.5)) / 4,
			wantGrad: []float64{-0.1 / 0.09 / 4, 0.2 / 0.16 / 4, 0.6 / 0.24 / 4, -0.5 / 0.25 / 4},
		},
		{
			name: "categorical from logits", loss: CategoricalCrossentropy(FromLogits(true)),
			pred: []float64{0, ln(2), ln(5)}, y: []float64{0, 1, 0}, shape: []int{1, 3},
			// softmax = [1, 2, 5]/8
			wantLoss: -ln(2.0 / 8),
			wantGrad: []float64{1.0 / 8, 2.0/8 - 1, 5.0 / 8},
		},
		{
			name: "binary from logits", loss: BinaryCrossentropy(FromLogits(true)),
			pred: []float64{0, ln(3)}, y: []float64{1, 0}, shape: []int{2, 1},
			// sigmoid = [1/2, 3/4]
			wantLoss: -(ln(0.5) + ln(0.25)) / 2,
			wantGrad: []float64{(0.5 - 1) / 2, 0.75 / 2},
		},
		{
			name: "clipped", loss: CategoricalCrossentropy(),
			pred: []float64{0, 1}, y: []float64{1, 0}, shape: []int{1, 2},
			wantLoss: -ln(Epsilon),
			wantGrad: []float64{1 - 1/Epsilon, 1},
		},
		{
			// Saturation: probability 1e-9 on the true class costs -ln 2^-16 = 11.09 on both
			// engines, and the gradient follows the clip.
			name: "saturated", loss: CategoricalCrossentropy(),
			pred: []float64{1e-9, 1 - 1e-9}, y: []float64{1, 0}, shape: []int{1, 2},
			wantLoss: 16 * math.Ln2,
			wantGrad: []float64{1 - 65536, 1},
		},
		{
			name: "binary saturated", loss: BinaryCrossentropy(),
			pred: []float64{1e-9, 1}, y: []float64{1, 0}, shape: []int{2, 1},
			wantLoss: (16*math.Ln2 + 16*math.Ln2) / 2,
			wantGrad: []float64{(Epsilon - 1) / (Epsilon * (1 - Epsilon)) / 2, (1 - Epsilon) / (Epsilon * (1 - Epsilon)) / 2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, y := tensor(t, b, tc.pred, tc.shape...), tensor(t, b, tc.y, tc.shape...)
			l, err := tc.loss.Forward(b, p, y)
			require.NoError(t, err)
			assert.Equal(t, []int{}, l.Shape())
			assert.InDelta(t, tc.wantLoss, vf(t)(l, nil)[0], 1e-12)
			assert.InDeltaSlice(t, tc.wantGrad, vf(t)(tc.loss.Backward(b, p, y)), 1e-9)
		})
	}
}

func TestFusedGradientEqualsChainRule(t *testing.T) {
	// For softmax + categorical and sigmoid + binary cross-entropy, (p - y)/n equals the
	// loss gradient pushed through the activation's derivative.
	r := rand.New(rand.NewPCG(1, 2))
	b := plain.New()
	z := make([]float64, 12)
	for i := range z {
		z[i] = r.Float64()*4 - 2
	}
	zt := tensor(t, b, z, 4, 3)
	y := tensor(t, b, []float64{0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0}, 4, 3)

	p, err := b.Softmax(zt)
	require.NoError(t, err)
	dz, ok, err := CategoricalCrossentropy().BackwardLogits(b, "softmax", p, y)
	require.NoError(t, err)
	require.True(t, ok)
	// Same as the from-logits loss's gradient.
	assert.InDeltaSlice(t, vf(t)(CategoricalCrossentropy(FromLogits(true)).Backward(b, zt, y)), vf(t)(dz, nil), 1e-12)
	// And as numerical differentiation of the loss of softmax(z).
	lossAt := func(z []float64) float64 {
		p, err := b.Softmax(tensor(t, b, z, 4, 3))
		require.NoError(t, err)
		return vf(t)(CategoricalCrossentropy().Forward(b, p, y))[0]
	}
	got := vf(t)(dz, nil)
	for i := range z {
		old := z[i]
		z[i] = old + 1e-6
		lp := lossAt(z)
		z[i] = old - 1e-6
		lm := lossAt(z)
		z[i] = old
		assert.InDelta(t, (lp-lm)/2e-6, got[i], 1e-6)
	}

	s, err := b.Sigmoid(zt)
	require.NoError(t, err)
	dzb, ok, err := BinaryCrossentropy().BackwardLogits(b, "sigmoid", s, y)
	require.NoError(t, err)
	require.True(t, ok)
	g := vf(t)(BinaryCrossentropy().Backward(b, s, y))
	sv := vf(t)(s, nil)
	for i := range g {
		assert.InDelta(t, g[i]*sv[i]*(1-sv[i]), vf(t)(dzb, nil)[i], 1e-9)
	}
	// No fusion for other pairs.
	_, ok, err = MeanSquaredError().BackwardLogits(b, "softmax", p, y)
	require.NoError(t, err)
	assert.False(t, ok)
	_, ok, err = CategoricalCrossentropy().BackwardLogits(b, "relu", p, y)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestTargets(t *testing.T) {
	sp := SparseCategoricalCrossentropy()
	size, err := sp.TargetSize([]int{3})
	require.NoError(t, err)
	assert.Equal(t, 1, size)
	enc, err := sp.EncodeTargets([]float64{2, 0}, []int{3})
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 0, 1, 1, 0, 0}, enc)
	_, err = sp.EncodeTargets([]float64{3}, []int{3})
	assert.ErrorContains(t, err, "not a class index in [0, 3)")
	_, err = sp.EncodeTargets([]float64{1.5}, []int{3})
	assert.Error(t, err)
	_, err = sp.TargetSize([]int{1})
	assert.ErrorContains(t, err, "fewer than 2 classes")
	size, err = CategoricalCrossentropy().TargetSize([]int{10})
	require.NoError(t, err)
	assert.Equal(t, 10, size)
	_, err = CategoricalCrossentropy().EncodeTargets(make([]float64, 15), []int{10})
	assert.ErrorContains(t, err, "not a whole number of samples")

	b := plain.New()
	_, err = MeanSquaredError().Forward(b, tensor(t, b, make([]float64, 4), 2, 2), tensor(t, b, make([]float64, 4), 4, 1))
	assert.ErrorContains(t, err, "mean_squared_error: predictions of shape [2 2] and targets of shape [4 1] differ")
}

func TestGetAndConfig(t *testing.T) {
	l, err := Get("mse")
	require.NoError(t, err)
	assert.Equal(t, "mean_squared_error", l.Name())
	_, err = Get("hinge")
	assert.ErrorContains(t, err, `unknown loss "hinge"`)
	l2, err := FromConfig("categorical_crossentropy", []byte(`{"from_logits": true}`))
	require.NoError(t, err)
	assert.True(t, l2.FromLogits())
	assert.Equal(t, Config{FromLogits: true}, l2.Config())
}

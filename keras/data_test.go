package keras

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/nd"
	"github.com/gotfe/gotfe/optimizers"
)

func twoFeatures(t *testing.T, out int, act string) *Sequential {
	t.Helper()
	m, err := NewSequential(layers.Input(2), layers.Dense(out, layers.Activation(act)))
	require.NoError(t, err)
	return m
}

// Six values for a model of two features are one sample of six, an error naming both shapes,
// never three samples of two; a gonum matrix is one sample per row.
func TestDataCarriesItsShape(t *testing.T) {
	m := twoFeatures(t, 1, "sigmoid")
	require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.BinaryCrossentropy()))
	six := []float64{1, 2, 3, 4, 5, 6}
	_, err := m.Predict(nd.New(six, 1, 6), Verbose(0))
	assert.EqualError(t, err, "keras: Predict: x has shape (1, 6), but the model takes samples of shape (None, 2)")
	_, err = m.Predict(nd.New(six, 6), Verbose(0))
	assert.EqualError(t, err, "keras: Predict: x has shape (6,), but the model takes samples of shape (None, 2)")
	p, err := m.Predict(nd.New(six, 3, 2), Verbose(0))
	require.NoError(t, err)
	assert.Equal(t, []int{3, 1}, p.Shape(), "three samples when the shape says so")

	// Fit blames x, not y, for a wrong feature count.
	_, err = m.Fit(nd.New(six, 2, 3), nd.New([]float64{0, 1}, 2), Verbose(0))
	assert.EqualError(t, err, "keras: Fit: x has shape (2, 3), but the model takes samples of shape (None, 2)")
	_, err = m.Fit(nd.New(six[:5], 3, 2), nd.New([]float64{0, 1, 1}, 3), Verbose(0))
	assert.EqualError(t, err, "keras: Fit: x: nd: 5 values do not fit shape (3, 2): the shape has 6 elements")
	// Images given flat to a convolutional model: the error says how to reshape them.
	cnn, err := NewSequential(layers.Input(4, 4, 1), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(1))
	require.NoError(t, err)
	_, err = cnn.Predict(nd.Zeros(5, 16), Verbose(0))
	assert.EqualError(t, err, "keras: Predict: x has shape (5, 16), but the model takes samples of shape (None, 4, 4, 1): reshape it to (5, 4, 4, 1) (x.Reshape(-1, 4, 4, 1))")
	_, err = cnn.Predict(nd.Zeros(5, 16).Reshape(-1, 4, 4, 1), Verbose(0))
	require.NoError(t, err)

	// A gonum matrix gives the same predictions as the array of its rows.
	g := mat.NewDense(3, 2, six)
	pg, err := m.Predict(nd.Matrix(g), Verbose(0))
	require.NoError(t, err)
	assert.Equal(t, p.Data(), pg.Data())
	pt, err := m.Predict(nd.Matrix(g.T()), Verbose(0)) // 2 rows of 3: not the model's
	assert.Nil(t, pt)
	assert.EqualError(t, err, "keras: Predict: x has shape (2, 3), but the model takes samples of shape (None, 2)")
}

// Targets in the loss's layout are accepted, integer labels included; anything else is an
// error naming the loss to use or the encoding to apply.
func TestTargets(t *testing.T) {
	x := nd.Rows([][]float64{{0, 1}, {1, 0}, {1, 1}, {0, 0}})
	labels := nd.Labels([]int{0, 3, 1, 2})

	// Integer labels with the sparse loss, as [n] or [n, 1].
	sparse := twoFeatures(t, 4, "softmax")
	require.NoError(t, sparse.Compile(Optimizer("adam"), Loss("sparse_categorical_crossentropy"), Metrics("accuracy")))
	_, err := sparse.Fit(x, labels, Verbose(0))
	require.NoError(t, err)
	_, err = sparse.Evaluate(x, labels.Reshape(4, 1), Verbose(0))
	require.NoError(t, err)
	// The same labels one-hot with the categorical loss.
	cat := twoFeatures(t, 4, "softmax")
	require.NoError(t, cat.Compile(Optimizer("adam"), Loss("categorical_crossentropy")))
	_, err = cat.Fit(x, nd.OneHot(labels, 4), Verbose(0))
	require.NoError(t, err)
	_, err = cat.Fit(x, labels, Verbose(0))
	assert.EqualError(t, err, "keras: Fit: y has shape (4,), class indices, but the loss categorical_crossentropy takes one-hot rows of 4 classes, shape (4, 4): "+
		"use losses.SparseCategoricalCrossentropy() for class indices, or one-hot encode them (nd.OneHot)")

	// Binary cross-entropy takes targets in [0, 1]; labels 0..3 are classes.
	bin := twoFeatures(t, 1, "sigmoid")
	require.NoError(t, bin.Compile(Optimizer("sgd"), Loss("binary_crossentropy")))
	_, err = bin.Fit(x, labels, Verbose(0))
	assert.EqualError(t, err, "keras: Fit: binary_crossentropy: sample 1 has target 3, outside [0, 1]: labels 0..3 are classes; "+
		"use losses.SparseCategoricalCrossentropy() with a softmax output of 4 units")
	_, err = bin.Fit(x, nd.New([]float64{0, 0.5, 1, -0.25}, 4), Verbose(0))
	assert.EqualError(t, err, "keras: Fit: binary_crossentropy: sample 3 has target -0.25, outside [0, 1]")
	_, err = bin.Fit(x, nd.New([]float64{0, 0.5, 1, 0.25}, 4, 1), Verbose(0))
	require.NoError(t, err, "probabilities as targets, [n] or [n, 1]")
	_, err = bin.Fit(x, nd.OneHot(labels, 4), Verbose(0))
	assert.EqualError(t, err, "keras: Fit: y has shape (4, 4), but the loss binary_crossentropy takes targets of shape (4, 1) for outputs (None, 1)")

	// One-hot rows must sum to 1.
	_, err = cat.Fit(x, nd.Rows([][]float64{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 1, 1, 0}, {0, 0, 0, 1}}), Verbose(0))
	assert.EqualError(t, err, "keras: Fit: categorical_crossentropy: row 2 sums to 2, not 1: targets are one-hot rows "+
		"(nd.OneHot turns class labels into them), or use losses.SparseCategoricalCrossentropy() for class indices")
	// The sparse loss given one-hot rows.
	_, err = sparse.Fit(x, nd.OneHot(labels, 4), Verbose(0))
	assert.EqualError(t, err, "keras: Fit: y has shape (4, 4), one-hot rows of 4 classes, but the loss sparse_categorical_crossentropy takes class indices, shape (4,): "+
		"use losses.CategoricalCrossentropy() for one-hot targets, or give the class indices")
	// Names that Compile does not know.
	assert.EqualError(t, cat.Compile(Optimizer("adagrad"), Loss("mse")), `keras: Compile: optimizers: unknown optimizer "adagrad" (want sgd or adam)`)
	assert.ErrorContains(t, cat.Compile(Optimizer("adam"), Loss("hinge")), `keras: Compile: losses: unknown loss "hinge"`)
}

// Sample weights scale each sample's loss and gradient; class weights are sample weights read
// from the targets.
func TestSampleAndClassWeights(t *testing.T) {
	x := nd.Rows([][]float64{{0.5, -1}, {1, 0.25}, {-0.5, 0.5}, {0.25, 1}})
	y := nd.New([]float64{1, 0, 1, 0}, 4)
	w := []float64{2, 0.5, 1, 3}
	build := func() *Sequential {
		m := twoFeatures(t, 1, "sigmoid")
		require.NoError(t, m.SetWeights([][]float64{{0.5, -0.25}, {0.1}}))
		require.NoError(t, m.Compile(optimizers.SGD(0.5), losses.BinaryCrossentropy()))
		return m
	}
	// The logged loss of one full batch is the mean of weight × loss, from the initial weights.
	m := build()
	h, err := m.Fit(x, y, SampleWeight(nd.New(w, 4)), BatchSize(4), Shuffle(false), Verbose(0))
	require.NoError(t, err)
	want := 0.0
	for i := range 4 {
		z := 0.5*x.At(i, 0) - 0.25*x.At(i, 1) + 0.1
		p := 1 / (1 + math.Exp(-z))
		l := -math.Log(1 - p)
		if y.At(i) == 1 {
			l = -math.Log(p)
		}
		want += w[i] * l
	}
	assert.InDelta(t, want/4, h.History["loss"][0], 1e-12)
	weighted, err := m.GetWeights()
	require.NoError(t, err)

	// Weights of 2 everywhere are a doubled learning rate.
	m2 := build()
	_, err = m2.Fit(x, y, SampleWeight(nd.New([]float64{2, 2, 2, 2}, 4)), BatchSize(4), Shuffle(false), Verbose(0))
	require.NoError(t, err)
	m3 := build()
	require.NoError(t, m3.Compile(optimizers.SGD(1), losses.BinaryCrossentropy()))
	_, err = m3.Fit(x, y, BatchSize(4), Shuffle(false), Verbose(0))
	require.NoError(t, err)
	w2, _ := m2.GetWeights()
	w3, _ := m3.GetWeights()
	for i := range w2 {
		assert.InDeltaSlice(t, w3[i], w2[i], 1e-12)
	}

	// Class weights {1: 2, 0: 0.5} equal the sample weights they give.
	m4 := build()
	_, err = m4.Fit(x, y, ClassWeight(map[int]float64{1: 2, 0: 0.5}), BatchSize(4), Shuffle(false), Verbose(0))
	require.NoError(t, err)
	m5 := build()
	_, err = m5.Fit(x, y, SampleWeight(nd.New([]float64{2, 0.5, 2, 0.5}, 4)), BatchSize(4), Shuffle(false), Verbose(0))
	require.NoError(t, err)
	w4, _ := m4.GetWeights()
	w5, _ := m5.GetWeights()
	assert.Equal(t, w5, w4)
	assert.NotEqual(t, weighted, w4)

	// The same through a loss without a fused gradient (mean squared error, linear output).
	lin := func(lr float64) *Sequential {
		m := twoFeatures(t, 1, "linear")
		require.NoError(t, m.SetWeights([][]float64{{0.5, -0.25}, {0.1}}))
		require.NoError(t, m.Compile(optimizers.SGD(lr), losses.MeanSquaredError()))
		return m
	}
	m6, m7 := lin(0.1), lin(0.2)
	_, err = m6.Fit(x, y, SampleWeight(nd.New([]float64{2, 2, 2, 2}, 4)), BatchSize(4), Shuffle(false), Verbose(0))
	require.NoError(t, err)
	_, err = m7.Fit(x, y, BatchSize(4), Shuffle(false), Verbose(0))
	require.NoError(t, err)
	w6, _ := m6.GetWeights()
	w7, _ := m7.GetWeights()
	for i := range w6 {
		assert.InDeltaSlice(t, w7[i], w6[i], 1e-12)
	}

	_, err = build().Fit(x, y, SampleWeight(nd.New(w[:3], 3)), Verbose(0))
	assert.EqualError(t, err, "keras: Fit: sample weights have shape (3,), want (4,): one weight per sample")
	_, err = build().Fit(x, y, ClassWeight(map[int]float64{1: 2}), Verbose(0))
	assert.EqualError(t, err, "keras: Fit: class weights: sample 1 is of class 0, which ClassWeight does not weigh")
	_, err = build().Fit(x, y, SampleWeight(nd.New([]float64{1, -1, 1, 1}, 4)), Verbose(0))
	assert.EqualError(t, err, "keras: Fit: sample 1 has weight -1, not a finite non-negative number")
}

// Summary's last line and Engine say which engine the model runs on.
func TestEngine(t *testing.T) {
	m := twoFeatures(t, 1, "sigmoid")
	assert.Equal(t, "plain (float64, in the clear: nothing is secret-shared)", m.Engine())
	require.NoError(t, m.SetRunner(newFakeRunner()))
	assert.Contains(t, m.Engine(), "a custom runner (*keras.fakeRunner)")
}

package keras

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/datasets"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/optimizers"
)

// TestMNISTMLPFull trains the MLP 784-128(relu)-128(relu)-10(softmax) with plain SGD on all of
// MNIST on the plain engine and checks it reaches 97% test accuracy. It takes a minute, so it
// runs only with GOTFE_MNIST_FULL=1:
//
//	GOTFE_MNIST_FULL=1 go test ./keras -run MNISTMLPFull -v
func TestMNISTMLPFull(t *testing.T) {
	if os.Getenv("GOTFE_MNIST_FULL") == "" {
		t.Skip("set GOTFE_MNIST_FULL=1 to train on all of MNIST")
	}
	d, err := datasets.LoadMNIST("")
	require.NoError(t, err)
	y, err := datasets.OneHot(d.TrainY, datasets.NumClasses)
	require.NoError(t, err)
	yt, err := datasets.OneHot(d.TestY, datasets.NumClasses)
	require.NoError(t, err)
	m, err := NewSequential(
		layers.Input(datasets.ImageSize),
		layers.Dense(128, layers.Activation("relu")),
		layers.Dense(128, layers.Activation("relu")),
		layers.Dense(10, layers.Activation("softmax")),
	)
	require.NoError(t, err)
	require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy(), Metrics("accuracy")))
	verbose := 2
	if !testing.Verbose() {
		verbose = 0
	}
	const epochs, batch = 10, 128
	start := time.Now()
	_, err = m.Fit(d.TrainX, y, Epochs(epochs), BatchSize(batch), ValidationData(d.TestX, yt), Verbose(verbose))
	require.NoError(t, err)
	elapsed := time.Since(start)
	logs, err := m.Evaluate(d.TestX, yt, Verbose(0))
	require.NoError(t, err)
	steps := epochs * ((d.NumTrain() + batch - 1) / batch)
	t.Logf("test accuracy %.4f, loss %.4f; %d epochs in %v (with validation), %.2f ms per training batch of %d",
		logs["accuracy"], logs["loss"], epochs, elapsed.Round(time.Millisecond),
		float64(elapsed.Microseconds())/1e3/float64(steps), batch)
	assert.GreaterOrEqual(t, logs["accuracy"], 0.97)
}

// BenchmarkMLPTrainStep measures one training step (forward, loss, backward, SGD update) of
// the MNIST MLP 784-128-128-10 on a batch of 128 on the plain engine, on MNIST images (whose
// zero pixels the matrix products skip) and on dense random inputs.
func BenchmarkMLPTrainStep(b *testing.B) {
	const n, batch = 128 * 16, 128
	xm, ym, _, _ := smallMNIST(b, n, 0)
	r := rand.New(rand.NewPCG(1, 1))
	xr := make([]float64, n*784)
	for i := range xr {
		xr[i] = r.Float64()
	}
	b.Run("mnist", func(b *testing.B) { benchMLP(b, xm, ym, n, batch) })
	b.Run("dense", func(b *testing.B) { benchMLP(b, xr, ym, n, batch) })
}

func benchMLP(b *testing.B, x, y []float64, n, batch int) {
	m, err := NewSequential(layers.Input(784), layers.Dense(128, layers.Activation("relu")),
		layers.Dense(128, layers.Activation("relu")), layers.Dense(10, layers.Activation("softmax")))
	require.NoError(b, err)
	require.NoError(b, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy(), Metrics("accuracy")))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Fit(x, y, BatchSize(batch), Verbose(0)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*n/batch), "ms/step")
}

// BenchmarkCNNTrainStep measures one training step of a small CNN (Conv2D 8 3x3 relu,
// MaxPooling2D, Flatten, Dense 10 softmax) on a batch of 64 MNIST-sized images.
func BenchmarkCNNTrainStep(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const n, batch = 64 * 4, 64
	x := make([]float64, n*784)
	for i := range x {
		x[i] = r.Float64()
	}
	y := make([]float64, n*10)
	for i := 0; i < n; i++ {
		y[i*10+r.IntN(10)] = 1
	}
	m, err := NewSequential(layers.Input(28, 28, 1), layers.Conv2D(8, [2]int{3, 3}, layers.Activation("relu")),
		layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, layers.Activation("softmax")))
	require.NoError(b, err)
	require.NoError(b, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Fit(x, y, BatchSize(batch), Verbose(0)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*n/batch), "ms/step")
}

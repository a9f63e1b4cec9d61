package keras

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/optimizers"
)

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
		if _, err := m.Fit(xs(m, x), ys(m, y), BatchSize(batch), Verbose(0)); err != nil {
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
		if _, err := m.Fit(xs(m, x), ys(m, y), BatchSize(batch), Verbose(0)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*n/batch), "ms/step")
}

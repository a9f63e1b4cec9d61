package mpc_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/backend/plain"
	"github.com/gotfe/gotfe/datasets"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/optimizers"
	"github.com/gotfe/gotfe/secure/aby3"
)

func mnistSubset(t *testing.T, n int) (x, y []float64) {
	t.Helper()
	d, err := datasets.LoadMNIST("")
	require.NoError(t, err)
	d, err = d.Subset(n, 1)
	require.NoError(t, err)
	y, err = datasets.OneHot(d.TrainY, 10)
	require.NoError(t, err)
	return d.TrainX, y
}

// A small CNN (Conv2D - ReLU - MaxPooling2D - Flatten - Dense) trains on both engines from the
// same initial weights: the loss falls on each, and the secure losses follow the plain ones.
func TestCNNTrainsOnBothEngines(t *testing.T) {
	x, y := mnistSubset(t, 256)
	losses3 := map[string][]float64{}
	for _, engine := range []string{"plain", "secure"} {
		m, err := keras.NewSequential(
			layers.Input(28, 28, 1),
			layers.Conv2D(4, [2]int{5, 5}, layers.Strides(2, 2)),
			layers.ReLU(),
			layers.MaxPooling2D(layers.PoolSize(2, 2)),
			layers.Flatten(),
			layers.Dense(10, layers.Activation("softmax")),
		)
		require.NoError(t, err)
		require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy(), keras.Metrics("accuracy")))
		if engine == "secure" {
			r := mpc.NewLocalRunner(aby3.Config{}, nil)
			defer r.Close()
			require.NoError(t, m.SetRunner(r))
		}
		h, err := m.Fit(x, y, keras.Epochs(3), keras.BatchSize(32), keras.Verbose(0))
		require.NoError(t, err)
		l := h.History["loss"]
		assert.Less(t, l[2], l[0], "%s: the loss falls", engine)
		losses3[engine] = l
	}
	for i := range losses3["plain"] {
		assert.InDelta(t, losses3["plain"][i], losses3["secure"][i], 0.05, "epoch %d", i)
	}
}

// Each party checkpoints its own shares at the end of an epoch (atomically); a new runner (a
// crash and restart) loads them and resumes training from the next epoch with the very same
// weights.
func TestCheckpointSharesAndResume(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		x, y := mnistSubset(t, 256)
		dir := t.TempDir()
		path := filepath.Join(dir, "ckpt-{epoch:02d}.gotfe")
		build := func() *keras.Sequential {
			m, err := keras.NewSequential(layers.Input(784), layers.Dense(16, layers.Activation("relu")),
				layers.Dense(10, layers.Activation("softmax")))
			require.NoError(t, err)
			require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy(), keras.Metrics("accuracy")))
			return m
		}
		m := build()
		r := mpc.NewLocalRunner(cfg, nil)
		require.NoError(t, m.SetRunner(r))
		h1, err := m.Fit(x, y, keras.Epochs(1), keras.BatchSize(32), keras.Verbose(0),
			keras.Callbacks(keras.ModelCheckpoint(path, keras.SaveShares(true))))
		require.NoError(t, err)
		want, err := m.GetWeights()
		require.NoError(t, err)
		require.NoError(t, r.Close())

		saved := filepath.Join(dir, "ckpt-01.gotfe")
		for p := 0; p < 3; p++ {
			_, err := os.Stat(keras.SharesPath(saved, p))
			require.NoError(t, err, "party %d's shares", p)
		}
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 3, "no temporary files are left behind")

		resumed := build()
		r2 := mpc.NewLocalRunner(cfg, nil)
		defer r2.Close()
		require.NoError(t, resumed.SetRunner(r2))
		require.NoError(t, resumed.LoadShares(saved))
		got, err := resumed.GetWeights()
		require.NoError(t, err)
		require.Equal(t, len(want), len(got))
		for i := range want {
			assert.Equal(t, want[i], got[i], "weight %d is restored exactly", i)
		}
		h2, err := resumed.Fit(x, y, keras.Epochs(2), keras.InitialEpoch(1), keras.BatchSize(32), keras.Verbose(0))
		require.NoError(t, err)
		assert.Equal(t, []int{1}, h2.Epoch)
		assert.Less(t, h2.History["loss"][0], h1.History["loss"][0])
	})
}

// The secure engine's Fit follows the plain engine's step by step on the MLP (same seed, same
// batches), within the fixed-point tolerance accumulated over a few steps.
func TestMLPAgreesWithPlain(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		x, y := mnistSubset(t, 128)
		var weights [2][][]float64
		for i, engine := range []string{"plain", "secure"} {
			m, err := keras.NewSequential(layers.Input(784), layers.Dense(32, layers.Activation("relu")),
				layers.Dense(10, layers.Activation("softmax")))
			require.NoError(t, err)
			require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy()))
			if engine == "secure" {
				r := mpc.NewLocalRunner(cfg, nil)
				defer r.Close()
				require.NoError(t, m.SetRunner(r))
			} else {
				require.NoError(t, m.SetRunner(plain.NewRunner()))
			}
			_, err = m.Fit(x, y, keras.Epochs(1), keras.BatchSize(32), keras.Verbose(0), keras.Shuffle(false))
			require.NoError(t, err)
			weights[i], err = m.GetWeights()
			require.NoError(t, err)
		}
		for i := range weights[0] {
			for j := range weights[0][i] {
				require.InDelta(t, weights[0][i][j], weights[1][i][j], 2e-3, "weight %d[%d]", i, j)
			}
		}
	})
}

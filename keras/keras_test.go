package keras

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/datasets"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/nd"
	"github.com/gotfe/gotfe/optimizers"
)

var (
	mnistOnce sync.Once
	mnist     *datasets.MNIST
	mnistErr  error
)

// smallMNIST returns the first n training images with one-hot labels, and the first m test
// images with one-hot labels.
func smallMNIST(t testing.TB, n, m int) (x, y, xt, yt []float64) {
	t.Helper()
	mnistOnce.Do(func() { mnist, mnistErr = datasets.LoadMNIST("") })
	require.NoError(t, mnistErr, "MNIST comes with the GoMNIST module dependency")
	s, err := mnist.Subset(n, m)
	require.NoError(t, err)
	y, err = datasets.OneHot(s.TrainY, 10)
	require.NoError(t, err)
	yt, err = datasets.OneHot(s.TestY, 10)
	require.NoError(t, err)
	return s.TrainX(), y, s.TestX(), yt
}

func mlp(t testing.TB, hidden int) *Sequential {
	t.Helper()
	m, err := NewSequential(
		layers.Input(784),
		layers.Dense(hidden, layers.Activation("relu")),
		layers.Dense(10, layers.Activation("softmax")),
	)
	require.NoError(t, err)
	return m
}

func TestMLPLossFalls(t *testing.T) {
	x, y, xt, yt := smallMNIST(t, 1024, 256)
	m := mlp(t, 32)
	require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy(), Metrics("accuracy")))
	h, err := m.Fit(xs(m, x), ys(m, y), Epochs(4), BatchSize(64), ValidationData(xs(m, xt), ys(m, yt)), Verbose(0))
	require.NoError(t, err)
	require.Equal(t, []int{0, 1, 2, 3}, h.Epoch)
	assert.Equal(t, []string{"loss", "accuracy", "val_loss", "val_accuracy"}, h.Keys())
	loss := h.History["loss"]
	for i := 1; i < len(loss); i++ {
		assert.Less(t, loss[i], loss[i-1], "loss falls every epoch: %v", loss)
	}
	assert.Less(t, loss[0], 2.0)
	assert.Greater(t, h.History["accuracy"][3], 0.8)
	assert.Greater(t, h.History["val_accuracy"][3], 0.75)

	logs, err := m.Evaluate(xs(m, xt), ys(m, yt), Verbose(0))
	require.NoError(t, err)
	assert.InDelta(t, h.History["val_loss"][3], logs["loss"], 1e-9, "Evaluate agrees with the validation of the last epoch")
	assert.InDelta(t, h.History["val_accuracy"][3], logs["accuracy"], 1e-12)

	pa, err := m.Predict(xs(m, xt[:3*784]), Verbose(0))
	require.NoError(t, err)
	require.Equal(t, []int{3, 10}, pa.Shape())
	p := pa.Data()
	for r := 0; r < 3; r++ {
		s := 0.0
		for _, v := range p[r*10 : r*10+10] {
			s += v
		}
		assert.InDelta(t, 1, s, 1e-12)
	}
	cls, err := m.PredictClasses(xs(m, xt[:3*784]), Verbose(0))
	require.NoError(t, err)
	require.Len(t, cls, 3)
	for r, c := range cls {
		for _, v := range p[r*10 : r*10+10] {
			assert.LessOrEqual(t, v, p[r*10+c])
		}
	}
}

func TestCNNLossFalls(t *testing.T) {
	x, yOneHot, _, _ := smallMNIST(t, 256, 0)
	// Sparse labels this time.
	y := make([]float64, 256)
	for i := range y {
		for c := 0; c < 10; c++ {
			if yOneHot[i*10+c] == 1 {
				y[i] = float64(c)
			}
		}
	}
	m, err := NewSequential(
		layers.Input(28, 28, 1),
		layers.Conv2D(4, [2]int{3, 3}, layers.Activation("relu")),
		layers.MaxPooling2D(),
		layers.Flatten(),
		layers.Dense(10, layers.Activation("softmax")),
	)
	require.NoError(t, err)
	require.NoError(t, m.Compile(optimizers.Adam(0.01), losses.SparseCategoricalCrossentropy(), Metrics("accuracy")))
	h, err := m.Fit(xs(m, x), ys(m, y), Epochs(3), BatchSize(32), Verbose(0))
	require.NoError(t, err)
	loss := h.History["loss"]
	assert.Less(t, loss[2], loss[0], "loss falls: %v", loss)
	assert.Greater(t, h.History["accuracy"][2], h.History["accuracy"][0])
}

func TestModelsOnOtherLayers(t *testing.T) {
	// Every layer in one model, trained a few steps with each loss and optimizer: checks the
	// plumbing (shapes, fused and unfused gradients) end to end.
	r := rand.New(rand.NewPCG(1, 2))
	// Label: whether the image's first channel is brighter than its second.
	n := 48
	x := make([]float64, n*6*6*2)
	yb := make([]float64, n)
	for i := 0; i < n; i++ {
		d := 0.0
		for p := 0; p < 36; p++ {
			a, b := r.Float64(), r.Float64()
			x[(i*36+p)*2], x[(i*36+p)*2+1] = a, b
			d += a - b
		}
		if d > 0 {
			yb[i] = 1
		}
	}
	for _, tc := range []struct {
		name string
		loss losses.Loss
		opt  optimizers.Optimizer
		last []layers.Layer
		y    []float64
	}{
		{"binary sigmoid", losses.BinaryCrossentropy(), optimizers.SGD(0.05, optimizers.Momentum(0.9), optimizers.Nesterov(true)),
			[]layers.Layer{layers.Dense(1, layers.Activation("sigmoid"))}, yb},
		{"binary logits", losses.BinaryCrossentropy(losses.FromLogits(true)), optimizers.Adam(0.01, optimizers.AMSGrad(true)),
			[]layers.Layer{layers.Dense(1)}, yb},
		{"mse tanh", losses.MeanSquaredError(), optimizers.SGD(0.05),
			[]layers.Layer{layers.Dense(1), layers.Activation("tanh")}, yb},
		{"categorical logits", losses.SparseCategoricalCrossentropy(losses.FromLogits(true)), optimizers.Adam(0.01),
			[]layers.Layer{layers.Dense(2)}, yb},
		{"softmax layer", losses.SparseCategoricalCrossentropy(), optimizers.Adam(0.01),
			[]layers.Layer{layers.Dense(2), layers.Activation("softmax")}, yb},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls := append([]layers.Layer{
				layers.Input(6, 6, 2),
				layers.Conv2D(3, [2]int{3, 3}, layers.Padding("same")),
				layers.BatchNormalization(),
				layers.ReLU(),
				layers.DepthwiseConv2D([2]int{2, 2}, layers.DepthMultiplier(2), layers.Activation("relu")),
				layers.AveragePooling2D(layers.PoolSize(2, 2), layers.Padding("same")),
				layers.Conv2D(4, [2]int{1, 1}),
				layers.GlobalMaxPooling2D(),
				layers.Reshape([]int{2, 2}),
				layers.Flatten(),
				layers.Dropout(0.2),
				layers.Dense(8, layers.Activation("tanh")),
			}, tc.last...)
			m, err := NewSequential(ls...)
			require.NoError(t, err)
			require.NoError(t, m.Compile(tc.opt, tc.loss, Metrics("accuracy", "mse", "mae")))
			h, err := m.Fit(xs(m, x), ys(m, tc.y), Epochs(8), BatchSize(8), Verbose(0))
			require.NoError(t, err)
			loss := h.History["loss"]
			assert.Less(t, loss[len(loss)-1], loss[0], "loss falls: %v", loss)
			for _, k := range h.Keys() {
				for _, v := range h.History[k] {
					assert.False(t, math.IsNaN(v), k)
				}
			}
		})
	}
}

func TestGlobalAveragePoolingModel(t *testing.T) {
	m, err := NewSequential(layers.Input(4, 4, 3), layers.GlobalAveragePooling2D(), layers.Dense(2, layers.Activation("softmax")))
	require.NoError(t, err)
	require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy()))
	x := make([]float64, 4*48)
	for i := range x {
		x[i] = float64(i%7) / 7
	}
	_, err = m.Fit(xs(m, x), ys(m, []float64{1, 0, 0, 1, 1, 0, 0, 1}), Verbose(0))
	require.NoError(t, err)
}

// TestSecureStyleRunnerMatchesPlain trains the same model through the plain runner and
// through three fake parties (each with its own backend, owner-only data) and checks they
// end with the same weights, history, predictions and shares.
func TestSecureStyleRunnerMatchesPlain(t *testing.T) {
	x, y, xt, yt := smallMNIST(t, 300, 100)
	build := func() *Sequential {
		m, err := NewSequential(layers.Input(784), layers.Dense(16, layers.Activation("relu")),
			layers.Dropout(0.1), layers.Dense(10, layers.Activation("softmax")))
		require.NoError(t, err)
		require.NoError(t, m.Compile(optimizers.Adam(0.01), losses.CategoricalCrossentropy(), Metrics("accuracy")))
		return m
	}
	early := func() *EarlyStoppingCallback { return EarlyStopping(Monitor("val_accuracy"), Patience(5)) }

	pm := build()
	ph, err := pm.Fit(xs(pm, x), ys(pm, y), Epochs(2), BatchSize(50), ValidationData(xs(pm, xt), ys(pm, yt)), Verbose(0), Callbacks(early()))
	require.NoError(t, err)

	fr := newFakeRunner()
	sm := build()
	require.NoError(t, sm.SetRunner(fr))
	var out bytes.Buffer
	sh, err := sm.Fit(xs(sm, x), ys(sm, y), Epochs(2), BatchSize(50), ValidationData(xs(sm, xt), ys(sm, yt)), Verbose(1), Output(&out), Callbacks(early()))
	require.NoError(t, err)
	// The fake parties compute the metrics of several steps at once, as the secure engine does:
	// the same sums in another order.
	require.Equal(t, len(ph.History), len(sh.History))
	for k, v := range ph.History {
		assert.InDeltaSlice(t, v, sh.History[k], 1e-12, k)
	}
	assert.Equal(t, 2, strings.Count(out.String(), "Epoch "), "one party reports: %s", out.String())

	pp, err := pm.Predict(xs(pm, xt), Verbose(0))
	require.NoError(t, err)
	sp, err := sm.Predict(xs(sm, xt), Verbose(0))
	require.NoError(t, err)
	assert.Equal(t, pp, sp)
	// Another data owner receives the predictions as well.
	sp1, err := sm.Predict(xs(sm, xt[:784]), Verbose(0), DataOwner(1))
	require.NoError(t, err)
	assert.Equal(t, pp.Data()[:10], sp1.Data())

	// Each party saves its own shares; loading them into a fresh model (a fresh runner)
	// restores the same predictions.
	dir := t.TempDir()
	require.NoError(t, sm.SaveShares(filepath.Join(dir, "ckpt")))
	for p := range 3 {
		assert.FileExists(t, SharesPath(filepath.Join(dir, "ckpt"), p))
	}
	sm2 := build()
	require.NoError(t, sm2.SetRunner(newFakeRunner()))
	require.NoError(t, sm2.LoadShares(filepath.Join(dir, "ckpt")))
	sp2, err := sm2.Predict(xs(sm2, xt), Verbose(0))
	require.NoError(t, err)
	assert.Equal(t, pp, sp2)
	// Shares of another party do not load.
	require.NoError(t, os.Rename(SharesPath(filepath.Join(dir, "ckpt"), 1), SharesPath(filepath.Join(dir, "ckpt"), 2)))
	sm3 := build()
	require.NoError(t, sm3.SetRunner(newFakeRunner()))
	assert.ErrorContains(t, sm3.LoadShares(filepath.Join(dir, "ckpt")), "shares of party")

	// Revealing the weights to the owner gives the plain model's weights.
	pw, err := pm.GetWeights()
	require.NoError(t, err)
	sw, err := sm.GetWeights()
	require.NoError(t, err)
	assert.Equal(t, pw, sw)
	// The plain engine holds no shares.
	assert.ErrorContains(t, pm.SaveShares(filepath.Join(dir, "plain")), "holds no shares")
}

func TestSaveLoadRoundTrip(t *testing.T) {
	x, y, xt, _ := smallMNIST(t, 128, 16)
	m, err := NewSequential(layers.Input(28, 28, 1), layers.Conv2D(2, [2]int{3, 3}, layers.Activation("relu"), layers.Strides(2, 2)),
		layers.BatchNormalization(), layers.Flatten(), layers.Dense(10, layers.Activation("softmax"), layers.Name("head")))
	require.NoError(t, err)
	require.NoError(t, m.Compile(optimizers.SGD(0.05, optimizers.Momentum(0.5)), losses.CategoricalCrossentropy(), Metrics("accuracy")))
	_, err = m.Fit(xs(m, x), ys(m, y), Epochs(1), BatchSize(32), Verbose(0))
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "model.gotfe")
	require.NoError(t, m.Save(path))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")

	m2, err := Load(path)
	require.NoError(t, err)
	p1, err := m.Predict(xs(m, xt), Verbose(0))
	require.NoError(t, err)
	p2, err := m2.Predict(xs(m2, xt), Verbose(0))
	require.NoError(t, err)
	assert.Equal(t, p1, p2)
	assert.Equal(t, "SGD", m2.Optimizer().Name())
	assert.Equal(t, "categorical_crossentropy", m2.Loss().Name())
	assert.Equal(t, "head", m2.Layers()[3].Name())
	var s1, s2 bytes.Buffer
	require.NoError(t, m.Summary(&s1))
	require.NoError(t, m2.Summary(&s2))
	assert.Equal(t, s1.String(), s2.String())
	// The loaded model trains on.
	_, err = m2.Fit(xs(m2, x), ys(m2, y), Verbose(0))
	require.NoError(t, err)

	// Corruption is detected.
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for name, bad := range map[string][]byte{
		"flipped":   append(append([]byte{}, data[:100]...), append([]byte{data[100] ^ 1}, data[101:]...)...),
		"truncated": data[:len(data)-9],
		"empty":     nil,
		"magic":     append([]byte("NOTGOTFE"), data[8:]...),
	} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, bad, 0o600))
		_, err := Load(p)
		assert.Error(t, err, name)
	}
	_, err = Load(filepath.Join(dir, "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestSummary(t *testing.T) {
	m, err := NewSequential(
		layers.Input(28, 28, 1),
		layers.Conv2D(32, [2]int{3, 3}, layers.Activation("relu")),
		layers.MaxPooling2D(),
		layers.Flatten(),
		layers.BatchNormalization(),
		layers.Dense(10, layers.Activation("softmax")),
	)
	require.NoError(t, err)
	var sb strings.Builder
	require.NoError(t, m.Summary(&sb))
	want := `Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                             ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ conv2d (Conv2D)                          │ (None, 26, 26, 32)     │           320 │
├──────────────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)             │ (None, 13, 13, 32)     │             0 │
├──────────────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)                        │ (None, 5408)           │             0 │
├──────────────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization (BatchNormalization) │ (None, 5408)           │        21,632 │
├──────────────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                            │ (None, 10)             │        54,090 │
└──────────────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 76,042 (594.08 KB)
 Trainable params: 65,226 (509.58 KB)
 Non-trainable params: 10,816 (84.50 KB)
 Engine: plain (float64, in the clear: nothing is secret-shared)
`
	assert.Equal(t, want, sb.String())
	n, err := m.CountParams()
	require.NoError(t, err)
	assert.Equal(t, 76042, n)
}

func TestProgressOutput(t *testing.T) {
	x, y, xt, yt := smallMNIST(t, 100, 20)
	m := mlp(t, 8)
	require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy(), Metrics("accuracy")))
	var out bytes.Buffer
	_, err := m.Fit(xs(m, x), ys(m, y), Epochs(2), BatchSize(25), ValidationData(xs(m, xt), ys(m, yt)), Verbose(2), Output(&out))
	require.NoError(t, err)
	line := `4/4 - \d+s - \d+(us|ms|s)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}\n`
	assert.Regexp(t, regexp.MustCompile(`^Epoch 1/2\n`+line+`Epoch 2/2\n`+line+`$`), out.String())

	out.Reset()
	_, err = m.Fit(xs(m, x), ys(m, y), Epochs(1), BatchSize(25), Verbose(1), Output(&out))
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^Epoch 1/1\n4/4 ━{20} \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}\n$`), out.String())

	out.Reset()
	_, err = m.Evaluate(xs(m, xt), ys(m, yt), Verbose(2), Output(&out), BatchSize(10))
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^2/2 - \d+s - \d+(us|ms|s)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}\n$`), out.String())
	out.Reset()
	_, err = m.Fit(xs(m, x), ys(m, y), Verbose(0), Output(&out))
	require.NoError(t, err)
	assert.Empty(t, out.String())
}

func TestCallbacks(t *testing.T) {
	x, y, xt, yt := smallMNIST(t, 200, 50)
	m := mlp(t, 8)
	require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy(), Metrics("accuracy")))

	// The loss falls, so in "max" mode it never improves after the first epoch: training stops
	// once patience runs out, and the first epoch's weights come back.
	var first [][]float64
	grab := CallbackFuncs{EpochEnd: func(m *Sequential, epoch int, logs Logs) error {
		if epoch == 0 {
			var err error
			first, err = m.GetWeights()
			return err
		}
		return nil
	}}
	es := EarlyStopping(Monitor("loss"), Mode("max"), Patience(2), RestoreBestWeights(true))
	h, err := m.Fit(xs(m, x), ys(m, y), Epochs(10), BatchSize(50), Verbose(0), Callbacks(grab, es))
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 2}, h.Epoch)
	assert.Equal(t, 2, es.StoppedEpoch)
	assert.Equal(t, 0, es.BestEpoch())
	w, err := m.GetWeights()
	require.NoError(t, err)
	assert.Equal(t, first, w)

	// Checkpoints: every epoch, with formatted names, then best only.
	dir := t.TempDir()
	ck := ModelCheckpoint(filepath.Join(dir, "m-{epoch:02d}-{val_loss:.2f}.gotfe"))
	_, err = m.Fit(xs(m, x), ys(m, y), Epochs(2), BatchSize(50), ValidationData(xs(m, xt), ys(m, yt)), Verbose(0), Callbacks(ck))
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(dir, "m-0[12]-*.gotfe"))
	require.NoError(t, err)
	assert.Len(t, files, 2)
	best := ModelCheckpoint(filepath.Join(dir, "best.gotfe"), SaveBestOnly(true), Monitor("val_accuracy"))
	_, err = m.Fit(xs(m, x), ys(m, y), Epochs(1), BatchSize(50), ValidationData(xs(m, xt), ys(m, yt)), Verbose(0), Callbacks(best))
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(dir, "best.gotfe"))
	loaded, err := Load(filepath.Join(dir, "best.gotfe"))
	require.NoError(t, err)
	lw, err := loaded.GetWeights()
	require.NoError(t, err)
	mw, err := m.GetWeights()
	require.NoError(t, err)
	assert.Equal(t, mw, lw)

	// Best only over several epochs: the loss falls, so in "max" mode only the first epoch
	// improves and the file keeps its weights, not the last epoch's; in "min" mode every epoch
	// improves and the file holds the last.
	grab = CallbackFuncs{EpochEnd: func(m *Sequential, epoch int, logs Logs) error {
		if epoch == 0 {
			var err error
			first, err = m.GetWeights()
			return err
		}
		return nil
	}}
	maxBest := ModelCheckpoint(filepath.Join(dir, "max.gotfe"), SaveBestOnly(true), Monitor("loss"), Mode("max"))
	minBest := ModelCheckpoint(filepath.Join(dir, "min.gotfe"), SaveBestOnly(true), Monitor("loss"), Mode("min"))
	h, err = m.Fit(xs(m, x), ys(m, y), Epochs(3), BatchSize(50), Verbose(0), Callbacks(grab, maxBest, minBest))
	require.NoError(t, err)
	require.Less(t, h.History["loss"][2], h.History["loss"][0])
	last, err := m.GetWeights()
	require.NoError(t, err)
	require.NotEqual(t, first, last)
	for _, c := range []struct {
		file string
		want [][]float64
	}{{"max.gotfe", first}, {"min.gotfe", last}} {
		loaded, err := Load(filepath.Join(dir, c.file))
		require.NoError(t, err)
		lw, err := loaded.GetWeights()
		require.NoError(t, err)
		assert.Equal(t, c.want, lw, c.file)
	}

	// A monitor that is not logged is an error naming what is.
	_, err = m.Fit(xs(m, x), ys(m, y), Verbose(0), Callbacks(EarlyStopping()))
	assert.ErrorContains(t, err, `EarlyStopping: "val_loss" is not logged (logged: loss, accuracy)`)
	_, err = m.Fit(xs(m, x), ys(m, y), Verbose(0), Callbacks(EarlyStopping(Mode("up"))))
	assert.ErrorContains(t, err, "unknown mode")
	_, err = m.Fit(xs(m, x), ys(m, y), Verbose(0), Callbacks(ModelCheckpoint(filepath.Join(dir, "{nope}"))))
	assert.ErrorContains(t, err, "{nope}")
}

func TestValidationSplitAndShuffle(t *testing.T) {
	x, y, _, _ := smallMNIST(t, 100, 0)
	m := mlp(t, 8)
	require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy()))
	h, err := m.Fit(xs(m, x), ys(m, y), Epochs(1), ValidationSplit(0.2), Verbose(0))
	require.NoError(t, err)
	assert.Contains(t, h.Keys(), "val_loss")
	// The same split by hand gives the same validation loss.
	m2 := mlp(t, 8)
	require.NoError(t, m2.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy()))
	h2, err := m2.Fit(xs(m2, x[:80*784]), ys(m2, y[:800]), Epochs(1), ValidationData(xs(m2, x[80*784:]), ys(m2, y[800:])), Verbose(0))
	require.NoError(t, err)
	assert.Equal(t, h.History, h2.History)
	// Without shuffling, another seed changes nothing; with shuffling it does.
	fit := func(opts ...Option) float64 {
		m := mlp(t, 8)
		require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy()))
		h, err := m.Fit(xs(m, x), ys(m, y), append(opts, Verbose(0), BatchSize(10))...)
		require.NoError(t, err)
		return h.History["loss"][0]
	}
	assert.Equal(t, fit(Shuffle(false), Seed(1)), fit(Shuffle(false), Seed(2)))
	assert.NotEqual(t, fit(Seed(1)), fit(Seed(2)))
}

func TestErrors(t *testing.T) {
	x := make([]float64, 4*784)
	y := make([]float64, 40)
	for i := 0; i < 4; i++ {
		y[i*10+i] = 1
	}
	m := mlp(t, 4)
	_, err := m.Fit(xs(m, x), ys(m, y), Verbose(0))
	assert.ErrorContains(t, err, "keras: Fit: the model is not compiled; call Compile first")
	_, err = m.Evaluate(xs(m, x), ys(m, y), Verbose(0))
	assert.ErrorContains(t, err, "not compiled")
	require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy(), Metrics("accuracy")))
	for _, tc := range []struct {
		name string
		x, y Data
		opts []Option
		want string
	}{
		{"x shape", nd.New(x, 4, 28, 28), ys(m, y), nil, "x has shape (4, 28, 28), but the model takes samples of shape (None, 784): reshape it to (4, 784) (x.Reshape(-1, 784))"},
		{"x values", nd.New(x[:783], 1, 784), ys(m, y), nil, "x: nd: 783 values do not fit shape (1, 784)"},
		{"y samples", xs(m, x), nd.New(y[:30], 3, 10), nil, "x holds 4 samples but y holds 3 (y has shape (3, 10))"},
		{"y shape", xs(m, x), nd.New(y[:20], 4, 5), nil, "y has shape (4, 5), but the loss categorical_crossentropy takes targets of shape (4, 10) for outputs (None, 10)"},
		{"class indices", xs(m, x), nd.Labels([]int{0, 1, 2, 3}), nil, "y has shape (4,), class indices, but the loss categorical_crossentropy takes one-hot rows of 10 classes, shape (4, 10): use losses.SparseCategoricalCrossentropy() for class indices, or one-hot encode them (nd.OneHot)"},
		{"not one-hot", xs(m, x), nd.New(append(make([]float64, 30), 0, 1, 1, 0, 0, 0, 0, 0, 0, 0), 4, 10), nil, "categorical_crossentropy: row 0 sums to 0, not 1: targets are one-hot rows (nd.OneHot turns class labels into them), or use losses.SparseCategoricalCrossentropy() for class indices"},
		{"no y", xs(m, x), nil, nil, "x without targets y"},
		{"no data", nil, nil, nil, "no samples"},
		{"num samples", xs(m, x), ys(m, y), []Option{NumSamples(5)}, "NumSamples(5) but x holds 4 samples"},
		{"batch", xs(m, x), ys(m, y), []Option{BatchSize(0)}, "batch size 0"},
		{"verbose", xs(m, x), ys(m, y), []Option{Verbose(3)}, "verbose 3"},
		{"option", xs(m, x), ys(m, y), []Option{Monitor("loss")}, "option Monitor does not apply to Fit"},
		{"split", xs(m, x), ys(m, y), []Option{ValidationSplit(1.5)}, "validation split"},
		{"split and data", xs(m, x), ys(m, y), []Option{ValidationSplit(0.5), ValidationData(xs(m, x), ys(m, y))}, "not given with ValidationData"},
		{"val data", xs(m, x), ys(m, y), []Option{ValidationData(xs(m, x), nd.New(y[:10], 1, 10))}, "validation data: x holds 4 samples but y holds 1"},
		{"epochs", xs(m, x), ys(m, y), []Option{Epochs(-1)}, "epochs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Fit(tc.x, tc.y, append([]Option{Verbose(0)}, tc.opts...)...)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	// Labels that do not fit the loss.
	ms := mlp(t, 4)
	require.NoError(t, ms.Compile(optimizers.SGD(0.1), losses.SparseCategoricalCrossentropy()))
	_, err = ms.Fit(xs(ms, x), nd.Labels([]int{0, 1, 2, 10}), Verbose(0))
	assert.ErrorContains(t, err, "sparse_categorical_crossentropy: sample 3 has target 10, not a class index in [0, 10): the model's last layer has 10 units, one per class")
	_, err = ms.Fit(xs(ms, x), ys(m, y), Verbose(0))
	assert.ErrorContains(t, err, "y has shape (4, 10), one-hot rows of 10 classes, but the loss sparse_categorical_crossentropy takes class indices, shape (4,): use losses.CategoricalCrossentropy() for one-hot targets, or give the class indices")
	// Predict takes no targets and no Epochs.
	_, err = m.Predict(xs(m, x), Epochs(2))
	assert.ErrorContains(t, err, "option Epochs does not apply to Predict")
	_, err = m.Predict(nd.New(x[:10], 10), Verbose(0))
	assert.ErrorContains(t, err, "x has shape (10,), but the model takes samples of shape (None, 784)")

	// Compile errors.
	assert.ErrorContains(t, m.Compile(optimizers.SGD(-1), losses.MeanSquaredError()), "learning rate")
	assert.ErrorContains(t, m.Compile(optimizers.SGD(0.1), losses.MeanSquaredError(), Metrics("f1")), `unknown metric "f1"`)
	assert.ErrorContains(t, m.Compile(optimizers.SGD(0.1), nil), "nil loss")
	assert.ErrorContains(t, m.Compile(optimizers.SGD(0.1), losses.MeanSquaredError(), Epochs(3)), "option Epochs does not apply to Compile")

	// Model assembly errors name the layer and the shapes.
	_, err = NewSequential(layers.Input(784), layers.Dense(10), layers.Conv2D(2, [2]int{3, 3}))
	assert.ErrorContains(t, err, "conv2d (Conv2D): input shape (None, 10) is not an image")
	_, err = NewSequential(layers.Input(784), layers.Dense(10, layers.Activation("mish")))
	assert.ErrorContains(t, err, `dense (Dense): unknown activation "mish"`)
	_, err = NewSequential(layers.Dense(3), layers.Input(4))
	assert.ErrorContains(t, err, "Input layer must come first")
	_, err = NewSequential(layers.Input(4), layers.Dense(3, layers.Name("a")), layers.Dense(3, layers.Name("a")))
	assert.ErrorContains(t, err, `already has a layer named "a"`)
	nb, err := NewSequential(layers.Dense(3))
	require.NoError(t, err)
	_, err = nb.Predict(nd.Zeros(1, 4), Verbose(0))
	assert.ErrorContains(t, err, "no input shape")
	require.NoError(t, nb.Build(4))
	_, err = nb.Predict(nd.Zeros(1, 4), Verbose(0))
	require.NoError(t, err)
	assert.ErrorContains(t, m.SetWeights([][]float64{{1}}), "got 1 arrays, the model has 4 weights")
	// Binary loss on a 10-way output is accepted (elementwise), sparse on 1 output is not.
	m1, err := NewSequential(layers.Input(3), layers.Dense(1))
	require.NoError(t, err)
	assert.ErrorContains(t, m1.Compile(optimizers.SGD(0.1), losses.SparseCategoricalCrossentropy()), "fewer than 2 classes")
}

func TestWeightsRoundTripAndNames(t *testing.T) {
	m, err := NewSequential(layers.Input(3), layers.Dense(2), layers.Dense(2), layers.Dense(1, layers.UseBias(false)))
	require.NoError(t, err)
	names := []string{}
	for _, l := range m.Layers() {
		names = append(names, l.Name())
	}
	assert.Equal(t, []string{"dense", "dense_1", "dense_2"}, names)
	w, err := m.GetWeights()
	require.NoError(t, err)
	require.Len(t, w, 5)
	// Glorot uniform kernels within their limit, zero biases.
	lim := math.Sqrt(6.0 / 5)
	for _, v := range w[0] {
		assert.Less(t, math.Abs(v), lim)
	}
	assert.Equal(t, []float64{0, 0}, w[1])
	w[4] = []float64{1, 2}
	require.NoError(t, m.SetWeights(w))
	w2, err := m.GetWeights()
	require.NoError(t, err)
	assert.Equal(t, w, w2)
	// The same seed gives the same initial weights; another seed others.
	m2, err := NewSequential(layers.Input(3), layers.Dense(2), layers.Dense(2), layers.Dense(1, layers.UseBias(false)))
	require.NoError(t, err)
	w3, err := m2.GetWeights()
	require.NoError(t, err)
	assert.Equal(t, w[0], w3[0])
	m3, err := NewSequential(layers.Input(3), layers.Dense(2), layers.Dense(2), layers.Dense(1, layers.UseBias(false)))
	require.NoError(t, err)
	m3.SetSeed(99)
	w4, err := m3.GetWeights()
	require.NoError(t, err)
	assert.NotEqual(t, w[0], w4[0])
}

func TestFormatPath(t *testing.T) {
	p, err := formatPath("ck/{epoch:03d}-{val_loss:.3f}-{loss}-{epoch}", 7, Logs{"val_loss": 0.12345, "loss": 0.5})
	require.NoError(t, err)
	assert.Equal(t, "ck/007-0.123-0.5-7", p)
}

func TestProgressBarLive(t *testing.T) {
	var out bytes.Buffer
	now := time.Unix(0, 0)
	p := newProgress(&out, 1, 40, func() time.Time { return now })
	p.dynamic = true
	now = now.Add(2 * time.Second)
	p.update(10, Logs{"loss": 0.5}, []string{"loss"})
	assert.Equal(t, "\r10/40 ━━━━━─────────────── 6s 200ms/step - loss: 0.5000\x1b[K", out.String())
	out.Reset()
	now = now.Add(10 * time.Millisecond)
	p.update(11, Logs{"loss": 0.4}, []string{"loss"})
	assert.Empty(t, out.String(), "redraws are throttled")
	now = now.Add(70 * time.Second)
	p.finish(40, Logs{"loss": 0.25, "val_loss": 0.00012}, []string{"loss", "val_loss"})
	assert.Equal(t, "\r40/40 ━━━━━━━━━━━━━━━━━━━━ 72s 2s/step - loss: 0.2500 - val_loss: 1.2000e-04\x1b[K\n", out.String())
	assert.Equal(t, "1:01:01", formatETA(3661))
	assert.Equal(t, "2:05", formatETA(125))
	assert.Equal(t, " 12us/step", formatPerStep(12e-6))
	assert.Equal(t, "loss: 0.5000 - accuracy: 0.9000 - val_loss: 0.6000", Logs{"val_loss": 0.6, "accuracy": 0.9, "loss": 0.5}.String())
}

// A one-unit sigmoid head is thresholded at 0.5, as Keras users do, rather than given the
// argmax of one column (always 0).
func TestPredictClassesThresholdsOneUnit(t *testing.T) {
	m, err := NewSequential(layers.Input(1), layers.Dense(1, layers.Activation("sigmoid")))
	require.NoError(t, err)
	require.NoError(t, m.SetWeights([][]float64{{1}, {0}}))
	cls, err := m.PredictClasses(nd.New([]float64{-2, -0.1, 0.1, 3, 0}, 5), Verbose(0))
	require.NoError(t, err)
	assert.Equal(t, []int{0, 0, 1, 1, 0}, cls, "1 above 0.5 only")
	// Two units keep the argmax.
	m2, err := NewSequential(layers.Input(1), layers.Dense(2, layers.Activation("softmax")))
	require.NoError(t, err)
	require.NoError(t, m2.SetWeights([][]float64{{1, -1}, {0, 0}}))
	cls, err = m2.PredictClasses(nd.Rows([][]float64{{-2}, {3}}), Verbose(0))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 0}, cls)
}

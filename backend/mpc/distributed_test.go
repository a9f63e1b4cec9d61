package mpc_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/backend/plain"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/optimizers"
	"github.com/gotfe/gotfe/secure"
)

// partyTimeout bounds every wait of the parties of these tests: a test in which a party waits
// out its deadline instead of failing at once takes at least this long, which the tests that
// expect a prompt failure check.
const partyTimeout = 20 * time.Second

// threeProcesses runs prog on three parties, each with its own PartyRunner (and its own model,
// which prog builds), over the in-memory links, as three processes of a distributed run do.
// A party whose program fails aborts its links with its error, as its process does on exit. It returns each
// party's error and how long the slowest party took.
func threeProcesses(t *testing.T, cfg mpc.Config, prog func(party int, r keras.Runner) error) ([3]error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*partyTimeout)
	defer cancel()
	nets := launch.MemNetworks()
	var errs [3]error
	done := make(chan int, 3)
	start := time.Now()
	for i := range nets {
		go func(i int) {
			defer func() { done <- i }()
			defer func() {
				if r := recover(); r != nil {
					errs[i] = errors.New("panic")
					panic(r)
				}
			}()
			cfg := cfg
			cfg.Timeout = partyTimeout
			b, err := mpc.NewBackend(ctx, secure.PartyID(i), nets[i], cfg)
			if err == nil {
				err = prog(i, mpc.NewBackendRunner(b))
			}
			errs[i] = err
			if err != nil {
				_ = nets[i].(interface{ Abort(error) error }).Abort(err)
			}
		}(i)
	}
	for range nets {
		<-done
	}
	return errs, time.Since(start)
}

func smallMLP(t *testing.T, hidden int) *keras.Sequential {
	t.Helper()
	m, err := keras.NewSequential(layers.Input(4), layers.Dense(hidden, layers.Activation("relu")),
		layers.Dense(3, layers.Activation("softmax")))
	require.NoError(t, err)
	require.NoError(t, m.Compile(optimizers.SGD(0.1, optimizers.Momentum(0.9)), losses.CategoricalCrossentropy(), keras.Metrics("accuracy")))
	return m
}

// smallData is 64 samples of 4 features in [-1, 1] and one-hot targets of 3 classes.
func smallData(seed uint64) (x, y []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	const n = 64
	x = make([]float64, n*4)
	y = make([]float64, n*3)
	for i := range n {
		s := 0.0
		for j := range 4 {
			x[i*4+j] = 2*r.Float64() - 1
			s += x[i*4+j] * float64(j-1)
		}
		c := 0
		if s > 0.3 {
			c = 1
		} else if s < -0.3 {
			c = 2
		}
		y[i*3+c] = 1
	}
	return x, y
}

// plainPredict is the model's output on the plain engine with weights w.
func plainPredict(t *testing.T, hidden int, w [][]float64, x []float64) []float64 {
	t.Helper()
	m := smallMLP(t, hidden)
	require.NoError(t, m.SetRunner(plain.NewRunner()))
	require.NoError(t, m.SetWeights(w))
	out, err := m.Predict(xsOf(m, x), keras.Verbose(0))
	require.NoError(t, err)
	return out.Data()
}

// predictTol bounds a secure prediction of smallMLP against the plain one on the same weights:
// the softmax's documented 2e-3 per probability dominates (the products of fan-in 4 and 8 err
// by lin(k) < 2^-12, which moves a probability by less than that).
const predictTol = softmaxErr + 1e-3

func assertNoErrors(t *testing.T, errs [3]error) {
	t.Helper()
	for i, err := range errs {
		require.NoError(t, err, "party %d", i)
	}
}

// The documented pattern: the owner sets the weights, the others say they come from the owner;
// every party predicts, reveals the weights to the owner, and predicts again. The owner's
// second prediction is as right as its first (it used to read the others' weight shares as the
// next prediction's messages and got values of about 1e14).
func TestOwnerWeightsPredictGetWeightsPredict(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		x, _ := smallData(1)
		w := plainWeights(t, 8)
		want := plainPredict(t, 8, w, x)
		var got [2][]float64
		var gotW [][]float64
		errs, _ := threeProcesses(t, cfg, func(party int, r keras.Runner) error {
			m := smallMLP(t, 8)
			if err := m.SetRunner(r); err != nil {
				return err
			}
			var ws [][]float64
			var in []float64
			if party == 0 {
				ws, in = w, x
			}
			if err := m.SetWeights(ws); err != nil {
				return err
			}
			for k := range 2 {
				out, err := m.Predict(xsOf(m, in), keras.NumSamples(64), keras.Verbose(0))
				if err != nil {
					return err
				}
				if party == 0 {
					got[k] = out.Data()
				} else if out != nil {
					return errors.New("a non-owner received predictions")
				}
				if k == 0 {
					g, err := m.GetWeights()
					if err != nil {
						return err
					}
					if party == 0 {
						gotW = g
					} else if g != nil {
						return errors.New("a non-owner received the weights")
					}
				}
			}
			return nil
		})
		assertNoErrors(t, errs)
		assert.Equal(t, w, gotW)
		for k := range got {
			require.Len(t, got[k], len(want))
			for i := range want {
				require.InDelta(t, want[i], got[k][i], predictTol, "prediction %d, value %d", k, i)
			}
		}
	})
}

// plainWeights returns the initial weights of smallMLP, perturbed so that they differ from
// what the initializers give.
func plainWeights(t *testing.T, hidden int) [][]float64 {
	t.Helper()
	m := smallMLP(t, hidden)
	w, err := m.GetWeights()
	require.NoError(t, err)
	for i := range w {
		for j := range w[i] {
			w[i][j] += 0.01 * float64((i+j)%7-3)
		}
	}
	return w
}

// Fit, Save, Save again, Predict: the second Save and the prediction agree on every party on
// whether the weights must be revealed, and the owner's prediction matches the saved model's.
// ModelCheckpoint followed by a final Save takes the same path.
func TestFitSaveSavePredict(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		x, y := smallData(2)
		dir := t.TempDir()
		final := filepath.Join(dir, "final.gotfe")
		var got []float64
		errs, _ := threeProcesses(t, cfg, func(party int, r keras.Runner) error {
			m := smallMLP(t, 8)
			if err := m.SetRunner(r); err != nil {
				return err
			}
			var xs, ys []float64
			if party == 0 {
				xs, ys = x, y
			}
			ckpt := keras.ModelCheckpoint(filepath.Join(dir, "ckpt-{epoch}.gotfe"))
			if _, err := m.Fit(xsOf(m, xs), ysOf(m, ys), keras.NumSamples(64), keras.Epochs(2), keras.BatchSize(16), keras.Verbose(0), keras.Callbacks(ckpt)); err != nil {
				return err
			}
			for range 2 {
				if err := m.Save(final); err != nil {
					return err
				}
			}
			out, err := m.Predict(xsOf(m, xs), keras.NumSamples(64), keras.Verbose(0))
			if party == 0 {
				got = vals(out)
			}
			return err
		})
		assertNoErrors(t, errs)
		saved, err := keras.Load(final)
		require.NoError(t, err)
		w, err := saved.GetWeights()
		require.NoError(t, err)
		want := plainPredict(t, 8, w, x)
		require.Len(t, got, len(want))
		for i := range want {
			require.InDelta(t, want[i], got[i], predictTol, "value %d", i)
		}
		for _, f := range []string{"ckpt-1.gotfe", "ckpt-2.gotfe"} {
			_, err := os.Stat(filepath.Join(dir, f))
			assert.NoError(t, err, f)
		}
	})
}

// requireAllFail checks that every party failed, promptly (well before the parties' deadline),
// and that the owner's error says what differs.
func requireAllFail(t *testing.T, errs [3]error, took time.Duration, says ...string) {
	t.Helper()
	for i, err := range errs {
		require.Error(t, err, "party %d", i)
	}
	assert.Less(t, took, partyTimeout/2, "the parties fail at once, not at their deadline")
	for _, s := range says {
		assert.Contains(t, errs[0].Error(), s)
	}
}

// A party started with other public parameters than the others (sample count, batch size,
// architecture) makes every party fail at once with an error naming the parameter.
func TestMismatchedParametersFailEveryParty(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		x, y := smallData(3)
		cases := []struct {
			name    string
			samples [3]int
			batch   [3]int
			hidden  [3]int
			says    string
		}{
			{"sample count", [3]int{64, 64, 32}, [3]int{16, 16, 16}, [3]int{8, 8, 8}, "training samples"},
			{"batch size", [3]int{64, 64, 64}, [3]int{16, 32, 16}, [3]int{8, 8, 8}, "batch size"},
			{"architecture", [3]int{64, 64, 64}, [3]int{16, 16, 16}, [3]int{8, 16, 8}, "architecture"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				errs, took := threeProcesses(t, cfg, func(party int, r keras.Runner) error {
					m := smallMLP(t, c.hidden[party])
					if err := m.SetRunner(r); err != nil {
						return err
					}
					var xs, ys []float64
					if party == 0 {
						xs, ys = x, y
					}
					_, err := m.Fit(xsOf(m, xs), ysOf(m, ys), keras.NumSamples(c.samples[party]), keras.BatchSize(c.batch[party]), keras.Verbose(0))
					return err
				})
				requireAllFail(t, errs, took, c.says)
			})
		}
	})
}

// Share files of two different saves (party 1's from epoch 1 beside the others' from epoch 2,
// as a crash between the parties' checkpoint writes leaves them) are refused by every party,
// and the error says whose file is out of step.
func TestLoadSharesOfMixedSaves(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		x, y := smallData(4)
		dir := t.TempDir()
		pattern := filepath.Join(dir, "ckpt-{epoch}.gotfe")
		r := mpc.NewLocalRunner(cfg, nil)
		defer r.Close()
		m := smallMLP(t, 8)
		require.NoError(t, m.SetRunner(r))
		_, err := m.Fit(xsOf(m, x), ysOf(m, y), keras.Epochs(2), keras.BatchSize(16), keras.Verbose(0),
			keras.Callbacks(keras.ModelCheckpoint(pattern, keras.SaveShares(true))))
		require.NoError(t, err)
		epoch1, epoch2 := filepath.Join(dir, "ckpt-1.gotfe"), filepath.Join(dir, "ckpt-2.gotfe")
		data, err := os.ReadFile(keras.SharesPath(epoch1, 1))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(keras.SharesPath(epoch2, 1), data, 0o600))

		errs, took := threeProcesses(t, cfg, func(party int, r keras.Runner) error {
			m := smallMLP(t, 8)
			if err := m.SetRunner(r); err != nil {
				return err
			}
			return m.LoadShares(epoch2)
		})
		requireAllFail(t, errs, took, "P1", "epoch 1", "epoch 2")
		assert.Contains(t, errs[2].Error(), "P1", "party 2 names party 1's file too")
	})
}

// Inputs that fit the encoding but would overflow in products are refused on the secure engine
// with an error that says what to do; every party fails.
func TestOutOfRangeInputsAreAnError(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		x, y := smallData(5)
		x[7] = 1e9
		errs, took := threeProcesses(t, cfg, func(party int, r keras.Runner) error {
			m := smallMLP(t, 8)
			if err := m.SetRunner(r); err != nil {
				return err
			}
			var xs, ys []float64
			if party == 0 {
				xs, ys = x, y
			}
			_, err := m.Fit(xsOf(m, xs), ysOf(m, ys), keras.NumSamples(64), keras.Verbose(0))
			return err
		})
		requireAllFail(t, errs, took, "scale")
	})
}

// Resuming from a checkpoint is the same training as going on without one: with momentum,
// Adam and dropout, on the plain engine exactly; on the secure engine within the fixed-point
// error of the few steps (the resumed run recomputes nothing, so it is exact there too).
func TestResumeEqualsUninterrupted(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		x, y := smallData(6)
		optimizersToTry := map[string]func() optimizers.Optimizer{
			"sgd":      func() optimizers.Optimizer { return optimizers.SGD(0.1) },
			"momentum": func() optimizers.Optimizer { return optimizers.SGD(0.1, optimizers.Momentum(0.9)) },
			"adam":     func() optimizers.Optimizer { return optimizers.Adam(0.01) },
		}
		for name, opt := range optimizersToTry {
			for _, engine := range []string{"plain", "secure"} {
				t.Run(name+"/"+engine, func(t *testing.T) {
					build := func() *keras.Sequential {
						m, err := keras.NewSequential(layers.Input(4), layers.Dense(8, layers.Activation("relu")),
							layers.Dropout(0.25), layers.Dense(3, layers.Activation("softmax")))
						require.NoError(t, err)
						require.NoError(t, m.Compile(opt(), losses.CategoricalCrossentropy()))
						if engine == "secure" {
							r := mpc.NewLocalRunner(cfg, nil)
							t.Cleanup(func() { _ = r.Close() })
							require.NoError(t, m.SetRunner(r))
						}
						return m
					}
					fit := func(m *keras.Sequential, from, to int) {
						_, err := m.Fit(xsOf(m, x), ysOf(m, y), keras.InitialEpoch(from), keras.Epochs(to), keras.BatchSize(16), keras.Verbose(0))
						require.NoError(t, err)
					}
					first := build()
					fit(first, 0, 1)
					path := filepath.Join(t.TempDir(), "ckpt.gotfe")
					var resumed *keras.Sequential
					var err error
					if engine == "plain" {
						require.NoError(t, first.Save(path))
						resumed, err = keras.Load(path)
						require.NoError(t, err)
					} else {
						require.NoError(t, first.SaveShares(path))
						resumed = build()
						require.NoError(t, resumed.LoadShares(path))
					}
					fit(first, 1, 3) // uninterrupted
					want, err := first.GetWeights()
					require.NoError(t, err)
					fit(resumed, 1, 3)
					got, err := resumed.GetWeights()
					require.NoError(t, err)
					maxDiff := 0.0
					for i := range want {
						for j := range want[i] {
							maxDiff = math.Max(maxDiff, math.Abs(want[i][j]-got[i][j]))
						}
					}
					t.Logf("largest difference %.3g", maxDiff)
					if engine == "plain" {
						require.Zero(t, maxDiff, "resuming on the plain engine is exact")
						return
					}
					// Both runs start the second epoch from the same shares of the weights and of the
					// optimizer's state; they differ only in the randomness of their sessions, which
					// moves each truncation's rounding by at most one ulp.
					require.Less(t, maxDiff, resumeTol[name])
				})
			}
		}
	})
}

// resumeTol bounds the difference between a resumed secure run and the uninterrupted one, one
// epoch of 4 steps after the checkpoint. Both start that epoch from the same shares of the
// weights and of the optimizer's state; they differ only in their sessions' randomness, which
// moves each truncation's rounding by up to one ulp (2^-16 = 1.5e-5). Plain SGD adds a few
// such roundings per weight and step (observed at most 7.6e-5 in 30 runs); momentum carries
// each into the later steps with weights up to 1/(1-0.9) (observed 3.2e-4); Adam divides by the
// square root of the second moment, which magnifies them where it is small (observed 1.4e-3).
// Each bound is about four times the largest observed; losing the optimizer state or the
// dropout counter instead gives differences of 0.026 (SGD with dropout), 0.2 (momentum) and
// 0.08 (Adam), far above them.
var resumeTol = map[string]float64{"sgd": 3e-4, "momentum": 1.5e-3, "adam": 6e-3}

// Saving the model in the clear keeps its training state too: Load and resume equals the
// uninterrupted run on the secure engine (the owner inputs the saved optimizer state).
func TestSaveLoadKeepsOptimizerState(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		x, y := smallData(7)
		build := func() *keras.Sequential {
			m := smallMLP(t, 8)
			r := mpc.NewLocalRunner(cfg, nil)
			t.Cleanup(func() { _ = r.Close() })
			require.NoError(t, m.SetRunner(r))
			return m
		}
		first := build()
		_, err := first.Fit(xsOf(first, x), ysOf(first, y), keras.Epochs(1), keras.BatchSize(16), keras.Verbose(0))
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "model.gotfe")
		require.NoError(t, first.Save(path))
		_, err = first.Fit(xsOf(first, x), ysOf(first, y), keras.InitialEpoch(1), keras.Epochs(2), keras.BatchSize(16), keras.Verbose(0))
		require.NoError(t, err)
		want, err := first.GetWeights()
		require.NoError(t, err)

		resumed, err := keras.Load(path)
		require.NoError(t, err)
		r := mpc.NewLocalRunner(cfg, nil)
		defer r.Close()
		require.NoError(t, resumed.SetRunner(r))
		_, err = resumed.Fit(xsOf(resumed, x), ysOf(resumed, y), keras.InitialEpoch(1), keras.Epochs(2), keras.BatchSize(16), keras.Verbose(0))
		require.NoError(t, err)
		got, err := resumed.GetWeights()
		require.NoError(t, err)
		maxDiff := 0.0
		for i := range want {
			for j := range want[i] {
				maxDiff = math.Max(maxDiff, math.Abs(want[i][j]-got[i][j]))
			}
		}
		// Saving rounds nothing (the revealed fixed-point values are exact in float64, and the owner
		// inputs them back exactly); the two runs differ only by the truncations' rounding in the
		// second epoch, as in TestResumeEqualsUninterrupted.
		assert.Less(t, maxDiff, resumeTol["momentum"])
	})
}

// Whether a model resumes with the optimizer's saved state is agreed: parties that each load a
// copy of the same saved model, of which one compiles it again (which drops that state), fail at once,
// naming the training state, instead of one of them restoring the moments the others do not.
func TestDivergentTrainingStateFailsEveryParty(t *testing.T) {
	x, y := smallData(8)
	m := smallMLP(t, 8)
	_, err := m.Fit(xsOf(m, x), ysOf(m, y), keras.Epochs(1), keras.BatchSize(16), keras.Verbose(0))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "model.gotfe")
	require.NoError(t, m.Save(path))
	errs, took := threeProcesses(t, mpc.Config{}, func(party int, r keras.Runner) error {
		m, err := keras.Load(path)
		if err != nil {
			return err
		}
		if party == 2 {
			if err := m.Compile(optimizers.SGD(0.1, optimizers.Momentum(0.9)), losses.CategoricalCrossentropy(), keras.Metrics("accuracy")); err != nil {
				return err
			}
		}
		if err := m.SetRunner(r); err != nil {
			return err
		}
		var xs, ys []float64
		if party == 0 {
			xs, ys = x, y
		}
		_, err = m.Fit(xsOf(m, xs), ysOf(m, ys), keras.NumSamples(64), keras.InitialEpoch(1), keras.Epochs(2), keras.BatchSize(16), keras.Verbose(0))
		return err
	})
	requireAllFail(t, errs, took, "training state")
}

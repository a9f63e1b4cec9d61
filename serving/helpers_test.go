package serving

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/models"
	"github.com/gotfe/gotfe/nd"
)

// newModel returns network name of package models with its initial (random) weights, built
// for MNIST images.
func newModel(t testing.TB, name string) *keras.Sequential {
	t.Helper()
	m, err := models.New(name)
	require.NoError(t, err)
	return m
}

// images returns n random inputs of m in [0, 1).
func images(m *keras.Sequential, n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, n*numel(m.InputShape()))
	for i := range x {
		x[i] = r.Float64()
	}
	return x
}

// plainPredict returns m's outputs on x in float64 (its own plain runner).
func plainPredict(t testing.TB, m *keras.Sequential, x []float64) []float64 {
	t.Helper()
	n := len(x) / numel(m.InputShape())
	y, err := m.Predict(nd.New(x, append([]int{n}, m.InputShape()...)...), keras.Verbose(0))
	require.NoError(t, err)
	return y.Data()
}

// startLocal starts three local parties of m with test timings.
func startLocal(t testing.TB, m *keras.Sequential, opts LocalOptions) *Local {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tune := opts.Tune
	opts.Tune = func(c *Config) {
		c.ArrivalWait = 100 * time.Millisecond
		c.RetryDelay = 50 * time.Millisecond
		if tune != nil {
			tune(c)
		}
	}
	l, err := StartLocal(ctx, m, opts)
	require.NoError(t, err)
	t.Cleanup(l.Close)
	return l
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func maxAbsDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

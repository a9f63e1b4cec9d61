package serving

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPredictSmoke(t *testing.T) {
	m := newModel(t, "a")
	l := startLocal(t, m, LocalOptions{})
	c, err := l.NewClient("alice")
	require.NoError(t, err)
	defer c.Close()
	x := images(m, 3, 1)
	want := plainPredict(t, m, x)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := c.Predict(ctx, x)
	require.NoError(t, err)
	require.Len(t, p.Probabilities, 3)
	for r := range 3 {
		require.InDelta(t, 0, maxAbsDiff(want[r*10:(r+1)*10], p.Probabilities[r]), 1e-3)
		require.Equal(t, argmax(want[r*10:(r+1)*10]), p.Classes[r])
	}
}

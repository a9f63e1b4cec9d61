package pond_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/fixed"
	"github.com/gotfe/gotfe/secure/pond"
)

const ulp = 0x1p-16 // one unit in the last place at f = 16

var enc16 = fixed.Encoding{FracBits: 16}

// quantize returns the value x's encoding stands for.
func quantize(x float64) float64 {
	v, err := enc16.Encode(x)
	if err != nil {
		panic(err)
	}
	return enc16.Decode(v)
}

// run3 runs fn on three parties over the in-memory network with deterministic seeds derived
// from seed, and fails the test on any party's error.
func run3(t testing.TB, seed uint64, fn func(p *pond.Party) error) {
	t.Helper()
	require.NoError(t, try3(seed, fn))
}

func try3(seed uint64, fn func(p *pond.Party) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return launch.Local(ctx, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		var s [32]byte
		s[0], s[1] = byte(id), byte(seed)
		s[2], s[3] = byte(seed>>8), byte(seed>>16)
		p, err := pond.NewParty(ctx, id, net, pond.Config{Rand: rand.NewChaCha8(s)})
		if err != nil {
			return err
		}
		return fn(p)
	})
}

// randValues returns n values whose magnitudes are log-uniform in [2^lo, 2^hi], with random
// signs, a few exact zeros and the two extreme magnitudes.
func randValues(r *rand.Rand, n int, lo, hi float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		switch {
		case i%17 == 5:
			v[i] = 0
		case i%23 == 7:
			v[i] = math.Exp2(hi)
		case i%29 == 3:
			v[i] = -math.Exp2(lo)
		default:
			v[i] = math.Exp2(lo + (hi-lo)*r.Float64())
			if r.IntN(2) == 0 {
				v[i] = -v[i]
			}
		}
	}
	return v
}

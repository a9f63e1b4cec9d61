package aby3_test

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// adderParams make every comparison take the seven-round adder: the tests that pin rounds
// and bytes were written for it. The three-round comparisons have their own tests
// (signfew_test.go), which also check that both forms give the same bits.
var adderParams = secure.Params{FastCompareMax: -1}

// run3 runs fn on three parties over the in-memory network with deterministic seeds derived
// from seed, every comparison on the adder, and fails the test on any party's error.
func run3(t testing.TB, seed uint64, fn func(p *aby3.Party) error) {
	t.Helper()
	require.NoError(t, try3(seed, fn))
}

func try3(seed uint64, fn func(p *aby3.Party) error) error {
	return try3With(seed, adderParams, fn)
}

// try3With is try3 with the given engine parameters.
func try3With(seed uint64, params secure.Params, fn func(p *aby3.Party) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return launch.Local(ctx, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		var s [32]byte
		s[0], s[1] = byte(id), byte(seed)
		s[2], s[3] = byte(seed>>8), byte(seed>>16)
		p, err := aby3.NewParty(ctx, id, poisonNet{net}, aby3.Config{Rand: rand.NewChaCha8(s), Params: params})
		if err != nil {
			return err
		}
		return fn(p)
	})
}

// poisonNet is a network that copies each payload and then overwrites it, as a network that
// writes its messages out would let the sender reuse the buffer (secure.SendCopier): a
// protocol that read a sent message's buffer after sending it would compute garbage.
type poisonNet struct{ secure.Network }

func (n poisonNet) Send(ctx context.Context, peer int, payload []byte) error {
	err := n.Network.Send(ctx, peer, bytes.Clone(payload))
	for i := range payload {
		payload[i] = 0xa5
	}
	return err
}

func (poisonNet) SendCopies() bool { return true }

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

// oddShapes are the shapes every elementwise op is tested on.
var oddShapes = [][]int{{1, 1}, {3, 5}, {127, 129}, {7}, {2, 3, 4}}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

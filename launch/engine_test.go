package launch_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// matmulReveal shares two matrices, multiplies them and reveals the product to every party,
// with party seeds fixed so that two runs over different links are bit-for-bit comparable.
func matmulReveal(ctx context.Context, id secure.PartyID, net secure.Network) ([]uint64, error) {
	var seed [32]byte
	seed[0] = byte(id)
	p, err := aby3.NewParty(ctx, id, net, aby3.Config{Rand: rand.NewChaCha8(seed)})
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(1, 2))
	const m, k, n = 33, 65, 17
	x, y := make([]float64, m*k), make([]float64, k*n)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	for i := range y {
		y[i] = r.NormFloat64()
	}
	sx, err := p.Share(0, x, []int{m, k})
	if err != nil {
		return nil, err
	}
	sy, err := p.Share(1, y, []int{k, n})
	if err != nil {
		return nil, err
	}
	z, err := p.MatMul(sx, sy)
	if err != nil {
		return nil, err
	}
	return p.RevealRing(z, -1)
}

// The engine computes the same thing over QUIC on loopback as over the in-memory links.
func TestQUICMatchesMem(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mem, quic [3][]uint64
	require.NoError(t, launch.Local(ctx, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		var err error
		mem[id], err = matmulReveal(ctx, id, net)
		return err
	}))
	require.NoError(t, launch.LocalQUIC(ctx, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		var err error
		quic[id], err = matmulReveal(ctx, id, net)
		return err
	}))
	for id := 0; id < 3; id++ {
		require.NotEmpty(t, mem[id])
		require.Equal(t, mem[0], mem[id], "parties agree over mem")
		require.Equal(t, mem[id], quic[id], "party %d: QUIC and mem give the same product", id)
	}
}

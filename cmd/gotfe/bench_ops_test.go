package main

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/pond"
)

// A secure benchmark reports the same fields on both protocols, and the producer's share of
// bytes and time: zero for aby3, which has no producer, and between 0 and 1 for pond.
func TestBenchSecureFields(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	relu := func(v float64) float64 { return math.Max(v, 0) }
	aby3Op := unarySecure("relu_256", []int{256}, 10, func(p mpc.Protocol[*aby3.Shared, *aby3.BoolShared, *aby3.Unreduced], x *aby3.Shared) error {
		_, _, err := p.ReLU(x)
		return err
	}, relu)
	pondOp := unarySecure("relu_256", []int{256}, 10, func(p mpc.Protocol[*pond.Shared, *pond.BoolShared, *pond.Unreduced], x *pond.Shared) error {
		_, _, err := p.ReLU(x)
		return err
	}, relu)
	ra, err := benchSecure(ctx, opsEnv{}, aby3Op, aby3.NewParty, 1)
	require.NoError(t, err)
	rp, err := benchSecure(ctx, opsEnv{}, pondOp, pond.NewParty, 1)
	require.NoError(t, err)
	for _, k := range []string{"name", "protocol", "seconds", "bytes_sent", "rounds", "plaintext_seconds", "ratio",
		"producer_bytes", "producer_bytes_share", "producer_seconds", "producer_time_share"} {
		assert.Contains(t, ra, k)
		assert.Contains(t, rp, k)
	}
	assert.Equal(t, "aby3", ra["protocol"])
	assert.Equal(t, "pond", rp["protocol"])
	// aby3: a sign bit in three rounds (256 values, at most Params.FastCompareMax) and a bit
	// product; pond: seven and one.
	assert.Equal(t, int64(3+1), ra["rounds"])
	assert.Equal(t, int64(7+1), rp["rounds"])
	assert.Zero(t, ra["producer_bytes"])
	assert.Zero(t, ra["producer_bytes_share"])
	assert.Positive(t, rp["producer_bytes"])
	assert.Greater(t, rp["producer_bytes_share"], 0.0)
	assert.Less(t, rp["producer_bytes_share"], 1.0)
	assert.Greater(t, rp["producer_time_share"], 0.0)
}

func TestBenchProtocolFlag(t *testing.T) {
	ctx := context.Background()
	require.ErrorIs(t, benchOps(ctx, []string{"--protocol", "spdz"}), errUsage)
	require.ErrorIs(t, benchMNIST(ctx, []string{"--protocol", "spdz"}), errUsage)
}

// bench ops runs its kernels over shaped QUIC links too: every round then waits at least the
// emulated one-way delay (half the round trip), and the result records the shaping.
func TestBenchSecureOverShapedQUIC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	relu := func(v float64) float64 { return math.Max(v, 0) }
	op := unarySecure("relu_256", []int{256}, 10, func(p mpc.Protocol[*aby3.Shared, *aby3.BoolShared, *aby3.Unreduced], x *aby3.Shared) error {
		_, _, err := p.ReLU(x)
		return err
	}, relu)
	env := opsEnv{transport: "quic", params: secure.Params{FastCompareMax: -1}}
	env.wan.rtt = 4 * time.Millisecond
	r, err := benchSecure(ctx, env, op, aby3.NewParty, 1)
	require.NoError(t, err)
	assert.Equal(t, "quic", r["transport"])
	assert.Equal(t, 0.004, r["rtt_seconds"])
	rounds := r["rounds"].(int64)
	assert.Equal(t, int64(7+1), rounds, "the adder and the bit product")
	assert.GreaterOrEqual(t, r["seconds"].(float64), float64(rounds)*0.002, "every round waits the one-way delay")
}

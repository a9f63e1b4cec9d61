package mem_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/transport/mem"
)

func TestOrderAndStats(t *testing.T) {
	eps := mem.NewNetwork(3)
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		require.NoError(t, eps[0].Send(ctx, 1, []byte{byte(i), 1, 2}))
	}
	for i := 0; i < 100; i++ {
		m, err := eps[1].Recv(ctx, 0)
		require.NoError(t, err)
		assert.Equal(t, byte(i), m[0])
	}
	s := eps[0].Stats()
	assert.Equal(t, int64(300), s.BytesSent)
	assert.Equal(t, int64(100), s.MessagesSent)
	assert.Equal(t, int64(300), eps[1].Stats().BytesReceived)
}

func TestDeadline(t *testing.T) {
	eps := mem.NewNetwork(3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := eps[2].Recv(ctx, 0)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)
}

func TestClose(t *testing.T) {
	eps := mem.NewNetwork(3)
	ctx := context.Background()
	require.NoError(t, eps[0].Send(ctx, 1, []byte{7}))
	require.NoError(t, eps[0].Close())
	m, err := eps[1].Recv(ctx, 0) // queued messages are still delivered
	require.NoError(t, err)
	assert.Equal(t, []byte{7}, m)
	_, err = eps[1].Recv(ctx, 0)
	assert.ErrorIs(t, err, mem.ErrClosed)
	assert.ErrorIs(t, eps[0].Send(ctx, 2, nil), mem.ErrClosed)
}

func TestBadPeer(t *testing.T) {
	eps := mem.NewNetwork(3)
	ctx := context.Background()
	for _, p := range []int{-1, 0, 3} {
		assert.ErrorContains(t, eps[0].Send(ctx, p, nil), "no link")
		_, err := eps[0].Recv(ctx, p)
		assert.ErrorContains(t, err, "no link")
	}
}

package tcptls

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPairCarriesFramesInOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b, err := Pair(ctx, 1<<20)
	require.NoError(t, err)
	defer a.Close()
	defer b.Close()
	msgs := [][]byte{{}, {1}, bytes.Repeat([]byte{2}, 200), bytes.Repeat([]byte{3}, 70000), bytes.Repeat([]byte{4}, 1<<20)}
	go func() {
		for _, m := range msgs {
			assert.NoError(t, a.Send(ctx, m))
		}
	}()
	for _, m := range msgs {
		got, err := b.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, m, got)
	}
	assert.Equal(t, int64(len(msgs)), b.Stats().MessagesReceived)
	require.ErrorContains(t, a.Send(ctx, make([]byte, 1<<20+1)), "exceeds the maximum")

	short, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	_, err = b.Recv(short)
	require.ErrorContains(t, err, "timeout")
}

func TestPairDefaultMaxFrame(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b, err := Pair(ctx, 0)
	require.NoError(t, err)
	defer a.Close()
	defer b.Close()
	require.ErrorContains(t, a.Send(ctx, make([]byte, DefaultMaxFrame+1)), "exceeds the maximum frame of 16777216 bytes")
	// A header announcing more than the maximum ends the receive, before any allocation.
	go func() { _, _ = a.conn.Write(appendHeader(nil, DefaultMaxFrame+1)) }()
	_, err = b.Recv(ctx)
	require.ErrorContains(t, err, "frame of 16777217 bytes exceeds the maximum of 16777216")
}

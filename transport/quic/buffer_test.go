package quic

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// numbered returns a payload of n bytes that starts with i and is otherwise a pattern of i.
func numbered(i, n int) []byte {
	p := bytes.Repeat([]byte{byte(i * 7)}, n)
	binary.LittleEndian.PutUint32(p, uint32(i))
	return p
}

// flood has party 0 send frames maximal frames to party 1, which reads nothing until party
// 1's reader has had to wait for room. It returns the sender's progress and its result.
func flood(t *testing.T, eps [NumParties]*Endpoint, ctx context.Context, frames, size int) (*atomic.Int64, chan error) {
	t.Helper()
	var sent atomic.Int64
	done := make(chan error, 1)
	go func() {
		for i := range frames {
			if err := eps[0].Send(ctx, 1, numbered(i, size)); err != nil {
				done <- err
				return
			}
			sent.Add(1)
		}
		done <- nil
	}()
	l := eps[1].links[0]
	require.Eventually(t, func() bool {
		_, _, stalls := l.buffered()
		return stalls > 0
	}, 20*time.Second, time.Millisecond, "the receiver's reader never ran out of room")
	return &sent, done
}

// A peer that sends far more than the receiver reads is held back by flow control: the
// receiver buffers at most RecvBuffer bytes ahead of Recv, and everything arrives intact once
// it reads.
func TestRecvBufferBoundsWhatAPeerCanQueue(t *testing.T) {
	const (
		frame  = 1 << 20
		buffer = 4 << 20
		// 64 MiB: more than the receive buffer plus QUIC's windows (32 MiB per stream) and
		// the read buffer can take, so that the sender must wait for the receiver.
		frames = 64
	)
	cfgs := newTestPKI(t).configs(t)
	for i := range cfgs {
		cfgs[i].MaxFrame = frame
		cfgs[i].RecvBuffer = buffer
	}
	eps := dialAll(t, cfgs)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sent, done := flood(t, eps, ctx, frames, frame)

	l := eps[1].links[0]
	queued, peak, _ := l.buffered()
	assert.LessOrEqual(t, peak, buffer)
	assert.Greater(t, queued, buffer-frame, "the reader waits with the buffer nearly full")
	assert.Less(t, sent.Load(), int64(frames), "the sender cannot have sent everything yet")
	select {
	case err := <-done:
		t.Fatalf("the sender finished while the receiver read nothing: %v", err)
	default:
	}

	for i := range frames {
		p, err := eps[1].Recv(ctx, 0)
		require.NoError(t, err, "frame %d", i)
		require.True(t, bytes.Equal(numbered(i, frame), p), "frame %d differs", i)
	}
	require.NoError(t, <-done)
	queued, peak, _ = l.buffered()
	assert.Zero(t, queued)
	assert.LessOrEqual(t, peak, buffer, "bytes buffered ahead of Recv at worst")
}

// Closing or aborting the receiver while its reader waits for room ends the reader.
func TestCloseWakesAWaitingReader(t *testing.T) {
	for _, abort := range []bool{false, true} {
		t.Run(map[bool]string{false: "close", true: "abort"}[abort], func(t *testing.T) {
			cfgs := newTestPKIOnce(t).configs(t)
			for i := range cfgs {
				cfgs[i].MaxFrame = 64 << 10
				cfgs[i].RecvBuffer = 256 << 10
				cfgs[i].Linger = 200 * time.Millisecond
			}
			eps := dialAll(t, cfgs)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, done := flood(t, eps, ctx, 1<<12, 64<<10)
			if abort {
				require.NoError(t, eps[1].Abort(errors.New("stop")))
			} else {
				require.NoError(t, eps[1].Close())
			}
			select {
			case <-eps[1].links[0].done:
			case <-ctx.Done():
				t.Fatal("the reader did not stop")
			}
			err := <-done
			require.Error(t, err, "the sender fails once the receiver is gone")
			assert.NotErrorIs(t, err, context.DeadlineExceeded)
			// Once every endpoint is closed, no reader is left behind.
			for _, e := range eps {
				require.NoError(t, e.Close())
			}
			for _, e := range eps {
				for _, l := range e.links {
					if l == nil {
						continue
					}
					select {
					case <-l.done:
					case <-ctx.Done():
						t.Fatalf("party %d: the reader of the link with party %d did not stop", e.ID(), l.peer)
					}
				}
			}
		})
	}
}

// allocated returns the bytes f allocates on the heap: the least of three calls, since the
// statistics are the process's and other goroutines may allocate meanwhile.
func allocated(f func()) uint64 {
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// A header may announce a large payload and the peer send little of it: the decoder's
// memory follows what arrives, not what is announced.
func TestReadFrameDoesNotTrustTheAnnouncedLength(t *testing.T) {
	const announced = 256 << 20
	in := append(appendHeader(nil, kindData, announced), make([]byte, 10)...)
	var err error
	got := allocated(func() { _, err = readFrame(bufio.NewReader(bytes.NewReader(in)), kindData, announced) })
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	// 1 MiB for the first step of the payload, 64 KiB for the readers, the error and whatever
	// the runtime allocates meanwhile.
	assert.LessOrEqual(t, got, uint64(1<<20+64<<10), "bytes allocated for a frame announcing %d bytes and carrying 10", announced)
}

func TestRecvBufferDefaults(t *testing.T) {
	p := newTestPKIOnce(t)
	base := Config{ID: 0, Addrs: [NumParties]string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}, Certs: p.certs, Key: p.keys[0], CA: p.pool}
	tests := []struct {
		maxFrame, recvBuffer         int
		wantMaxFrame, wantRecvBuffer int
	}{
		{0, 0, DefaultMaxFrame, DefaultRecvBuffer},
		{100 << 20, 0, 100 << 20, 100 << 20}, // the default buffer grows to fit a maximal frame
		{1 << 20, 0, 1 << 20, DefaultRecvBuffer},
		{1 << 20, 1 << 20, 1 << 20, 1 << 20},
		{0, 32 << 20, DefaultMaxFrame, 32 << 20},
	}
	for _, tt := range tests {
		c := base
		c.MaxFrame, c.RecvBuffer = tt.maxFrame, tt.recvBuffer
		s, err := c.validate()
		require.NoError(t, err)
		assert.Equal(t, tt.wantMaxFrame, s.MaxFrame)
		assert.Equal(t, tt.wantRecvBuffer, s.RecvBuffer)
	}
}

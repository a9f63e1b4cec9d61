package transport

import (
	"bytes"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trickle returns at most step bytes per Read, as a network stream does.
type trickle struct {
	r    io.Reader
	step int
}

func (t *trickle) Read(p []byte) (int, error) { return t.r.Read(p[:min(len(p), t.step)]) }

func TestReadPayload(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 1000, payloadChunk - 1, payloadChunk, payloadChunk + 1, 3 * payloadChunk, 8<<20 + 40, 13 << 20} {
		data := make([]byte, n+5) // 5 bytes of the next frame follow
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		for _, step := range []int{n + 5, 4093} {
			r := bytes.NewReader(data)
			p, err := ReadPayload(&trickle{r, step}, uint64(n))
			require.NoError(t, err, "n=%d step=%d", n, step)
			require.True(t, bytes.Equal(data[:n], p), "n=%d step=%d: payload differs", n, step)
			assert.Equal(t, n, cap(p), "n=%d: the payload is not over-allocated", n)
			assert.Equal(t, 5, r.Len(), "n=%d: read past the payload", n)
		}
	}
}

func TestReadPayloadCutShort(t *testing.T) {
	for _, tt := range []struct{ n, have int }{{10, 0}, {10, 9}, {3 << 20, 0}, {3 << 20, payloadChunk}, {3 << 20, 2<<20 + 7}} {
		_, err := ReadPayload(bytes.NewReader(make([]byte, tt.have)), uint64(tt.n))
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "%d of %d bytes", tt.have, tt.n)
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

// A header may announce far more than is sent: memory follows what arrives.
func TestReadPayloadAllocatesWhatArrives(t *testing.T) {
	const announced = 256 << 20
	for _, sent := range []int{10, payloadChunk - 1, payloadChunk + 1, 5 << 20} {
		src := make([]byte, sent)
		var err error
		got := allocated(func() { _, err = ReadPayload(bytes.NewReader(src), announced) })
		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		// The reader holds at most max(1 MiB, 2·sent) at a time, and allocates under
		// 1 MiB + 4·sent in all; 64 KiB of slack for the reader itself and for whatever the
		// runtime allocates meanwhile.
		assert.LessOrEqual(t, got, uint64(payloadChunk+4*sent+64<<10), "announced %d bytes, sent %d", announced, sent)
	}
	// A payload that arrives in full costs about twice its size (at most 2.4 times).
	const n = 8<<20 + 40
	src := make([]byte, n)
	got := allocated(func() {
		p, err := ReadPayload(bytes.NewReader(src), n)
		require.NoError(t, err)
		require.Len(t, p, n)
	})
	assert.LessOrEqual(t, got, uint64(n)*12/5, "allocated for a full payload of %d bytes", n)
}

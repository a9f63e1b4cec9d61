package main

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The peak profiler writes a heap profile (gzip-compressed protobuf, as go tool pprof reads)
// taken once the live heap has grown; without a path it does nothing.
func TestPeakProfiler(t *testing.T) {
	assert.Nil(t, startPeakProfiler(""))
	assert.NoError(t, (*peakProfiler)(nil).finish())

	path := filepath.Join(t.TempDir(), "heap.prof")
	p := startPeakProfiler(path)
	require.NotNil(t, p)
	var keep [][]byte
	for i := 0; i < 8; i++ { // grow the live heap across collections
		keep = append(keep, make([]byte, 8<<20))
		runtime.GC()
		time.Sleep(30 * time.Millisecond)
	}
	require.NoError(t, p.finish())
	runtime.KeepAlive(keep)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Greater(t, len(data), 2)
	assert.Equal(t, []byte{0x1f, 0x8b}, data[:2], "a gzip stream")
	assert.GreaterOrEqual(t, p.peak, uint64(8<<20), "the peak counts what the test holds")
}

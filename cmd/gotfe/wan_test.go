package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRate(t *testing.T) {
	cases := []struct {
		in   string
		want float64 // bytes per second
	}{
		{"352mbit", 44e6},
		{"1gbit", 125e6},
		{"800kbit", 1e5},
		{"8bit", 1},
		{"10mbps", 10e6},
		{"2.5Gbit", 312.5e6},
	}
	for _, c := range cases {
		got, err := parseRate(c.in)
		require.NoError(t, err, c.in)
		assert.InDelta(t, c.want, got, c.want*1e-12, c.in)
	}
	for _, bad := range []string{"", "fast", "-3mbit", "0mbit", "12", "mbit", "3 furlongs"} {
		_, err := parseRate(bad)
		assert.Error(t, err, bad)
	}
}

// The peak resident memory is read from the system where it says (Linux), and is at least
// what this test process holds.
func TestPeakRSS(t *testing.T) {
	r := peakRSS()
	v, ok := r["peak_rss_bytes"]
	if !ok {
		t.Skip("no /proc/self/status here")
	}
	assert.Greater(t, v.(int64), int64(1<<20))
}

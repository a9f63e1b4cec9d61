package quic

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The token bucket lets a burst leave at once, then paces datagrams at the rate, and drops
// those that would wait longer than shapeLatency, as tbf does.
func TestDelayConnShapes(t *testing.T) {
	const rate = 1e6 // bytes per second: 1 µs per byte
	c := &delayConn{rate: rate}
	now := time.Unix(100, 0)
	perByte := time.Microsecond

	// A full bucket: the first shapeBurst bytes leave at once.
	var leave time.Time
	sent := 0
	for sent+1000+wireOverhead <= shapeBurst {
		l, ok := c.departure(now, 1000)
		assert.True(t, ok)
		assert.Equal(t, now, l, "within the burst, datagram at byte %d leaves at once", sent)
		sent += 1000 + wireOverhead
		leave = l
	}
	_ = leave
	// Beyond the burst, each datagram waits for its bytes' worth of time.
	l1, ok := c.departure(now, 1000)
	assert.True(t, ok)
	l2, ok := c.departure(now, 1000)
	assert.True(t, ok)
	assert.Equal(t, (1000+wireOverhead)*perByte, l2.Sub(l1), "paced at the rate, headers included")
	assert.True(t, l1.After(now))

	// A backlog of more than shapeLatency is dropped, and a dropped datagram takes no tokens.
	// 100 ms at 1 byte per µs is about 96 datagrams of 1042 bytes: a drop must come well
	// before 1000.
	dropped := false
	for range 1000 {
		if _, ok := c.departure(now, 1000); !ok {
			dropped = true
			break
		}
	}
	assert.True(t, dropped, "a backlog beyond shapeLatency is dropped")
	before := c.finish
	_, ok = c.departure(now, 1000)
	assert.False(t, ok)
	assert.Equal(t, before, c.finish)
	assert.Positive(t, c.drops)

	// After an idle second the bucket is full again.
	later := now.Add(time.Second)
	l, ok := c.departure(later, 1000)
	assert.True(t, ok)
	assert.Equal(t, later, l)

	// Without a rate nothing waits.
	free := &delayConn{}
	l, ok = free.departure(now, 1<<20)
	assert.True(t, ok)
	assert.Equal(t, now, l)
}

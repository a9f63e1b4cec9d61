package quic

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// delayConn holds every outgoing datagram for a fixed time before sending it, in order: a
// stand-in for a network with that much one-way latency. With a rate, it also serialises the
// datagrams at that many bytes per second behind a token bucket, as Linux's tbf queueing
// discipline does on a link's egress: bursts of up to shapeBurst bytes leave at once, later
// datagrams wait for tokens, and one that would wait longer than shapeLatency is dropped (tbf's
// latency limit), which QUIC's congestion control sees as loss. Reads are not delayed.
type delayConn struct {
	net.PacketConn
	delay  time.Duration
	rate   float64 // bytes per second; 0: unlimited
	queue  chan delayedPacket
	closed chan struct{}
	once   sync.Once
	done   chan struct{} // closed when the sending goroutine has stopped

	mu     sync.Mutex
	finish time.Time // when the bytes accepted so far have left the bucket, at the rate
	drops  int64
}

// wireOverhead is what a datagram of n payload bytes adds on the wire and in tbf's count: the
// UDP and IPv4 headers and the Ethernet header (8 + 20 + 14 bytes).
const wireOverhead = 42

// The token bucket's depth and queueing limit, as scripts/netns.sh configures tbf
// ("burst 256kb latency 100ms").
const (
	shapeBurst   = 256 << 10
	shapeLatency = 100 * time.Millisecond
)

type delayedPacket struct {
	due  time.Time
	data []byte
	addr net.Addr
}

// delayQueue bounds the datagrams in flight in a delayConn; beyond it WriteTo blocks, as a
// full socket buffer would.
const delayQueue = 1 << 14

func newDelayConn(pc net.PacketConn, d time.Duration, rate float64) *delayConn {
	c := &delayConn{
		PacketConn: pc,
		delay:      d,
		rate:       rate,
		queue:      make(chan delayedPacket, delayQueue),
		closed:     make(chan struct{}),
		done:       make(chan struct{}),
	}
	go c.run()
	return c
}

// departure returns when a datagram of n bytes written now leaves the token bucket, or false
// when it would wait longer than shapeLatency (it is then dropped).
func (c *delayConn) departure(now time.Time, n int) (time.Time, bool) {
	if c.rate <= 0 {
		return now, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// A full bucket lets shapeBurst bytes leave at once: the virtual finish time never lags
	// more than that burst's transmission time behind now.
	credit := time.Duration(float64(shapeBurst) / c.rate * float64(time.Second))
	start := c.finish
	if lag := now.Add(-credit); start.Before(lag) {
		start = lag
	}
	end := start.Add(time.Duration(float64(n+wireOverhead) / c.rate * float64(time.Second)))
	if end.Sub(now) > shapeLatency {
		c.drops++
		return time.Time{}, false
	}
	c.finish = end
	if end.Before(now) {
		return now, true
	}
	return end, true
}

// WriteTo queues a copy of b to be sent after the delay, and after its turn at the rate.
func (c *delayConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	now := time.Now()
	leave, ok := c.departure(now, len(b))
	if !ok {
		return len(b), nil // dropped, as a full queue on the link would
	}
	p := delayedPacket{due: leave.Add(c.delay), data: append([]byte(nil), b...), addr: addr}
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	select {
	case c.queue <- p:
		return len(b), nil
	case <-c.closed:
		return 0, net.ErrClosed
	}
}

func (c *delayConn) run() {
	defer close(c.done)
	send := func(p delayedPacket) {
		time.Sleep(time.Until(p.due))
		// Errors are those of a lossy network: the datagram is dropped.
		_, _ = c.PacketConn.WriteTo(p.data, p.addr)
	}
	for {
		select {
		case p := <-c.queue:
			send(p)
		case <-c.closed:
			// Deliver what was queued before Close, such as a connection close.
			for {
				select {
				case p := <-c.queue:
					send(p)
				default:
					return
				}
			}
		}
	}
}

// Close stops accepting datagrams, sends those already queued when they are due, and closes
// the socket.
func (c *delayConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	<-c.done
	return c.PacketConn.Close()
}

// SetReadBuffer, SetWriteBuffer and SyscallConn pass through to the socket so that QUIC can
// size its buffers.

func (c *delayConn) SetReadBuffer(n int) error {
	if s, ok := c.PacketConn.(interface{ SetReadBuffer(int) error }); ok {
		return s.SetReadBuffer(n)
	}
	return errors.ErrUnsupported
}

func (c *delayConn) SetWriteBuffer(n int) error {
	if s, ok := c.PacketConn.(interface{ SetWriteBuffer(int) error }); ok {
		return s.SetWriteBuffer(n)
	}
	return errors.ErrUnsupported
}

func (c *delayConn) SyscallConn() (syscall.RawConn, error) {
	if s, ok := c.PacketConn.(interface {
		SyscallConn() (syscall.RawConn, error)
	}); ok {
		return s.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

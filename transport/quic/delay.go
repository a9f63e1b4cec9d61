package quic

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// delayConn holds every outgoing datagram for a fixed time before sending it, in order: a
// stand-in for a network with that much one-way latency. Reads are not delayed.
type delayConn struct {
	net.PacketConn
	delay  time.Duration
	queue  chan delayedPacket
	closed chan struct{}
	once   sync.Once
	done   chan struct{} // closed when the sending goroutine has stopped
}

type delayedPacket struct {
	due  time.Time
	data []byte
	addr net.Addr
}

// delayQueue bounds the datagrams in flight in a delayConn; beyond it WriteTo blocks, as a
// full socket buffer would.
const delayQueue = 1 << 14

func newDelayConn(pc net.PacketConn, d time.Duration) *delayConn {
	c := &delayConn{
		PacketConn: pc,
		delay:      d,
		queue:      make(chan delayedPacket, delayQueue),
		closed:     make(chan struct{}),
		done:       make(chan struct{}),
	}
	go c.run()
	return c
}

// WriteTo queues a copy of b to be sent after the delay.
func (c *delayConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	p := delayedPacket{due: time.Now().Add(c.delay), data: append([]byte(nil), b...), addr: addr}
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

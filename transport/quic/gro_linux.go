//go:build linux

package quic

import (
	"encoding/binary"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// groConn is a UDP socket with generic receive offload (UDP_GRO) on: the kernel hands over
// runs of datagrams of one size from one sender as one buffer, with the size in a control
// message, rather than one socket buffer per datagram. On loopback the runs are the
// segmented sends (GSO) of the peer, passed through whole, which saves most of the kernel's
// per-datagram work on both sides.
//
// quic-go reads through ReadBatch (its batch-reading hook): groConn splits each buffer back
// into the datagrams it holds and fills quic-go's messages with them, a copy each, carrying
// the control messages (ECN, packet info) of the run to every datagram. Everything else,
// GSO sends included, goes to the socket unchanged.
type groConn struct {
	*net.UDPConn

	buf  []byte // the last buffer read
	oob  []byte // its control messages
	n    int    // bytes in buf
	oobn int    // bytes in oob
	off  int    // start of the next datagram in buf[:n]
	seg  int    // size of the datagrams in buf (the last may be shorter)
	// addr is the sender of the last buffer; it is reused while the sender stays the same.
	addr   *net.UDPAddr
	addrAP netip.AddrPort
}

// groBufferSize holds the largest run the kernel coalesces (64 KiB of IP packet).
const groBufferSize = 1 << 16

// withGRO turns UDP_GRO on for c and returns c wrapped to read what it coalesces, or nil
// when the kernel refuses.
func withGRO(c *net.UDPConn) net.PacketConn {
	if g := newGROConn(c); g != nil {
		return g
	}
	return nil
}

// newGROConn turns UDP_GRO on for c and wraps it; it returns nil when the kernel refuses.
func newGROConn(c *net.UDPConn) *groConn {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_GRO, 1)
	}); err != nil || serr != nil {
		return nil
	}
	return &groConn{UDPConn: c, buf: make([]byte, groBufferSize), oob: make([]byte, 256)}
}

// ReadBatch fills ms with the next datagrams, reading from the socket when the last buffer
// read has been handed out. Each message must have one buffer, at least as long as the
// datagrams the peers send (quic-go's are); a longer datagram is cut short.
func (c *groConn) ReadBatch(ms []ipv4.Message, _ int) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	if c.off >= c.n {
		n, oobn, _, from, err := c.ReadMsgUDPAddrPort(c.buf, c.oob)
		if err != nil {
			return 0, err
		}
		c.n, c.oobn, c.off = n, oobn, 0
		c.seg = groSegment(c.oob[:oobn])
		if c.seg <= 0 || c.seg > n {
			c.seg = n
		}
		if c.addr == nil || from != c.addrAP {
			c.addr, c.addrAP = net.UDPAddrFromAddrPort(from), from
		}
		if n == 0 {
			// An empty datagram is one message, as recvmmsg would return it.
			m := &ms[0]
			m.N, m.NN, m.Flags, m.Addr = 0, copy(m.OOB, c.oob[:c.oobn]), 0, c.addr
			return 1, nil
		}
	}
	k := 0
	for k < len(ms) && c.off < c.n {
		end := min(c.off+c.seg, c.n)
		m := &ms[k]
		m.N = copy(m.Buffers[0], c.buf[c.off:end])
		m.NN = copy(m.OOB, c.oob[:c.oobn])
		m.Flags = 0
		m.Addr = c.addr
		c.off = end
		k++
	}
	return k, nil
}

// groSegment returns the datagram size of a UDP_GRO control message in oob, or 0 if there is
// none (a single datagram).
func groSegment(oob []byte) int {
	for len(oob) > 0 {
		h, body, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return 0
		}
		if h.Level == unix.IPPROTO_UDP && h.Type == unix.UDP_GRO && len(body) >= 4 {
			return int(int32(binary.NativeEndian.Uint32(body)))
		}
		oob = rest
	}
	return 0
}

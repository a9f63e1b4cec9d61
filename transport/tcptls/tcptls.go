// Package tcptls is a point-to-point link over TCP and TLS 1.3 that frames messages as
// transport/quic does (a msgpack header [0, length] and the raw payload), with its own
// minimal header codec. It reads a frame only when Recv asks for one, so nothing is buffered
// ahead of Recv beyond the kernel's socket buffer, and a payload is allocated as it arrives. It is the baseline
// the QUIC transport is measured against in `gotfe bench transport`: same framing, same
// encryption strength, one ordered byte stream per direction, the kernel's TCP instead of
// QUIC in user space.
//
// A Link is safe for one sending and one receiving goroutine at a time (Send calls are
// serialised, Recv calls must not overlap).
package tcptls

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/gotfe/gotfe/transport"
)

// DefaultMaxFrame bounds a received payload when Pair is given no maximum: 16 MiB, as for
// transport/quic.
const DefaultMaxFrame = 16 << 20

// Link is one end of a framed TLS connection.
type Link struct {
	conn     *tls.Conn
	br       *bufio.Reader
	max      uint64
	wmu      sync.Mutex
	wbuf     []byte
	counters transport.Counters
}

// Pair returns the two ends of a fresh link over TCP on loopback, authenticated by a
// certificate made for it. maxFrame bounds a received payload (zero means DefaultMaxFrame).
func Pair(ctx context.Context, maxFrame int) (*Link, *Link, error) {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	cert, pool, err := selfSigned()
	if err != nil {
		return nil, nil, fmt.Errorf("tcptls: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("tcptls: %w", err)
	}
	defer ln.Close()
	server := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	client := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: "127.0.0.1"}

	type accepted struct {
		c   *tls.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ch <- accepted{err: err}
			return
		}
		tc := tls.Server(c, server)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = c.Close()
			ch <- accepted{err: err}
			return
		}
		ch <- accepted{c: tc}
	}()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		return nil, nil, fmt.Errorf("tcptls: %w", err)
	}
	cc := tls.Client(raw, client)
	if err := cc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, nil, fmt.Errorf("tcptls: handshake: %w", err)
	}
	a := <-ch
	if a.err != nil {
		_ = cc.Close()
		return nil, nil, fmt.Errorf("tcptls: handshake: %w", a.err)
	}
	return newLink(cc, maxFrame), newLink(a.c, maxFrame), nil
}

const readBufferSize = 64 << 10

func newLink(c *tls.Conn, max int) *Link {
	return &Link{conn: c, br: bufio.NewReaderSize(c, readBufferSize), max: uint64(max)}
}

func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gotfe tcptls"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// coalesceLimit is the largest payload copied next to its header into one write.
const coalesceLimit = 32 << 10

// Send writes payload as one frame. ctx's deadline bounds the write; a write cut short
// leaves the link unusable.
func (l *Link) Send(ctx context.Context, payload []byte) error {
	if uint64(len(payload)) > l.max {
		return fmt.Errorf("tcptls: payload of %d bytes exceeds the maximum frame of %d bytes", len(payload), l.max)
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if d, ok := ctx.Deadline(); ok {
		_ = l.conn.SetWriteDeadline(d)
		defer l.conn.SetWriteDeadline(time.Time{})
	}
	b := appendHeader(l.wbuf[:0], uint64(len(payload)))
	var err error
	if len(payload) <= coalesceLimit {
		b = append(b, payload...)
		_, err = l.conn.Write(b)
	} else {
		// Two writes: TLS seals each into its own records, with no copy of the payload.
		if _, err = l.conn.Write(b); err == nil {
			_, err = l.conn.Write(payload)
		}
	}
	l.wbuf = b[:0]
	if err != nil {
		return fmt.Errorf("tcptls: send: %w", err)
	}
	l.counters.AddSent(len(payload))
	return nil
}

// Recv reads the next frame. ctx's deadline bounds the read; a read cut short leaves the
// link unusable.
func (l *Link) Recv(ctx context.Context) ([]byte, error) {
	if d, ok := ctx.Deadline(); ok {
		_ = l.conn.SetReadDeadline(d)
		defer l.conn.SetReadDeadline(time.Time{})
	}
	n, err := readHeader(l.br)
	if err != nil {
		return nil, fmt.Errorf("tcptls: recv: %w", err)
	}
	if n > l.max {
		return nil, fmt.Errorf("tcptls: recv: frame of %d bytes exceeds the maximum of %d", n, l.max)
	}
	p, err := transport.ReadPayload(l.br, n)
	if err != nil {
		return nil, fmt.Errorf("tcptls: recv: %w", err)
	}
	l.counters.AddReceived(len(p))
	return p, nil
}

// Stats returns the payload bytes and messages sent and received.
func (l *Link) Stats() transport.Stats { return l.counters.Stats() }

// Close closes the connection.
func (l *Link) Close() error { return l.conn.Close() }

// appendHeader appends the msgpack header [0, n] (kind 0: data).
func appendHeader(dst []byte, n uint64) []byte {
	dst = append(dst, 0x92, 0)
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xff:
		return append(dst, 0xcc, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 0xcd), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(dst, 0xce), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xcf), n)
}

var errHeader = errors.New("malformed frame header")

// readHeader reads a header written by appendHeader and returns the payload length.
func readHeader(r *bufio.Reader) (uint64, error) {
	var h [3]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, err
	}
	if h[0] != 0x92 || h[1] != 0 {
		return 0, errHeader
	}
	width := map[byte]int{0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8}[h[2]]
	if h[2] < 0x80 {
		return uint64(h[2]), nil
	}
	if width == 0 {
		return 0, errHeader
	}
	var buf [8]byte
	if _, err := io.ReadFull(r, buf[8-width:]); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(buf[:]), nil
}

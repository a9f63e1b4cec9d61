package quic

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// NumParties is the number of parties an endpoint links: itself and two peers.
const NumParties = 3

// Defaults of the zero-valued fields of [Config].
const (
	// DefaultMaxFrame (16 MiB) fits the largest message the engine sends, a chunk of at most
	// 8 MiB of payload plus its trailer, with room to spare.
	DefaultMaxFrame = 16 << 20
	// DefaultRecvBuffer (64 MiB) bounds the bytes received ahead of Recv, per peer.
	DefaultRecvBuffer  = 64 << 20
	DefaultDialTimeout = 30 * time.Second
	DefaultIdleTimeout = 10 * time.Second
	DefaultLinger      = 2 * time.Second
	DefaultRecvQueue   = 1024
)

// PartyURIScheme is the scheme of the URI that names a party in its certificate: party i's
// certificate carries the URI SAN "gotfe://party/i".
const (
	PartyURIScheme = "gotfe"
	partyURIHost   = "party"
)

// PartyURI returns the URI that names party i in its certificate.
func PartyURI(i int) *url.URL {
	return &url.URL{Scheme: PartyURIScheme, Host: partyURIHost, Path: "/" + strconv.Itoa(i)}
}

// CertParty returns the party index named by cert's "gotfe://party/i" URI SAN.
func CertParty(cert *x509.Certificate) (int, error) {
	found := -1
	for _, u := range cert.URIs {
		if u.Scheme != PartyURIScheme || u.Host != partyURIHost {
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(u.Path, "/"))
		if err != nil || !strings.HasPrefix(u.Path, "/") || i < 0 || i >= NumParties {
			return -1, fmt.Errorf("certificate %q names a bad party %q", cert.Subject.CommonName, u.String())
		}
		if found >= 0 && found != i {
			return -1, fmt.Errorf("certificate %q names two parties", cert.Subject.CommonName)
		}
		found = i
	}
	if found < 0 {
		return -1, fmt.Errorf("certificate %q names no party (no %s://%s/N URI)", cert.Subject.CommonName, PartyURIScheme, partyURIHost)
	}
	return found, nil
}

// Config is what one party needs to link to the other two. Zero-valued optional fields take
// the defaults stated on them.
type Config struct {
	// ID is this party's index: 0, 1 or 2.
	ID int
	// Addrs are the parties' UDP addresses, host:port, indexed by party. Party i listens on
	// Addrs[i] (unless Conn is set); the host is also the name its certificate must be valid
	// for when another party dials it.
	Addrs [NumParties]string
	// Certs are the parties' pinned certificates, indexed by party: a peer must present exactly
	// Certs[j] to be accepted as party j. Each names its party in a "gotfe://party/j" URI SAN.
	Certs [NumParties]*x509.Certificate
	// Key is this party's certificate (equal to Certs[ID]) and private key.
	Key tls.Certificate
	// CA holds the deployment CA that issued the party certificates.
	CA *x509.CertPool

	// MaxFrame bounds the payload of one received frame, in bytes; a larger frame ends the
	// link. Sending a payload above it is refused. Zero means DefaultMaxFrame (16 MiB).
	MaxFrame int
	// RecvBuffer bounds the payload bytes received from one peer and not yet returned by
	// Recv, counting the frame being read: once a frame would take it past the bound, the
	// link stops reading until Recv drains enough, and QUIC flow control holds the sender
	// back. It must be at least MaxFrame, so that a maximal frame always fits. Zero means
	// DefaultRecvBuffer (64 MiB), or MaxFrame if that is larger. Besides it, QUIC buffers
	// at most its flow-control window (32 MiB) per peer.
	RecvBuffer int
	// DialTimeout bounds how long Dial waits for both links when ctx has no earlier deadline.
	// Zero means DefaultDialTimeout.
	DialTimeout time.Duration
	// IdleTimeout is how long a link may stay without any packet from the peer before it is
	// declared dead; keep-alives are sent at a third of it so a live but busy peer never hits
	// it. Zero means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Linger bounds how long Close waits for a peer to confirm it has read everything sent
	// to it (a live peer does so within a round trip), so that messages still in flight are
	// delivered. Zero means DefaultLinger.
	Linger time.Duration
	// RecvQueue is the number of received messages buffered per peer ahead of Recv, however
	// small (RecvBuffer bounds their bytes); beyond it the link stops reading and QUIC flow
	// control holds the sender back. Zero means DefaultRecvQueue.
	RecvQueue int

	// Conn, if not nil, is the already-bound UDP socket to use instead of listening on
	// Addrs[ID] (so callers can pick ephemeral ports). The endpoint owns and closes it.
	Conn net.PacketConn
	// PacketDelay, if positive, holds every outgoing datagram for this long before sending
	// it: a test option that emulates network latency. Zero sends at once.
	PacketDelay time.Duration
	// PacketRate, if positive, limits the endpoint's outgoing datagrams to this many bytes per
	// second behind a token bucket (256 KiB deep; a datagram that would wait more than 100 ms
	// is dropped), as Linux's tbf does: with PacketDelay, a test option that emulates a wide
	// area network on one machine. Zero sends at once.
	PacketRate float64
	// OnRefused, if not nil, is called (from another goroutine) for each incoming connection
	// that Dial refuses, with a *RefusedError saying why.
	OnRefused func(err *RefusedError)
}

// settings is a validated Config with defaults applied.
type settings struct {
	Config
	hosts [NumParties]string // host part of Addrs, the TLS server names
}

func (c *Config) validate() (*settings, error) {
	s := &settings{Config: *c}
	if c.ID < 0 || c.ID >= NumParties {
		return nil, fmt.Errorf("party %d does not exist (want 0, 1 or 2)", c.ID)
	}
	for i := range NumParties {
		host, _, err := net.SplitHostPort(c.Addrs[i])
		if err != nil && (i != c.ID || c.Conn == nil) {
			return nil, fmt.Errorf("address of party %d: %w", i, err)
		}
		s.hosts[i] = host
		if c.Certs[i] == nil {
			return nil, fmt.Errorf("no certificate for party %d", i)
		}
		p, err := CertParty(c.Certs[i])
		if err != nil {
			return nil, fmt.Errorf("certificate of party %d: %w", i, err)
		}
		if p != i {
			return nil, fmt.Errorf("certificate listed for party %d names party %d", i, p)
		}
		for j := range i {
			if bytes.Equal(c.Certs[i].Raw, c.Certs[j].Raw) {
				return nil, fmt.Errorf("parties %d and %d have the same certificate", j, i)
			}
		}
	}
	if c.CA == nil {
		return nil, errors.New("no CA")
	}
	if len(c.Key.Certificate) == 0 || c.Key.PrivateKey == nil {
		return nil, errors.New("no key pair for this party")
	}
	if !bytes.Equal(c.Key.Certificate[0], c.Certs[c.ID].Raw) {
		return nil, fmt.Errorf("key pair's certificate is not the one listed for party %d", c.ID)
	}
	if c.MaxFrame < 0 || c.RecvBuffer < 0 || c.DialTimeout < 0 || c.IdleTimeout < 0 || c.Linger < 0 || c.RecvQueue < 0 || c.PacketDelay < 0 || c.PacketRate < 0 {
		return nil, errors.New("negative size or duration")
	}
	if s.MaxFrame == 0 {
		s.MaxFrame = DefaultMaxFrame
	}
	if s.RecvBuffer == 0 {
		s.RecvBuffer = max(DefaultRecvBuffer, s.MaxFrame)
	}
	if s.RecvBuffer < s.MaxFrame {
		return nil, fmt.Errorf("receive buffer of %d bytes is below the maximum frame of %d bytes: a maximal frame would never fit", s.RecvBuffer, s.MaxFrame)
	}
	if s.DialTimeout == 0 {
		s.DialTimeout = DefaultDialTimeout
	}
	if s.IdleTimeout == 0 {
		s.IdleTimeout = DefaultIdleTimeout
	}
	if s.Linger == 0 {
		s.Linger = DefaultLinger
	}
	if s.RecvQueue == 0 {
		s.RecvQueue = DefaultRecvQueue
	}
	return s, nil
}

// attemptTimeout bounds one connection attempt: a peer that is not up yet is dialled again
// after it, so a late starter is reached within about this long.
func (s *settings) attemptTimeout() time.Duration {
	return time.Second + 8*s.PacketDelay
}

// identify checks a certificate chain presented by a peer: the leaf must chain to the
// deployment CA for client or server use and be, byte for byte, one of the pinned party
// certificates. It returns that party's index.
func (s *settings) identify(rawCerts [][]byte, usage x509.ExtKeyUsage) (int, error) {
	if len(rawCerts) == 0 {
		return -1, errors.New("peer presented no certificate")
	}
	leaf, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return -1, fmt.Errorf("peer certificate: %w", err)
	}
	inter := x509.NewCertPool()
	for _, raw := range rawCerts[1:] {
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			return -1, fmt.Errorf("peer certificate chain: %w", err)
		}
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: s.CA, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return -1, fmt.Errorf("certificate %q is not issued by the deployment CA: %w", leaf.Subject.CommonName, err)
	}
	for j, c := range s.Certs {
		if bytes.Equal(c.Raw, leaf.Raw) {
			return j, nil
		}
	}
	return -1, fmt.Errorf("certificate %q is not the pinned certificate of any party", leaf.Subject.CommonName)
}

// nextProto is the ALPN protocol of gotfe links.
const nextProto = "gotfe/1"

// serverTLS is the TLS configuration of the listening side: it requires a client certificate
// and checks it with identify, reporting refusals through refused.
func (s *settings) serverTLS(refused func(*RefusedError)) *tls.Config {
	base := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{s.Key},
		NextProtos:   []string{nextProto},
		// The chain is verified in VerifyPeerCertificate, against the CA and the pins, so that
		// a refusal carries its reason.
		ClientAuth: tls.RequireAnyClientCert,
	}
	conf := base.Clone()
	conf.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		var remote string
		if hello.Conn != nil {
			remote = hello.Conn.RemoteAddr().String()
		}
		c := base.Clone()
		c.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			_, err := s.identify(rawCerts, x509.ExtKeyUsageClientAuth)
			if err != nil {
				refused(&RefusedError{Party: s.ID, Peer: -1, Remote: remote, Reason: err.Error()})
			}
			return err
		}
		return c, nil
	}
	return conf
}

// clientTLS is the TLS configuration for dialing party j: the standard verification against
// the CA and j's host name, then the pin.
func (s *settings) clientTLS(j int) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{s.Key},
		NextProtos:   []string{nextProto},
		RootCAs:      s.CA,
		ServerName:   s.hosts[j],
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, s.Certs[j].Raw) {
				return fmt.Errorf("%s answered with a certificate that is not party %d's pinned certificate", s.Addrs[j], j)
			}
			return nil
		},
	}
}

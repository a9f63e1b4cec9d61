package quic

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A certificate that the deployment CA signed and that names a party index is not enough:
// it must be, byte for byte, that party's pinned certificate. An impostor with such a
// certificate for party 0 (or 1) is refused by the listening side and by the dialing side,
// and reads nothing.
func TestRefusesUnpinnedCertificateOfTheCA(t *testing.T) {
	p := newTestPKI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	t.Run("listening side", func(t *testing.T) {
		cfgs := p.configs(t)
		ref := newRefusals()
		cfgs[1].OnRefused = ref.add
		results := make(chan result, NumParties)
		dialAsync(ctx, cfgs, results, 1, 2)

		cert, key := p.issue(t, 10, []*url.URL{PartyURI(0)})
		require.Equal(t, 0, mustCertParty(t, cert.Raw), "the impostor's certificate names party 0")
		n, err := rawHello(t, cfgs[1].Addrs[1], key, p.pool, 0)
		require.Error(t, err)
		assert.Zero(t, n, "the impostor received data")
		assert.Contains(t, err.Error(), "bad certificate")
		r := ref.wait(t)
		assert.Equal(t, 1, r.Party)
		assert.Contains(t, r.Reason, "not the pinned certificate of any party")

		// The real party 0 still links.
		dialAsync(ctx, cfgs, results, 0)
		exchange(t, collect(t, results, NumParties))
	})

	t.Run("dialing side", func(t *testing.T) {
		cfgs := p.configs(t)
		// The impostor listens at party 1's address with a CA-signed certificate naming
		// party 1, accepts any client and counts what it reads.
		cert, key := p.issue(t, 11, []*url.URL{PartyURI(1)})
		require.Equal(t, 1, mustCertParty(t, cert.Raw))
		ln, err := quicgo.Listen(cfgs[1].Conn, &tls.Config{
			MinVersion:   tls.VersionTLS13,
			Certificates: []tls.Certificate{key},
			NextProtos:   []string{nextProto},
			ClientAuth:   tls.RequireAnyClientCert,
		}, &quicgo.Config{})
		require.NoError(t, err)
		defer ln.Close()
		var read atomic.Int64
		var readers sync.WaitGroup
		accepting := make(chan struct{})
		go func() {
			defer close(accepting)
			for {
				conn, err := ln.Accept(ctx)
				if err != nil {
					return
				}
				readers.Go(func() {
					s, err := conn.AcceptStream(ctx)
					if err != nil {
						return
					}
					n, _ := io.Copy(io.Discard, s)
					read.Add(n)
				})
			}
		}()
		results := make(chan result, 2)
		dialAsync(ctx, cfgs, results, 0, 2)
		r := <-results
		require.Equal(t, 0, r.peer)
		require.ErrorContains(t, r.err, "not party 1's pinned certificate")
		cancel()
		<-results
		require.NoError(t, ln.Close())
		<-accepting
		readers.Wait()
		assert.Zero(t, read.Load(), "the impostor read data")
	})
}

func mustCertParty(t *testing.T, raw []byte) int {
	t.Helper()
	c, err := parseCert(raw)
	require.NoError(t, err)
	i, err := CertParty(c)
	require.NoError(t, err)
	return i
}

func parseCert(raw []byte) (*x509.Certificate, error) { return x509.ParseCertificate(raw) }

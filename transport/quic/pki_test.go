package quic

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testPKI is a deployment CA and three party certificates for 127.0.0.1.
type testPKI struct {
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	pool   *x509.CertPool
	certs  [NumParties]*x509.Certificate
	keys   [NumParties]tls.Certificate
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	p := &testPKI{caCert: ca, caKey: caKey, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	for i := range NumParties {
		p.certs[i], p.keys[i] = p.issue(t, i, []*url.URL{PartyURI(i)})
	}
	return p
}

// issue makes a certificate for 127.0.0.1 with the given URI SANs, signed by the CA.
func (p *testPKI) issue(t testing.TB, serial int, uris []*url.URL) (*x509.Certificate, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(100 + serial)),
		Subject:      pkix.Name{CommonName: "test party"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		URIs:         uris,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}
}

// configs returns the three parties' configurations, each with a bound loopback socket.
func (p *testPKI) configs(t testing.TB) [NumParties]Config {
	t.Helper()
	var cfgs [NumParties]Config
	var addrs [NumParties]string
	var conns [NumParties]net.PacketConn
	for i := range conns {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		conns[i] = c
		addrs[i] = c.LocalAddr().String()
	}
	for i := range cfgs {
		cfgs[i] = Config{ID: i, Addrs: addrs, Certs: p.certs, Key: p.keys[i], CA: p.pool, Conn: conns[i]}
	}
	return cfgs
}

// dialAll links the three configurations and closes the endpoints at the end of the test.
func dialAll(t testing.TB, cfgs [NumParties]Config) [NumParties]*Endpoint {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var (
		eps  [NumParties]*Endpoint
		errs [NumParties]error
		wg   sync.WaitGroup
	)
	for i := range cfgs {
		wg.Go(func() { eps[i], errs[i] = Dial(ctx, cfgs[i]) })
	}
	wg.Wait()
	for i := range eps {
		require.NoError(t, errs[i], "party %d", i)
	}
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, e := range eps {
			wg.Go(func() { _ = e.Close() })
		}
		wg.Wait()
	})
	return eps
}

// writePEM writes the CA, the three certificates and the three keys under dir as ca.pem,
// party<i>.pem and party<i>.key.
func (p *testPKI) writePEM(t testing.TB, dir string) {
	t.Helper()
	write := func(name, typ string, der []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	}
	write("ca.pem", "CERTIFICATE", p.caCert.Raw)
	for i := range NumParties {
		write(partyFile(i, "pem"), "CERTIFICATE", p.certs[i].Raw)
		der, err := x509.MarshalPKCS8PrivateKey(p.keys[i].PrivateKey)
		require.NoError(t, err)
		write(partyFile(i, "key"), "PRIVATE KEY", der)
	}
}

func partyFile(i int, ext string) string { return "party" + string(rune('0'+i)) + "." + ext }

// readPEMConfig is the inverse of writePEM, for party id at addrs.
func readPEMConfig(dir string, id int, addrs [NumParties]string) (Config, error) {
	cfg := Config{ID: id, Addrs: addrs, CA: x509.NewCertPool()}
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, os.ErrInvalid
		}
		return blk.Bytes, nil
	}
	der, err := read("ca.pem")
	if err != nil {
		return cfg, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return cfg, err
	}
	cfg.CA.AddCert(ca)
	for i := range NumParties {
		der, err := read(partyFile(i, "pem"))
		if err != nil {
			return cfg, err
		}
		if cfg.Certs[i], err = x509.ParseCertificate(der); err != nil {
			return cfg, err
		}
	}
	kder, err := read(partyFile(id, "key"))
	if err != nil {
		return cfg, err
	}
	key, err := x509.ParsePKCS8PrivateKey(kder)
	if err != nil {
		return cfg, err
	}
	cfg.Key = tls.Certificate{Certificate: [][]byte{cfg.Certs[id].Raw}, PrivateKey: key, Leaf: cfg.Certs[id]}
	return cfg, nil
}

package deploy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"

	"github.com/gotfe/gotfe/transport/quic"
)

// DefaultValidity is how long generated certificates are valid when no validity is given.
const DefaultValidity = 2 * 365 * 24 * time.Hour

// PKI is a deployment CA and the three parties' certificates and keys.
type PKI struct {
	CA    *x509.Certificate
	Certs [quic.NumParties]*x509.Certificate
	Keys  [quic.NumParties]tls.Certificate
}

// newCA makes a self-signed CA certificate (ECDSA P-256) named name, valid from an hour ago
// for validity, that signs certificates and no further CAs.
func newCA(name string, validity time.Duration) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	cert, err := sign(tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	return cert, key, nil
}

// NewPKI makes a fresh CA (ECDSA P-256) and issues party i a certificate for hosts[i] (a host
// name or an IP address, without port) valid for validity (zero means DefaultValidity). The
// CA's private key is dropped once the three certificates are signed: no further certificate
// can be issued, and the parties pin these ones.
func NewPKI(hosts [quic.NumParties]string, validity time.Duration) (*PKI, error) {
	if validity <= 0 {
		validity = DefaultValidity
	}
	now := time.Now()
	ca, caKey, err := newCA("gotfe deployment CA", validity)
	if err != nil {
		return nil, fmt.Errorf("deploy: CA: %w", err)
	}
	p := &PKI{CA: ca}
	for i, host := range hosts {
		if host == "" {
			return nil, fmt.Errorf("deploy: no host for party %d", i)
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("deploy: key of party %d: %w", i, err)
		}
		serial, err := randomSerial()
		if err != nil {
			return nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial,
			Subject:      pkix.Name{CommonName: PartyName(i)},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(validity),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			URIs:         []*url.URL{quic.PartyURI(i)},
		}
		if ip := net.ParseIP(host); ip != nil {
			tmpl.IPAddresses = []net.IP{ip}
		} else {
			tmpl.DNSNames = []string{host}
		}
		cert, err := sign(tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return nil, fmt.Errorf("deploy: certificate of party %d: %w", i, err)
		}
		p.Certs[i] = cert
		p.Keys[i] = tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
	}
	return p, nil
}

// PartyName is the default name of party i: "party0", "party1", "party2".
func PartyName(i int) string { return fmt.Sprintf("party%d", i) }

func randomSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("deploy: serial number: %w", err)
	}
	return s, nil
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// Pool returns a certificate pool holding the CA.
func (p *PKI) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.CA)
	return pool
}

// Config returns party id's link configuration for parties at addrs.
func (p *PKI) Config(id int, addrs [quic.NumParties]string) quic.Config {
	return quic.Config{ID: id, Addrs: addrs, Certs: p.Certs, Key: p.Keys[id], CA: p.Pool()}
}

// pemCert encodes a certificate as PEM.
func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// pemKey encodes a private key as PKCS #8 PEM.
func pemKey(k crypto.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parseCertPEM reads exactly one certificate from PEM text.
func parseCertPEM(b []byte) (*x509.Certificate, error) {
	blk, rest := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	if blk, _ := pem.Decode(rest); blk != nil {
		return nil, errors.New("more than one PEM block")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// parseKeyPEM reads a PKCS #8 (or SEC 1 EC) private key from PEM text.
func parseKeyPEM(b []byte) (crypto.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	switch blk.Type {
	case "PRIVATE KEY":
		return x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(blk.Bytes)
	}
	return nil, fmt.Errorf("PEM block %q is not a private key", blk.Type)
}

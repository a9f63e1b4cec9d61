package deploy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/gotfe/gotfe/transport/quic"
)

// Clients of private predictions (package serving) are outside the three parties. They
// authenticate to the parties with certificates from a client CA, distinct from the
// deployment CA: the deployment CA's key is dropped once the three party certificates are
// signed, while the client CA's key is kept (client-ca.key) by whoever admits clients, so
// that clients can be added without touching the parties. The parties authenticate to clients
// with their own certificates, which clients pin as the parties do.
//
// On disk, beside parties.json:
//
//	client-ca.pem   the client CA's certificate, named by "client_ca" in parties.json
//	client-ca.key   its private key (mode 0600): keep it off the parties' hosts
//	<name>.pem      a client's certificate (gotfe certs --client NAME)
//	<name>.key      its private key (mode 0600): give it to that client only

// ServePortOffset is the distance from a party's port to its serving port when parties.json
// gives none: party 0 at 10.0.0.1:7000 answers clients on 10.0.0.1:7100.
const ServePortOffset = 100

// Names of the client CA's files in a deployment directory.
const (
	ClientCAFile    = "client-ca.pem"
	ClientCAKeyFile = "client-ca.key"
)

// loadServing reads the client CA and the serving addresses (after the parties are loaded).
func (p *Parties) loadServing() error {
	if p.ClientCA != "" {
		ca, err := p.readCert(p.ClientCA)
		if err != nil {
			return fmt.Errorf("client_ca: %w", err)
		}
		if !ca.IsCA {
			return errors.New("client_ca: certificate is not a CA")
		}
		p.clientCA = ca
	}
	seen := map[string]int{} // addresses taken, by the party using them
	for _, info := range p.Parties {
		if c, err := canonicalAddr(info.Address); err == nil {
			seen[c] = info.Index
		}
	}
	for _, info := range p.Parties {
		a := info.Serve
		if a == "" {
			host, port, err := net.SplitHostPort(info.Address)
			if err != nil {
				return fmt.Errorf("party %d: address: %w", info.Index, err)
			}
			n, err := strconv.Atoi(port)
			if err != nil || n+ServePortOffset > 65535 {
				return fmt.Errorf("party %d: address %s: no serving port %s+%d: give one in \"serve\"", info.Index, info.Address, port, ServePortOffset)
			}
			a = net.JoinHostPort(host, strconv.Itoa(n+ServePortOffset))
		}
		c, err := canonicalAddr(a)
		if err != nil {
			return fmt.Errorf("party %d: serve: %w", info.Index, err)
		}
		if j, dup := seen[c]; dup {
			return fmt.Errorf("party %d: serve: address %s is already used by party %d", info.Index, a, j)
		}
		seen[c] = info.Index
		p.serve[info.Index] = a
	}
	return nil
}

// ServeAddrs returns the addresses where the parties answer clients, by index.
func (p *Parties) ServeAddrs() [quic.NumParties]string { return p.serve }

// Certs returns the parties' pinned certificates, by index.
func (p *Parties) Certs() [quic.NumParties]*x509.Certificate { return p.certs }

// CAPool returns a pool holding the deployment CA.
func (p *Parties) CAPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	return pool
}

// ClientCAPool returns a pool holding the client CA, or an error when parties.json names none.
func (p *Parties) ClientCAPool() (*x509.CertPool, error) {
	if p.clientCA == nil {
		return nil, errors.New("deploy: parties.json names no client CA (\"client_ca\"): make one with gotfe certs --client NAME")
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.clientCA)
	return pool, nil
}

// LoadKeyPair reads a certificate and its private key (PEM files) as a TLS key pair, checking
// that they belong together; a key file others can read is used with a warning.
func LoadKeyPair(certPath, keyPath string) (tls.Certificate, error) {
	warnKeyMode(keyPath)
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("deploy: key pair %s, %s: %w", certPath, keyPath, err)
	}
	return pair, nil
}

// ClientCA is a CA that issues client certificates; unlike the deployment CA it keeps its key.
type ClientCA struct {
	Cert *x509.Certificate
	key  crypto.Signer
}

// NewClientCA makes a fresh client CA (ECDSA P-256) valid for validity (zero means
// DefaultValidity).
func NewClientCA(validity time.Duration) (*ClientCA, error) {
	if validity <= 0 {
		validity = DefaultValidity
	}
	cert, key, err := newCA("gotfe client CA", validity)
	if err != nil {
		return nil, fmt.Errorf("deploy: client CA: %w", err)
	}
	return &ClientCA{Cert: cert, key: key}, nil
}

// Pool returns a pool holding the client CA.
func (c *ClientCA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.Cert)
	return pool
}

var clientName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Issue makes a key and a client certificate named name (letters, digits, '.', '_', '-'),
// valid for validity (zero means DefaultValidity), for client authentication only.
func (c *ClientCA) Issue(name string, validity time.Duration) (tls.Certificate, error) {
	if !clientName.MatchString(name) {
		return tls.Certificate{}, fmt.Errorf("deploy: client name %q: use letters, digits, '.', '_' and '-' (at most 64)", name)
	}
	if validity <= 0 {
		validity = DefaultValidity
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("deploy: key of client %s: %w", name, err)
	}
	serial, err := randomSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	cert, err := sign(tmpl, c.Cert, &key.PublicKey, c.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("deploy: certificate of client %s: %w", name, err)
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}, nil
}

// LoadClientCA reads a client CA and its key from a deployment directory.
func LoadClientCA(dir string) (*ClientCA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, ClientCAFile))
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("deploy: %s: %w", ClientCAFile, err)
	}
	keyPath := filepath.Join(dir, ClientCAKeyFile)
	warnKeyMode(keyPath)
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("deploy: %s: %w", ClientCAKeyFile, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("deploy: %s: not a signing key", ClientCAKeyFile)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, fmt.Errorf("deploy: %s does not match %s: %w", ClientCAKeyFile, ClientCAFile, err)
	}
	return &ClientCA{Cert: cert, key: signer}, nil
}

// clientCAFiles returns the PEM files of a client CA.
func (c *ClientCA) files() (map[string][]byte, map[string]os.FileMode, error) {
	k, err := pemKey(c.key)
	if err != nil {
		return nil, nil, fmt.Errorf("deploy: client CA key: %w", err)
	}
	return map[string][]byte{ClientCAFile: pemCert(c.Cert), ClientCAKeyFile: k},
		map[string]os.FileMode{ClientCAFile: 0o644, ClientCAKeyFile: 0o600}, nil
}

// ClientCertOptions tune GenerateClientCert.
type ClientCertOptions struct {
	// Validity of the certificate; zero means DefaultValidity.
	Validity time.Duration
	// Overwrite allows replacing an existing certificate of the same name.
	Overwrite bool
}

// GenerateClientCert issues the client certificate name.pem and its key name.key in the
// deployment directory dir (where parties.json is), signed by the deployment's client CA.
// A deployment without a client CA gets one (client-ca.pem and client-ca.key), and its
// parties.json names it; the parties must then reload parties.json (restart) to take clients.
// It returns the paths of the certificate and the key.
func GenerateClientCert(dir, name string, opts ClientCertOptions) (certPath, keyPath string, err error) {
	partiesPath := filepath.Join(dir, PartiesFile)
	ps, err := LoadParties(partiesPath)
	if err != nil {
		return "", "", err
	}
	var ca *ClientCA
	if ps.ClientCA == "" {
		if ca, err = NewClientCA(0); err != nil {
			return "", "", err
		}
		files, modes, err := ca.files()
		if err != nil {
			return "", "", err
		}
		for f := range files {
			if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
				return "", "", fmt.Errorf("deploy: %s exists but parties.json names no client CA: add \"client_ca\": %q to it, or remove the file", filepath.Join(dir, f), ClientCAFile)
			}
		}
		ps.ClientCA = ClientCAFile
		js, err := json.MarshalIndent(ps, "", "  ")
		if err != nil {
			return "", "", fmt.Errorf("deploy: %w", err)
		}
		files[PartiesFile], modes[PartiesFile] = append(js, '\n'), 0o644
		if err := writeAll(dir, files, modes); err != nil {
			return "", "", err
		}
	} else if ca, err = LoadClientCA(dir); err != nil {
		return "", "", err
	}
	pair, err := ca.Issue(name, opts.Validity)
	if err != nil {
		return "", "", err
	}
	certPath, keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	reserved := map[string]bool{ClientCAFile: true, ClientCAKeyFile: true, "ca.pem": true, PartiesFile: true}
	for i := range quic.NumParties {
		reserved[PartyName(i)+".pem"], reserved[PartyName(i)+".key"] = true, true
	}
	if reserved[name+".pem"] || reserved[name+".key"] {
		return "", "", fmt.Errorf("deploy: client name %q is taken by a file of the deployment", name)
	}
	if !opts.Overwrite {
		for _, f := range []string{certPath, keyPath} {
			if _, err := os.Lstat(f); err == nil {
				return "", "", fmt.Errorf("deploy: %s already exists (another name, or overwrite: gotfe certs --force)", f)
			}
		}
	}
	k, err := pemKey(pair.PrivateKey)
	if err != nil {
		return "", "", fmt.Errorf("deploy: key of client %s: %w", name, err)
	}
	files := map[string][]byte{name + ".pem": pemCert(pair.Leaf), name + ".key": k}
	modes := map[string]os.FileMode{name + ".pem": 0o644, name + ".key": 0o600}
	if err := writeAll(dir, files, modes); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

package deploy

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gotfe/gotfe/transport/quic"
)

// PartiesFile is the name GenerateCerts gives the parties file.
const PartiesFile = "parties.json"

// DefaultPort is the UDP port of a party whose host is given without one (see CertOptions).
const DefaultPort = 7000

// Parties is the content of parties.json: the deployment CA and the three parties.
type Parties struct {
	// CA is the deployment CA certificate: a PEM file path relative to the file's directory,
	// or PEM text.
	CA string `json:"ca"`
	// Parties lists the three parties, in any order.
	Parties []PartyInfo `json:"parties"`
	// ClientCA is the CA that issues the certificates of the clients of private predictions
	// (see ClientCA): a PEM file path relative to the file's directory, or PEM text. Empty:
	// the parties take no clients.
	ClientCA string `json:"client_ca,omitempty"`

	clientCA *x509.Certificate                  // loaded client CA, nil without one
	serve    [quic.NumParties]string            // serving addresses, by index
	dir      string                             // directory of the file, for relative paths
	ca       *x509.Certificate                  // loaded CA
	certs    [quic.NumParties]*x509.Certificate // loaded certificates, by index
	addrs    [quic.NumParties]string            // addresses, by index
}

// PartyInfo is one party of parties.json.
type PartyInfo struct {
	Index   int    `json:"index"`   // 0, 1 or 2
	Name    string `json:"name"`    // for people and logs
	Address string `json:"address"` // host:port where the party listens (UDP)
	Cert    string `json:"cert"`    // PEM file path relative to the file's directory, or PEM text
	// Serve is the host:port (UDP) where the party answers clients of private predictions;
	// empty means the host of Address with its port plus ServePortOffset.
	Serve string `json:"serve,omitempty"`
}

// LoadParties reads and checks a parties file: three parties with indices 0, 1 and 2, each
// with its own address and a certificate that names it and chains to the CA.
func LoadParties(path string) (*Parties, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	p := &Parties{dir: filepath.Dir(path)}
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("deploy: %s: %w", path, err)
	}
	if err := p.load(); err != nil {
		return nil, fmt.Errorf("deploy: %s: %w", path, err)
	}
	return p, nil
}

func (p *Parties) load() error {
	var err error
	if p.ca, err = p.readCert(p.CA); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	if !p.ca.IsCA {
		return errors.New("ca: certificate is not a CA")
	}
	if len(p.Parties) != quic.NumParties {
		return fmt.Errorf("%d parties listed, want %d", len(p.Parties), quic.NumParties)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	at := map[string]PartyInfo{} // parties by canonical address
	for _, info := range p.Parties {
		i := info.Index
		if i < 0 || i >= quic.NumParties {
			return fmt.Errorf("party index %d (want 0, 1 or 2)", i)
		}
		if p.certs[i] != nil {
			return fmt.Errorf("party %d listed twice", i)
		}
		addr, err := canonicalAddr(info.Address)
		if err != nil {
			return fmt.Errorf("party %d: address: %w", i, err)
		}
		if other, dup := at[addr]; dup {
			a, b := other, info
			if a.Index > b.Index {
				a, b = b, a
			}
			return fmt.Errorf("parties %d (%s) and %d (%s) have the same address %s: each party needs its own host:port", a.Index, a.Name, b.Index, b.Name, info.Address)
		}
		at[addr] = info
		cert, err := p.readCert(info.Cert)
		if err != nil {
			return fmt.Errorf("party %d: cert: %w", i, err)
		}
		if got, err := quic.CertParty(cert); err != nil || got != i {
			if err == nil {
				err = fmt.Errorf("it names party %d", got)
			}
			return fmt.Errorf("party %d: cert: %w", i, err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return fmt.Errorf("party %d: cert: not issued by the CA: %w", i, err)
		}
		p.certs[i] = cert
		p.addrs[i] = info.Address
	}
	return p.loadServing()
}

// canonicalAddr returns a form of a host:port address in which two spellings of the same
// address are equal: host names in lower case, IP addresses and numeric ports in their
// shortest form.
func canonicalAddr(a string) (string, error) {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "", err
	}
	host = strings.ToLower(host)
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	}
	if n, err := strconv.ParseUint(port, 10, 16); err == nil {
		port = strconv.FormatUint(n, 10)
	}
	return net.JoinHostPort(host, port), nil
}

// readCert reads a certificate given as PEM text or as a file path relative to p.dir.
func (p *Parties) readCert(s string) (*x509.Certificate, error) {
	if s == "" {
		return nil, errors.New("missing")
	}
	if strings.HasPrefix(strings.TrimSpace(s), "-----BEGIN") {
		return parseCertPEM([]byte(s))
	}
	b, err := os.ReadFile(p.path(s))
	if err != nil {
		return nil, err
	}
	c, err := parseCertPEM(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	return c, nil
}

func (p *Parties) path(s string) string {
	if filepath.IsAbs(s) {
		return s
	}
	return filepath.Join(p.dir, s)
}

// Addrs returns the parties' addresses, by index.
func (p *Parties) Addrs() [quic.NumParties]string { return p.addrs }

// KeyPath is the default key file of party id: party<id>.key beside the parties file.
func (p *Parties) KeyPath(id int) string { return filepath.Join(p.dir, PartyName(id)+".key") }

// Config builds party id's link configuration, reading its private key from keyPath (empty
// means KeyPath(id)). The key must belong to the certificate listed for id. A key file that
// its group or others may read is used all the same, with a warning (through log/slog,
// once per file) that names it and its mode.
func (p *Parties) Config(id int, keyPath string) (quic.Config, error) {
	if id < 0 || id >= quic.NumParties {
		return quic.Config{}, fmt.Errorf("deploy: party %d does not exist (want 0, 1 or 2)", id)
	}
	if keyPath == "" {
		keyPath = p.KeyPath(id)
	}
	b, err := os.ReadFile(keyPath)
	if err != nil {
		return quic.Config{}, fmt.Errorf("deploy: key of party %d: %w", id, err)
	}
	warnKeyMode(keyPath)
	key, err := parseKeyPEM(b)
	if err != nil {
		return quic.Config{}, fmt.Errorf("deploy: key of party %d: %s: %w", id, keyPath, err)
	}
	pair := tls.Certificate{Certificate: [][]byte{p.certs[id].Raw}, PrivateKey: key, Leaf: p.certs[id]}
	// Check that the key is the certificate's.
	if _, err := tls.X509KeyPair(pemCert(p.certs[id]), b); err != nil {
		return quic.Config{}, fmt.Errorf("deploy: key of party %d: %s does not match its certificate: %w", id, keyPath, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	return quic.Config{ID: id, Addrs: p.addrs, Certs: p.certs, Key: pair, CA: pool}, nil
}

// warned holds the key files whose mode has been warned about, so that each is warned about
// once per process.
var warned sync.Map

// warnKeyMode logs a warning, once per file, if the private key file at path can be read by
// its group or by others: a key readable by another account lets it impersonate the party.
// It does not refuse the key (a deployment may rely on group access on purpose); file modes
// say nothing of access on Windows, which is not checked.
func warnKeyMode(path string) {
	if runtime.GOOS == "windows" {
		return
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return
	}
	if _, done := warned.LoadOrStore(path, true); done {
		return
	}
	slog.Warn(fmt.Sprintf("deploy: private key file %s has mode %04o and can be read by other users: restrict it with chmod 600 %s", path, st.Mode().Perm(), path),
		"file", path, "mode", fmt.Sprintf("%04o", st.Mode().Perm()))
}

// Endpoint loads the parties file at path and links party id to the two others (see
// [quic.Dial]); keyPath is party id's key file, empty for the default. tune, if not nil, may
// adjust the configuration (timeouts, frame size) before dialing.
func Endpoint(ctx context.Context, path string, id int, keyPath string, tune func(*quic.Config)) (*quic.Endpoint, error) {
	p, err := LoadParties(path)
	if err != nil {
		return nil, err
	}
	cfg, err := p.Config(id, keyPath)
	if err != nil {
		return nil, err
	}
	if tune != nil {
		tune(&cfg)
	}
	return quic.Dial(ctx, cfg)
}

// CertOptions tune GenerateCerts.
type CertOptions struct {
	// Hosts are the parties' hosts, "host" or "host:port", one per party; a host without a
	// port gets DefaultPort. One host serves all three parties on consecutive ports (from
	// its port, or DefaultPort); none means 127.0.0.1.
	Hosts []string
	// Validity of the certificates; zero means DefaultValidity.
	Validity time.Duration
	// Overwrite allows replacing existing files; without it GenerateCerts refuses to touch a
	// directory that already holds any of them.
	Overwrite bool
}

// GenerateCerts makes a deployment in dir (created if needed): a CA, the three parties'
// certificates and keys, a client CA for the clients of private predictions (see ClientCA),
// and parties.json. Each file is written to a temporary name and
// renamed into place, so none is ever left half-written; keys are readable by their owner
// only.
func GenerateCerts(dir string, opts CertOptions) error {
	addrs, err := hostAddrs(opts.Hosts)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	var hosts [quic.NumParties]string
	for i, a := range addrs {
		hosts[i], _, _ = net.SplitHostPort(a)
	}
	pki, err := NewPKI(hosts, opts.Validity)
	if err != nil {
		return err
	}
	clientCA, err := NewClientCA(opts.Validity)
	if err != nil {
		return err
	}
	files, modes, err := clientCA.files()
	if err != nil {
		return err
	}
	files["ca.pem"], modes["ca.pem"] = pemCert(pki.CA), 0o644
	ps := Parties{CA: "ca.pem", ClientCA: ClientCAFile}
	for i := range quic.NumParties {
		name := PartyName(i)
		files[name+".pem"] = pemCert(pki.Certs[i])
		modes[name+".pem"] = 0o644
		if files[name+".key"], err = pemKey(pki.Keys[i].PrivateKey); err != nil {
			return fmt.Errorf("deploy: key of party %d: %w", i, err)
		}
		modes[name+".key"] = 0o600
		host, port, _ := net.SplitHostPort(addrs[i])
		serve := ""
		if n, _ := strconv.Atoi(port); n+ServePortOffset <= 65535 {
			serve = net.JoinHostPort(host, strconv.Itoa(n+ServePortOffset))
		}
		ps.Parties = append(ps.Parties, PartyInfo{Index: i, Name: name, Address: addrs[i], Cert: name + ".pem", Serve: serve})
	}
	js, err := json.MarshalIndent(ps, "", "  ")
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	files[PartiesFile] = append(js, '\n')
	modes[PartiesFile] = 0o644

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	if !opts.Overwrite {
		for name := range files {
			if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
				return fmt.Errorf("deploy: %s already exists (use another directory, or overwrite: gotfe certs --force)", filepath.Join(dir, name))
			}
		}
	}
	return writeAll(dir, files, modes)
}

// writeAll writes every file to a temporary name first, then renames them all into place.
func writeAll(dir string, files map[string][]byte, modes map[string]os.FileMode) error {
	temps := map[string]string{}
	cleanup := func() {
		for _, t := range temps {
			_ = os.Remove(t)
		}
	}
	for name, data := range files {
		f, err := os.CreateTemp(dir, "."+name+".tmp*")
		if err != nil {
			cleanup()
			return fmt.Errorf("deploy: %w", err)
		}
		temps[name] = f.Name()
		err = f.Chmod(modes[name])
		if err == nil {
			_, err = f.Write(data)
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			cleanup()
			return fmt.Errorf("deploy: writing %s: %w", name, err)
		}
	}
	for name, t := range temps {
		if err := os.Rename(t, filepath.Join(dir, name)); err != nil {
			cleanup()
			return fmt.Errorf("deploy: %w", err)
		}
		delete(temps, name)
	}
	return nil
}

// hostAddrs expands CertOptions.Hosts into three host:port addresses.
func hostAddrs(hosts []string) ([quic.NumParties]string, error) {
	var addrs [quic.NumParties]string
	shared := false
	switch len(hosts) {
	case 0:
		hosts, shared = []string{"127.0.0.1"}, true
	case 1:
		shared = true
	case quic.NumParties:
	default:
		return addrs, fmt.Errorf("%d hosts, want 1 or %d", len(hosts), quic.NumParties)
	}
	for i := range addrs {
		h := strings.TrimSpace(hosts[0])
		if !shared {
			h = strings.TrimSpace(hosts[i])
		}
		host, port := h, DefaultPort
		if hp, ps, err := net.SplitHostPort(h); err == nil {
			p, err := strconv.ParseUint(ps, 10, 16)
			if err != nil {
				return addrs, fmt.Errorf("host %q: bad port", h)
			}
			host, port = hp, int(p)
		}
		if shared {
			// One host for all: consecutive ports.
			port += i
		}
		host = strings.Trim(host, "[]")
		if host == "" || strings.ContainsAny(host, " /") || port <= 0 || port > 65535 {
			return addrs, fmt.Errorf("bad host %q", h)
		}
		addrs[i] = net.JoinHostPort(host, strconv.Itoa(port))
	}
	return addrs, nil
}

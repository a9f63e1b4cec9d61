package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotfe/gotfe/transport/quic"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// freeHosts returns three loopback host:port addresses that were free a moment ago.
func freeHosts(t *testing.T) []string {
	t.Helper()
	var hosts []string
	var conns []net.PacketConn
	for range quic.NumParties {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		conns = append(conns, c)
		hosts = append(hosts, c.LocalAddr().String())
	}
	for _, c := range conns {
		require.NoError(t, c.Close())
	}
	return hosts
}

func TestGenerateCertsAndLink(t *testing.T) {
	dir := t.TempDir()
	hosts := freeHosts(t)
	require.NoError(t, GenerateCerts(dir, CertOptions{Hosts: hosts}))

	for _, name := range []string{"ca.pem", "party0.pem", "party1.pem", "party2.pem", PartiesFile} {
		st, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), name)
	}
	for i := range quic.NumParties {
		st, err := os.Stat(filepath.Join(dir, PartyName(i)+".key"))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	}
	left, err := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	require.NoError(t, err)
	assert.Empty(t, left, "temporary files left behind")

	p, err := LoadParties(filepath.Join(dir, PartiesFile))
	require.NoError(t, err)
	assert.Equal(t, [quic.NumParties]string(hosts), p.Addrs())
	assert.Equal(t, "party1", p.Parties[1].Name)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var (
		eps  [quic.NumParties]*quic.Endpoint
		errs [quic.NumParties]error
		wg   sync.WaitGroup
	)
	for i := range eps {
		wg.Go(func() {
			eps[i], errs[i] = Endpoint(ctx, filepath.Join(dir, PartiesFile), i, "", func(c *quic.Config) { c.Linger = time.Second })
		})
	}
	wg.Wait()
	for i := range eps {
		require.NoError(t, errs[i], "party %d", i)
	}
	defer func() {
		for _, e := range eps {
			wg.Go(func() { _ = e.Close() })
		}
		wg.Wait()
	}()
	require.NoError(t, eps[0].Send(ctx, 2, []byte("hello")))
	got, err := eps[2].Recv(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))

	// A second run refuses to overwrite, unless told to.
	require.ErrorContains(t, GenerateCerts(dir, CertOptions{Hosts: hosts}), "already exists")
	require.NoError(t, GenerateCerts(dir, CertOptions{Hosts: hosts, Overwrite: true}))
}

func TestHostAddrs(t *testing.T) {
	tests := []struct {
		hosts []string
		want  [quic.NumParties]string
		err   string
	}{
		{nil, [3]string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"}, ""},
		{[]string{"h"}, [3]string{"h:7000", "h:7001", "h:7002"}, ""},
		{[]string{"h:9000"}, [3]string{"h:9000", "h:9001", "h:9002"}, ""},
		{[]string{"a", "b:1", "::1"}, [3]string{"a:7000", "b:1", "[::1]:7000"}, ""},
		{[]string{"[::1]:5", "10.0.0.2", "c.example"}, [3]string{"[::1]:5", "10.0.0.2:7000", "c.example:7000"}, ""},
		{[]string{"a", "b"}, [3]string{}, "2 hosts"},
		{[]string{"a", "b:x", "c"}, [3]string{}, "bad port"},
		{[]string{"a", "", "c"}, [3]string{}, "bad host"},
		{[]string{":7000", "b", "c"}, [3]string{}, "bad host"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.hosts, ","), func(t *testing.T) {
			got, err := hostAddrs(tt.hosts)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLoadPartiesErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, GenerateCerts(dir, CertOptions{}))
	other := t.TempDir()
	require.NoError(t, GenerateCerts(other, CertOptions{}))
	otherCert, err := os.ReadFile(filepath.Join(other, "party1.pem"))
	require.NoError(t, err)
	good, err := os.ReadFile(filepath.Join(dir, PartiesFile))
	require.NoError(t, err)

	tests := []struct {
		name   string
		modify func(p *Parties)
		raw    string
		want   string
	}{
		{name: "not JSON", raw: "{", want: "unexpected EOF"},
		{name: "unknown field", raw: `{"ca": "ca.pem", "parties": [], "extra": 1}`, want: "unknown field"},
		{name: "two parties", modify: func(p *Parties) { p.Parties = p.Parties[:2] }, want: "2 parties listed"},
		{name: "duplicate index", modify: func(p *Parties) { p.Parties[2].Index = 1 }, want: "party 1 listed twice"},
		{name: "bad index", modify: func(p *Parties) { p.Parties[2].Index = 3 }, want: "party index 3"},
		{name: "bad address", modify: func(p *Parties) { p.Parties[0].Address = "nowhere" }, want: "party 0: address"},
		{name: "shared address", modify: func(p *Parties) { p.Parties[2].Address = p.Parties[0].Address },
			want: "parties 0 (party0) and 2 (party2) have the same address 127.0.0.1:7000"},
		{name: "shared address, listed out of order", modify: func(p *Parties) {
			p.Parties[0], p.Parties[2] = p.Parties[2], p.Parties[0]
			p.Parties[0].Address = p.Parties[1].Address
		}, want: "parties 1 (party1) and 2 (party2) have the same address 127.0.0.1:7001"},
		{name: "shared address spelt differently", modify: func(p *Parties) {
			p.Parties[0].Address = "[::1]:7005"
			p.Parties[1].Address = "[0:0::1]:07005"
		}, want: "parties 0 (party0) and 1 (party1) have the same address"},
		{name: "shared host name in another case", modify: func(p *Parties) {
			p.Parties[1].Address = "Node.example:9"
			p.Parties[2].Address = "node.EXAMPLE:9"
		}, want: "parties 1 (party1) and 2 (party2) have the same address node.EXAMPLE:9"},
		{name: "missing cert", modify: func(p *Parties) { p.Parties[0].Cert = "nope.pem" }, want: "no such file"},
		{name: "cert of another party", modify: func(p *Parties) { p.Parties[0].Cert = "party2.pem" }, want: "party 0: cert: it names party 2"},
		{name: "cert of another CA", modify: func(p *Parties) { p.Parties[1].Cert = string(otherCert) }, want: "not issued by the CA"},
		{name: "CA not a CA", modify: func(p *Parties) { p.CA = "party0.pem" }, want: "not a CA"},
		{name: "no CA", modify: func(p *Parties) { p.CA = "" }, want: "ca: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			if tt.modify != nil {
				var p Parties
				require.NoError(t, json.Unmarshal(good, &p))
				tt.modify(&p)
				var err error
				raw, err = json.Marshal(p)
				require.NoError(t, err)
			}
			path := filepath.Join(dir, "test.json")
			require.NoError(t, os.WriteFile(path, raw, 0o644))
			_, err := LoadParties(path)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestConfigKeyChecks(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, GenerateCerts(dir, CertOptions{}))
	p, err := LoadParties(filepath.Join(dir, PartiesFile))
	require.NoError(t, err)

	cfg, err := p.Config(1, "")
	require.NoError(t, err)
	assert.Equal(t, 1, cfg.ID)
	assert.Equal(t, p.Addrs(), cfg.Addrs)

	_, err = p.Config(1, filepath.Join(dir, "party2.key"))
	require.ErrorContains(t, err, "does not match its certificate")
	_, err = p.Config(1, filepath.Join(dir, "missing.key"))
	require.ErrorContains(t, err, "no such file")
	_, err = p.Config(3, "")
	require.ErrorContains(t, err, "party 3 does not exist")
}

func TestPKIIsPinnedByQUIC(t *testing.T) {
	pki, err := NewPKI([quic.NumParties]string{"127.0.0.1", "localhost", "10.0.0.3"}, time.Hour)
	require.NoError(t, err)
	for i, c := range pki.Certs {
		got, err := quic.CertParty(c)
		require.NoError(t, err)
		assert.Equal(t, i, got)
		assert.WithinDuration(t, time.Now().Add(time.Hour), c.NotAfter, time.Minute)
	}
	assert.Equal(t, []string{"localhost"}, pki.Certs[1].DNSNames)
	assert.Equal(t, "10.0.0.3", pki.Certs[2].IPAddresses[0].String())
	_, err = NewPKI([quic.NumParties]string{"a", "", "c"}, 0)
	require.ErrorContains(t, err, "no host for party 1")
}

// captureLog sends the default slog logger's records to a buffer for the rest of the test.
func captureLog(t *testing.T) *strings.Builder {
	t.Helper()
	var buf strings.Builder
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

func TestConfigWarnsOfReadableKey(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not govern access on Windows")
	}
	tests := []struct {
		mode os.FileMode
		warn bool
	}{
		{0o600, false},
		{0o400, false},
		{0o640, true},
		{0o604, true},
		{0o644, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%04o", tt.mode), func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, GenerateCerts(dir, CertOptions{}))
			p, err := LoadParties(filepath.Join(dir, PartiesFile))
			require.NoError(t, err)
			key := p.KeyPath(2)
			require.NoError(t, os.Chmod(key, tt.mode))
			log := captureLog(t)
			for range 2 {
				_, err = p.Config(2, "")
				require.NoError(t, err, "the key is used all the same")
			}
			if !tt.warn {
				assert.Empty(t, log.String())
				return
			}
			got := log.String()
			assert.Equal(t, 1, strings.Count(got, "level=WARN"), "warned once per file:\n%s", got)
			assert.Contains(t, got, key)
			assert.Contains(t, got, fmt.Sprintf("mode %04o", tt.mode))
			assert.Contains(t, got, "chmod 600")
		})
	}
}

package deploy

import (
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A deployment has a client CA and serving addresses; client certificates chain to the client
// CA (for client authentication only), not to the deployment CA, and the reverse holds for
// party certificates.
func TestClientCertificates(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, GenerateCerts(dir, CertOptions{Hosts: []string{"127.0.0.1:7500"}}))
	p, err := LoadParties(filepath.Join(dir, PartiesFile))
	require.NoError(t, err)
	require.Equal(t, [3]string{"127.0.0.1:7600", "127.0.0.1:7601", "127.0.0.1:7602"}, p.ServeAddrs())
	pool, err := p.ClientCAPool()
	require.NoError(t, err)
	st, err := os.Stat(filepath.Join(dir, ClientCAKeyFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	certPath, keyPath, err := GenerateClientCert(dir, "alice", ClientCertOptions{})
	require.NoError(t, err)
	pair, err := LoadKeyPair(certPath, keyPath)
	require.NoError(t, err)
	_, err = pair.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.NoError(t, err)
	_, err = pair.Leaf.Verify(x509.VerifyOptions{Roots: p.CAPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	require.Error(t, err, "a client certificate must not pass for a party's")
	_, err = p.Certs()[0].Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	require.Error(t, err)

	_, _, err = GenerateClientCert(dir, "alice", ClientCertOptions{})
	require.ErrorContains(t, err, "already exists")
	_, _, err = GenerateClientCert(dir, "party0", ClientCertOptions{})
	require.ErrorContains(t, err, "taken")
	_, _, err = GenerateClientCert(dir, "../x", ClientCertOptions{})
	require.ErrorContains(t, err, "client name")
}

// A deployment made before client CAs existed gets one, named in its parties.json; serving
// addresses default to the party's port plus ServePortOffset, and may not collide.
func TestClientCAAddedAndServeAddresses(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, GenerateCerts(dir, CertOptions{}))
	path := filepath.Join(dir, PartiesFile)
	var raw map[string]any
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &raw))
	delete(raw, "client_ca")
	for _, p := range raw["parties"].([]any) {
		delete(p.(map[string]any), "serve")
	}
	require.NoError(t, os.Remove(filepath.Join(dir, ClientCAFile)))
	require.NoError(t, os.Remove(filepath.Join(dir, ClientCAKeyFile)))
	b, err = json.Marshal(raw)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	p, err := LoadParties(path)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:7100", p.ServeAddrs()[0])
	_, err = p.ClientCAPool()
	require.ErrorContains(t, err, "names no client CA")

	_, _, err = GenerateClientCert(dir, "bob", ClientCertOptions{})
	require.NoError(t, err)
	p, err = LoadParties(path)
	require.NoError(t, err)
	_, err = p.ClientCAPool()
	require.NoError(t, err)

	raw["parties"].([]any)[1].(map[string]any)["serve"] = "127.0.0.1:7000"
	b, err = json.Marshal(raw)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	_, err = LoadParties(path)
	require.ErrorContains(t, err, "already used by party 0")
}

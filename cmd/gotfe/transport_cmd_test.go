package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/deploy"
)

func TestCertsCommand(t *testing.T) {
	quiet(t)
	dir := t.TempDir()
	require.NoError(t, certs(context.Background(), []string{"--out", dir, "--hosts", "10.1.0.1,10.1.0.2:9000,node3"}))
	p, err := deploy.LoadParties(filepath.Join(dir, deploy.PartiesFile))
	require.NoError(t, err)
	require.Equal(t, [3]string{"10.1.0.1:7000", "10.1.0.2:9000", "node3:7000"}, p.Addrs())

	require.ErrorContains(t, certs(context.Background(), []string{"--out", dir}), "already exists")
	require.NoError(t, certs(context.Background(), []string{"--out", dir, "--force"}))
	require.ErrorIs(t, certs(context.Background(), nil), errUsage)
	require.ErrorContains(t, certs(context.Background(), []string{"--out", t.TempDir(), "--hosts", "a,b"}), "2 hosts")
}

func TestBenchTransportSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("benchmark run")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	quiet(t)
	require.NoError(t, benchTransport(ctx, []string{"--json", "--runs", "1", "--msgs", "4", "--size", "65536", "--pings", "40"}))
}

func TestBenchTransportParties(t *testing.T) {
	dir := t.TempDir()
	var hosts []string
	var conns []net.PacketConn
	for range 3 {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		conns = append(conns, c)
		hosts = append(hosts, c.LocalAddr().String())
	}
	for _, c := range conns {
		require.NoError(t, c.Close())
	}
	require.NoError(t, certs(context.Background(), []string{"--out", dir, "--hosts", strings.Join(hosts, ",")}))
	quiet(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		errs [3]error
		wg   sync.WaitGroup
	)
	for i := range errs {
		wg.Go(func() {
			errs[i] = benchTransport(ctx, []string{"--party", string(rune('0' + i)), "--parties", filepath.Join(dir, deploy.PartiesFile), "--rounds", "5", "--elems", "100", "--json"})
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "party %d", i)
	}
}

// quiet sends the commands' standard output to /dev/null for the test.
func quiet(t *testing.T) {
	t.Helper()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	old := os.Stdout
	os.Stdout = null
	t.Cleanup(func() {
		os.Stdout = old
		_ = null.Close()
	})
}

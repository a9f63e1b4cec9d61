package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/deploy"
	"github.com/gotfe/gotfe/keras"
)

// argsEnv carries the example's arguments to a re-executed test binary that runs as one party.
const argsEnv = "GOTFE_FIT_PARTY_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(argsEnv); args != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := run(ctx, strings.Fields(args), os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "fit:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// freePorts returns n UDP ports free on loopback right now.
func freePorts(t *testing.T, n int) []int {
	var ports []int
	for i := 0; i < n; i++ {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		ports = append(ports, c.LocalAddr().(*net.UDPAddr).Port)
		defer c.Close()
	}
	return ports
}

// Three OS processes, each one party of parties.json made as `gotfe certs` makes it, train
// together over QUIC with mutual TLS and agree on the result; only party 0 holds the data and
// writes the model.
func TestDistributedProcesses(t *testing.T) {
	dir := t.TempDir()
	ports := freePorts(t, 3)
	var hosts []string
	for _, p := range ports {
		hosts = append(hosts, fmt.Sprintf("127.0.0.1:%d", p))
	}
	require.NoError(t, deploy.GenerateCerts(dir, deploy.CertOptions{Hosts: hosts}))
	var outs [3]bytes.Buffer
	var cmds [3]*exec.Cmd
	models := make([]string, 3) // each party is told to save the model to its own file
	for i := range cmds {
		models[i] = filepath.Join(dir, fmt.Sprintf("model%d.gotfe", i))
		args := fmt.Sprintf("--config %s --party %d --train-samples 256 --test-samples 100 --epochs 1 --batch-size 64 --verbose 1 --out %s",
			filepath.Join(dir, deploy.PartiesFile), i, models[i])
		cmds[i] = exec.Command(os.Args[0], "-test.run=^$")
		cmds[i].Env = append(os.Environ(), argsEnv+"="+args)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		require.NoError(t, cmds[i].Start())
	}
	for i, c := range cmds {
		require.NoError(t, c.Wait(), "party %d:\n%s", i, outs[i].String())
	}
	result := func(s string) string {
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, "Test accuracy") {
				return line[strings.Index(line, "Test accuracy"):]
			}
		}
		return ""
	}
	want := result(outs[0].String())
	require.NotEmpty(t, want, outs[0].String())
	for i := 1; i < 3; i++ {
		require.Equal(t, want, result(outs[i].String()), "party %d agrees", i)
	}
	// Only the owner receives the trained weights: its model loads, and the other parties,
	// which never see the weights in the clear, write nothing although they were asked to.
	m, err := keras.Load(models[0])
	require.NoError(t, err)
	w, err := m.GetWeights()
	require.NoError(t, err)
	require.NotEmpty(t, w)
	for i := 1; i < 3; i++ {
		_, err := os.Stat(models[i])
		require.True(t, os.IsNotExist(err), "party %d wrote %s", i, models[i])
	}
}

// A party that fails once linked (here: party 1 cannot create its CPU profile) aborts its
// links with the failure as the cause: the other two parties, three runs of the example in
// this process, end with errors that quote it rather than a closed link.
func TestDistributedFailureReachesPeers(t *testing.T) {
	dir := t.TempDir()
	ports := freePorts(t, 3)
	var hosts []string
	for _, p := range ports {
		hosts = append(hosts, fmt.Sprintf("127.0.0.1:%d", p))
	}
	require.NoError(t, deploy.GenerateCerts(dir, deploy.CertOptions{Hosts: hosts}))
	badProfile := filepath.Join(dir, "no-such-dir-xyzzy", "cpu.prof")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var (
		errs [3]error
		outs [3]bytes.Buffer
		wg   sync.WaitGroup
	)
	for i := range errs {
		args := []string{"--config", filepath.Join(dir, deploy.PartiesFile), "--party", fmt.Sprint(i),
			"--train-samples", "128", "--test-samples", "64", "--epochs", "1", "--batch-size", "64",
			"--verbose", "0", "--out", ""}
		if i == 1 {
			args = append(args, "--cpuprofile", badProfile)
		}
		wg.Go(func() { _, errs[i] = run(ctx, args, &outs[i], &outs[i]) })
	}
	wg.Wait()
	require.ErrorContains(t, errs[1], "no-such-dir-xyzzy")
	for _, i := range []int{0, 2} {
		require.Error(t, errs[i], "party %d", i)
		assert.ErrorContains(t, errs[i], "party 1 stopped: open "+badProfile, "party %d", i)
		assert.NotContains(t, errs[i].Error(), "closed the link", "party %d", i)
		assert.NotErrorIs(t, errs[i], context.DeadlineExceeded, "party %d", i)
	}
}

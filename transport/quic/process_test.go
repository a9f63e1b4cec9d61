package quic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotfe/gotfe/transport/mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envChild, when set, makes the test binary run one party of a multi-process test (see
// childSpec) instead of the tests.
const envChild = "GOTFE_QUIC_TEST_CHILD"

// childSpec is what a party process is told: where its files are, where the parties listen,
// what to compute, and whether to die half-way.
type childSpec struct {
	Dir         string
	ID          int
	Addrs       [NumParties]string
	Rounds      int
	DieAfter    int // if positive, the process kills itself (SIGKILL) before this send
	IdleTimeout time.Duration
	Deadline    time.Duration
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(envChild); spec != "" {
		os.Exit(runChild(spec))
	}
	os.Exit(m.Run())
}

// runChild runs one party: it links, computes, prints "digest N" and exits 0, or prints the
// error and exits 1.
func runChild(specJSON string) int {
	var spec childSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "bad spec:", err)
		return 2
	}
	cfg, err := readPEMConfig(spec.Dir, spec.ID, spec.Addrs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		return 2
	}
	cfg.IdleTimeout = spec.IdleTimeout
	ctx, cancel := context.WithTimeout(context.Background(), spec.Deadline)
	defer cancel()
	e, err := Dial(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer e.Close()
	var n network = e
	if spec.DieAfter > 0 {
		n = &suicidal{Endpoint: e, left: spec.DieAfter}
	}
	d, err := ringCompute(ctx, n, spec.ID, spec.Rounds)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("digest %d\n", d)
	return 0
}

// suicidal kills its own process, with no chance to clean up, after a number of sends.
type suicidal struct {
	*Endpoint
	left int
}

func (s *suicidal) Send(ctx context.Context, peer int, p []byte) error {
	if s.left--; s.left < 0 {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	return s.Endpoint.Send(ctx, peer, p)
}

// freeAddrs returns three loopback UDP addresses that were free a moment ago.
func freeAddrs(t *testing.T) [NumParties]string {
	t.Helper()
	var addrs [NumParties]string
	var conns []net.PacketConn
	for i := range addrs {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		conns = append(conns, c)
		addrs[i] = c.LocalAddr().String()
	}
	for _, c := range conns {
		require.NoError(t, c.Close())
	}
	return addrs
}

// childResult is how a party process ended.
type childResult struct {
	stdout, stderr string
	err            error // from Wait
	elapsed        time.Duration
}

// runParties starts the three party processes and waits for them.
func runParties(t *testing.T, specs [NumParties]childSpec) [NumParties]childResult {
	t.Helper()
	var (
		res [NumParties]childResult
		wg  sync.WaitGroup
	)
	start := time.Now()
	for i, spec := range specs {
		b, err := json.Marshal(spec)
		require.NoError(t, err)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"="+string(b))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Start())
		wg.Go(func() {
			err := cmd.Wait()
			res[i] = childResult{stdout: stdout.String(), stderr: stderr.String(), err: err, elapsed: time.Since(start)}
		})
	}
	wg.Wait()
	return res
}

func partySpecs(t *testing.T, rounds int) [NumParties]childSpec {
	dir := t.TempDir()
	newTestPKI(t).writePEM(t, dir)
	addrs := freeAddrs(t)
	var specs [NumParties]childSpec
	for i := range specs {
		specs[i] = childSpec{Dir: dir, ID: i, Addrs: addrs, Rounds: rounds, IdleTimeout: time.Second, Deadline: 15 * time.Second}
	}
	return specs
}

func TestThreeProcessesAgree(t *testing.T) {
	const rounds = 20
	// The expected digest, computed in this process over the in-memory transport.
	var memNets [NumParties]network
	for i, e := range mem.NewNetwork(NumParties) {
		memNets[i] = e
	}
	var want [NumParties]uint64
	errs := runAll(memNets, func(id int, n network) error {
		var err error
		want[id], err = ringCompute(context.Background(), n, id, rounds)
		return err
	})
	require.Equal(t, [NumParties]error{}, errs)

	res := runParties(t, partySpecs(t, rounds))
	for i, r := range res {
		require.NoError(t, r.err, "party %d: %s", i, r.stderr)
		fields := strings.Fields(r.stdout)
		require.Len(t, fields, 2, "party %d printed %q", i, r.stdout)
		got, err := strconv.ParseUint(fields[1], 10, 64)
		require.NoError(t, err)
		assert.Equal(t, want[i], got, "party %d", i)
	}
}

func TestProcessKilledMidComputation(t *testing.T) {
	specs := partySpecs(t, 1000)
	specs[1].DieAfter = 9
	res := runParties(t, specs)

	var ee *exec.ExitError
	require.ErrorAs(t, res[1].err, &ee)
	assert.Equal(t, syscall.SIGKILL, ee.Sys().(syscall.WaitStatus).Signal(), "party 1 was to be killed")
	for _, i := range []int{0, 2} {
		r := res[i]
		require.Error(t, r.err, "party %d should fail", i)
		require.True(t, errors.As(r.err, &ee))
		assert.Equal(t, 1, ee.ExitCode(), "party %d: %s", i, r.stderr)
		assert.Contains(t, r.stderr, "nothing heard from party 1", "party %d", i)
		assert.NotContains(t, r.stderr, "deadline exceeded", "party %d", i)
		assert.Less(t, r.elapsed, specs[i].Deadline, "party %d", i)
		t.Logf("party %d after %v: %s", i, r.elapsed.Round(time.Millisecond), strings.TrimSpace(r.stderr))
	}
}

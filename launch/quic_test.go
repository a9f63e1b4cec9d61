package launch_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/deploy"
	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/transport/quic"
)

// sumAround has each party pass a running sum of the party indices around the ring twice.
func sumAround(out *[secure.NumParties]uint64) launch.PartyFunc {
	return func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		var acc uint64
		for round := range 2 {
			b := binary.LittleEndian.AppendUint64(nil, acc+uint64(id)+uint64(round)*10)
			if err := net.Send(ctx, int(id.Next()), b); err != nil {
				return err
			}
			got, err := net.Recv(ctx, int(id.Prev()))
			if err != nil {
				return err
			}
			acc = binary.LittleEndian.Uint64(got)
		}
		out[id] = acc
		return nil
	}
}

func TestLocalQUICAgreesWithLocal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var viaMem, viaQUIC [secure.NumParties]uint64
	require.NoError(t, launch.Local(ctx, sumAround(&viaMem)))
	require.NoError(t, launch.LocalQUIC(ctx, sumAround(&viaQUIC)))
	assert.Equal(t, viaMem, viaQUIC)
}

func TestLocalQUICNetworksTune(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	eps, closeAll, err := launch.LocalQUICNetworks(ctx, func(c *quic.Config) { c.MaxFrame = 16 })
	require.NoError(t, err)
	defer closeAll()
	require.NoError(t, eps[0].Send(ctx, 1, make([]byte, 16)))
	require.ErrorContains(t, eps[0].Send(ctx, 1, make([]byte, 17)), "exceeds the maximum frame")
	got, err := eps[1].Recv(ctx, 0)
	require.NoError(t, err)
	assert.Len(t, got, 16)
}

func TestLocalQUICFailureReleasesPeers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err := launch.LocalQUIC(ctx, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		if id == 1 {
			return assert.AnError
		}
		_, err := net.Recv(ctx, int(id.Next()))
		return err
	})
	require.ErrorIs(t, err, assert.AnError)
	assert.Less(t, time.Since(start), 5*time.Second)
}

// deployment makes a deployment on loopback ports that were free a moment ago and returns
// the path of its parties file.
func deployment(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var hosts []string
	for range secure.NumParties {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		hosts = append(hosts, c.LocalAddr().String())
		require.NoError(t, c.Close())
	}
	require.NoError(t, deploy.GenerateCerts(dir, deploy.CertOptions{Hosts: hosts}))
	return filepath.Join(dir, deploy.PartiesFile)
}

func TestQUICPartyFromFiles(t *testing.T) {
	parties := deployment(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var (
		got  [secure.NumParties]uint64
		errs [secure.NumParties]error
		wg   sync.WaitGroup
	)
	for i := range secure.NumParties {
		wg.Go(func() {
			errs[i] = launch.QUICParty(ctx, parties, i, "", sumAround(&got))
		})
	}
	wg.Wait()
	assert.Equal(t, [secure.NumParties]error{}, errs)
	var want [secure.NumParties]uint64
	require.NoError(t, launch.Local(ctx, sumAround(&want)))
	assert.Equal(t, want, got)

	require.ErrorContains(t, launch.QUICParty(ctx, parties, 3, "", sumAround(&got)), "party 3 does not exist")
}

// failAfterLinking is a program in which party 1 fails (returns an error or panics with
// cause) once all three are linked, while the two others wait for its next message.
func failAfterLinking(cause string, panics bool) launch.PartyFunc {
	return func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		// One message around the ring: every link is up and in use.
		if err := net.Send(ctx, int(id.Next()), []byte{byte(id)}); err != nil {
			return err
		}
		if _, err := net.Recv(ctx, int(id.Prev())); err != nil {
			return err
		}
		if id == 1 {
			if panics {
				panic(cause)
			}
			return errors.New(cause)
		}
		_, err := net.Recv(ctx, 1)
		return err
	}
}

// A party whose program fails aborts its links with the failure as the cause: the peers'
// errors quote it, rather than reporting that party 1 closed the link.
func TestQUICPartyFailureReachesPeers(t *testing.T) {
	for _, panics := range []bool{false, true} {
		t.Run(map[bool]string{false: "error", true: "panic"}[panics], func(t *testing.T) {
			const cause = "the disk of party 1 is full (xyzzy)"
			parties := deployment(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var (
				errs [secure.NumParties]error
				wg   sync.WaitGroup
			)
			for i := range secure.NumParties {
				wg.Go(func() { errs[i] = launch.QUICParty(ctx, parties, i, "", failAfterLinking(cause, panics)) })
			}
			wg.Wait()
			require.ErrorContains(t, errs[1], cause)
			for _, i := range []int{0, 2} {
				require.Error(t, errs[i], "party %d", i)
				assert.ErrorContains(t, errs[i], "party 1 stopped: party 1: ", "party %d", i)
				assert.ErrorContains(t, errs[i], cause, "party %d", i)
				assert.NotErrorIs(t, errs[i], quic.ErrClosed, "party %d", i)
				assert.NotErrorIs(t, errs[i], context.DeadlineExceeded, "party %d", i)
			}
		})
	}
}

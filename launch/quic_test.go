package launch_test

import (
	"context"
	"encoding/binary"
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

func TestQUICPartyFromFiles(t *testing.T) {
	dir := t.TempDir()
	var hosts []string
	for range secure.NumParties {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		hosts = append(hosts, c.LocalAddr().String())
		require.NoError(t, c.Close())
	}
	require.NoError(t, deploy.GenerateCerts(dir, deploy.CertOptions{Hosts: hosts}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var (
		got  [secure.NumParties]uint64
		errs [secure.NumParties]error
		wg   sync.WaitGroup
	)
	for i := range secure.NumParties {
		wg.Go(func() {
			errs[i] = launch.QUICParty(ctx, filepath.Join(dir, deploy.PartiesFile), i, "", sumAround(&got))
		})
	}
	wg.Wait()
	assert.Equal(t, [secure.NumParties]error{}, errs)
	var want [secure.NumParties]uint64
	require.NoError(t, launch.Local(ctx, sumAround(&want)))
	assert.Equal(t, want, got)

	require.ErrorContains(t, launch.QUICParty(ctx, filepath.Join(dir, deploy.PartiesFile), 3, "", sumAround(&got)), "party 3 does not exist")
}

package launch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
)

func TestLocalRunsThreeParties(t *testing.T) {
	seen := make(chan secure.PartyID, 3)
	err := launch.Local(context.Background(), func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		seen <- id
		if err := net.Send(ctx, int(id.Next()), []byte{byte(id)}); err != nil {
			return err
		}
		m, err := net.Recv(ctx, int(id.Prev()))
		if err != nil {
			return err
		}
		if secure.PartyID(m[0]) != id.Prev() {
			return errors.New("wrong sender")
		}
		return nil
	})
	require.NoError(t, err)
	close(seen)
	var ids []secure.PartyID
	for id := range seen {
		ids = append(ids, id)
	}
	assert.ElementsMatch(t, []secure.PartyID{0, 1, 2}, ids)
}

// A failing party ends the run at once: the others, blocked on it, are released with an error
// instead of waiting for their deadline.
func TestLocalFailureReleasesPeers(t *testing.T) {
	start := time.Now()
	err := launch.Local(context.Background(), func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		if id == 1 {
			return errors.New("boom")
		}
		_, err := net.Recv(ctx, 1)
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "party 1: boom")
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestLocalPanicBecomesError(t *testing.T) {
	err := launch.Local(context.Background(), func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		if id == 2 {
			var m map[string]int
			m["x"] = 1
		}
		_, err := net.Recv(ctx, 2)
		return err
	})
	assert.ErrorContains(t, err, "panicked")
}

func TestRunNeedsThreeNetworks(t *testing.T) {
	err := launch.Run(context.Background(), launch.MemNetworks()[:2], nil)
	assert.ErrorContains(t, err, "2 networks")
}

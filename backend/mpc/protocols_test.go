package mpc_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
)

// Parties started with different protocols, or with a protocol nobody runs, fail at set-up on
// every party, naming both protocols.
func TestProtocolMismatchIsAnError(t *testing.T) {
	cases := []struct {
		name   string
		proto  [3]string
		errors [3]string
	}{
		{"pond among aby3", [3]string{"aby3", "pond", "aby3"}, [3]string{
			`P1 runs protocol "pond", P0 runs "aby3"`,
			`runs protocol "aby3", P1 runs "pond"`,
			`P1 runs protocol "pond", P2 runs "aby3"`,
		}},
		{"aby3 among pond", [3]string{"pond", "pond", ""}, [3]string{
			`P2 runs protocol "aby3", P0 runs "pond"`,
			`P2 runs protocol "aby3", P1 runs "pond"`,
			`runs protocol "pond", P2 runs "aby3"`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var errs [3]error
			_ = launch.Run(ctx, launch.MemNetworks(), func(ctx context.Context, id secure.PartyID, net secure.Network) error {
				_, err := mpc.NewBackend(ctx, id, net, mpc.Config{Params: secure.Params{Protocol: c.proto[id]}})
				errs[id] = err
				return nil
			})
			for id, want := range c.errors {
				assert.ErrorContains(t, errs[id], want, "party %d", id)
			}
		})
	}
	_, err := mpc.NewBackend(context.Background(), 0, launch.MemNetworks()[0], mpc.Config{Params: secure.Params{Protocol: "spdz"}})
	assert.ErrorContains(t, err, `unknown protocol "spdz"`)
}

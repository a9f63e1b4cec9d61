package serving

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A port picked for the local parties and taken by another program before they bind it (here
// the first one, held by the test) makes StartLocal start again on fresh ports.
func TestStartLocalRetriesATakenPort(t *testing.T) {
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	calls := 0
	pickUDPAddr = func() (string, error) {
		calls++
		if calls == 2 { // party 0's serving address
			return taken.LocalAddr().String(), nil
		}
		return freeUDPAddr()
	}
	defer func() { pickUDPAddr = freeUDPAddr }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := StartLocal(ctx, newModel(t, "lr"), LocalOptions{})
	require.NoError(t, err)
	defer l.Close()
	assert.Greater(t, calls, 6, "a second attempt picked fresh addresses")
}

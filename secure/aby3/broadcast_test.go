package aby3_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// Every party receives exactly the bytes the sender holds, from any sender, for empty and
// large payloads; the sender's slice is left as it was.
func TestBroadcastBytes(t *testing.T) {
	big := bytes.Repeat([]byte("architecture "), 10000)
	for _, from := range []secure.PartyID{0, 1, 2} {
		for _, payload := range [][]byte{nil, []byte("x"), big} {
			t.Run(fmt.Sprintf("from %d, %d bytes", from, len(payload)), func(t *testing.T) {
				var mu sync.Mutex
				got := map[secure.PartyID][]byte{}
				run3(t, 1, func(p *aby3.Party) error {
					var data []byte
					if p.ID() == from {
						data = bytes.Clone(payload)
					} else {
						data = []byte("ignored")
					}
					b, err := p.BroadcastBytes(data, from)
					if err != nil {
						return err
					}
					mu.Lock()
					got[p.ID()] = b
					mu.Unlock()
					return nil
				})
				for id := range secure.PartyID(3) {
					require.Equal(t, len(payload), len(got[id]), "party %d", id)
					require.True(t, bytes.Equal(payload, got[id]), "party %d", id)
				}
			})
		}
	}
}

func TestBroadcastBytesBadSender(t *testing.T) {
	run3(t, 2, func(p *aby3.Party) error {
		_, err := p.BroadcastBytes([]byte("x"), 3)
		if err == nil {
			return fmt.Errorf("party 3 accepted")
		}
		return nil
	})
}

package aby3

import (
	"bytes"
	"fmt"

	"github.com/gotfe/gotfe/secure"
)

// BroadcastBytes makes public bytes that party from holds known to all three parties, such as
// a model's architecture: from sends data to both peers and returns it; the other parties
// return what they receive from it (their data argument is ignored). One round; from sends
// len(data) bytes to each peer. The bytes are public: nothing about them is secret-shared.
func (p *Party) BroadcastBytes(data []byte, from secure.PartyID) ([]byte, error) {
	if err := secure.CheckParty(from); err != nil {
		return nil, fmt.Errorf("aby3: BroadcastBytes: %w", err)
	}
	p.round()
	if p.id != from {
		b, err := p.recvBytes(from)
		if err != nil {
			return nil, fmt.Errorf("aby3: BroadcastBytes: %w", err)
		}
		return b, nil
	}
	for _, peer := range []secure.PartyID{p.id.Next(), p.id.Prev()} {
		// Each send gets its own copy: links may keep the slice they are handed.
		if err := p.sendBytes(peer, bytes.Clone(data)); err != nil {
			return nil, fmt.Errorf("aby3: BroadcastBytes: %w", err)
		}
	}
	return data, nil
}

package secure

import (
	"context"
	"fmt"
	"time"
)

// NumParties is the number of computing parties of the engine's protocols.
const NumParties = 3

// PartyID names one of the three computing parties: 0, 1 or 2.
type PartyID int

// Valid reports whether p is one of the three parties.
func (p PartyID) Valid() bool { return p >= 0 && p < NumParties }

// Next is the party after p in the ring 0 -> 1 -> 2 -> 0.
func (p PartyID) Next() PartyID { return (p + 1) % NumParties }

// Prev is the party before p in the ring 0 -> 1 -> 2 -> 0.
func (p PartyID) Prev() PartyID { return (p + NumParties - 1) % NumParties }

// String returns "P0", "P1" or "P2".
func (p PartyID) String() string { return fmt.Sprintf("P%d", int(p)) }

// CheckParty returns an error when p is not one of the three parties.
func CheckParty(p PartyID) error {
	if !p.Valid() {
		return fmt.Errorf("secure: party %d does not exist (want 0, 1 or 2)", int(p))
	}
	return nil
}

// Network is the link a party uses to talk to its two peers. Peers are named by their party
// index. Messages to one peer arrive in the order they were sent.
//
// Send takes ownership of payload: the caller must not modify it afterwards. Recv returns a
// payload owned by the caller. Both honour ctx: a receive that waits past the context's
// deadline returns an error.
type Network interface {
	Send(ctx context.Context, peer int, payload []byte) error
	Recv(ctx context.Context, peer int) ([]byte, error)
}

// RoundTripper is a Network that knows the round-trip time of its links: the smallest a link
// has measured, or 0 when it has none. The set-up of an engine uses it to choose how many
// comparisons to run in three rounds ([Params].FastCompareMax); a network without it counts
// as fast.
type RoundTripper interface {
	MinRTT(peer int) time.Duration
}

// SendCopier is a Network whose Send no longer refers to the payload once it returns (it has
// written or copied it out), so that the sender may reuse the buffer for its next message. A
// network without it may keep the payload (an in-memory link hands it to the receiver).
type SendCopier interface {
	SendCopies() bool
}

// PeerError is returned when a link to a peer fails: the peer died, stalled past the deadline,
// or sent something malformed.
type PeerError struct {
	Peer PartyID
	Op   string
	Err  error
}

// Error says which operation with which peer failed, and why.
func (e *PeerError) Error() string { return fmt.Sprintf("%s %v: %v", e.Op, e.Peer, e.Err) }

// Unwrap returns the underlying error.
func (e *PeerError) Unwrap() error { return e.Err }

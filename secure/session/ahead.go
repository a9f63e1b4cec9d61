package session

import (
	"fmt"

	"github.com/gotfe/gotfe/secure"
)

// The pacing of dealt traffic: a dealer keeps at most aheadWindow bytes unread by each
// receiver, which returns a credit for every aheadQuantum bytes it reads. Both ends count the
// same bytes (whole messages, trailers included) in the same order, so they agree on when a
// credit is due without telling each other.
const (
	aheadWindow  = 64 << 20
	aheadQuantum = 16 << 20
)

// ahead counts dealt traffic per peer.
type ahead struct {
	window, quantum int64 // aheadWindow and aheadQuantum

	sent     [secure.NumParties]int64 // bytes dealt to the peer
	credits  [secure.NumParties]int64 // credits received from the peer
	read     [secure.NumParties]int64 // dealt bytes read from the peer
	returned [secure.NumParties]int64 // credits sent to the peer
}

// SendAhead deals v to peer in step: as Send, but counted as dealt traffic and without a
// round, so that the dealer runs ahead of the online phase. It waits only when the peer has
// more than 64 MiB of dealt traffic unread. v must not be used by the caller afterwards.
func (s *Session) SendAhead(step string, peer secure.PartyID, v []uint64) error {
	return s.sendChunks(step, peer, v, true)
}

// sendDealt sends one dealt message, first waiting for the credits that keep it within the
// window.
func (s *Session) sendDealt(peer secure.PartyID, b []byte) error {
	a := &s.ahead
	for a.sent[peer]+int64(len(b))-a.credits[peer]*a.quantum > a.window {
		if _, err := s.recvUntil(peer, true); err != nil {
			return err
		}
	}
	if err := s.net.Send(s.ctx, int(peer), b); err != nil {
		return &secure.PeerError{Peer: peer, Op: "send to", Err: err}
	}
	a.sent[peer] += int64(len(b))
	s.stats.DealerMessages++
	s.stats.DealerBytes += int64(len(b))
	return nil
}

// RecvAhead receives n ring elements peer dealt with SendAhead in step, checking each
// message's trailer, and returns the credits that are due.
func (s *Session) RecvAhead(step string, peer secure.PartyID, n int) ([]uint64, error) {
	return s.recvChunks(step, peer, n, true)
}

// consumed records size bytes of dealt traffic read from peer and sends the credits due.
func (s *Session) consumed(peer secure.PartyID, size int) error {
	a := &s.ahead
	a.read[peer] += int64(size)
	for a.read[peer] >= (a.returned[peer]+1)*a.quantum {
		msg := s.appendTrailer(make([]byte, 0, trailerBytes), creditStep)
		if err := s.net.Send(s.ctx, int(peer), msg); err != nil {
			return fmt.Errorf("credit: %w", &secure.PeerError{Peer: peer, Op: "send to", Err: err})
		}
		a.returned[peer]++
		s.stats.DealerMessages++
		s.stats.DealerBytes += int64(len(msg))
	}
	return nil
}

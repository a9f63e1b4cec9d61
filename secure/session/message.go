package session

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gotfe/gotfe/secure"
)

// The trailer every message ends with (see the package documentation). Layout
// (little-endian), trailerBytes in all:
//
//	count  uint64    operations begun by the sender
//	hash   uint64    running FNV-1a hash of their names and shapes
//	op     [16]byte  name of the sender's current operation, zero-padded (truncated)
//	step   [16]byte  protocol step that sent the message, zero-padded (truncated)
const (
	trailerWords = 6
	trailerBytes = 8 * trailerWords
	nameBytes    = 16
)

// SendSlack is the spare capacity, in words, that a buffer handed to [Session.Send] needs for
// its trailer to be written in place; a buffer without it is copied first. Protocols allocate
// their message buffers with it.
const SendSlack = trailerWords

// MessageOverhead is the size in bytes of the trailer every message carries on top of its
// payload; [Stats].BytesSent counts it.
const MessageOverhead = trailerBytes

// maxChunkWords bounds the ring elements of one message: a larger payload travels as several
// messages of at most this many elements, each with its trailer, so that a transport's frame
// limit (16 MiB by default for QUIC) never caps the size of a tensor.
const maxChunkWords = 1 << 20 // 8 MiB

// MaxMessageBytes is the largest message, trailer included, a party sends.
const MaxMessageBytes = 8*maxChunkWords + trailerBytes

// opLog is a party's record of the operations it has begun.
type opLog struct {
	count uint64
	hash  uint64
	name  [nameBytes]byte
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvAdd(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func fnvAddUint(h, x uint64) uint64 {
	for range 8 {
		h ^= x & 0xff
		h *= fnvPrime
		x >>= 8
	}
	return h
}

// Begin records that the party starts the operation op on operands of the given shape. The
// engines above the protocol (the secure Keras backend) call it at the start of each of their
// operations, local ones included, so that the next message exchanged proves that both ends
// ran the same operations in the same order. It costs a few nanoseconds and no communication.
func (s *Session) Begin(op string, shape []int) {
	l := &s.log
	l.count++
	h := l.hash
	if h == 0 {
		h = fnvOffset
	}
	h = fnvAdd(h, []byte(op))
	h = fnvAddUint(h, uint64(len(shape)))
	for _, d := range shape {
		h = fnvAddUint(h, uint64(d))
	}
	l.hash = h
	l.name = [nameBytes]byte{}
	copy(l.name[:], op)
	if s.ops != nil {
		c := s.ops[op]
		if c == nil {
			c = &OpCost{}
			s.ops[op] = c
		}
		c.Calls++
		s.cur = c
	}
}

// Position returns the number of operations begun and the running hash of their names and
// shapes: equal on all parties while they run the same program.
func (s *Session) Position() (count, hash uint64) { return s.log.count, s.log.hash }

// appendTrailer appends the party's trailer for a message sent by step to b.
func (s *Session) appendTrailer(b []byte, step string) []byte {
	b = binary.LittleEndian.AppendUint64(b, s.log.count)
	b = binary.LittleEndian.AppendUint64(b, s.log.hash)
	b = append(b, s.log.name[:]...)
	var st [nameBytes]byte
	copy(st[:], step)
	return append(b, st[:]...)
}

// DesyncError reports a message sent at another point of the program than the receiver is at:
// the parties no longer run the same sequence of operations. It ends the computation.
type DesyncError struct {
	Peer                 secure.PartyID
	TheirCount, OurCount uint64
	TheirOp, OurOp       string
	TheirStep, OurStep   string
	// Stalled is set when the two parties wait for each other (found by a probe).
	Stalled bool
}

// Error names both positions.
func (e *DesyncError) Error() string {
	if e.Stalled {
		return fmt.Sprintf("desynchronised with %v: it waits for this party in its operation %d (%s) while this party waits in its operation %d (%s); the parties no longer run the same program",
			e.Peer, e.TheirCount, e.TheirOp, e.OurCount, e.OurOp)
	}
	return fmt.Sprintf("desynchronised with %v: it sent %q in its operation %d (%s), this party expected %q in its operation %d (%s); the parties no longer run the same program",
		e.Peer, e.TheirStep, e.TheirCount, e.TheirOp, e.OurStep, e.OurCount, e.OurOp)
}

func trimName(b []byte) string { return strings.TrimRight(string(b), "\x00") }

// checkTrailer splits a received message into payload and trailer and checks the trailer
// against the party's own position.
func (s *Session) checkTrailer(peer secure.PartyID, step string, b []byte) ([]byte, error) {
	if len(b) < trailerBytes {
		return nil, &secure.PeerError{Peer: peer, Op: "receive from", Err: fmt.Errorf("malformed message of %d bytes (shorter than its %d-byte trailer)", len(b), trailerBytes)}
	}
	payload, t := b[:len(b)-trailerBytes], b[len(b)-trailerBytes:]
	count := binary.LittleEndian.Uint64(t)
	hash := binary.LittleEndian.Uint64(t[8:])
	op, theirStep := t[16:16+nameBytes], t[16+nameBytes:]
	var ourStep [nameBytes]byte
	copy(ourStep[:], step)
	if count != s.log.count || hash != s.log.hash || !bytes.Equal(op, s.log.name[:]) || !bytes.Equal(theirStep, ourStep[:]) {
		if trimName(theirStep) == agreeStep && step != agreeStep {
			// The peer stopped and says why (NotifyFailure): report its reason.
			var a agreement
			if msgpack.Unmarshal(payload, &a) == nil && a.Failed != "" {
				return nil, &AgreementError{What: a.What, Peer: peer, Failed: a.Failed}
			}
		}
		return nil, &DesyncError{Peer: peer,
			TheirCount: count, OurCount: s.log.count,
			TheirOp: trimName(op), OurOp: trimName(s.log.name[:]),
			TheirStep: trimName(theirStep), OurStep: trimName(ourStep[:])}
	}
	return payload, nil
}

// Control messages carry a trailer and no payload: probes, which a party sends to a peer it
// has waited for longer than Config.StallProbe, saying where it is in the program, and the
// credits of dealt traffic.
const (
	probeStep  = "\x01probe"
	creditStep = "\x02credit"
)

func isControl(b []byte, step string) bool {
	if len(b) != trailerBytes {
		return false
	}
	var st [nameBytes]byte
	copy(st[:], step)
	return bytes.Equal(b[16+nameBytes:], st[:])
}

// checkProbe compares a peer's probe with the party's position. A probe from an earlier
// operation is stale (the peer sent it just before this party's message reached it) and one
// from the same point is what a slow step looks like; one from a later operation, or from the
// same count of operations with another history, means the peer waits for something this
// party will never send.
//
// A dealer that runs ahead waits only after it has sent everything an operation needs from
// it, so its receivers read its probes at or after the operation the probe names.
func (s *Session) checkProbe(peer secure.PartyID, b []byte) error {
	count := binary.LittleEndian.Uint64(b)
	hash := binary.LittleEndian.Uint64(b[8:])
	if count < s.log.count || (count == s.log.count && hash == s.log.hash) {
		return nil
	}
	return &DesyncError{Peer: peer,
		TheirCount: count, OurCount: s.log.count,
		TheirOp: trimName(b[16 : 16+nameBytes]), OurOp: trimName(s.log.name[:]),
		Stalled: true}
}

// prober sends one probe to each peer unless stopped first.
type prober struct {
	t    *time.Timer
	done chan struct{}
}

// startProbe arranges for a probe to both peers after the stall probe's delay: to the peer
// this party waits for, and to the other, which may be the one the peer waits for (pond's
// share holders wait for the producer while it waits for the other holder). A probe to a peer
// that waits for nobody is read at its next receive from this party, at or after the
// operation it names, so it is stale there or matches.
func (s *Session) startProbe(peer secure.PartyID) *prober {
	delay := s.cfg.StallProbe
	if delay == 0 {
		delay = DefaultStallProbe
	}
	if !s.ready || delay < 0 {
		return nil
	}
	msgs := [2][]byte{s.appendTrailer(nil, probeStep), s.appendTrailer(nil, probeStep)} // one per link
	pr := &prober{done: make(chan struct{})}
	pr.t = time.AfterFunc(delay, func() {
		defer close(pr.done)
		for i, q := range []secure.PartyID{peer, 3 - s.id - peer} {
			_ = s.net.Send(s.ctx, int(q), msgs[i])
		}
	})
	return pr
}

// stop cancels the probe, or waits until it has been sent, so that no send of the prober runs
// beside the party's own.
func (pr *prober) stop() {
	if pr != nil && !pr.t.Stop() {
		<-pr.done
	}
}

// SendMsg sends raw bytes with the trailer of step (the bytes are copied). Messages are at
// most 8 MiB.
func (s *Session) SendMsg(step string, peer secure.PartyID, b []byte) error {
	if len(b) > 8*maxChunkWords {
		return fmt.Errorf("%s: %s: message of %d bytes exceeds %d", s.name, step, len(b), 8*maxChunkWords)
	}
	m := make([]byte, 0, len(b)+trailerBytes)
	m = s.appendTrailer(append(m, b...), step)
	if err := s.sendBytes(peer, m); err != nil {
		return fmt.Errorf("%s: %s: %w", s.name, step, err)
	}
	return nil
}

// RecvMsg receives raw bytes sent by SendMsg in step.
func (s *Session) RecvMsg(step string, peer secure.PartyID) ([]byte, error) {
	b, err := s.recvBytes(peer)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.name, step, err)
	}
	payload, err := s.checkTrailer(peer, step, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.name, step, err)
	}
	return payload, nil
}

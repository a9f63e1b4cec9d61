package aby3

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gotfe/gotfe/secure"
)

// Every message a party sends ends with a trailer that says where in the program the sender
// was: the number of operations it had begun ([Party.Begin]), a running hash of their names and
// shapes, the name of the current operation and the protocol step that sent the message. The
// receiver compares the trailer with its own position before it reads the payload. All parties
// run the same program, so the two always agree; a party that skipped, repeated or reordered
// an operation (or whose program took another branch) is caught at the next message it
// exchanges, and both ends fail with a DesyncError naming both positions instead of reading
// one operation's shares as another's.
//
// Layout (little-endian), trailerBytes in all:
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
func (p *Party) Begin(op string, shape []int) {
	l := &p.log
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
}

// Position returns the number of operations begun and the running hash of their names and
// shapes: equal on all parties while they run the same program.
func (p *Party) Position() (count, hash uint64) { return p.log.count, p.log.hash }

// appendTrailer appends the party's trailer for a message sent by step to b.
func (p *Party) appendTrailer(b []byte, step string) []byte {
	b = binary.LittleEndian.AppendUint64(b, p.log.count)
	b = binary.LittleEndian.AppendUint64(b, p.log.hash)
	b = append(b, p.log.name[:]...)
	var s [nameBytes]byte
	copy(s[:], step)
	return append(b, s[:]...)
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
func (p *Party) checkTrailer(peer secure.PartyID, step string, b []byte) ([]byte, error) {
	if len(b) < trailerBytes {
		return nil, &secure.PeerError{Peer: peer, Op: "receive from", Err: fmt.Errorf("malformed message of %d bytes (shorter than its %d-byte trailer)", len(b), trailerBytes)}
	}
	payload, t := b[:len(b)-trailerBytes], b[len(b)-trailerBytes:]
	count := binary.LittleEndian.Uint64(t)
	hash := binary.LittleEndian.Uint64(t[8:])
	op, theirStep := t[16:16+nameBytes], t[16+nameBytes:]
	var ourStep [nameBytes]byte
	copy(ourStep[:], step)
	if count != p.log.count || hash != p.log.hash || !bytes.Equal(op, p.log.name[:]) || !bytes.Equal(theirStep, ourStep[:]) {
		if trimName(theirStep) == agreeStep && step != agreeStep {
			// The peer stopped and says why (NotifyFailure): report its reason.
			var a agreement
			if msgpack.Unmarshal(payload, &a) == nil && a.Failed != "" {
				return nil, &AgreementError{What: a.What, Peer: peer, Failed: a.Failed}
			}
		}
		return nil, &DesyncError{Peer: peer,
			TheirCount: count, OurCount: p.log.count,
			TheirOp: trimName(op), OurOp: trimName(p.log.name[:]),
			TheirStep: trimName(theirStep), OurStep: trimName(ourStep[:])}
	}
	return payload, nil
}

// probeStep names probes: messages without payload that a party sends to a peer it has waited
// for longer than Config.StallProbe, saying where it is in the program.
const probeStep = "\x01probe"

func isProbe(b []byte) bool {
	if len(b) != trailerBytes {
		return false
	}
	var s [nameBytes]byte
	copy(s[:], probeStep)
	return bytes.Equal(b[16+nameBytes:], s[:])
}

// checkProbe compares a peer's probe with the party's position. A probe from an earlier
// operation is stale (the peer sent it just before this party's message reached it) and one
// from the same point is what a slow step looks like; one from a later operation, or from the
// same count of operations with another history, means the peer waits for something this
// party will never send.
func (p *Party) checkProbe(peer secure.PartyID, b []byte) error {
	count := binary.LittleEndian.Uint64(b)
	hash := binary.LittleEndian.Uint64(b[8:])
	if count < p.log.count || (count == p.log.count && hash == p.log.hash) {
		return nil
	}
	return &DesyncError{Peer: peer,
		TheirCount: count, OurCount: p.log.count,
		TheirOp: trimName(b[16 : 16+nameBytes]), OurOp: trimName(p.log.name[:]),
		Stalled: true}
}

// prober sends one probe to a peer unless stopped first.
type prober struct {
	t    *time.Timer
	done chan struct{}
}

// startProbe arranges for a probe to peer after the stall probe's delay.
func (p *Party) startProbe(peer secure.PartyID) *prober {
	delay := p.cfg.StallProbe
	if delay == 0 {
		delay = DefaultStallProbe
	}
	if !p.ready || delay < 0 {
		return nil
	}
	msg := p.appendTrailer(make([]byte, 0, trailerBytes), probeStep)
	pr := &prober{done: make(chan struct{})}
	pr.t = time.AfterFunc(delay, func() {
		defer close(pr.done)
		_ = p.net.Send(p.ctx, int(peer), msg)
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

// sendMsg sends raw bytes with the trailer (the bytes are copied).
func (p *Party) sendMsg(step string, peer secure.PartyID, b []byte) error {
	if len(b) > 8*maxChunkWords {
		return fmt.Errorf("aby3: %s: message of %d bytes exceeds %d", step, len(b), 8*maxChunkWords)
	}
	m := make([]byte, 0, len(b)+trailerBytes)
	m = p.appendTrailer(append(m, b...), step)
	if err := p.sendBytes(peer, m); err != nil {
		return fmt.Errorf("aby3: %s: %w", step, err)
	}
	return nil
}

// recvMsg receives raw bytes sent by sendMsg.
func (p *Party) recvMsg(step string, peer secure.PartyID) ([]byte, error) {
	b, err := p.recvBytes(peer)
	if err != nil {
		return nil, fmt.Errorf("aby3: %s: %w", step, err)
	}
	payload, err := p.checkTrailer(peer, step, b)
	if err != nil {
		return nil, fmt.Errorf("aby3: %s: %w", step, err)
	}
	return payload, nil
}

// Param is one public parameter of a computation, by name, that every party must hold with
// the same value.
type Param struct {
	Name  string `msgpack:"n"`
	Value string `msgpack:"v"`
}

// agreeStep names the messages of Agree and NotifyFailure.
const agreeStep = "agree"

// agreement is what a party sends in Agree.
type agreement struct {
	What   string  `msgpack:"what"`
	Params []Param `msgpack:"params"`
	Failed string  `msgpack:"failed,omitempty"`
}

// AgreementError reports parties that hold different values of a public parameter, or a party
// that could not take part in a step (Failed names its error).
type AgreementError struct {
	What   string
	Peer   secure.PartyID
	Param  string
	Ours   string
	Theirs string
	Failed string // the peer's own error, when it failed before the step
}

// Error names the parameter and both values, or the peer's failure.
func (e *AgreementError) Error() string {
	if e.Failed != "" {
		return fmt.Sprintf("%s: %v failed: %s", e.What, e.Peer, e.Failed)
	}
	return fmt.Sprintf("%s: the parties disagree on %s: %v has %s, this party has %s", e.What, e.Param, e.Peer, e.Theirs, e.Ours)
}

// Agree checks that the three parties run the same step (what) with the same public
// parameters, in one round: each party sends its parameters to both peers and compares theirs
// with its own. A party whose own preparation failed passes failed (non-nil): it still takes
// part, so that the others fail at once with its reason rather than waiting for a message that
// never comes, and Agree returns failed to it. Every party that sees a difference returns an
// [AgreementError] naming the first parameter that differs; since every party compares with
// both others, a difference between any two parties is an error on all three.
func (p *Party) Agree(what string, params []Param, failed error) error {
	p.Begin("Agree", nil)
	a := agreement{What: what, Params: params}
	if failed != nil {
		a.Failed = failed.Error()
		if a.Failed == "" {
			a.Failed = "failed"
		}
	}
	msg, err := msgpack.Marshal(&a)
	if err != nil {
		return fmt.Errorf("aby3: agree %s: %w", what, err)
	}
	p.round()
	peers := []secure.PartyID{p.id.Next(), p.id.Prev()}
	for _, peer := range peers {
		if err := p.sendMsg(agreeStep, peer, msg); err != nil {
			return err
		}
	}
	var first error
	for _, peer := range peers {
		b, err := p.recvMsg(agreeStep, peer)
		if err != nil {
			return err
		}
		var their agreement
		if err := msgpack.Unmarshal(b, &their); err != nil {
			return fmt.Errorf("aby3: agree %s: malformed message from %v: %w", what, peer, err)
		}
		if first == nil {
			first = compareAgreement(what, peer, a, their)
		}
	}
	if failed != nil {
		return failed
	}
	return first
}

func compareAgreement(what string, peer secure.PartyID, ours, theirs agreement) error {
	switch {
	case theirs.Failed != "":
		return &AgreementError{What: what, Peer: peer, Failed: theirs.Failed}
	case theirs.What != ours.What:
		return &AgreementError{What: what, Peer: peer, Param: "the step", Ours: ours.What, Theirs: theirs.What}
	}
	for i, q := range ours.Params {
		if i >= len(theirs.Params) {
			return &AgreementError{What: what, Peer: peer, Param: q.Name, Ours: q.Value, Theirs: "nothing"}
		}
		t := theirs.Params[i]
		if t.Name != q.Name {
			return &AgreementError{What: what, Peer: peer, Param: "the parameters", Ours: q.Name, Theirs: t.Name}
		}
		if t.Value != q.Value {
			return &AgreementError{What: what, Peer: peer, Param: q.Name, Ours: q.Value, Theirs: t.Value}
		}
	}
	if len(theirs.Params) > len(ours.Params) {
		t := theirs.Params[len(ours.Params)]
		return &AgreementError{What: what, Peer: peer, Param: t.Name, Ours: "nothing", Theirs: t.Value}
	}
	return nil
}

// NotifyFailure tells both peers, without waiting for an answer, that this party stopped the
// step what with err: a peer waiting in [Party.Agree] or in the middle of an operation fails at
// once with an [AgreementError] quoting err, instead of waiting for its deadline. Errors of the
// links are ignored (the peers then learn of the failure from the links).
func (p *Party) NotifyFailure(what string, err error) {
	a := agreement{What: what, Failed: err.Error()}
	msg, merr := msgpack.Marshal(&a)
	if merr != nil {
		return
	}
	for _, peer := range []secure.PartyID{p.id.Next(), p.id.Prev()} {
		_ = p.sendMsg(agreeStep, peer, msg)
	}
}

// BroadcastBytes sends public bytes from party from to the other two, in one round: from passes
// its data and gets it back; the others pass nil and get from's data. Data must be at most
// 8 MiB.
func (p *Party) BroadcastBytes(data []byte, from secure.PartyID) ([]byte, error) {
	if err := secure.CheckParty(from); err != nil {
		return nil, fmt.Errorf("aby3: BroadcastBytes: %w", err)
	}
	p.round()
	if p.id == from {
		for _, peer := range []secure.PartyID{p.id.Next(), p.id.Prev()} {
			if err := p.sendMsg("broadcast", peer, data); err != nil {
				return nil, err
			}
		}
		return slices.Clone(data), nil
	}
	return p.recvMsg("broadcast", from)
}

// Digest returns a short hexadecimal digest of b (the first 16 bytes of its SHA-256), for
// comparing long public parameters (an architecture, say) in [Party.Agree].
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:16])
}

package aby3

import (
	"context"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/fixed"
	"github.com/gotfe/gotfe/secure/prg"
	"github.com/gotfe/gotfe/secure/session"
)

// ProtocolName identifies this protocol in the set-up handshake.
const ProtocolName = "aby3"

// DefaultTimeout bounds every wait for a peer's message when Config.Timeout is zero.
const DefaultTimeout = session.DefaultTimeout

// DefaultStallProbe is the wait after which a receive sends a probe when Config.StallProbe is
// zero.
const DefaultStallProbe = session.DefaultStallProbe

// MessageOverhead is the size in bytes of the trailer every message carries on top of its
// payload; [Stats].BytesSent counts it.
const MessageOverhead = session.MessageOverhead

// MaxMessageBytes is the largest message, trailer included, a party sends.
const MaxMessageBytes = session.MaxMessageBytes

// Config configures a party (see [session.Config]). The zero value is valid.
type Config = session.Config

// Stats counts a party's communication (see [session.Stats]).
type Stats = session.Stats

// Param is one public parameter of a computation (see [Party.Agree]).
type Param = session.Param

// DesyncError reports a message sent at another point of the program than the receiver is at
// (see [session.DesyncError]).
type DesyncError = session.DesyncError

// AgreementError reports parties that disagree on a public parameter, or a party that failed
// before a step (see [session.AgreementError]).
type AgreementError = session.AgreementError

// Digest returns a short hexadecimal digest of b, for comparing long public parameters in
// [Party.Agree].
func Digest(b []byte) string { return session.Digest(b) }

// Party is one party's runtime: its index, its session with the two peers (links, PRGs,
// position in the program, counters). A Party is used by one goroutine at a time; all three
// parties must call the same operations in the same order.
type Party struct {
	id  secure.PartyID
	enc fixed.Encoding
	s   *session.Session

	next *prg.Stream // shared with id.Next()
	prev *prg.Stream // shared with id.Prev()

	fastMax   int  // Params.FastCompareMax
	reuseSent bool // the network copies what it sends: a batch's buffers go back to the pools
}

// NewParty runs the set-up handshake with the two peers over net ([session.New]) and returns
// the party's runtime. The parties check that they agree on protocol, precision and session,
// and derive their pairwise PRG seeds. ctx bounds the whole life of the party: every later
// wait also honours it.
func NewParty(ctx context.Context, id secure.PartyID, net secure.Network, cfg Config) (*Party, error) {
	s, err := session.New(ctx, ProtocolName, id, net, cfg)
	if err != nil {
		return nil, err
	}
	return &Party{id: id, enc: s.Encoding(), s: s, next: s.Pair(id.Next()), prev: s.Pair(id.Prev()),
		fastMax: s.Params().FastCompareMax, reuseSent: s.SendCopies()}, nil
}

// ID is the party's index.
func (p *Party) ID() secure.PartyID { return p.id }

// Name returns the protocol's name, "aby3".
func (p *Party) Name() string { return ProtocolName }

// Encoding is the fixed-point encoding the parties agreed on.
func (p *Party) Encoding() fixed.Encoding { return p.enc }

// Stats returns the party's communication counters so far.
func (p *Party) Stats() Stats { return p.s.Stats() }

// Params returns the engine parameters the parties agreed on at set-up, defaults filled in and
// FastCompareMax chosen.
func (p *Party) Params() secure.Params { return p.s.Params() }

// Context is the context that bounds the party's life.
func (p *Party) Context() context.Context { return p.s.Context() }

// PublicRandom fills dst from the PRG all three parties share: the same values on every party,
// unknown to anyone outside the computation.
func (p *Party) PublicRandom(dst []uint64) { p.s.PublicRandom(dst) }

// Begin records that the party starts the operation op on operands of the given shape, so that
// the next message exchanged proves that both ends ran the same operations in the same order
// (see [session.Session.Begin]). No communication.
func (p *Party) Begin(op string, shape []int) { p.s.Begin(op, shape) }

// Position returns the number of operations begun and the running hash of their names and
// shapes: equal on all parties while they run the same program.
func (p *Party) Position() (count, hash uint64) { return p.s.Position() }

// Agree checks in one round that the three parties run the same step with the same public
// parameters; a party whose preparation failed passes failed, and every party then fails with
// its reason (see [session.Session.Agree]).
func (p *Party) Agree(what string, params []Param, failed error) error {
	return p.s.Agree(what, params, failed)
}

// NotifyFailure tells both peers, without waiting, that this party stopped the step what with
// err (see [session.Session.NotifyFailure]).
func (p *Party) NotifyFailure(what string, err error) { p.s.NotifyFailure(what, err) }

// BroadcastBytes sends public bytes from party from to the other two, in one round (see
// [session.Session.BroadcastBytes]).
func (p *Party) BroadcastBytes(data []byte, from secure.PartyID) ([]byte, error) {
	return p.s.BroadcastBytes(data, from)
}

// send hands v to peer with the message trailer; v must not be used by the caller afterwards.
func (p *Party) send(op string, peer secure.PartyID, v []uint64) error { return p.s.Send(op, peer, v) }

// recv receives exactly n ring elements from peer, checking each message's trailer.
func (p *Party) recv(op string, peer secure.PartyID, n int) ([]uint64, error) {
	return p.s.Recv(op, peer, n)
}

// round marks the start of one communication step of a protocol.
func (p *Party) round() { p.s.Round() }

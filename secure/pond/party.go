package pond

import (
	"context"
	"time"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/fixed"
	"github.com/gotfe/gotfe/secure/prg"
	"github.com/gotfe/gotfe/secure/session"
)

// ProtocolName identifies this protocol in the set-up handshake.
const ProtocolName = "pond"

// Producer is the party that deals the correlated randomness; parties 0 and 1 hold the shares.
const Producer secure.PartyID = 2

// Config configures a party (see [session.Config]). The zero value is valid.
type Config = session.Config

// Stats counts a party's communication (see [session.Stats]): the producer's traffic is in
// the Dealer fields.
type Stats = session.Stats

// Party is one party's runtime: its index, its session with the two peers (links, PRGs,
// position in the program, counters). A Party is used by one goroutine at a time; all three
// parties must call the same operations in the same order.
type Party struct {
	id  secure.PartyID
	enc fixed.Encoding
	s   *session.Session

	peer *prg.Stream // parties 0 and 1: the stream they share (input masks)
	deal *prg.Stream // parties 0 and 1: the stream shared with the producer
	d0   *prg.Stream // the producer: the stream shared with party 0
	d1   *prg.Stream // the producer: the stream shared with party 1
}

// NewParty runs the set-up handshake with the two peers over net ([session.New]) and returns
// the party's runtime. The parties check that they agree on protocol, precision and session,
// and derive their pairwise PRG seeds: parties 0 and 1 share one, and each shares one with the
// producer, from which it draws its part of every dealt correlation. ctx bounds the whole
// life of the party.
func NewParty(ctx context.Context, id secure.PartyID, net secure.Network, cfg Config) (*Party, error) {
	s, err := session.New(ctx, ProtocolName, id, net, cfg)
	if err != nil {
		return nil, err
	}
	p := &Party{id: id, enc: s.Encoding(), s: s}
	switch id {
	case 0:
		p.peer, p.deal = s.Pair(1), s.Pair(Producer)
	case 1:
		p.peer, p.deal = s.Pair(0), s.Pair(Producer)
	default:
		p.d0, p.d1 = s.Pair(0), s.Pair(1)
	}
	return p, nil
}

// ID is the party's index.
func (p *Party) ID() secure.PartyID { return p.id }

// Name returns the protocol's name, "pond".
func (p *Party) Name() string { return ProtocolName }

// Encoding is the fixed-point encoding the parties agreed on.
func (p *Party) Encoding() fixed.Encoding { return p.enc }

// Stats returns the party's communication counters so far.
func (p *Party) Stats() Stats { return p.s.Stats() }

// Context is the context that bounds the party's life.
func (p *Party) Context() context.Context { return p.s.Context() }

// PublicRandom fills dst from the PRG all three parties share.
func (p *Party) PublicRandom(dst []uint64) { p.s.PublicRandom(dst) }

// Begin records that the party starts the operation op on operands of the given shape (see
// [session.Session.Begin]). No communication.
func (p *Party) Begin(op string, shape []int) { p.s.Begin(op, shape) }

// Position returns the number of operations begun and the running hash of their names and
// shapes: equal on all parties while they run the same program.
func (p *Party) Position() (count, hash uint64) { return p.s.Position() }

// Agree checks in one round that the three parties run the same step with the same public
// parameters (see [session.Session.Agree]).
func (p *Party) Agree(what string, params []session.Param, failed error) error {
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

// holds reports whether the party holds shares (parties 0 and 1).
func (p *Party) holds() bool { return p.id != Producer }

// other is the other share holder of party 0 or 1.
func (p *Party) other() secure.PartyID { return 1 - p.id }

// dealt times the producer's work from start, counted in its Stats.
func (p *Party) dealt(start time.Time) {
	p.s.AddDealerTime(time.Since(start))
}

package aby3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/fixed"
	"github.com/gotfe/gotfe/secure/prg"
)

// ProtocolName identifies this protocol in the set-up handshake.
const ProtocolName = "aby3"

// DefaultTimeout bounds every wait for a peer's message when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// Config configures a party. The zero value is valid.
type Config struct {
	// Params are the engine parameters; all parties must agree on them.
	Params secure.Params
	// Session names the computation; all parties must agree on it. Empty is a valid name.
	Session string
	// Timeout bounds every wait for a peer's message; 0 means DefaultTimeout.
	Timeout time.Duration
	// Rand is the source of the party's seeds; nil means crypto/rand.
	Rand io.Reader
	// StallProbe is how long a receive waits before it tells the peer where this party is in
	// the program (a probe, answered by nothing), so that two parties that wait for each other
	// after a desynchronisation find out at once instead of at their deadline. 0 means
	// DefaultStallProbe; a negative value sends no probes.
	StallProbe time.Duration
}

// DefaultStallProbe is the wait after which a receive sends a probe when Config.StallProbe is
// zero.
const DefaultStallProbe = 500 * time.Millisecond

// Stats counts a party's communication.
type Stats struct {
	Rounds    int64
	Messages  int64
	BytesSent int64
}

// Sub returns s - o, the cost between two readings.
func (s Stats) Sub(o Stats) Stats {
	return Stats{Rounds: s.Rounds - o.Rounds, Messages: s.Messages - o.Messages, BytesSent: s.BytesSent - o.BytesSent}
}

// Party is one party's runtime: its index, its links to the two peers, its PRGs and its
// counters. A Party is used by one goroutine at a time; all three parties must call the same
// operations in the same order.
type Party struct {
	id      secure.PartyID
	cfg     Config
	enc     fixed.Encoding
	net     secure.Network
	ctx     context.Context
	timeout time.Duration

	next *prg.Stream // shared with id.Next()
	prev *prg.Stream // shared with id.Prev()
	all  *prg.Stream // shared by all three parties: public randomness
	own  *prg.Stream // this party's private randomness

	stats Stats
	log   opLog
	ready bool // the set-up is done: receives may send probes
}

// hello is the set-up message a party sends to each peer.
type hello struct {
	Protocol string `msgpack:"protocol"`
	FracBits int    `msgpack:"frac_bits"`
	Session  string `msgpack:"session"`
	From     int    `msgpack:"from"`
	PairSeed []byte `msgpack:"pair_seed,omitempty"` // only to the next party
	AllSeed  []byte `msgpack:"all_seed"`
}

// NewParty runs the set-up handshake with the two peers over net and returns the party's
// runtime. The parties check that they agree on protocol, precision and session, and derive
// their pairwise PRG seeds: party i draws the seed it shares with party i+1 and sends it over
// the (authenticated) link; the seed shared by all three hashes one contribution from each.
// ctx bounds the whole life of the party: every later wait also honours it.
func NewParty(ctx context.Context, id secure.PartyID, net secure.Network, cfg Config) (*Party, error) {
	if err := secure.CheckParty(id); err != nil {
		return nil, err
	}
	if net == nil {
		return nil, fmt.Errorf("aby3: party %v: nil network", id)
	}
	params, err := cfg.Params.Validate()
	if err != nil {
		return nil, err
	}
	cfg.Params = params
	enc, err := fixed.New(params.FracBits)
	if err != nil {
		return nil, err
	}
	p := &Party{id: id, cfg: cfg, enc: enc, net: net, ctx: ctx, timeout: cfg.Timeout}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	pairSeed, err := prg.NewSeed(cfg.Rand)
	if err != nil {
		return nil, err
	}
	allPart, err := prg.NewSeed(cfg.Rand)
	if err != nil {
		return nil, err
	}
	ownSeed, err := prg.NewSeed(cfg.Rand)
	if err != nil {
		return nil, err
	}
	for _, peer := range []secure.PartyID{id.Next(), id.Prev()} {
		h := hello{Protocol: ProtocolName, FracBits: params.FracBits, Session: cfg.Session, From: int(id), AllSeed: allPart[:]}
		if peer == id.Next() {
			h.PairSeed = pairSeed[:]
		}
		msg, err := msgpack.Marshal(&h)
		if err != nil {
			return nil, fmt.Errorf("aby3: set-up: %w", err)
		}
		if err := p.sendBytes(peer, msg); err != nil {
			return nil, fmt.Errorf("aby3: set-up: %w", err)
		}
	}
	var parts [secure.NumParties][]byte
	parts[id] = allPart[:]
	var prevSeed prg.Seed
	for _, peer := range []secure.PartyID{id.Next(), id.Prev()} {
		msg, err := p.recvBytes(peer)
		if err != nil {
			return nil, fmt.Errorf("aby3: set-up: %w", err)
		}
		var h hello
		if err := msgpack.Unmarshal(msg, &h); err != nil {
			return nil, fmt.Errorf("aby3: set-up: malformed hello from %v: %w", peer, err)
		}
		switch {
		case h.Protocol != ProtocolName:
			return nil, fmt.Errorf("aby3: set-up: %v runs protocol %q, %v runs %q", peer, h.Protocol, id, ProtocolName)
		case h.FracBits != params.FracBits:
			return nil, fmt.Errorf("aby3: set-up: %v uses %d fractional bits, %v uses %d", peer, h.FracBits, id, params.FracBits)
		case h.Session != cfg.Session:
			return nil, fmt.Errorf("aby3: set-up: %v is in session %q, %v in %q", peer, h.Session, id, cfg.Session)
		case h.From != int(peer):
			return nil, fmt.Errorf("aby3: set-up: the link to %v carries a hello from party %d", peer, h.From)
		case len(h.AllSeed) != prg.SeedSize:
			return nil, fmt.Errorf("aby3: set-up: bad seed from %v", peer)
		}
		parts[peer] = h.AllSeed
		if peer == id.Prev() {
			if len(h.PairSeed) != prg.SeedSize {
				return nil, fmt.Errorf("aby3: set-up: bad pair seed from %v", peer)
			}
			copy(prevSeed[:], h.PairSeed)
		}
	}
	var allSeed prg.Seed
	sum := sha256.Sum256(bytes.Join(parts[:], nil))
	copy(allSeed[:], sum[:])
	p.next = prg.New(pairSeed)
	p.prev = prg.New(prevSeed)
	p.all = prg.New(allSeed)
	p.own = prg.New(ownSeed)
	p.stats = Stats{}
	p.ready = true
	return p, nil
}

// ID is the party's index.
func (p *Party) ID() secure.PartyID { return p.id }

// Encoding is the fixed-point encoding the parties agreed on.
func (p *Party) Encoding() fixed.Encoding { return p.enc }

// Stats returns the party's communication counters so far.
func (p *Party) Stats() Stats { return p.stats }

// Context is the context that bounds the party's life.
func (p *Party) Context() context.Context { return p.ctx }

// PublicRandom fills dst from the PRG all three parties share: the same values on every party,
// unknown to anyone outside the computation.
func (p *Party) PublicRandom(dst []uint64) { p.all.Fill(dst) }

func (p *Party) sendBytes(peer secure.PartyID, b []byte) error {
	if err := p.net.Send(p.ctx, int(peer), b); err != nil {
		return &secure.PeerError{Peer: peer, Op: "send to", Err: err}
	}
	p.stats.Messages++
	p.stats.BytesSent += int64(len(b))
	return nil
}

// recvBytes returns the next message from peer, waiting at most the party's timeout. Probes
// the peer sent while it waited for this party are checked against the party's position and
// skipped; a wait longer than the stall probe's delay sends one.
func (p *Party) recvBytes(peer secure.PartyID) ([]byte, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	pr := p.startProbe(peer)
	defer pr.stop()
	for {
		b, err := p.net.Recv(ctx, int(peer))
		if err != nil {
			return nil, &secure.PeerError{Peer: peer, Op: "receive from", Err: err}
		}
		if !p.ready || !isProbe(b) {
			return b, nil
		}
		if err := p.checkProbe(peer, b); err != nil {
			return nil, err
		}
	}
}

// send hands v to peer with the message trailer; v must not be used by the caller afterwards.
// A payload of more than maxChunkWords elements travels as several messages.
func (p *Party) send(op string, peer secure.PartyID, v []uint64) error {
	for len(v) > maxChunkWords {
		chunk := make([]uint64, maxChunkWords, maxChunkWords+trailerWords)
		copy(chunk, v[:maxChunkWords])
		if err := p.sendWords(op, peer, chunk); err != nil {
			return err
		}
		v = v[maxChunkWords:]
	}
	return p.sendWords(op, peer, v)
}

// sendWords sends one message of at most maxChunkWords elements. The trailer goes in v's
// spare capacity when it has some, else v is copied.
func (p *Party) sendWords(op string, peer secure.PartyID, v []uint64) error {
	n := len(v)
	if cap(v)-n < trailerWords {
		w := make([]uint64, n, n+trailerWords)
		copy(w, v)
		v = w
	}
	b := secure.Uint64sToBytes(v[:n+trailerWords])
	p.appendTrailer(b[:8*n], op)
	if err := p.sendBytes(peer, b); err != nil {
		return fmt.Errorf("aby3: %s: %w", op, err)
	}
	return nil
}

// recv receives exactly n ring elements from peer, checking each message's trailer.
func (p *Party) recv(op string, peer secure.PartyID, n int) ([]uint64, error) {
	if n <= maxChunkWords {
		return p.recvWords(op, peer, n)
	}
	out := make([]uint64, n, n+trailerWords)
	for lo := 0; lo < n; lo += maxChunkWords {
		hi := min(lo+maxChunkWords, n)
		v, err := p.recvWords(op, peer, hi-lo)
		if err != nil {
			return nil, err
		}
		copy(out[lo:hi], v)
	}
	return out, nil
}

func (p *Party) recvWords(op string, peer secure.PartyID, n int) ([]uint64, error) {
	b, err := p.recvBytes(peer)
	if err != nil {
		return nil, fmt.Errorf("aby3: %s: %w", op, err)
	}
	payload, err := p.checkTrailer(peer, op, b)
	if err != nil {
		return nil, fmt.Errorf("aby3: %s: %w", op, err)
	}
	v, err := secure.BytesToUint64s(payload, n)
	if err != nil {
		return nil, fmt.Errorf("aby3: %s: from %v: %w", op, peer, err)
	}
	return v, nil
}

// round marks the start of one communication step of a protocol.
func (p *Party) round() { p.stats.Rounds++ }

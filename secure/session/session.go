package session

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

// DefaultTimeout bounds every wait for a peer's message when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// DefaultStallProbe is the wait after which a receive sends a probe when Config.StallProbe is
// zero.
const DefaultStallProbe = 500 * time.Millisecond

// Config configures a party. The zero value is valid.
type Config struct {
	// Params are the engine parameters; all parties must agree on them. Params.Protocol
	// empty means the protocol the party is made by.
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
	// ProfileOps makes [Session.Stats] also count rounds and bytes per operation (the names
	// given to [Session.Begin]): a map update per round and per message.
	ProfileOps bool
}

// Stats counts a party's communication. Rounds, Messages and BytesSent are the online
// traffic; the Dealer fields count correlated randomness dealt ahead of it
// ([Session.SendAhead]) and the credits that pace it, and the time the dealer spent making it.
type Stats struct {
	Rounds    int64
	Messages  int64
	BytesSent int64

	DealerMessages int64
	DealerBytes    int64
	DealerTime     time.Duration

	// Ops holds the rounds and bytes of each operation when the session profiles them
	// ([Config].ProfileOps); nil otherwise.
	Ops map[string]OpCost
}

// OpCost is what one kind of operation cost a party in all: the rounds it started and the
// bytes it sent (dealt bytes included).
type OpCost struct {
	Calls, Rounds, Bytes int64
}

// Sub returns s - o, the cost between two readings.
func (s Stats) Sub(o Stats) Stats {
	return Stats{
		Rounds: s.Rounds - o.Rounds, Messages: s.Messages - o.Messages, BytesSent: s.BytesSent - o.BytesSent,
		DealerMessages: s.DealerMessages - o.DealerMessages, DealerBytes: s.DealerBytes - o.DealerBytes,
		DealerTime: s.DealerTime - o.DealerTime, Ops: subOps(s.Ops, o.Ops),
	}
}

// subOps returns the per-operation difference s - o (nil when s is nil).
func subOps(s, o map[string]OpCost) map[string]OpCost {
	if s == nil {
		return nil
	}
	d := make(map[string]OpCost, len(s))
	for k, v := range s {
		w := o[k]
		if c := (OpCost{Calls: v.Calls - w.Calls, Rounds: v.Rounds - w.Rounds, Bytes: v.Bytes - w.Bytes}); c != (OpCost{}) {
			d[k] = c
		}
	}
	return d
}

// Add returns s + o, with the per-operation costs of both.
func (s Stats) Add(o Stats) Stats {
	r := Stats{
		Rounds: s.Rounds + o.Rounds, Messages: s.Messages + o.Messages, BytesSent: s.BytesSent + o.BytesSent,
		DealerMessages: s.DealerMessages + o.DealerMessages, DealerBytes: s.DealerBytes + o.DealerBytes,
		DealerTime: s.DealerTime + o.DealerTime,
	}
	if s.Ops != nil || o.Ops != nil {
		r.Ops = make(map[string]OpCost, len(s.Ops))
		for _, m := range []map[string]OpCost{s.Ops, o.Ops} {
			for k, v := range m {
				w := r.Ops[k]
				r.Ops[k] = OpCost{Calls: w.Calls + v.Calls, Rounds: w.Rounds + v.Rounds, Bytes: w.Bytes + v.Bytes}
			}
		}
	}
	return r
}

// Session is one party's links to its two peers, its PRGs, its position in the program and
// its counters. A Session is used by one goroutine at a time; all three parties must run the
// same operations in the same order.
type Session struct {
	name    string // the protocol, which prefixes errors
	id      secure.PartyID
	cfg     Config
	enc     fixed.Encoding
	net     secure.Network
	ctx     context.Context
	timeout time.Duration

	pair [secure.NumParties]*prg.Stream // pair[j]: shared with party j
	all  *prg.Stream                    // shared by all three parties: public randomness
	own  *prg.Stream                    // this party's private randomness

	stats Stats
	ops   map[string]*OpCost // per-operation costs when profiling, else nil
	cur   *OpCost            // the current operation's entry in ops
	log   opLog
	ahead ahead
	ready bool // the set-up is done: receives may send probes
}

// hello is the set-up message a party sends to each peer.
type hello struct {
	Protocol string `msgpack:"protocol"`
	FracBits int    `msgpack:"frac_bits"`
	FastCmp  int    `msgpack:"fast_compare_max"`
	RTTMicro int64  `msgpack:"min_rtt_us"` // the round trip of the sender's link to its next party (linkRTT)
	Session  string `msgpack:"session"`
	From     int    `msgpack:"from"`
	PairSeed []byte `msgpack:"pair_seed,omitempty"` // only to the next party
	AllSeed  []byte `msgpack:"all_seed"`
}

// New runs the set-up handshake of party id of the protocol named protocol with its two peers
// over net. The parties check that they agree on protocol, precision and session, and derive
// their seeds (see the package documentation). cfg.Params.Protocol must be empty or protocol.
// ctx bounds the whole life of the session: every later wait also honours it.
func New(ctx context.Context, protocol string, id secure.PartyID, net secure.Network, cfg Config) (*Session, error) {
	if err := secure.CheckParty(id); err != nil {
		return nil, err
	}
	if net == nil {
		return nil, fmt.Errorf("%s: party %v: nil network", protocol, id)
	}
	switch cfg.Params.Protocol {
	case "":
		cfg.Params.Protocol = protocol
	case protocol:
	default:
		return nil, fmt.Errorf("%s: the parameters name protocol %q", protocol, cfg.Params.Protocol)
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
	s := &Session{name: protocol, id: id, cfg: cfg, enc: enc, net: net, ctx: ctx, timeout: cfg.Timeout,
		ahead: ahead{window: aheadWindow, quantum: aheadQuantum}}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
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
	rtt, err := s.linkRTT()
	if err != nil {
		return nil, fmt.Errorf("%s: set-up: %w", protocol, err)
	}
	for _, peer := range []secure.PartyID{id.Next(), id.Prev()} {
		h := hello{Protocol: protocol, FracBits: params.FracBits, FastCmp: params.FastCompareMax, RTTMicro: rtt.Microseconds(),
			Session: cfg.Session, From: int(id), AllSeed: allPart[:]}
		if peer == id.Next() {
			h.PairSeed = pairSeed[:]
		}
		msg, err := msgpack.Marshal(&h)
		if err != nil {
			return nil, fmt.Errorf("%s: set-up: %w", protocol, err)
		}
		if err := s.sendBytes(peer, msg); err != nil {
			return nil, fmt.Errorf("%s: set-up: %w", protocol, err)
		}
	}
	var parts [secure.NumParties][]byte
	parts[id] = allPart[:]
	var prevSeed prg.Seed
	for _, peer := range []secure.PartyID{id.Next(), id.Prev()} {
		msg, err := s.recvBytes(peer)
		if err != nil {
			return nil, fmt.Errorf("%s: set-up: %w", protocol, err)
		}
		var h hello
		if err := msgpack.Unmarshal(msg, &h); err != nil {
			return nil, fmt.Errorf("%s: set-up: malformed hello from %v: %w", protocol, peer, err)
		}
		switch {
		case h.Protocol != protocol:
			return nil, fmt.Errorf("%s: set-up: %v runs protocol %q, %v runs %q", protocol, peer, h.Protocol, id, protocol)
		case h.FracBits != params.FracBits:
			return nil, fmt.Errorf("%s: set-up: %v uses %d fractional bits, %v uses %d", protocol, peer, h.FracBits, id, params.FracBits)
		case h.FastCmp != params.FastCompareMax:
			return nil, fmt.Errorf("%s: set-up: %v compares up to %d values in three rounds, %v up to %d (Params.FastCompareMax)", protocol, peer, h.FastCmp, id, params.FastCompareMax)
		case h.Session != cfg.Session:
			return nil, fmt.Errorf("%s: set-up: %v is in session %q, %v in %q", protocol, peer, h.Session, id, cfg.Session)
		case h.From != int(peer):
			return nil, fmt.Errorf("%s: set-up: the link to %v carries a hello from party %d", protocol, peer, h.From)
		case len(h.AllSeed) != prg.SeedSize:
			return nil, fmt.Errorf("%s: set-up: bad seed from %v", protocol, peer)
		}
		parts[peer] = h.AllSeed
		rtt = max(rtt, time.Duration(h.RTTMicro)*time.Microsecond)
		if peer == id.Prev() {
			if len(h.PairSeed) != prg.SeedSize {
				return nil, fmt.Errorf("%s: set-up: bad pair seed from %v", protocol, peer)
			}
			copy(prevSeed[:], h.PairSeed)
		}
	}
	if s.cfg.Params.FastCompareMax == 0 {
		// Every party saw the same three round trips, so every party chooses the same.
		s.cfg.Params.FastCompareMax = secure.AutoFastCompareMax(rtt)
	}
	var allSeed prg.Seed
	sum := sha256.Sum256(bytes.Join(parts[:], nil))
	copy(allSeed[:], sum[:])
	s.pair[id.Next()] = prg.New(pairSeed)
	s.pair[id.Prev()] = prg.New(prevSeed)
	s.all = prg.New(allSeed)
	s.own = prg.New(ownSeed)
	s.stats = Stats{}
	if cfg.ProfileOps {
		s.ops = map[string]*OpCost{}
	}
	s.ready = true
	return s, nil
}

// SendCopies reports whether the session's network is done with a message's buffer when
// Send returns (secure.SendCopier), so that the engine may reuse it.
func (s *Session) SendCopies() bool {
	c, ok := s.net.(secure.SendCopier)
	return ok && c.SendCopies()
}

// rttPings is the number of ping-pongs on each link at set-up.
const rttPings = 3

// linkRTT returns the round trip of the link to the next party, for the choice of
// FastCompareMax, or 0 when the network measures none (secure.RoundTripper: such links
// count as fast). Each party measures the link to its next, so the three hellos cover the
// three links. A link's first samples are its handshake's, which on a loaded machine include
// waiting for the processor (loopback measured 0.1 to 3.8 ms), so the parties also time
// rttPings ping-pongs on each link, and the smaller of the link's minimum and the least
// ping-pong counts. Every party pings, whatever its network, so that all send the same
// messages; each party sends its pings to its next party and its pongs to its previous one,
// so each direction of a link carries one kind of message.
func (s *Session) linkRTT() (time.Duration, error) {
	next, prev := s.id.Next(), s.id.Prev()
	best := time.Duration(-1)
	for k := range rttPings {
		ping, pong := []byte{'p', 'i', 'n', 'g', byte(k)}, []byte{'p', 'o', 'n', 'g', byte(k)}
		start := time.Now()
		if err := s.sendBytes(next, bytes.Clone(ping)); err != nil {
			return 0, err
		}
		b, err := s.recvBytes(prev)
		if err != nil {
			return 0, err
		}
		if !bytes.Equal(b, ping) {
			return 0, fmt.Errorf("%v sent %q where this party waits for ping %d", prev, b, k)
		}
		if err := s.sendBytes(prev, bytes.Clone(pong)); err != nil {
			return 0, err
		}
		if b, err = s.recvBytes(next); err != nil {
			return 0, err
		}
		if !bytes.Equal(b, pong) {
			return 0, fmt.Errorf("%v sent %q where this party waits for the answer to ping %d", next, b, k)
		}
		if d := time.Since(start); best < 0 || d < best {
			best = d
		}
	}
	rt, ok := s.net.(secure.RoundTripper)
	if !ok {
		return 0, nil
	}
	if m := rt.MinRTT(int(next)); m > 0 && m < best {
		best = m
	}
	return best, nil
}

// ID is the party's index.
func (s *Session) ID() secure.PartyID { return s.id }

// Protocol is the name of the protocol the parties agreed on.
func (s *Session) Protocol() string { return s.name }

// Params returns the engine parameters the parties agreed on, defaults filled in.
func (s *Session) Params() secure.Params { return s.cfg.Params }

// Encoding is the fixed-point encoding the parties agreed on.
func (s *Session) Encoding() fixed.Encoding { return s.enc }

// Stats returns the party's communication counters so far.
func (s *Session) Stats() Stats {
	st := s.stats
	if s.ops != nil {
		st.Ops = make(map[string]OpCost, len(s.ops))
		for k, v := range s.ops {
			st.Ops[k] = *v
		}
	}
	return st
}

// Context is the context that bounds the party's life.
func (s *Session) Context() context.Context { return s.ctx }

// Pair returns the PRG this party shares with peer (the same stream on both).
func (s *Session) Pair(peer secure.PartyID) *prg.Stream { return s.pair[peer] }

// Own returns this party's private PRG.
func (s *Session) Own() *prg.Stream { return s.own }

// PublicRandom fills dst from the PRG all three parties share: the same values on every party,
// unknown to anyone outside the computation.
func (s *Session) PublicRandom(dst []uint64) { s.all.Fill(dst) }

// Round marks the start of one communication step of a protocol.
func (s *Session) Round() {
	s.stats.Rounds++
	if s.cur != nil {
		s.cur.Rounds++
	}
}

// AddDealerTime adds d to the time counted as spent dealing correlated randomness.
func (s *Session) AddDealerTime(d time.Duration) { s.stats.DealerTime += d }

func (s *Session) sendBytes(peer secure.PartyID, b []byte) error {
	if err := s.net.Send(s.ctx, int(peer), b); err != nil {
		return &secure.PeerError{Peer: peer, Op: "send to", Err: err}
	}
	s.stats.Messages++
	s.stats.BytesSent += int64(len(b))
	if s.cur != nil {
		s.cur.Bytes += int64(len(b))
	}
	return nil
}

// recvBytes returns the next message from peer, waiting at most the party's timeout. Probes
// the peer sent while it waited for this party are checked against the party's position and
// skipped, and so are credits (counted); a wait longer than the stall probe's delay sends a
// probe. With credit set it returns after the first credit instead (nil), and a regular
// message is then out of place: its trailer decides the error.
func (s *Session) recvBytes(peer secure.PartyID) ([]byte, error) { return s.recvUntil(peer, false) }

func (s *Session) recvUntil(peer secure.PartyID, credit bool) ([]byte, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	pr := s.startProbe(peer)
	defer pr.stop()
	for {
		b, err := s.net.Recv(ctx, int(peer))
		if err != nil {
			return nil, &secure.PeerError{Peer: peer, Op: "receive from", Err: err}
		}
		if !s.ready {
			return b, nil
		}
		switch {
		case isControl(b, probeStep):
			if err := s.checkProbe(peer, b); err != nil {
				return nil, err
			}
		case isControl(b, creditStep):
			s.ahead.credits[peer]++
			if credit {
				return nil, nil
			}
		case credit:
			if _, err := s.checkTrailer(peer, creditStep, b); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %v sent data where this party waits for a credit", s.name, peer)
		default:
			return b, nil
		}
	}
}

// Send hands v to peer with the message trailer of step; v must not be used by the caller
// afterwards. A payload of more than 2^20 elements travels as several messages.
func (s *Session) Send(step string, peer secure.PartyID, v []uint64) error {
	return s.sendChunks(step, peer, v, false)
}

func (s *Session) sendChunks(step string, peer secure.PartyID, v []uint64, dealt bool) error {
	for len(v) > maxChunkWords {
		chunk := make([]uint64, maxChunkWords, maxChunkWords+trailerWords)
		copy(chunk, v[:maxChunkWords])
		if err := s.sendWords(step, peer, chunk, dealt); err != nil {
			return err
		}
		v = v[maxChunkWords:]
	}
	return s.sendWords(step, peer, v, dealt)
}

// sendWords sends one message of at most maxChunkWords elements. The trailer goes in v's
// spare capacity when it has some, else v is copied.
func (s *Session) sendWords(step string, peer secure.PartyID, v []uint64, dealt bool) error {
	n := len(v)
	if cap(v)-n < trailerWords {
		w := make([]uint64, n, n+trailerWords)
		copy(w, v)
		v = w
	}
	b := secure.Uint64sToBytes(v[:n+trailerWords])
	s.appendTrailer(b[:8*n], step)
	var err error
	if dealt {
		err = s.sendDealt(peer, b)
	} else {
		err = s.sendBytes(peer, b)
	}
	if err != nil {
		return fmt.Errorf("%s: %s: %w", s.name, step, err)
	}
	return nil
}

// Recv receives exactly n ring elements from peer, sent by Send in step, checking each
// message's trailer.
func (s *Session) Recv(step string, peer secure.PartyID, n int) ([]uint64, error) {
	return s.recvChunks(step, peer, n, false)
}

func (s *Session) recvChunks(step string, peer secure.PartyID, n int, dealt bool) ([]uint64, error) {
	if n <= maxChunkWords {
		return s.recvWords(step, peer, n, dealt)
	}
	out := make([]uint64, n, n+trailerWords)
	for lo := 0; lo < n; lo += maxChunkWords {
		hi := min(lo+maxChunkWords, n)
		v, err := s.recvWords(step, peer, hi-lo, dealt)
		if err != nil {
			return nil, err
		}
		copy(out[lo:hi], v)
	}
	return out, nil
}

func (s *Session) recvWords(step string, peer secure.PartyID, n int, dealt bool) ([]uint64, error) {
	b, err := s.recvBytes(peer)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.name, step, err)
	}
	payload, err := s.checkTrailer(peer, step, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", s.name, step, err)
	}
	v, err := secure.BytesToUint64s(payload, n)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: from %v: %w", s.name, step, peer, err)
	}
	if dealt {
		if err := s.consumed(peer, len(b)); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", s.name, step, err)
		}
	}
	return v, nil
}

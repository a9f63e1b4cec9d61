package quic

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gotfe/gotfe/transport"
	quicgo "github.com/quic-go/quic-go"
	"github.com/vmihailenco/msgpack/v5"
)

// Flow-control windows. quic-go starts a stream at 512 KiB and grows it up to 6 MiB as the
// measured bandwidth-delay product asks; bulk tensors of megabytes start faster with larger
// windows. These bound, per link, the bytes in flight that the receiver must buffer.
const (
	initialStreamWindow = 4 << 20
	maxStreamWindow     = 32 << 20
	initialConnWindow   = 6 << 20
	maxConnWindow       = 48 << 20
)

// linkMagic opens hello and welcome messages: it names the link protocol and its version.
const linkMagic = "gotfe-link/1"

// hello is the first message of a link, from the dialing party: who it claims to be.
type hello struct {
	Magic string `msgpack:"magic"`
	Party int    `msgpack:"party"`
}

// Endpoint is one party's end of the links to its two peers: one QUIC connection per peer
// with one bidirectional stream carrying frames both ways. It is safe for concurrent use.
type Endpoint struct {
	s        *settings
	pc       net.PacketConn
	tr       *quicgo.Transport
	links    [NumParties]*link
	counters transport.Counters

	closing   chan struct{} // closed when Close starts
	closeOnce sync.Once
	lost      chan struct{} // closed when a link fails other than by an orderly close
	lostErr   error         // the first such failure; set before lost is closed
	lostOnce  sync.Once

	mu      sync.Mutex
	claimed [NumParties]bool          // incoming link already accepted, during Dial
	refusal [NumParties]*RefusedError // last refusal per claimed party, during Dial
	anyRef  *RefusedError             // last refusal of an unidentified peer, during Dial
}

// Dial links party cfg.ID to its two peers. It listens on its own address (or cfg.Conn), dials
// the parties with a higher index and accepts those with a lower one, and returns when both
// links are up. A dialer states its index after the TLS handshake; the listener checks it
// against the certificate it presented and answers with a welcome or a refusal.
//
// Dial keeps trying to reach a peer that is not up yet until ctx ends or cfg.DialTimeout
// passes; it refuses (and reports to cfg.OnRefused) any incoming connection that is not a
// pinned party certificate of the deployment CA or whose stated index is not its certificate's.
// A peer that refuses this party ends Dial with an error saying why: a [*RefusedError] for a
// refused hello, the TLS alert (such as "bad certificate") for a refused certificate.
func Dial(ctx context.Context, cfg Config) (*Endpoint, error) {
	s, err := cfg.validate()
	if err != nil {
		if cfg.Conn != nil {
			_ = cfg.Conn.Close()
		}
		return nil, fmt.Errorf("quic: config: %w", err)
	}
	pc := s.Conn
	if pc == nil {
		pc, err = net.ListenPacket("udp", s.Addrs[s.ID])
		if err != nil {
			return nil, fmt.Errorf("quic: party %d: listen: %w", s.ID, err)
		}
	}
	if s.PacketDelay > 0 || s.PacketRate > 0 {
		pc = newDelayConn(pc, s.PacketDelay, s.PacketRate)
	} else if uc, ok := pc.(*net.UDPConn); ok {
		if g := withGRO(uc); g != nil {
			pc = g
		}
	}
	e := &Endpoint{s: s, pc: pc, tr: &quicgo.Transport{Conn: pc}, closing: make(chan struct{}), lost: make(chan struct{})}
	if err := e.dial(ctx); err != nil {
		_ = e.tr.Close()
		_ = e.pc.Close()
		return nil, err
	}
	for _, l := range e.links {
		if l != nil {
			go l.readLoop()
		}
	}
	return e, nil
}

// result is a link set up by a dialing or accepting goroutine, or the error that ended it.
type result struct {
	peer int
	l    *link
	err  error
}

func (e *Endpoint) dial(parent context.Context) error {
	s := e.s
	ctx, cancel := context.WithTimeout(parent, s.DialTimeout)
	defer cancel()
	qconf := s.quicConfig()
	ln, err := e.tr.Listen(s.serverTLS(e.refused), qconf)
	if err != nil {
		return fmt.Errorf("quic: party %d: listen: %w", s.ID, err)
	}
	results := make(chan result, 2*NumParties)
	var wg sync.WaitGroup
	for j := s.ID + 1; j < NumParties; j++ {
		wg.Go(func() {
			l, err := e.dialPeer(ctx, j, qconf)
			results <- result{peer: j, l: l, err: err}
		})
	}
	// Party 0 accepts nobody, but listens all the same so that a misconfigured peer dialling
	// it hears why it is refused.
	wg.Go(func() { e.acceptLoop(ctx, ln, results, &wg) })
	var (
		need = NumParties - 1
		fail error
	)
	for need > 0 && fail == nil {
		select {
		case r := <-results:
			if r.err != nil {
				fail = &LinkError{Party: s.ID, Peer: r.peer, Op: "dial", Err: r.err}
				break
			}
			e.links[r.peer] = r.l
			need--
		case <-ctx.Done():
			fail = e.missing(ctx.Err())
		}
	}
	// No more incoming connections: handshakes in flight are refused.
	_ = ln.Close()
	if fail == nil {
		return nil
	}
	cancel()
	wg.Wait()
	close(results)
	for r := range results {
		if r.l != nil {
			r.l.conn.CloseWithError(codeClosed, "linking failed")
		}
	}
	for _, l := range e.links {
		if l != nil {
			l.conn.CloseWithError(codeClosed, "linking failed")
		}
	}
	return fail
}

// missing is Dial's error when ctx ends with links still down: it names the peers and the
// last refusal seen, if any.
func (e *Endpoint) missing(cause error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var msgs []string
	first := -1
	for j := range NumParties {
		if j == e.s.ID || e.links[j] != nil {
			continue
		}
		if first < 0 {
			first = j
		}
		m := fmt.Sprintf("no link with party %d (%s)", j, e.s.Addrs[j])
		if r := e.refusal[j]; r != nil {
			m += "; last refused attempt: " + r.Error()
		}
		msgs = append(msgs, m)
	}
	if e.anyRef != nil {
		msgs = append(msgs, "last refused connection: "+e.anyRef.Error())
	}
	return &LinkError{Party: e.s.ID, Peer: first, Op: "dial", Err: fmt.Errorf("%s: %w", strings.Join(msgs, "; "), cause)}
}

// refused records a refusal and reports it to the OnRefused hook.
func (e *Endpoint) refused(r *RefusedError) {
	e.mu.Lock()
	if r.Peer >= 0 && r.Peer < NumParties {
		e.refusal[r.Peer] = r
	} else {
		e.anyRef = r
	}
	e.mu.Unlock()
	if e.s.OnRefused != nil {
		e.s.OnRefused(r)
	}
}

// loopbackPacketSize is the largest packet quic-go sends (its packet buffer size). Loopback's
// MTU is far above it.
const loopbackPacketSize = 1452

// initialPacketSize is the QUIC packet size to start at: the largest when both peers are on
// this host's loopback, so that links send full packets from the first message on rather
// than after path MTU discovery has probed its way up; otherwise 0, quic-go's default (1280
// bytes, then discovery), since a larger floor could fail the handshake on a smaller path.
func (s *settings) initialPacketSize() uint16 {
	for j, host := range s.hosts {
		if j == s.ID {
			continue
		}
		ip, err := netip.ParseAddr(host)
		if host != "localhost" && (err != nil || !ip.IsLoopback()) {
			return 0
		}
	}
	return loopbackPacketSize
}

func (s *settings) quicConfig() *quicgo.Config {
	return &quicgo.Config{
		HandshakeIdleTimeout:           s.attemptTimeout(),
		MaxIdleTimeout:                 s.IdleTimeout,
		KeepAlivePeriod:                s.IdleTimeout / 3,
		InitialStreamReceiveWindow:     initialStreamWindow,
		MaxStreamReceiveWindow:         maxStreamWindow,
		InitialConnectionReceiveWindow: initialConnWindow,
		MaxConnectionReceiveWindow:     maxConnWindow,
		MaxIncomingStreams:             1,
		MaxIncomingUniStreams:          -1,
		InitialPacketSize:              s.initialPacketSize(),
	}
}

// dialPeer links to party j (j > ID), retrying while j is not reachable yet.
func (e *Endpoint) dialPeer(ctx context.Context, j int, qconf *quicgo.Config) (*link, error) {
	addr, err := net.ResolveUDPAddr("udp", e.s.Addrs[j])
	if err != nil {
		return nil, err
	}
	var last error
	for {
		l, err := e.dialOnce(ctx, j, addr, qconf)
		if err == nil {
			return l, nil
		}
		if !retryable(err) || ctx.Err() != nil {
			if last != nil && ctx.Err() != nil {
				return nil, fmt.Errorf("party %d at %s not reached: %w (last attempt: %v)", j, addr, ctx.Err(), last)
			}
			return nil, err
		}
		last = err
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// retryable reports whether a failed attempt may succeed later: the peer did not answer
// (not started yet) rather than answered badly.
func retryable(err error) bool {
	var (
		hto *quicgo.HandshakeTimeoutError
		ito *quicgo.IdleTimeoutError
		op  *net.OpError
	)
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &hto) || errors.As(err, &ito) || errors.As(err, &op)
}

func (e *Endpoint) dialOnce(ctx context.Context, j int, addr net.Addr, qconf *quicgo.Config) (*link, error) {
	s := e.s
	actx, cancel := context.WithTimeout(ctx, s.attemptTimeout())
	conn, err := e.tr.Dial(actx, addr, s.clientTLS(j), qconf)
	cancel()
	if err != nil {
		return nil, err
	}
	// From here on the peer has proved it is party j: no retry, it welcomes or refuses us.
	l, err := e.greet(ctx, j, conn)
	if err != nil {
		var re *RefusedError
		var fe *FrameError
		switch {
		case errors.As(err, &re):
		case errors.As(err, &fe):
			conn.CloseWithError(codeProtocol, err.Error())
		default:
			conn.CloseWithError(codeClosed, "linking failed")
		}
		return nil, err
	}
	return l, nil
}

// greet sends the hello on a new stream and waits for the welcome.
func (e *Endpoint) greet(ctx context.Context, j int, conn *quicgo.Conn) (*link, error) {
	s := e.s
	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	msg, err := msgpack.Marshal(hello{Magic: linkMagic, Party: s.ID})
	if err != nil {
		return nil, err
	}
	if _, err := stream.Write(append(appendHeader(nil, kindHello, uint64(len(msg))), msg...)); err != nil {
		return nil, err
	}
	l := newLink(e, j, conn, stream)
	unwatch := watchRead(ctx, stream)
	p, err := readFrame(l.br, kindWelcome, maxControlLen)
	unwatch()
	if err != nil {
		var ae *quicgo.ApplicationError
		if errors.As(err, &ae) && ae.Remote && ae.ErrorCode == codeRefused {
			return nil, &RefusedError{Party: j, Peer: s.ID, Remote: conn.RemoteAddr().String(), Reason: ae.ErrorMessage}
		}
		return nil, fmt.Errorf("waiting for the welcome of party %d: %w", j, err)
	}
	var w hello
	if err := msgpack.Unmarshal(p, &w); err != nil {
		return nil, &FrameError{Reason: fmt.Sprintf("welcome: %v", err)}
	}
	if w.Magic != linkMagic || w.Party != j {
		return nil, &FrameError{Reason: fmt.Sprintf("welcome from %q party %d, want %q party %d", w.Magic, w.Party, linkMagic, j)}
	}
	return l, nil
}

// acceptLoop accepts connections from the parties with a lower index until ctx ends or the
// listener closes; each is checked on its own goroutine.
func (e *Endpoint) acceptLoop(ctx context.Context, ln *quicgo.Listener, results chan<- result, wg *sync.WaitGroup) {
	for {
		conn, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		wg.Go(func() {
			if l, j := e.admit(ctx, conn); l != nil {
				results <- result{peer: j, l: l}
			}
		})
	}
}

// admit reads the hello of an incoming connection whose certificate TLS has already checked,
// and welcomes or refuses it. Nothing but the welcome is sent before it is admitted.
func (e *Endpoint) admit(ctx context.Context, conn *quicgo.Conn) (*link, int) {
	s := e.s
	remote := conn.RemoteAddr().String()
	refuse := func(claimed int, format string, args ...any) (*link, int) {
		reason := fmt.Sprintf(format, args...)
		conn.CloseWithError(codeRefused, reason)
		e.refused(&RefusedError{Party: s.ID, Peer: claimed, Remote: remote, Reason: reason})
		return nil, -1
	}
	certs := conn.ConnectionState().TLS.PeerCertificates
	if len(certs) == 0 {
		return refuse(-1, "no certificate")
	}
	j := -1
	for k, c := range s.Certs {
		if c.Equal(certs[0]) {
			j = k
		}
	}
	if j < 0 {
		return refuse(-1, "certificate %q is not a pinned party certificate", certs[0].Subject.CommonName)
	}
	hctx, cancel := context.WithTimeout(ctx, s.attemptTimeout())
	defer cancel()
	stream, err := conn.AcceptStream(hctx)
	if err != nil {
		return refuse(j, "no hello: %v", err)
	}
	l := newLink(e, j, conn, stream)
	unwatch := watchRead(hctx, stream)
	p, err := readFrame(l.br, kindHello, maxControlLen)
	unwatch()
	if err != nil {
		return refuse(j, "no valid hello: %v", err)
	}
	var h hello
	if err := msgpack.Unmarshal(p, &h); err != nil || h.Magic != linkMagic {
		return refuse(j, "hello is not a %s hello", linkMagic)
	}
	switch {
	case h.Party != j:
		return refuse(h.Party, "certificate is party %d's but the peer claims to be party %d", j, h.Party)
	case j >= s.ID:
		return refuse(j, "party %d dials party %d, but lower indices dial higher ones", j, s.ID)
	}
	e.mu.Lock()
	dup := e.claimed[j]
	e.claimed[j] = true
	e.mu.Unlock()
	if dup {
		return refuse(j, "party %d is already linked", j)
	}
	msg, err := msgpack.Marshal(hello{Magic: linkMagic, Party: s.ID})
	if err == nil {
		_, err = stream.Write(append(appendHeader(nil, kindWelcome, uint64(len(msg))), msg...))
	}
	if err != nil {
		conn.CloseWithError(codeClosed, "linking failed")
		e.mu.Lock()
		e.claimed[j] = false
		e.mu.Unlock()
		return nil, -1
	}
	return l, j
}

// watchRead makes reads on stream fail once ctx ends, until the returned function is called;
// that function undoes it.
func watchRead(ctx context.Context, stream *quicgo.Stream) func() {
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = stream.SetReadDeadline(aLongTimeAgo)
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired
		}
		_ = stream.SetReadDeadline(time.Time{})
	}
}

// fail records that the link with peer failed with err. Unless the failure is an orderly
// close, every pending and later Send and Recv of the endpoint fails too: with one link
// lost, the three-party computation cannot go on, and a party waiting on a live peer (itself
// perhaps waiting on the lost one) must not wait for its deadline to find out.
func (e *Endpoint) fail(peer int, err error) {
	if errors.Is(err, ErrClosed) {
		return
	}
	e.lostOnce.Do(func() {
		e.lostErr = fmt.Errorf("link with party %d failed: %w", peer, err)
		close(e.lost)
	})
}

// ID returns this endpoint's party index.
func (e *Endpoint) ID() int { return e.s.ID }

// LocalAddr returns the UDP address this endpoint sends from and listens on.
func (e *Endpoint) LocalAddr() net.Addr { return e.pc.LocalAddr() }

// Stats returns the payload bytes and messages this endpoint sent and received.
func (e *Endpoint) Stats() transport.Stats { return e.counters.Stats() }

func (e *Endpoint) link(op string, peer int) (*link, error) {
	if peer < 0 || peer >= NumParties || peer == e.s.ID {
		return nil, &LinkError{Party: e.s.ID, Peer: peer, Op: op, Err: errors.New("no such link")}
	}
	return e.links[peer], nil
}

// MinRTT returns the smallest round trip the link to peer has measured (QUIC's minimum RTT
// sample: on a loaded machine the smoothed figure grows, the minimum does not), or 0 for no
// such link. It makes an Endpoint a secure.RoundTripper.
func (e *Endpoint) MinRTT(peer int) time.Duration {
	l, err := e.link("rtt", peer)
	if err != nil || l == nil || l.conn == nil {
		return 0
	}
	return l.conn.ConnectionStats().MinRTT
}

// Send sends payload to peer as one message. It returns once the frame is written to the
// QUIC stream (queued for sending, not yet acknowledged); it keeps no reference to payload,
// which the caller may then reuse ([Endpoint.SendCopies]). A payload
// above MaxFrame is refused; a send that fails half-way, or that ctx cuts short, ends the
// link, since the stream can no longer be framed.
func (e *Endpoint) Send(ctx context.Context, peer int, payload []byte) error {
	l, err := e.link("send", peer)
	if err != nil {
		return err
	}
	if len(payload) > e.s.MaxFrame {
		return l.errorf("send", "payload of %d bytes exceeds the maximum frame of %d bytes", len(payload), e.s.MaxFrame)
	}
	if err := l.send(ctx, payload); err != nil {
		return &LinkError{Party: e.s.ID, Peer: peer, Op: "send", Err: err}
	}
	e.counters.AddSent(len(payload))
	return nil
}

// SendCopies reports that Send has written the payload to its QUIC stream when it returns
// (secure.SendCopier): the caller may reuse the buffer.
func (e *Endpoint) SendCopies() bool { return true }

// Recv returns the next message from peer. It waits until one arrives, the link ends, or
// ctx ends. Messages that arrived before the link ended are still returned, in order. When
// the link with the other peer fails (not by an orderly close), Recv fails too.
func (e *Endpoint) Recv(ctx context.Context, peer int) ([]byte, error) {
	l, err := e.link("recv", peer)
	if err != nil {
		return nil, err
	}
	p, err := l.recv(ctx)
	if err != nil {
		return nil, &LinkError{Party: e.s.ID, Peer: peer, Op: "recv", Err: err}
	}
	e.counters.AddReceived(len(p))
	return p, nil
}

// Close ends both links in order: it finishes this side's streams, waits until each peer has
// read what was sent to it (about a round trip; at most Linger for a peer that does not
// answer), then closes the connections and the socket. Pending and later Send and Recv calls
// return [ErrClosed]; on the peers' side, Recv returns the messages sent before Close, then
// ErrClosed, and Send returns ErrClosed.
//
// If a link has already failed, Close is Abort with that failure as the cause, so that the
// surviving peer learns what went wrong rather than seeing an orderly close. Close and Abort
// are idempotent; only the first call has an effect.
func (e *Endpoint) Close() error {
	// A link's reader reports its failure to the endpoint just after the link's own Recv can
	// see it; record any such failure now, so that a Close right after that Recv passes the
	// cause on.
	for _, l := range e.links {
		if l != nil {
			select {
			case <-l.done:
				e.fail(l.peer, l.err)
			default:
			}
		}
	}
	select {
	case <-e.lost:
		return e.Abort(e.lostErr)
	default:
	}
	e.closeOnce.Do(func() {
		close(e.closing)
		var wg sync.WaitGroup
		for _, l := range e.links {
			if l != nil {
				wg.Go(l.shutdown)
			}
		}
		wg.Wait()
		_ = e.tr.Close()
		_ = e.pc.Close()
	})
	return nil
}

// maxReason bounds the reason sent with a connection close, which must fit in one packet.
const maxReason = 512

// Abort ends both links at once, dropping messages in flight, and tells the peers why: their
// pending and later Send and Recv calls fail with an error that quotes cause. It is the end
// for a party that stops because of an error; Close is the orderly end.
func (e *Endpoint) Abort(cause error) error {
	e.closeOnce.Do(func() {
		close(e.closing)
		reason := fmt.Sprintf("party %d stopped: %v", e.s.ID, cause)
		if len(reason) > maxReason {
			reason = reason[:maxReason-3] + "..."
		}
		var wg sync.WaitGroup
		for _, l := range e.links {
			if l != nil {
				wg.Go(func() { l.conn.CloseWithError(codeAbandon, reason) })
			}
		}
		wg.Wait()
		_ = e.tr.Close()
		_ = e.pc.Close()
	})
	return nil
}

// abort drops the socket without telling the peers, as a crash would.
func (e *Endpoint) abort() {
	e.closeOnce.Do(func() {
		close(e.closing)
		_ = e.pc.Close()
		_ = e.tr.Close()
	})
}

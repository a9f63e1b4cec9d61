package serving

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/prg"
)

// Links are a serving party's links to the other two parties: the engine's network, and the
// means to end them in order (Close) or with a cause the peers are told (Abort).
// *quic.Endpoint (package transport/quic) is one.
type Links interface {
	secure.Network
	Close() error
	Abort(cause error) error
}

// Defaults of the zero-valued fields of [Config].
const (
	DefaultMaxBatchRows    = 256
	DefaultArrivalWait     = 250 * time.Millisecond
	DefaultHeartbeat       = 200 * time.Millisecond
	DefaultRetryDelay      = time.Second
	DefaultRequestTimeout  = 30 * time.Second
	DefaultMaxTimeout      = 5 * time.Minute
	DefaultEngineTimeout   = 10 * time.Second
	DefaultMaxRequestBytes = 64 << 20
)

// Config configures one serving party. Zero-valued optional fields take the defaults stated
// on them.
type Config struct {
	// Party is this party's index: 0, 1 or 2. Party 0 holds the model and orders the requests.
	Party int
	// Model is the model party 0 serves (its weights are secret-shared once per session); the
	// other parties leave it nil and receive its architecture from party 0.
	Model *keras.Sequential
	// Output is what a prediction reveals to the client (party 0 decides): OutputProbabilities,
	// OutputClass or OutputValues; empty means probabilities for a classifier (a softmax
	// over one axis) and outputs otherwise.
	Output string
	// Links makes this party's links to the other two. The server calls it at start and again
	// after a session fails (a peer died, say), until the links come up.
	Links func(ctx context.Context) (Links, error)
	// Listen is the UDP address where the party answers clients (host:port), unless
	// PacketConn is set.
	Listen string
	// PacketConn, if not nil, is the socket to answer clients on; the server closes it.
	PacketConn net.PacketConn
	// TLS is the server's TLS configuration for clients: see [ServerTLS].
	TLS *tls.Config
	// Engine configures the party of each session; a zero Timeout means DefaultEngineTimeout.
	Engine aby3.Config

	// MaxBatchRows bounds the rows of one secure computation and of one request (party 0's
	// value holds for all). Zero means DefaultMaxBatchRows.
	MaxBatchRows int
	// BatchWindow is how long party 0 waits, after a request reaches an idle party, for more
	// requests to batch with it. Zero batches only what queued while the previous batch ran.
	BatchWindow time.Duration
	// ArrivalWait bounds how long parties 1 and 2 wait for a request party 0 scheduled to
	// reach them too; a request that does not fails (its client sent it to party 0 only).
	// Zero means DefaultArrivalWait.
	ArrivalWait time.Duration
	// Heartbeat is the longest time party 0 lets pass without a message to the others when
	// idle. Zero means DefaultHeartbeat.
	Heartbeat time.Duration
	// RetryDelay is the wait between attempts to link to the other parties. Zero means
	// DefaultRetryDelay.
	RetryDelay time.Duration
	// DefaultTimeout is the deadline of a request that states none; MaxTimeout caps a stated
	// one. Zero means DefaultRequestTimeout and DefaultMaxTimeout.
	DefaultTimeout, MaxTimeout time.Duration
	// MaxRequestBytes bounds the input shares of a request (its two components in full, as
	// this party holds them once seeds are expanded). Zero means DefaultMaxRequestBytes.
	MaxRequestBytes int
	// Logger receives the party's log (requests, errors, latencies; never data). Nil means
	// slog.Default().
	Logger *slog.Logger
	// Metrics, if not nil, receives the party's counters.
	Metrics *Metrics

	// Test hooks: wrapLinks wraps each session's links; onRequest sees the components a
	// client sent.
	wrapLinks func(Links) Links
	onRequest func(id []byte, xa, xb []uint64, seeds [][]byte)
}

// ServerTLS returns the TLS configuration of a serving party: key is the party's certificate
// and key (as for its links to the other parties), clientCAs the CA of its clients' certificates.
// A client must present a certificate from clientCAs, for client authentication.
func ServerTLS(key tls.Certificate, clientCAs *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{key},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
		NextProtos:   []string{ALPN},
	}
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.MaxBatchRows <= 0 {
		c.MaxBatchRows = DefaultMaxBatchRows
	}
	def(&c.ArrivalWait, DefaultArrivalWait)
	def(&c.Heartbeat, DefaultHeartbeat)
	def(&c.RetryDelay, DefaultRetryDelay)
	def(&c.DefaultTimeout, DefaultRequestTimeout)
	def(&c.MaxTimeout, DefaultMaxTimeout)
	def(&c.Engine.Timeout, DefaultEngineTimeout)
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Server is one serving party: it answers clients over QUIC and computes their predictions
// with the other two parties. Create it with [NewServer], run it with [Server.Serve], stop it
// with [Server.Shutdown] (or by cancelling Serve's context).
type Server struct {
	cfg     Config
	log     *slog.Logger
	ln      *quicgo.Listener
	tr      *quicgo.Transport
	pc      net.PacketConn
	weights [][]float64 // party 0: the model's weights
	arch    []byte      // party 0: the model's architecture

	mu       sync.Mutex
	pending  map[string]*pendingReq // requests received and not yet taken into a batch
	queue    []*pendingReq          // party 0: the same, in arrival order
	taking   map[string]*pendingReq // party 0: requests of the proposal being agreed on
	arrived  chan struct{}          // closed and replaced when a request arrives or ends
	info     *ModelInfo             // the served model while a session is up
	down     error                  // why no session is up
	draining bool                   // Shutdown was called
	open     int                    // requests accepted and not yet answered
	conns    map[*quicgo.Conn]struct{}
	streams  sync.WaitGroup // requests being handled
	stop     chan struct{}  // closed by Shutdown
	done     chan struct{}  // closed when Serve returns
	seq      uint64         // batches run (for logs)
}

// pendingReq is a prediction request on its way through the party.
type pendingReq struct {
	id       []byte
	key      string // string(id)
	rows     int
	xa, xb   []uint64
	arrived  time.Time
	deadline time.Time
	arriving bool // its header is here, its shares not yet
	taken    bool // in a batch: the batch answers it
	gone     bool // withdrawn (deadline, client gone): skip it
	done     chan result
}

type result struct {
	share []uint64
	frac  int // fractional bits of the values share adds up to
	batch uint64
	err   error
}

func (r *pendingReq) String() string { return hex.EncodeToString(r.id) }

// NewServer checks the configuration, prepares party 0's model and binds the client socket.
func NewServer(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if !secure.PartyID(cfg.Party).Valid() {
		return nil, fmt.Errorf("serving: party %d: want 0, 1 or 2", cfg.Party)
	}
	if cfg.Links == nil {
		return nil, errors.New("serving: no Links")
	}
	if cfg.TLS == nil || len(cfg.TLS.Certificates) == 0 || cfg.TLS.ClientCAs == nil {
		return nil, errors.New("serving: TLS needs the party's certificate and the client CA (see ServerTLS)")
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("party", cfg.Party), pending: map[string]*pendingReq{}, taking: map[string]*pendingReq{},
		arrived: make(chan struct{}), conns: map[*quicgo.Conn]struct{}{}, stop: make(chan struct{}), done: make(chan struct{}),
		down: errors.New("no session with the other parties yet")}
	if cfg.Party == 0 {
		if cfg.Model == nil {
			return nil, errors.New("serving: party 0 needs the model")
		}
		out, err := resolveOutput(cfg.Model, cfg.Output)
		if err != nil {
			return nil, fmt.Errorf("serving: %w", err)
		}
		s.cfg.Output = out
		if s.arch, err = keras.MarshalArchitecture(cfg.Model); err != nil {
			return nil, fmt.Errorf("serving: %w", err)
		}
		if s.weights, err = cfg.Model.GetWeights(); err != nil {
			return nil, fmt.Errorf("serving: %w", err)
		}
		if s.weights == nil {
			return nil, errors.New("serving: the model's weights are not known to this process")
		}
	} else if cfg.Model != nil || cfg.Output != "" {
		return nil, errors.New("serving: only party 0 has the model and chooses the output")
	}
	pc := cfg.PacketConn
	if pc == nil {
		var err error
		if pc, err = net.ListenPacket("udp", cfg.Listen); err != nil {
			return nil, fmt.Errorf("serving: party %d: listen: %w", cfg.Party, err)
		}
	}
	tlsConf := cfg.TLS.Clone()
	tlsConf.NextProtos = []string{ALPN}
	s.pc = pc
	s.tr = &quicgo.Transport{Conn: pc}
	ln, err := s.tr.Listen(tlsConf, &quicgo.Config{
		MaxIdleTimeout:        30 * time.Second,
		KeepAlivePeriod:       5 * time.Second,
		MaxIncomingStreams:    4096,
		MaxIncomingUniStreams: -1,
	})
	if err != nil {
		_ = s.tr.Close()
		_ = pc.Close()
		return nil, fmt.Errorf("serving: party %d: listen: %w", cfg.Party, err)
	}
	s.ln = ln
	return s, nil
}

// Addr returns the UDP address where the party answers clients.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers clients and computes with the other parties until ctx ends (a hard stop:
// requests in flight fail) or [Server.Shutdown] has drained them. It returns nil after a
// shutdown or when ctx ends.
func (s *Server) Serve(ctx context.Context) error {
	defer close(s.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.accept(ctx)
	}()
	s.log.Info("serving", "clients", s.ln.Addr().String())
	s.sessions(ctx)
	_ = s.ln.Close()
	if ctx.Err() == nil {
		// An orderly stop: let the last answers reach their clients before the links close
		// (closing a QUIC connection drops what is still in flight).
		handled := make(chan struct{})
		go func() {
			s.streams.Wait()
			close(handled)
		}()
		select {
		case <-handled:
		case <-time.After(time.Second):
		}
		time.Sleep(closeLinger)
	}
	cancel()
	wg.Wait()
	_ = s.tr.Close()
	_ = s.pc.Close()
	s.log.Info("stopped")
	return nil
}

// Shutdown stops taking requests, lets the requests in flight finish, and makes Serve return.
// If ctx ends first, the remaining requests fail and Shutdown returns ctx's error once Serve
// has returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.draining {
		s.draining = true
		close(s.stop)
		s.signal()
	}
	s.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.failAll(errors.New("the party is shutting down"))
		<-s.done
		return ctx.Err()
	}
}

// signal wakes whoever waits for a change in the requests; s.mu is held.
func (s *Server) signal() {
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// sessions sets up sessions with the other parties and runs them, one after the other, until
// ctx ends or a shutdown has drained the requests.
func (s *Server) sessions(ctx context.Context) {
	for {
		if ctx.Err() != nil || s.drained() {
			return
		}
		// A shutdown stops a party that waits for its peers.
		dialCtx, cancelDial := context.WithCancel(ctx)
		go func() {
			select {
			case <-s.stop:
				cancelDial()
			case <-dialCtx.Done():
			}
		}()
		links, err := s.cfg.Links(dialCtx)
		cancelDial()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.setDown(fmt.Errorf("cannot reach the other parties: %w", err))
			s.log.Warn("linking to the other parties failed; retrying", "err", err, "retry_in", s.cfg.RetryDelay)
			select {
			case <-ctx.Done():
				return
			case <-s.stop:
				if s.drained() {
					return
				}
			case <-time.After(s.cfg.RetryDelay):
			}
			continue
		}
		if s.cfg.wrapLinks != nil {
			links = s.cfg.wrapLinks(links)
		}
		err = s.session(ctx, links)
		s.cfg.Metrics.session(false)
		switch {
		case err == nil:
			s.setDown(errors.New("the party is shutting down"))
			_ = links.Close()
			s.log.Info("session ended")
			return
		case errors.Is(err, errPeerStopped):
			s.setDown(err)
			_ = links.Close()
			s.failAll(err)
			s.log.Info("session ended: party 0 stopped serving")
		default:
			if ctx.Err() != nil {
				err = errors.New("the party stopped")
			}
			s.setDown(err)
			_ = links.Abort(err)
			s.failAll(fmt.Errorf("the serving session failed: %w", err))
			s.log.Error("session failed", "err", err)
		}
	}
}

// drained reports whether a shutdown was asked and no request is left.
func (s *Server) drained() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining && s.open == 0
}

func (s *Server) setDown(err error) {
	s.mu.Lock()
	s.info, s.down = nil, err
	s.mu.Unlock()
}

func (s *Server) setUp(info *ModelInfo) {
	s.mu.Lock()
	s.info, s.down = info, nil
	s.mu.Unlock()
	s.cfg.Metrics.session(true)
}

// failAll answers every request not in a batch with err.
func (s *Server) failAll(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.pending {
		r.gone = true
		r.done <- result{err: err}
	}
	clear(s.pending)
	s.queue = nil
	s.signal()
}

// accept takes client connections until ctx ends.
func (s *Server) accept(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := s.ln.Accept(ctx)
		if err != nil {
			return
		}
		client := "?"
		if cs := conn.ConnectionState().TLS; len(cs.PeerCertificates) > 0 {
			client = cs.PeerCertificates[0].Subject.CommonName
		}
		s.mu.Lock()
		s.conns[conn] = struct{}{}
		s.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, conn)
				s.mu.Unlock()
				// Tell the client at once (if the link is still up) rather than let it wait
				// for its idle timeout.
				_ = conn.CloseWithError(0, fmt.Sprintf("party %d stopped", s.cfg.Party))
			}()
			s.serveConn(ctx, conn, client)
		}()
	}
}

func (s *Server) serveConn(ctx context.Context, conn *quicgo.Conn, client string) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		st, err := conn.AcceptStream(ctx)
		if err != nil {
			return
		}
		wg.Add(1)
		s.streams.Add(1)
		go func() {
			defer wg.Done()
			defer s.streams.Done()
			s.serveStream(ctx, st, client)
		}()
	}
}

// closeLinger is how long an orderly stop waits, after the last answer, before it closes the
// links to clients: a few round trips on a LAN.
const closeLinger = 100 * time.Millisecond

// maxHeaderBytes bounds a request's header frame (the shares follow it).
const maxHeaderBytes = 64 << 10

// requestReadTimeout bounds the time a client takes to send its request header.
const requestReadTimeout = 30 * time.Second

func (s *Server) serveStream(ctx context.Context, st *quicgo.Stream, client string) {
	defer st.Close()
	start := time.Now()
	_ = st.SetReadDeadline(start.Add(requestReadTimeout))
	var req request
	n, err := readFrame(st, maxHeaderBytes, &req)
	s.cfg.Metrics.client(n, 0)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			s.cfg.Metrics.request(time.Since(start), "malformed")
			s.log.Warn("request", "client", client, "err", "the client closed the stream before its request was complete")
			st.CancelRead(1)
			return
		}
		s.reply(st, &response{Error: "malformed request: " + err.Error()}, client, nil, start, "malformed")
		st.CancelRead(1)
		return
	}
	switch req.Kind {
	case kindInfo:
		s.mu.Lock()
		info, down := s.info, s.down
		s.mu.Unlock()
		if info == nil {
			s.reply(st, &response{Error: s.notServing(down), Unavailable: true}, client, nil, start, "")
			return
		}
		s.reply(st, &response{Info: info}, client, nil, start, "")
	case kindPredict:
		s.predict(ctx, st, &req, client, start)
	default:
		s.reply(st, &response{Error: fmt.Sprintf("malformed request: kind %q", req.Kind)}, client, nil, start, "malformed")
	}
}

func (s *Server) notServing(down error) string {
	return fmt.Sprintf("party %d is not serving: %v", s.cfg.Party, down)
}

// reply writes a response; r, when not nil, is the request it answers (for the log).
func (s *Server) reply(st *quicgo.Stream, resp *response, client string, r *pendingReq, start time.Time, reason string) {
	resp.Party = s.cfg.Party
	n, err := writeFrame(st, resp)
	s.cfg.Metrics.client(0, n)
	isPredict := r != nil || reason != ""
	if resp.Error != "" && reason == "" {
		reason = "not_serving"
	}
	if isPredict {
		s.cfg.Metrics.request(time.Since(start), reason)
	}
	attrs := []any{"client", client, "latency", time.Since(start)}
	if r != nil {
		attrs = append(attrs, "id", r.String(), "rows", r.rows)
	}
	switch {
	case resp.Error != "":
		s.log.Warn("request failed", append(attrs, "err", resp.Error)...)
	case err != nil:
		s.log.Warn("answer not delivered", append(attrs, "err", err)...)
	case r != nil:
		s.log.Info("request", attrs...)
	}
}

// predict queues a prediction request and answers it once its batch is computed.
func (s *Server) predict(ctx context.Context, st *quicgo.Stream, req *request, client string, start time.Time) {
	fail := func(reason, msg string, r *pendingReq) {
		s.reply(st, &response{Error: msg}, client, r, start, reason)
	}
	if len(req.ID) != idBytes {
		fail("malformed", fmt.Sprintf("malformed request: id of %d bytes, want %d", len(req.ID), idBytes), nil)
		return
	}
	r := &pendingReq{id: req.ID, key: string(req.ID), rows: req.Rows, arrived: start, done: make(chan result, 1)}
	timeout := s.cfg.DefaultTimeout
	if req.TimeoutMs > 0 {
		timeout = min(time.Duration(req.TimeoutMs)*time.Millisecond, s.cfg.MaxTimeout)
	}
	r.deadline = start.Add(timeout)
	s.mu.Lock()
	info, down := s.info, s.down
	s.mu.Unlock()
	var msg, reason string
	switch {
	case info == nil:
		msg, reason = s.notServing(down), "not_serving"
	case req.Rows < 1 || req.Rows > info.MaxRows:
		msg, reason = fmt.Sprintf("bad request: %d rows, want 1 to %d", req.Rows, info.MaxRows), "bad_shape"
	}
	want, size := 0, 0
	if msg == "" {
		if msg = checkSeeds(req.Seeds); msg != "" {
			reason = "malformed"
		}
	}
	if msg == "" {
		size = req.Rows * numel(info.InputShape)
		for _, seed := range req.Seeds {
			if len(seed) == 0 {
				want += 8 * size
			}
		}
		// The shares follow the header: their length first.
		var h [4]byte
		if _, err := io.ReadFull(st, h[:]); err != nil {
			msg, reason = "malformed request: no shares after the header: "+err.Error(), "malformed"
		} else if got := int(binary.BigEndian.Uint32(h[:])); got != want || 16*size > s.cfg.MaxRequestBytes {
			msg, reason = fmt.Sprintf("bad request: %d bytes of shares for %d rows of shape %v, want %d", got, req.Rows, info.InputShape, want), "bad_shape"
			if 16*size > s.cfg.MaxRequestBytes {
				msg = fmt.Sprintf("bad request: %d bytes of shares, more than the %d this party takes", 16*size, s.cfg.MaxRequestBytes)
			}
		}
	}
	s.mu.Lock()
	switch {
	case msg != "":
	case s.draining:
		msg, reason = fmt.Sprintf("party %d is shutting down", s.cfg.Party), "shutting_down"
	case s.pending[r.key] != nil:
		msg, reason = "bad request: a request with this id is pending", "duplicate"
	}
	if msg != "" {
		s.mu.Unlock()
		st.CancelRead(1)
		s.reply(st, &response{Error: msg, Unavailable: reason == "not_serving"}, client, r, start, reason)
		return
	}
	// The request is known from its header on: a batch that party 0 proposes waits for its
	// shares however long they take to arrive (within the request's deadline).
	r.arriving = true
	s.pending[r.key] = r
	s.open++
	s.signal()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.open--
		s.signal()
		s.mu.Unlock()
	}()
	body := make([]byte, want)
	_ = st.SetReadDeadline(r.deadline)
	n, err := io.ReadFull(st, body)
	s.cfg.Metrics.client(4+n, 0)
	if err != nil {
		s.withdraw(r)
		st.CancelRead(1)
		s.reply(st, &response{Error: "malformed request: shares cut short: " + err.Error()}, client, r, start, "malformed")
		return
	}
	var pair [2][]uint64
	for k, seed := range req.Seeds {
		if len(seed) == 0 {
			// A fresh []byte is aligned for uint64s: on little-endian machines the words
			// alias the received bytes instead of copying them.
			pair[k], _ = secure.BytesToUint64s(body[:8*size], size) // the length is right
			body = body[8*size:]
		} else {
			pair[k] = aby3.ExpandSeed(prg.Seed(seed), size)
		}
	}
	xa, xb := pair[0], pair[1]
	if s.cfg.onRequest != nil {
		s.cfg.onRequest(r.id, xa, xb, req.Seeds)
	}
	s.mu.Lock()
	if r.gone {
		s.mu.Unlock()
		s.reply(st, &response{Error: fmt.Sprintf("deadline exceeded at party %d while the shares arrived", s.cfg.Party)}, client, r, start, "deadline")
		return
	}
	r.xa, r.xb, r.arriving = xa, xb, false
	if s.cfg.Party == 0 {
		s.queue = append(s.queue, r)
	}
	s.signal()
	s.mu.Unlock()

	timer := time.NewTimer(time.Until(r.deadline))
	defer timer.Stop()
	var res result
	select {
	case res = <-r.done:
	case <-timer.C:
		s.withdraw(r)
		res = result{err: fmt.Errorf("deadline exceeded after %v at party %d", timeout, s.cfg.Party)}
		reason = "deadline"
	case <-st.Context().Done():
		s.withdraw(r)
		s.cfg.Metrics.request(time.Since(start), "client_gone")
		s.log.Warn("request abandoned by its client", "client", client, "id", r.String())
		return
	case <-ctx.Done():
		s.withdraw(r)
		res = result{err: fmt.Errorf("party %d stopped", s.cfg.Party)}
	}
	if res.err != nil {
		if reason == "" {
			reason = "failed"
		}
		fail(reason, res.err.Error(), r)
		return
	}
	s.reply(st, &response{Share: appendWords(make([]byte, 0, 8*len(res.share)), res.share), Frac: res.frac}, client, r, start, "")
}

// checkSeeds returns what is wrong with a request's Seeds, or "".
func checkSeeds(seeds [][]byte) string {
	if len(seeds) != 2 {
		return fmt.Sprintf("malformed request: %d component entries, want 2", len(seeds))
	}
	for k, seed := range seeds {
		if len(seed) != 0 && len(seed) != prg.SeedSize {
			return fmt.Sprintf("malformed request: seed of component %d has %d bytes, want %d", k, len(seed), prg.SeedSize)
		}
	}
	return ""
}

// withdraw takes a request out of the pending set unless a batch has taken it.
func (s *Server) withdraw(r *pendingReq) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !r.taken && !r.gone {
		r.gone = true
		delete(s.pending, r.key)
	}
}

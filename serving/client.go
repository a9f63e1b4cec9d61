package serving

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"sync"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/fixed"
)

// ClientConfig is what a client needs to reach the three parties. Zero-valued optional fields
// take the defaults stated on them.
type ClientConfig struct {
	// Addrs are the parties' serving addresses (host:port, UDP), by index.
	Addrs [secure.NumParties]string
	// Certs are the parties' pinned certificates, by index: party i must present exactly
	// Certs[i].
	Certs [secure.NumParties]*x509.Certificate
	// CA is the deployment CA that issued the party certificates.
	CA *x509.CertPool
	// Key is the client's certificate (issued by the deployment's client CA) and key.
	Key tls.Certificate
	// Timeout is the deadline of a request whose context has none. Zero means
	// DefaultRequestTimeout.
	Timeout time.Duration
	// IdleTimeout is how long a link to a party may stay silent before the client declares
	// the party gone (keep-alives flow at a third of it). Zero means 6 s.
	IdleTimeout time.Duration
	// WaitReady bounds how long a request waits for parties that answer that they are not
	// serving yet (they are starting, or wait for a peer that restarts), within its deadline.
	// Zero means 5 s.
	WaitReady time.Duration
	// Rand is the source of the client's randomness (request IDs, input shares); nil means
	// crypto/rand.
	Rand io.Reader

	// Test hooks: onShares sees the client's split of each input; onOutputs the output
	// shares it received.
	onShares  func(split aby3.SeededSplit, n int)
	onOutputs func(shares [secure.NumParties][]uint64)
}

// Client sends private prediction requests to the three parties: it secret-shares each input
// among them and reconstructs the output from their shares, alone. It is safe for concurrent
// use; links that fail are dialled again by the next request.
type Client struct {
	cfg   ClientConfig
	randM sync.Mutex // guards cfg.Rand

	mu    sync.Mutex
	conns [secure.NumParties]*quicgo.Conn
	info  *ModelInfo
}

// Prediction is the result of [Client.Predict], one entry per input row, as the model's
// output mode ([ModelInfo].Output) allows.
type Prediction struct {
	// Classes holds the index of the largest output of each row (probabilities and class
	// outputs).
	Classes []int
	// Probabilities holds each row's softmax probabilities (probabilities output).
	Probabilities [][]float64
	// Outputs holds each row's outputs, flattened (values output).
	Outputs [][]float64
}

// NewClient returns a client; it links to the parties on first use.
func NewClient(cfg ClientConfig) (*Client, error) {
	for i, a := range cfg.Addrs {
		if a == "" || cfg.Certs[i] == nil {
			return nil, fmt.Errorf("serving: client: no address or certificate for party %d", i)
		}
	}
	if cfg.CA == nil || len(cfg.Key.Certificate) == 0 {
		return nil, errors.New("serving: client: the deployment CA and a client certificate are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultRequestTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 6 * time.Second
	}
	if cfg.WaitReady <= 0 {
		cfg.WaitReady = 5 * time.Second
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Client{cfg: cfg}, nil
}

// Close closes the links to the parties.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, conn := range c.conns {
		if conn != nil {
			_ = conn.CloseWithError(0, "client closed")
			c.conns[i] = nil
		}
	}
	return nil
}

// PartyError is the error of one party's part in a request: the party's own error message,
// or the failure of the link to it.
type PartyError struct {
	Party int
	Err   error
}

// Error names the party.
func (e *PartyError) Error() string { return fmt.Sprintf("party %d: %v", e.Party, e.Err) }

// Unwrap returns the cause.
func (e *PartyError) Unwrap() error { return e.Err }

// conn returns the link to party i, dialling it if there is none or the last one failed.
func (c *Client) conn(ctx context.Context, i int) (*quicgo.Conn, error) {
	c.mu.Lock()
	conn := c.conns[i]
	c.mu.Unlock()
	if conn != nil && conn.Context().Err() == nil {
		return conn, nil
	}
	host, _, err := net.SplitHostPort(c.cfg.Addrs[i])
	if err != nil {
		return nil, err
	}
	pinned := c.cfg.Certs[i]
	tlsConf := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{c.cfg.Key},
		RootCAs:      c.cfg.CA,
		ServerName:   host,
		NextProtos:   []string{ALPN},
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !bytes.Equal(raw[0], pinned.Raw) {
				return fmt.Errorf("party %d presented another certificate than the pinned one", i)
			}
			return nil
		},
	}
	conn, err = quicgo.DialAddr(ctx, c.cfg.Addrs[i], tlsConf, &quicgo.Config{
		HandshakeIdleTimeout: 3 * time.Second,
		MaxIdleTimeout:       c.cfg.IdleTimeout,
		KeepAlivePeriod:      c.cfg.IdleTimeout / 3,
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if old := c.conns[i]; old != nil && old != conn {
		_ = old.CloseWithError(0, "replaced")
	}
	c.conns[i] = conn
	c.mu.Unlock()
	return conn, nil
}

// exchange sends req to party i on a new stream and reads its response. A link that turns out
// dead before the request went out is dialled again once.
func (c *Client) exchange(ctx context.Context, i int, req *request) (*response, error) {
	for attempt := 0; ; attempt++ {
		conn, err := c.conn(ctx, i)
		if err != nil {
			return nil, err
		}
		st, err := conn.OpenStreamSync(ctx)
		if err == nil {
			if dl, ok := ctx.Deadline(); ok {
				_ = st.SetDeadline(dl)
			}
			var b []byte
			if b, err = encodeRequest(req); err == nil {
				_, err = st.Write(b)
			}
			if err == nil {
				err = st.Close() // the request is complete
			}
		}
		if err != nil {
			if attempt == 0 && ctx.Err() == nil && conn.Context().Err() != nil {
				continue // the link had died: dial again
			}
			return nil, err
		}
		stop := context.AfterFunc(ctx, func() { st.CancelRead(0) })
		var resp response
		_, err = readFrame(st, maxFrameDefault, &resp)
		stop()
		if err != nil {
			st.CancelRead(0)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if conn.Context().Err() != nil {
				return nil, &lostError{err: err}
			}
			return nil, fmt.Errorf("no answer: %w", err)
		}
		if resp.Party != i {
			return nil, fmt.Errorf("answer from party %d on the link to party %d", resp.Party, i)
		}
		if resp.Error != "" {
			if resp.Unavailable {
				return nil, &unavailableError{msg: resp.Error}
			}
			return nil, errors.New(resp.Error)
		}
		return &resp, nil
	}
}

// all sends one request to each party concurrently; the first failure cancels the others.
func (c *Client) all(ctx context.Context, reqs [secure.NumParties]*request) ([secure.NumParties]*response, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var out [secure.NumParties]*response
	errs := make(chan error, secure.NumParties)
	for i := range reqs {
		go func() {
			r, err := c.exchange(ctx, i, reqs[i])
			if err != nil {
				// A party that is not serving yet does not cancel the others: another party's
				// own failure (it is down) says more.
				if !errors.Is(err, ErrUnavailable) {
					cancel()
				}
				errs <- &PartyError{Party: i, Err: err}
				return
			}
			out[i] = r
			errs <- nil
		}()
	}
	var first error
	rank := func(err error) int {
		switch {
		case err == nil:
			return 0
		case isCancel(err):
			return 1
		case errors.Is(err, ErrUnavailable):
			return 2
		}
		return 3
	}
	for range reqs {
		if err := <-errs; rank(err) > rank(first) {
			first = err
		}
	}
	return out, first
}

func isCancel(err error) bool { return errors.Is(err, context.Canceled) }

// unavailableError is a party's answer that it has no session with the others at the moment.
type unavailableError struct{ msg string }

func (e *unavailableError) Error() string { return e.msg }

// ErrUnavailable matches (errors.Is) the error of a request that failed because a party had no
// session with the other two (starting, or a peer is down) until the request's deadline.
var ErrUnavailable = errors.New("the parties are not serving")

func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// lostError is the failure of a link to a party while it had a request.
type lostError struct{ err error }

func (e *lostError) Error() string { return "link lost: " + e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

// retryAll is all, tried again while a party answers that it is not serving yet (it starts,
// or waits for a peer that restarts), for at most WaitReady, and once more (on a new link) after a
// link to a party failed under the request (the party restarted, say).
func (c *Client) retryAll(ctx context.Context, reqs func() ([secure.NumParties]*request, error)) ([secure.NumParties]*response, error) {
	wait := 20 * time.Millisecond
	var lost error // the failure of a link under a first attempt
	start := time.Now()
	for {
		rs, err := reqs()
		if err != nil {
			return [secure.NumParties]*response{}, err
		}
		out, err := c.all(ctx, rs)
		var le *lostError
		if err != nil && lost != nil {
			err = fmt.Errorf("%w (and again on a new link: %v)", lost, err)
		}
		switch {
		case err == nil || ctx.Err() != nil:
			return out, err
		case errors.As(err, &le) && lost == nil:
			lost = err
			continue
		case !errors.Is(err, ErrUnavailable):
			return out, err
		}
		if time.Since(start) > c.cfg.WaitReady {
			return out, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return out, err
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// withTimeout gives ctx the client's default deadline when it has none.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.cfg.Timeout)
}

// Info returns what the parties serve; the three must agree on it.
func (c *Client) Info(ctx context.Context) (*ModelInfo, error) {
	c.mu.Lock()
	info := c.info
	c.mu.Unlock()
	if info != nil {
		return info, nil
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	resps, err := c.retryAll(ctx, func() ([secure.NumParties]*request, error) {
		var reqs [secure.NumParties]*request
		for i := range reqs {
			reqs[i] = &request{Kind: kindInfo}
		}
		return reqs, nil
	})
	if err != nil {
		return nil, fmt.Errorf("serving: model information: %w", err)
	}
	for i, r := range resps {
		if r.Info == nil {
			return nil, fmt.Errorf("serving: party %d sent no model information", i)
		}
		a, b := resps[0].Info, r.Info
		if a.Model != b.Model || a.Output != b.Output || a.FracBits != b.FracBits || a.MaxRows != b.MaxRows ||
			!slices.Equal(a.InputShape, b.InputShape) || !slices.Equal(a.OutputShape, b.OutputShape) {
			return nil, fmt.Errorf("serving: parties 0 and %d serve different models (%s, %s)", i, a.Model, b.Model)
		}
	}
	info = resps[0].Info
	if numel(info.InputShape) < 1 || numel(info.OutputShape) < 1 || info.MaxRows < 1 {
		return nil, fmt.Errorf("serving: the parties serve a model of shapes %v -> %v", info.InputShape, info.OutputShape)
	}
	if _, err := fixed.New(info.FracBits); err != nil {
		return nil, fmt.Errorf("serving: %w", err)
	}
	c.mu.Lock()
	c.info = info
	c.mu.Unlock()
	return info, nil
}

// forget drops the cached model information (the parties may serve another model after they
// restarted).
func (c *Client) forget() {
	c.mu.Lock()
	c.info = nil
	c.mu.Unlock()
}

// Predict runs a private prediction of x: rows of the model's input shape, flattened one
// after the other. The deadline of ctx (or the client's Timeout) bounds the whole request.
// Requests of more rows than a party takes at once go as several requests.
func (c *Client) Predict(ctx context.Context, x []float64) (*Prediction, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	size := numel(info.InputShape)
	if len(x) == 0 || len(x)%size != 0 {
		return nil, fmt.Errorf("serving: %d input values are not whole rows of shape %v (%d values each)", len(x), info.InputShape, size)
	}
	enc, _ := fixed.New(info.FracBits)
	limit := math.Ldexp(1, 22-info.FracBits)
	for i, v := range x {
		if math.IsNaN(v) || math.Abs(v) > limit {
			return nil, fmt.Errorf("serving: row %d, value %d is %g, beyond ±%g: scale the features", i/size, i%size, v, limit)
		}
	}
	rows := len(x) / size
	out := &Prediction{}
	for lo := 0; lo < rows; lo += info.MaxRows {
		hi := min(lo+info.MaxRows, rows)
		if err := c.predictChunk(ctx, info, enc, x[lo*size:hi*size], hi-lo, out); err != nil {
			var pe *PartyError
			if errors.As(err, &pe) && !isCancel(pe.Err) {
				c.forget()
			}
			return nil, fmt.Errorf("serving: predict: %w", err)
		}
	}
	return out, nil
}

func (c *Client) predictChunk(ctx context.Context, info *ModelInfo, enc fixed.Encoding, x []float64, rows int, out *Prediction) error {
	v, err := enc.EncodeSlice(x)
	if err != nil {
		return err
	}
	// Each attempt has a fresh ID and a fresh sharing.
	resps, err := c.retryAll(ctx, func() ([secure.NumParties]*request, error) {
		var reqs [secure.NumParties]*request
		id := make([]byte, idBytes)
		c.randM.Lock()
		_, err := io.ReadFull(c.cfg.Rand, id)
		var split aby3.SeededSplit
		if err == nil {
			split, err = aby3.SplitSeeded(v, c.cfg.Rand)
		}
		c.randM.Unlock()
		if err != nil {
			return reqs, err
		}
		if c.cfg.onShares != nil {
			c.cfg.onShares(split, len(v))
		}
		var timeoutMs int64
		if dl, ok := ctx.Deadline(); ok {
			timeoutMs = max(time.Until(dl).Milliseconds(), 1)
		}
		// Party i's pair is (x_i, x_{i+1}): x_0 and x_1 go as their seeds, x_2 in full (the
		// same bytes to parties 1 and 2).
		full := appendWords(make([]byte, 0, 8*len(v)), split.Last)
		for i := range reqs {
			req := &request{Kind: kindPredict, ID: id, Rows: rows, TimeoutMs: timeoutMs, Seeds: make([][]byte, 2)}
			for k := range 2 {
				if j := (i + k) % secure.NumParties; j < len(split.Seeds) {
					req.Seeds[k] = split.Seeds[j][:]
				} else {
					req.Shares = full
				}
			}
			reqs[i] = req
		}
		return reqs, nil
	})
	if err != nil {
		return err
	}
	w := info.outWords()
	var shares [secure.NumParties][]uint64
	frac := resps[0].Frac
	for i, r := range resps {
		if len(r.Share) != 8*rows*w {
			return &PartyError{Party: i, Err: fmt.Errorf("output share of %d bytes, want %d", len(r.Share), 8*rows*w)}
		}
		if r.Frac != frac {
			return &PartyError{Party: i, Err: fmt.Errorf("output share with %d fractional bits, party 0's with %d", r.Frac, frac)}
		}
		shares[i] = words(r.Share)
	}
	if frac != 0 {
		if enc, err = fixed.New(frac); err != nil {
			return &PartyError{Party: 0, Err: fmt.Errorf("output shares with %d fractional bits: %w", frac, err)}
		}
	}
	if c.cfg.onOutputs != nil {
		c.cfg.onOutputs(shares)
	}
	y := make([]uint64, rows*w)
	if err := aby3.CombineOutput(y, shares); err != nil {
		return err
	}
	decodeOutput(info, enc, y, rows, out)
	return nil
}

// decodeOutput turns the reconstructed ring values into the rows of a prediction.
func decodeOutput(info *ModelInfo, enc fixed.Encoding, y []uint64, rows int, out *Prediction) {
	w := info.outWords()
	for r := range rows {
		row := y[r*w : (r+1)*w]
		switch info.Output {
		case OutputClass:
			out.Classes = append(out.Classes, int(math.Round(enc.Decode(row[0]))))
		case OutputProbabilities:
			// The logits arrive shifted by a random ring element common to the row: their
			// differences are exact, and softmax depends on nothing else.
			d := make([]float64, len(row))
			best := 0
			for j := range row {
				d[j] = enc.Decode(row[j] - row[0])
				if d[j] > d[best] {
					best = j
				}
			}
			sum, top := 0.0, d[best]
			for j := range d {
				d[j] = math.Exp(d[j] - top)
				sum += d[j]
			}
			for j := range d {
				d[j] /= sum
			}
			out.Classes = append(out.Classes, best)
			out.Probabilities = append(out.Probabilities, d)
		default:
			out.Outputs = append(out.Outputs, enc.DecodeSlice(row))
		}
	}
}

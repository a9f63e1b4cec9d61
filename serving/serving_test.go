package serving

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/deploy"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/secure"
)

// The tolerance of a probability of a private prediction of network A (784-128-128-10) on
// inputs in [0, 1): the client computes the softmax exactly from the revealed logit
// differences, so the error is that of the logits in fixed point: the inputs and weights
// rounded to 2^-16 (each product then off by at most 2^-16·(|x| + |w|)) and one truncation
// per product (2^-16); summed over 784 and 128 terms with weights below 0.1 that is below
// 784·2^-16·1.1 ≈ 1.3e-2 in the worst case, about sqrt(784)·2^-16 ≈ 4e-4 in practice since
// the roundings are independent and unbiased; a probability moves by at most half of the
// logits' error. 1e-3 holds with a margin of 2 (observed: about 1e-4).
const probTol = 1e-3

// checkPrediction compares a private prediction of network A with the plain engine's.
func checkPrediction(t *testing.T, m *keras.Sequential, x []float64, p *Prediction) {
	t.Helper()
	want := plainPredict(t, m, x)
	k := 10
	rows := len(want) / k
	require.Len(t, p.Probabilities, rows)
	require.Len(t, p.Classes, rows)
	for r := range rows {
		w := want[r*k : (r+1)*k]
		require.LessOrEqual(t, maxAbsDiff(w, p.Probabilities[r]), probTol, "row %d", r)
		best := argmax(w)
		second := 0.0
		for j, v := range w {
			if j != best && v > second {
				second = v
			}
		}
		if w[best]-second > 2*probTol {
			require.Equal(t, best, p.Classes[r], "row %d", r)
		}
	}
}

func predictCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestPredictMatchesPlain(t *testing.T) {
	m := newModel(t, "a")
	l := startLocal(t, m, LocalOptions{})
	c, err := l.NewClient("alice")
	require.NoError(t, err)
	defer c.Close()
	for _, rows := range []int{1, 3, 300} { // 300 rows go as two requests (at most 256 each)
		x := images(m, rows, uint64(rows))
		p, err := c.Predict(predictCtx(t, 30*time.Second), x)
		require.NoError(t, err)
		checkPrediction(t, m, x, p)
	}
	info, err := c.Info(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutputProbabilities, info.Output)
	require.Equal(t, []int{784}, info.InputShape)
}

// Eight clients with their own inputs, concurrently, each checked against the plain engine.
func TestConcurrentClients(t *testing.T) {
	m := newModel(t, "a")
	l := startLocal(t, m, LocalOptions{})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	preds := make([][]*Prediction, 8)
	inputs := make([][][]float64, 8)
	for k := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := l.NewClient(fmt.Sprintf("client%d", k))
			if err != nil {
				errs[k] = err
				return
			}
			defer c.Close()
			for j := range 4 {
				x := images(m, 1+(k+j)%3, uint64(100*k+j))
				p, err := c.Predict(predictCtx(t, 30*time.Second), x)
				if err != nil {
					errs[k] = err
					return
				}
				preds[k], inputs[k] = append(preds[k], p), append(inputs[k], x)
			}
		}()
	}
	wg.Wait()
	for k := range 8 {
		require.NoError(t, errs[k], "client %d", k)
		for j, p := range preds[k] {
			checkPrediction(t, m, inputs[k][j], p)
		}
	}
}

// rawExchange sends one frame to party i over c's link and returns the party's answer.
func rawExchange(t *testing.T, c *Client, i int, frame []byte) response {
	t.Helper()
	ctx := predictCtx(t, 10*time.Second)
	conn, err := c.conn(ctx, i)
	require.NoError(t, err)
	st, err := conn.OpenStreamSync(ctx)
	require.NoError(t, err)
	// A party that rejects a request from its header stops reading the stream before the
	// rest arrives, which may fail the write or the close: its answer is what counts.
	_, _ = st.Write(frame)
	_ = st.Close()
	var resp response
	_, err = readFrame(st, maxFrameDefault, &resp)
	require.NoError(t, err)
	return resp
}

func frameOf(t *testing.T, req *request) []byte {
	t.Helper()
	b, err := encodeRequest(req)
	require.NoError(t, err)
	return b
}

// Malformed requests, requests of the wrong shape and clients that go away get an error or
// are dropped, while a well-behaved client, running at the same time, gets correct answers
// throughout; so do the requests after them (a failed request never desynchronises the
// parties).
func TestBadClients(t *testing.T) {
	m := newModel(t, "a")
	metrics := [3]*Metrics{{}, {}, {}}
	l := startLocal(t, m, LocalOptions{Tune: func(c *Config) {
		c.Metrics = metrics[c.Party]
		c.MaxRequestBytes = 1 << 20
	}})
	good, err := l.NewClient("good")
	require.NoError(t, err)
	defer good.Close()
	stop := make(chan struct{})
	var goodErr error
	var goodN atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			x := images(m, 2, uint64(k))
			p, err := good.Predict(predictCtx(t, 30*time.Second), x)
			if err != nil {
				goodErr = err
				return
			}
			want := plainPredict(t, m, x)
			for r := range 2 {
				if d := maxAbsDiff(want[r*10:(r+1)*10], p.Probabilities[r]); d > probTol {
					goodErr = fmt.Errorf("request %d row %d off by %g", k, r, d)
					return
				}
			}
			goodN.Add(1)
		}
	}()

	bad, err := l.NewClient("bad")
	require.NoError(t, err)
	defer bad.Close()
	id := func(b byte) []byte { v := make([]byte, idBytes); v[0] = b; return v }
	shares := make([]byte, 16*784)
	full := [][]byte{nil, nil} // both components in Shares
	for _, c := range []struct {
		name  string
		frame []byte
		want  string
	}{
		{"garbage", []byte{0, 0, 0, 5, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1}, "malformed request"},
		{"huge frame", []byte{0xff, 0xff, 0xff, 0xff}, "frame too large"},
		{"unknown kind", frameOf(t, &request{Kind: "steal"}), `kind "steal"`},
		{"short id", frameOf(t, &request{Kind: kindPredict, ID: []byte{1}, Rows: 1, Shares: shares, Seeds: full}), "id of 1 bytes"},
		{"no rows", frameOf(t, &request{Kind: kindPredict, ID: id(1), Rows: 0}), "0 rows"},
		{"too many rows", frameOf(t, &request{Kind: kindPredict, ID: id(2), Rows: 100000, Shares: shares, Seeds: full}), "100000 rows"},
		{"wrong shape", frameOf(t, &request{Kind: kindPredict, ID: id(3), Rows: 1, Shares: shares[:16*783], Seeds: full}), "bytes of shares for 1 rows of shape [784]"},
		{"three components", frameOf(t, &request{Kind: kindPredict, ID: id(5), Rows: 1, Shares: shares, Seeds: [][]byte{nil, nil, nil}}), "3 component entries"},
		{"short seed", frameOf(t, &request{Kind: kindPredict, ID: id(6), Rows: 1, Shares: shares[:8*784], Seeds: [][]byte{nil, {1, 2}}}), "seed of component 1 has 2 bytes"},
		{"seed and full component", frameOf(t, &request{Kind: kindPredict, ID: id(7), Rows: 1, Shares: shares, Seeds: [][]byte{make([]byte, 16), nil}}), "bytes of shares for 1 rows of shape [784], want 6272"},
		{"rows and shares disagree", frameOf(t, &request{Kind: kindPredict, ID: id(4), Rows: 2, Shares: shares, Seeds: full}), "for 2 rows"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for i := range secure.NumParties {
				resp := rawExchange(t, bad, i, c.frame)
				require.Contains(t, resp.Error, c.want, "party %d", i)
				require.Nil(t, resp.Share)
			}
		})
	}

	// A request sent to parties 0 and 1 only, by a client that then disconnects: it fails
	// on the parties (party 2 never received it) and no one else notices.
	t.Run("sent to two parties", func(t *testing.T) {
		req := frameOf(t, &request{Kind: kindPredict, ID: id(9), Rows: 1, Shares: shares, TimeoutMs: 20000, Seeds: full})
		var resps [2]response
		var wg2 sync.WaitGroup
		for i := range 2 {
			wg2.Add(1)
			go func() {
				defer wg2.Done()
				resps[i] = rawExchange(t, bad, i, req)
			}()
		}
		wg2.Wait()
		for i := range 2 {
			require.Contains(t, resps[i].Error, "party 2 did not receive its shares", "party %d", i)
		}
	})
	// A client that sends its request and goes away before the answer.
	t.Run("gone before the answer", func(t *testing.T) {
		ctx := predictCtx(t, 10*time.Second)
		req := frameOf(t, &request{Kind: kindPredict, ID: id(10), Rows: 1, Shares: shares, TimeoutMs: 20000, Seeds: full})
		for i := range secure.NumParties {
			conn, err := bad.conn(ctx, i)
			require.NoError(t, err)
			st, err := conn.OpenStreamSync(ctx)
			require.NoError(t, err)
			_, err = st.Write(req)
			require.NoError(t, err)
		}
		require.NoError(t, bad.Close())
	})
	// A client that opens a stream and sends half a frame.
	t.Run("half a frame", func(t *testing.T) {
		c2, err := l.NewClient("half")
		require.NoError(t, err)
		ctx := predictCtx(t, 10*time.Second)
		conn, err := c2.conn(ctx, 1)
		require.NoError(t, err)
		st, err := conn.OpenStreamSync(ctx)
		require.NoError(t, err)
		_, err = st.Write(req2(t)[:100])
		require.NoError(t, err)
		require.NoError(t, c2.Close())
	})

	// The good client kept going through all this.
	before := goodN.Load()
	require.Eventually(t, func() bool { return goodN.Load() >= before+3 || goodErr != nil }, 20*time.Second, 10*time.Millisecond)
	close(stop)
	wg.Wait()
	require.NoError(t, goodErr)
	require.Greater(t, goodN.Load(), int64(3))
	var text strings.Builder
	_, err = metrics[0].WriteTo(&text)
	require.NoError(t, err)
	require.Contains(t, text.String(), `gotfe_serving_errors_total{reason="malformed"}`)
	require.Contains(t, text.String(), `gotfe_serving_errors_total{reason="bad_shape"}`)
}

func req2(t *testing.T) []byte {
	return frameOf(t, &request{Kind: kindPredict, ID: make([]byte, idBytes), Rows: 1, Shares: make([]byte, 16*784), Seeds: [][]byte{nil, nil}})
}

// A client whose certificate does not come from the deployment's client CA, or that has none,
// is refused during the TLS handshake.
func TestUnknownClientRefused(t *testing.T) {
	m := newModel(t, "lr")
	l := startLocal(t, m, LocalOptions{})
	other, err := deploy.NewClientCA(time.Hour)
	require.NoError(t, err)
	key, err := other.Issue("mallory", time.Hour)
	require.NoError(t, err)
	cfg, err := l.ClientConfig("unused")
	require.NoError(t, err)
	cfg.Key = key
	c, err := NewClient(cfg)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Predict(predictCtx(t, 10*time.Second), make([]float64, 784))
	require.Error(t, err)
	require.NotErrorIs(t, err, context.DeadlineExceeded)

	// No certificate at all.
	ctx := predictCtx(t, 10*time.Second)
	conn, err := quicgo.DialAddr(ctx, l.serveAt[0], &tls.Config{RootCAs: l.pki.Pool(), ServerName: "127.0.0.1", NextProtos: []string{ALPN}, MinVersion: tls.VersionTLS13}, nil)
	if err == nil {
		// TLS 1.3: the server's refusal may arrive after the client's handshake completes.
		st, err2 := conn.OpenStreamSync(ctx)
		if err2 == nil {
			_, _ = st.Write(req2(t))
			_ = st.Close()
			var resp response
			_, err2 = readFrame(st, maxFrameDefault, &resp)
		}
		require.Error(t, err2)
	}
}

// A serving party that dies makes the pending requests fail with a clear error well before
// their deadline; once it is back, serving resumes and the answers are correct again.
func TestPartyDiesAndComesBack(t *testing.T) {
	m := newModel(t, "a")
	var hold atomic.Bool
	entered := make(chan struct{}, 1)
	l := startLocal(t, m, LocalOptions{Tune: func(c *Config) {
		if c.Party == 2 {
			c.wrapLinks = func(l Links) Links { return &holdingLinks{Links: l, hold: &hold, entered: entered} }
		}
	}})
	c, err := l.NewClient("alice")
	require.NoError(t, err)
	defer c.Close()
	x := images(m, 2, 7)
	p, err := c.Predict(predictCtx(t, 30*time.Second), x)
	require.NoError(t, err)
	checkPrediction(t, m, x, p)

	// Party 2 stalls in the middle of the next computation, and dies there.
	hold.Store(true)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := c.Predict(predictCtx(t, 60*time.Second), x)
		done <- err
	}()
	<-entered
	l.KillParty(2)
	err = <-done
	require.Error(t, err)
	require.Less(t, time.Since(start), 20*time.Second, "failed at its deadline rather than at once")
	t.Logf("error while party 2 is down: %v", err)
	require.Contains(t, err.Error(), "party")

	// While party 2 is down, requests fail at once with a clear error.
	_, err = c.Predict(predictCtx(t, 2*time.Second), x)
	require.Error(t, err)

	hold.Store(false)
	require.NoError(t, l.StartParty(2))
	p, err = c.Predict(predictCtx(t, 30*time.Second), x)
	require.NoError(t, err)
	checkPrediction(t, m, x, p)
}

// holdingLinks blocks Recv while hold is set, until the party stops.
type holdingLinks struct {
	Links
	hold    *atomic.Bool
	entered chan struct{}
	batches atomic.Int64
}

func (h *holdingLinks) Recv(ctx context.Context, peer int) ([]byte, error) {
	if h.hold.Load() {
		select {
		case h.entered <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return h.Links.Recv(ctx, peer)
}

// Shutdown lets the requests in flight finish, refuses new ones, and returns.
func TestShutdownDrains(t *testing.T) {
	m := newModel(t, "a")
	l := startLocal(t, m, LocalOptions{Tune: func(c *Config) {
		if c.Party == 0 {
			c.BatchWindow = 300 * time.Millisecond // keeps the first request queued for a while
		}
	}})
	c, err := l.NewClient("alice")
	require.NoError(t, err)
	defer c.Close()
	x := images(m, 1, 3)
	done := make(chan error, 1)
	var p *Prediction
	go func() {
		var err error
		p, err = c.Predict(predictCtx(t, 30*time.Second), x)
		done <- err
	}()
	require.Eventually(t, func() bool { // the request reached the three parties
		for i := range secure.NumParties {
			s := l.Server(i)
			s.mu.Lock()
			open := s.open
			s.mu.Unlock()
			if open != 1 {
				return false
			}
		}
		return true
	}, 10*time.Second, time.Millisecond)
	require.NoError(t, l.Shutdown(predictCtx(t, 20*time.Second)))
	require.NoError(t, <-done)
	checkPrediction(t, m, x, p)
	_, err = c.Predict(predictCtx(t, 2*time.Second), x)
	require.Error(t, err)
}

func TestMetricsFormat(t *testing.T) {
	m := newModel(t, "lr")
	var met Metrics
	l := startLocal(t, m, LocalOptions{Tune: func(c *Config) {
		if c.Party == 1 {
			c.Metrics = &met
		}
	}})
	c, err := l.NewClient("alice")
	require.NoError(t, err)
	defer c.Close()
	for range 3 {
		p, err := c.Predict(predictCtx(t, 10*time.Second), images(m, 2, 1))
		require.NoError(t, err)
		require.Len(t, p.Outputs, 2)
	}
	var b strings.Builder
	_, err = met.WriteTo(&b)
	require.NoError(t, err)
	text := b.String()
	for _, want := range []string{
		`gotfe_serving_requests_total{outcome="ok"} 3`,
		`gotfe_serving_requests_total{outcome="error"} 0`,
		`gotfe_serving_request_duration_seconds_count 3`,
		`gotfe_serving_batch_rows_sum 6`,
		`gotfe_serving_up 1`,
		`# TYPE gotfe_serving_batch_rows histogram`,
	} {
		require.Contains(t, text, want)
	}
	// The peer counters come from the session's: every batch sends bytes and messages.
	snap := met.Snapshot()
	require.Positive(t, snap.PeerMessages)
	require.Greater(t, snap.PeerBytes, snap.PeerMessages)
	require.Contains(t, text, fmt.Sprintf("gotfe_serving_peer_messages_sent_total %d\n", snap.PeerMessages))
	// Every sample line is "name{labels} value" or "name value".
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		require.Len(t, f, 2, line)
		require.True(t, strings.HasPrefix(f[0], "gotfe_serving_"), line)
	}
}

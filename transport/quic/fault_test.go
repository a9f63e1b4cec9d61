package quic

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

// refusals collects the refusals reported to OnRefused.
type refusals struct {
	mu  sync.Mutex
	got []*RefusedError
	ch  chan struct{}
}

func newRefusals() *refusals { return &refusals{ch: make(chan struct{}, 16)} }

func (r *refusals) add(e *RefusedError) {
	r.mu.Lock()
	r.got = append(r.got, e)
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *refusals) wait(t *testing.T) *RefusedError {
	t.Helper()
	select {
	case <-r.ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no refusal reported")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[len(r.got)-1]
}

// rawHello dials addr as a client with key, trusting pool, states claim as its index, and
// returns whatever the listener sent back on the stream (n bytes) and the read error.
func rawHello(t *testing.T, addr string, key tls.Certificate, pool *x509.CertPool, claim int) (int, error) {
	t.Helper()
	return rawHelloWithin(t, 2*time.Second, addr, key, pool, claim)
}

func rawHelloWithin(t *testing.T, timeout time.Duration, addr string, key tls.Certificate, pool *x509.CertPool, claim int) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tlsConf := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{key},
		NextProtos:   []string{nextProto},
		ServerName:   "127.0.0.1",
	}
	tlsConf.RootCAs = pool
	conn, err := quicgo.DialAddr(ctx, addr, tlsConf, &quicgo.Config{})
	if err != nil {
		return 0, err
	}
	defer conn.CloseWithError(0, "")
	// The handshake completes on the client's side before the listener has checked the
	// client's certificate: a refusal can surface at any step from here.
	stream, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return 0, err
	}
	msg, err := msgpack.Marshal(hello{Magic: linkMagic, Party: claim})
	require.NoError(t, err)
	if _, err := stream.Write(append(appendHeader(nil, kindHello, uint64(len(msg))), msg...)); err != nil {
		return 0, err
	}
	var buf [1024]byte
	_ = stream.SetReadDeadline(time.Now().Add(timeout))
	total := 0
	for {
		n, err := stream.Read(buf[:])
		total += n
		if err != nil {
			return total, err
		}
	}
}

// dialAsync starts Dial for the given parties; their results arrive on out.
func dialAsync(ctx context.Context, cfgs [NumParties]Config, out chan result, ids ...int) {
	for _, i := range ids {
		go func() {
			e, err := Dial(ctx, cfgs[i])
			r := result{peer: i, err: err}
			if e != nil {
				r.l = &link{e: e}
			}
			out <- r
		}()
	}
}

// collect waits for n Dial results and returns the endpoints, closing them at the end of the
// test.
func collect(t *testing.T, ch chan result, n int) map[int]*Endpoint {
	t.Helper()
	eps := map[int]*Endpoint{}
	for range n {
		r := <-ch
		require.NoError(t, r.err, "party %d", r.peer)
		eps[r.peer] = r.l.e
	}
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, e := range eps {
			wg.Go(func() { _ = e.Close() })
		}
		wg.Wait()
	})
	return eps
}

// exchange checks that the three endpoints pass a message around the ring.
func exchange(t *testing.T, eps map[int]*Endpoint) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range NumParties {
		require.NoError(t, eps[i].Send(ctx, (i+1)%NumParties, []byte{byte(i)}))
	}
	for i := range NumParties {
		p, err := eps[i].Recv(ctx, (i+2)%NumParties)
		require.NoError(t, err)
		assert.Equal(t, []byte{byte((i + 2) % NumParties)}, p)
	}
}

func TestRefusesCertificateOfAnotherCA(t *testing.T) {
	p := newTestPKI(t)
	cfgs := p.configs(t)
	ref := newRefusals()
	cfgs[1].OnRefused = ref.add
	cfgs[2].OnRefused = ref.add
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	results := make(chan result, NumParties)
	dialAsync(ctx, cfgs, results, 1, 2)

	// The impostor has a certificate for party 0 from another CA, and trusts the real CA so
	// that its own checks of party 1 pass.
	other := newTestPKI(t)
	n, err := rawHello(t, cfgs[1].Addrs[1], other.keys[0], p.pool, 0)
	require.Error(t, err)
	assert.Zero(t, n, "the impostor received data")
	var te *quicgo.TransportError
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Remote)
	assert.Contains(t, err.Error(), "bad certificate")

	r := ref.wait(t)
	assert.Equal(t, 1, r.Party)
	assert.Contains(t, r.Error(), "party 1 refused a peer at 127.0.0.1:")
	assert.Contains(t, r.Reason, "not issued by the deployment CA")

	// The same through Dial: the impostor's Dial fails at once with the TLS refusal.
	imp := Config{ID: 0, Addrs: cfgs[0].Addrs, Certs: p.certs, Key: other.keys[0], CA: p.pool}
	imp.Certs[0] = other.certs[0]
	imp.Conn, err = net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	_, err = Dial(ctx, imp)
	require.ErrorContains(t, err, "bad certificate")
	assert.Contains(t, ref.wait(t).Reason, "not issued by the deployment CA")

	// The real party 0 still links.
	dialAsync(ctx, cfgs, results, 0)
	exchange(t, collect(t, results, NumParties))
}

func TestRefusesPeerClaimingAnotherIndex(t *testing.T) {
	p := newTestPKI(t)
	cfgs := p.configs(t)
	ref := newRefusals()
	cfgs[1].OnRefused = ref.add
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	results := make(chan result, NumParties)
	dialAsync(ctx, cfgs, results, 1, 2)

	// Party 2's genuine certificate, claiming to be party 0.
	n, err := rawHello(t, cfgs[1].Addrs[1], p.keys[2], p.pool, 0)
	assert.Zero(t, n, "the impostor received data")
	var ae *quicgo.ApplicationError
	require.ErrorAs(t, err, &ae)
	assert.True(t, ae.Remote)
	assert.Equal(t, quicgo.ApplicationErrorCode(codeRefused), ae.ErrorCode)
	assert.Equal(t, "certificate is party 2's but the peer claims to be party 0", ae.ErrorMessage)
	r := ref.wait(t)
	assert.Equal(t, RefusedError{Party: 1, Peer: 0, Remote: r.Remote, Reason: ae.ErrorMessage}, *r)

	// Party 0's genuine certificate dialling party 1 but claiming to be party 2.
	n, err = rawHello(t, cfgs[1].Addrs[1], p.keys[0], p.pool, 2)
	assert.Zero(t, n)
	require.ErrorContains(t, err, "certificate is party 0's but the peer claims to be party 2")
	ref.wait(t)

	// Party 2 dialling party 1 the wrong way round.
	n, err = rawHello(t, cfgs[1].Addrs[1], p.keys[2], p.pool, 2)
	assert.Zero(t, n)
	require.ErrorContains(t, err, "lower indices dial higher ones")
	ref.wait(t)

	dialAsync(ctx, cfgs, results, 0)
	exchange(t, collect(t, results, NumParties))

	// Once linked, the listener is gone: a second connection as party 0 gets nothing.
	n, err = rawHelloWithin(t, 300*time.Millisecond, cfgs[2].Addrs[2], p.keys[0], p.pool, 0)
	assert.Zero(t, n)
	require.Error(t, err)
}

func TestDialerChecksListenerPin(t *testing.T) {
	// Party 0 expects party 1 at an address where party 2 listens.
	p := newTestPKI(t)
	cfgs := p.configs(t)
	cfgs[0].Addrs[1] = cfgs[0].Addrs[2]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan result, 2)
	dialAsync(ctx, cfgs, got, 0, 2)
	r := <-got
	require.Equal(t, 0, r.peer)
	require.ErrorContains(t, r.err, "not party 1's pinned certificate")
	cancel()
	<-got
}

// killer aborts an endpoint after a number of sends, as if its process died mid-computation.
type killer struct {
	*Endpoint
	left int
}

func (k *killer) Send(ctx context.Context, peer int, p []byte) error {
	if k.left--; k.left < 0 {
		k.abort()
		return errors.New("killed")
	}
	return k.Endpoint.Send(ctx, peer, p)
}

func TestPeerKilledMidComputation(t *testing.T) {
	cfgs := newTestPKI(t).configs(t)
	for i := range cfgs {
		cfgs[i].IdleTimeout = time.Second
	}
	eps := dialAll(t, cfgs)
	const deadline = 8 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	nets := [NumParties]network{eps[0], &killer{Endpoint: eps[1], left: 9}, eps[2]}
	errs := runAll(nets, func(id int, n network) error {
		_, err := ringCompute(ctx, n, id, 100)
		return err
	})
	elapsed := time.Since(start)
	for _, i := range []int{0, 2} {
		require.Error(t, errs[i], "party %d", i)
		assert.ErrorContains(t, errs[i], "nothing heard from party 1", "party %d", i)
		assert.NotErrorIs(t, errs[i], context.DeadlineExceeded, "party %d", i)
	}
	assert.Less(t, elapsed, deadline)
}

func TestPeerNeverStarts(t *testing.T) {
	cfgs := newTestPKI(t).configs(t)
	// Party 2's socket is bound but nobody answers on it.
	defer cfgs[2].Conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	got := make(chan result, 2)
	dialAsync(ctx, cfgs, got, 0, 1)
	for range 2 {
		r := <-got
		require.Error(t, r.err, "party %d", r.peer)
		assert.ErrorIs(t, r.err, context.DeadlineExceeded)
		assert.ErrorContains(t, r.err, "party 2", "party %d", r.peer)
		t.Logf("party %d: %v", r.peer, r.err)
	}
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestMalformedFrameEndsLink(t *testing.T) {
	eps := dialAll(t, newTestPKI(t).configs(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l := eps[0].links[1]
	l.wmu.Lock()
	_, err := l.stream.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	l.wmu.Unlock()
	require.NoError(t, err)

	_, err = eps[1].Recv(ctx, 0)
	var fe *FrameError
	require.ErrorAs(t, err, &fe)
	assert.ErrorContains(t, err, "quic: party 1: recv from party 0: party 0 sent a bad frame: bad frame: header starts with 0x47")
	_, err = eps[0].Recv(ctx, 1)
	require.ErrorContains(t, err, "party 1 ended the link: party 1 got a bad frame from party 0")
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	// The other endpoints' links fail with it.
	_, err = eps[1].Recv(ctx, 2)
	require.ErrorContains(t, err, "link with party 0 failed")
}

func TestOversizedFrameEndsLink(t *testing.T) {
	tests := []struct {
		name  string
		write func(e *Endpoint) error
	}{
		{"payload above the receiver's maximum", func(e *Endpoint) error {
			return e.Send(context.Background(), 1, make([]byte, 2000))
		}},
		{"header announcing 2^62 bytes", func(e *Endpoint) error {
			l := e.links[1]
			l.wmu.Lock()
			defer l.wmu.Unlock()
			_, err := l.stream.Write(appendHeader(nil, kindData, 1<<62))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgs := newTestPKIOnce(t).configs(t)
			cfgs[1].MaxFrame = 1000
			eps := dialAll(t, cfgs)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			require.NoError(t, tt.write(eps[0]))
			_, err := eps[1].Recv(ctx, 0)
			var fe *FrameError
			require.ErrorAs(t, err, &fe)
			assert.ErrorContains(t, err, "exceeds the maximum of 1000")
			_, err = eps[0].Recv(ctx, 1)
			require.ErrorContains(t, err, "party 1 ended the link")
			assert.False(t, errors.Is(err, context.DeadlineExceeded))
		})
	}
}

func TestAbortTellsPeersWhy(t *testing.T) {
	eps := dialAll(t, newTestPKI(t).configs(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, eps[1].Abort(errors.New("out of memory")))
	for _, i := range []int{0, 2} {
		_, err := eps[i].Recv(ctx, 1)
		require.ErrorContains(t, err, "party 1 ended the link: party 1 stopped: out of memory", "party %d", i)
		// The endpoint as a whole has failed: its other link reports it too.
		_, err = eps[i].Recv(ctx, 2-i)
		require.ErrorContains(t, err, "link with party 1 failed", "party %d", i)
	}
	_, err := eps[1].Recv(ctx, 0)
	require.ErrorIs(t, err, ErrClosed)
}

func TestCloseAfterFailurePassesTheCauseOn(t *testing.T) {
	cfgs := newTestPKI(t).configs(t)
	for i := range cfgs {
		cfgs[i].IdleTimeout = 500 * time.Millisecond
	}
	eps := dialAll(t, cfgs)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	eps[1].abort()
	// Party 2 notices the loss and closes; party 0 hears why from party 2 or by itself.
	_, err := eps[2].Recv(ctx, 1)
	require.ErrorContains(t, err, "nothing heard from party 1")
	require.NoError(t, eps[2].Close())
	_, err = eps[0].Recv(ctx, 2)
	require.ErrorContains(t, err, "nothing heard from party 1")
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
}

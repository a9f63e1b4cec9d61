package quic

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotfe/gotfe/transport"
	"github.com/gotfe/gotfe/transport/mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// network is what the test computations need of a link: mem's and this package's endpoints.
type network interface {
	Send(ctx context.Context, peer int, payload []byte) error
	Recv(ctx context.Context, peer int) ([]byte, error)
	Stats() transport.Stats
}

func encode(x []uint64) []byte {
	b := make([]byte, 0, 8*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func decode(b []byte) ([]uint64, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of uint64s", len(b))
	}
	x := make([]uint64, len(b)/8)
	for i := range x {
		x[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return x, nil
}

// ringSizes are the vector lengths of successive rounds of ringCompute.
var ringSizes = []int{1, 0, 3, 1000, 1<<16 + 5, 8}

// ringCompute is a fixed computation over the links, shaped like the engine's traffic: each
// round every party sends a vector to the next party and a scalar to the previous one, then
// folds in what it received. All three parties end with the same digest.
func ringCompute(ctx context.Context, net network, id, rounds int) (uint64, error) {
	next, prev := (id+1)%NumParties, (id+NumParties-1)%NumParties
	var digest uint64
	for r := range rounds {
		n := ringSizes[r%len(ringSizes)]
		rng := rand.New(rand.NewPCG(uint64(id), uint64(r)))
		x := make([]uint64, n)
		for i := range x {
			x[i] = rng.Uint64()
		}
		if err := net.Send(ctx, next, encode(x)); err != nil {
			return 0, err
		}
		if err := net.Send(ctx, prev, encode([]uint64{uint64(id*1000 + r)})); err != nil {
			return 0, err
		}
		b, err := net.Recv(ctx, prev)
		if err != nil {
			return 0, err
		}
		y, err := decode(b)
		if err != nil {
			return 0, err
		}
		if len(y) != n {
			return 0, fmt.Errorf("round %d: got %d elements from party %d, want %d", r, len(y), prev, n)
		}
		b, err = net.Recv(ctx, next)
		if err != nil {
			return 0, err
		}
		z, err := decode(b)
		if err != nil || len(z) != 1 || z[0] != uint64(next*1000+r) {
			return 0, fmt.Errorf("round %d: bad scalar %v from party %d (%v)", r, z, next, err)
		}
		// Sum over the ring of what each party sent: every party ends with the same value.
		var s uint64
		for i := range x {
			s += x[i] + y[i]
		}
		// Exchange the partial sums so that each party knows all three.
		if err := net.Send(ctx, next, encode([]uint64{s})); err != nil {
			return 0, err
		}
		if err := net.Send(ctx, prev, encode([]uint64{s})); err != nil {
			return 0, err
		}
		var tot uint64 = s
		for _, p := range []int{prev, next} {
			b, err := net.Recv(ctx, p)
			if err != nil {
				return 0, err
			}
			v, err := decode(b)
			if err != nil || len(v) != 1 {
				return 0, fmt.Errorf("round %d: bad sum from party %d", r, p)
			}
			tot += v[0]
		}
		digest = digest*31 + tot
	}
	return digest, nil
}

// runAll runs f on the three networks concurrently.
func runAll[N any](nets [NumParties]N, f func(id int, n N) error) [NumParties]error {
	var (
		errs [NumParties]error
		wg   sync.WaitGroup
	)
	for i := range nets {
		wg.Go(func() { errs[i] = f(i, nets[i]) })
	}
	wg.Wait()
	return errs
}

func TestSameResultsAsMem(t *testing.T) {
	const rounds = 13
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	var memNets [NumParties]network
	for i, e := range mem.NewNetwork(NumParties) {
		memNets[i] = e
	}
	var quicNets [NumParties]network
	for i, e := range dialAll(t, newTestPKI(t).configs(t)) {
		quicNets[i] = e
	}
	compute := func(nets [NumParties]network) ([NumParties]uint64, [NumParties]transport.Stats) {
		var digests [NumParties]uint64
		errs := runAll(nets, func(id int, n network) error {
			var err error
			digests[id], err = ringCompute(ctx, n, id, rounds)
			return err
		})
		var stats [NumParties]transport.Stats
		for i := range errs {
			require.NoError(t, errs[i], "party %d", i)
			stats[i] = nets[i].Stats()
		}
		return digests, stats
	}
	memDigests, memStats := compute(memNets)
	quicDigests, quicStats := compute(quicNets)
	assert.Equal(t, memDigests, quicDigests)
	assert.Equal(t, memStats, quicStats)
	assert.Equal(t, memDigests[0], memDigests[1])
	assert.Equal(t, memDigests[0], memDigests[2])
}

func TestMessagesArriveIntactAndInOrder(t *testing.T) {
	eps := dialAll(t, newTestPKI(t).configs(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, 7, coalesceLimit, coalesceLimit + 1, readBufferSize - 3, 3 << 20}
	var msgs [][]byte
	for range 3 {
		for _, n := range sizes {
			m := make([]byte, n)
			for i := range m {
				m[i] = byte(rng.Uint32())
			}
			msgs = append(msgs, m)
		}
	}
	// Two goroutines send concurrently to the same peer: frames must not interleave.
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for i, m := range msgs {
				if i%2 == g {
					assert.NoError(t, eps[2].Send(ctx, 0, bytes.Clone(m)))
				}
			}
		})
	}
	got := make(map[string]int)
	for range msgs {
		p, err := eps[0].Recv(ctx, 2)
		require.NoError(t, err)
		got[string(p)]++
	}
	wg.Wait()
	want := make(map[string]int)
	for _, m := range msgs {
		want[string(m)]++
	}
	assert.Equal(t, want, got)

	// One sender: strict order.
	for i, m := range msgs {
		require.NoError(t, eps[1].Send(ctx, 2, bytes.Clone(m)), "message %d", i)
	}
	for i, m := range msgs {
		p, err := eps[2].Recv(ctx, 1)
		require.NoError(t, err)
		require.True(t, bytes.Equal(m, p), "message %d: %d bytes, want %d", i, len(p), len(m))
	}
}

// Send is done with its payload when it returns (SendCopies): a sender that overwrites the
// buffer at once, as the engine does when it reuses it for its next message, changes nothing
// the peer receives, at every size of frame.
func TestSendCopiesPayload(t *testing.T) {
	eps := dialAll(t, newTestPKI(t).configs(t))
	require.True(t, eps[0].SendCopies())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rng := rand.New(rand.NewPCG(3, 4))
	var want [][]byte
	buf := make([]byte, 3<<20)
	for _, n := range []int{1, coalesceLimit, coalesceLimit + 1, readBufferSize + 5, 3 << 20} {
		for i := range buf[:n] {
			buf[i] = byte(rng.Uint32())
		}
		want = append(want, bytes.Clone(buf[:n]))
		require.NoError(t, eps[0].Send(ctx, 1, buf[:n]))
		for i := range buf[:n] {
			buf[i] = 0xa5
		}
	}
	for i, w := range want {
		p, err := eps[1].Recv(ctx, 0)
		require.NoError(t, err)
		require.True(t, bytes.Equal(w, p), "message %d of %d bytes", i, len(w))
	}
}

func TestRecvHonoursDeadline(t *testing.T) {
	eps := dialAll(t, newTestPKI(t).configs(t))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := eps[0].Recv(ctx, 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var le *LinkError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 1, le.Peer)
	assert.Less(t, time.Since(start), 5*time.Second)

	// A receive that timed out leaves the link usable.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	require.NoError(t, eps[1].Send(ctx2, 0, []byte("late")))
	p, err := eps[0].Recv(ctx2, 1)
	require.NoError(t, err)
	assert.Equal(t, "late", string(p))

	// Cancelled contexts are honoured by Send as well.
	cancel2()
	require.ErrorIs(t, eps[1].Send(ctx2, 0, []byte("x")), context.Canceled)
}

func TestBadPeerIndex(t *testing.T) {
	eps := dialAll(t, newTestPKI(t).configs(t))
	ctx := context.Background()
	for _, peer := range []int{-1, 0, 3} {
		assert.Error(t, eps[0].Send(ctx, peer, nil))
		_, err := eps[0].Recv(ctx, peer)
		assert.Error(t, err)
	}
}

func TestCloseDeliversQueuedMessages(t *testing.T) {
	eps := dialAll(t, newTestPKI(t).configs(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	big := make([]byte, 4<<20)
	big[len(big)-1] = 7
	require.NoError(t, eps[0].Send(ctx, 1, big))
	require.NoError(t, eps[0].Send(ctx, 1, []byte("bye")))
	closed := make(chan struct{})
	go func() { _ = eps[0].Close(); close(closed) }()

	p, err := eps[1].Recv(ctx, 0)
	require.NoError(t, err)
	assert.Len(t, p, len(big))
	assert.Equal(t, byte(7), p[len(p)-1])
	p, err = eps[1].Recv(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, "bye", string(p))
	_, err = eps[1].Recv(ctx, 0)
	require.ErrorIs(t, err, ErrClosed)
	<-closed
	require.ErrorIs(t, eps[1].Send(ctx, 0, []byte("x")), ErrClosed)
	_, err = eps[0].Recv(ctx, 2)
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, eps[0].Send(ctx, 2, nil), ErrClosed)
	require.NoError(t, eps[0].Close())
}

func TestSendRefusesPayloadAboveMaxFrame(t *testing.T) {
	cfgs := newTestPKI(t).configs(t)
	cfgs[0].MaxFrame = 100
	eps := dialAll(t, cfgs)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := eps[0].Send(ctx, 1, make([]byte, 101))
	require.ErrorContains(t, err, "exceeds the maximum frame of 100 bytes")
	// The link stays up.
	require.NoError(t, eps[0].Send(ctx, 1, make([]byte, 100)))
	p, err := eps[1].Recv(ctx, 0)
	require.NoError(t, err)
	assert.Len(t, p, 100)
}

func TestPacketDelayAddsLatency(t *testing.T) {
	const delay = 20 * time.Millisecond
	cfgs := newTestPKI(t).configs(t)
	for i := range cfgs {
		cfgs[i].PacketDelay = delay
	}
	eps := dialAll(t, cfgs)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const rounds = 5
	start := time.Now()
	for range rounds {
		require.NoError(t, eps[0].Send(ctx, 1, []byte("ping")))
		_, err := eps[1].Recv(ctx, 0)
		require.NoError(t, err)
		require.NoError(t, eps[1].Send(ctx, 0, []byte("pong")))
		_, err = eps[0].Recv(ctx, 1)
		require.NoError(t, err)
	}
	// Each round trip crosses the wire twice.
	assert.GreaterOrEqual(t, time.Since(start), 2*rounds*delay)
	// The links report the delayed round trip (the engine's RoundTripper): both ways, 2·delay
	// at least, and no link to the endpoint itself.
	var _ interface{ MinRTT(peer int) time.Duration } = eps[0]
	for i, e := range eps {
		for j := range eps {
			if i == j {
				assert.Zero(t, e.MinRTT(j))
				continue
			}
			assert.GreaterOrEqual(t, e.MinRTT(j), 2*delay, "party %d to %d", i, j)
		}
	}
}

// Undelayed loopback links measure round trips far below what the engine counts as a slow
// link (2 ms, secure.SlowLinkRTT).
func TestMinRTTOnLoopback(t *testing.T) {
	eps := dialAll(t, newTestPKI(t).configs(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A few exchanges give every link samples beyond its handshake's, which a loaded machine
	// may have slowed.
	for range 10 {
		for i := range eps {
			for j := range eps {
				if i != j {
					require.NoError(t, eps[i].Send(ctx, j, []byte("ping")))
					_, err := eps[j].Recv(ctx, i)
					require.NoError(t, err)
				}
			}
		}
	}
	for i, e := range eps {
		for j := range eps {
			if i != j {
				rtt := e.MinRTT(j)
				assert.Positive(t, rtt, "party %d to %d", i, j)
				assert.Less(t, rtt, 2*time.Millisecond, "party %d to %d", i, j)
			}
		}
	}
}

func TestConfigValidation(t *testing.T) {
	p := newTestPKI(t)
	other := newTestPKI(t)
	noURI, _ := p.issue(t, 9, nil)
	base := func() Config {
		return Config{ID: 0, Addrs: [NumParties]string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}, Certs: p.certs, Key: p.keys[0], CA: p.pool}
	}
	tests := []struct {
		name   string
		modify func(c *Config)
		want   string
	}{
		{"bad id", func(c *Config) { c.ID = 3 }, "party 3 does not exist"},
		{"no address", func(c *Config) { c.Addrs[2] = "" }, "address of party 2"},
		{"no cert", func(c *Config) { c.Certs[1] = nil }, "no certificate for party 1"},
		{"cert names no party", func(c *Config) { c.Certs[1] = noURI }, "names no party"},
		{"cert of another party", func(c *Config) { c.Certs[1] = p.certs[2] }, "listed for party 1 names party 2"},
		{"no CA", func(c *Config) { c.CA = nil }, "no CA"},
		{"no key", func(c *Config) { c.Key = other.keys[0] }, "not the one listed for party 0"},
		{"negative", func(c *Config) { c.MaxFrame = -1 }, "negative"},
		{"negative buffer", func(c *Config) { c.RecvBuffer = -1 }, "negative"},
		{"buffer below the maximum frame", func(c *Config) { c.MaxFrame, c.RecvBuffer = 2<<20, 1<<20 },
			"receive buffer of 1048576 bytes is below the maximum frame of 2097152 bytes"},
		{"buffer below the default maximum frame", func(c *Config) { c.RecvBuffer = DefaultMaxFrame - 1 }, "below the maximum frame"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.modify(&c)
			_, err := Dial(context.Background(), c)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestCertParty(t *testing.T) {
	for i := range NumParties {
		got, err := CertParty(newTestPKIOnce(t).certs[i])
		require.NoError(t, err)
		assert.Equal(t, i, got)
	}
	assert.Equal(t, "gotfe://party/2", PartyURI(2).String())
}

var (
	pkiOnce   sync.Once
	sharedPKI *testPKI
)

func newTestPKIOnce(t testing.TB) *testPKI {
	pkiOnce.Do(func() { sharedPKI = newTestPKI(t) })
	return sharedPKI
}

func TestCertPartyRejectsBadURIs(t *testing.T) {
	p := newTestPKIOnce(t)
	tests := []struct {
		uris []string
		want string
	}{
		{[]string{"gotfe://party/3"}, "bad party"},
		{[]string{"gotfe://party/x"}, "bad party"},
		{[]string{"gotfe://party"}, "bad party"},
		{[]string{"gotfe://party/0", "gotfe://party/1"}, "names two parties"},
		{[]string{"https://party/0"}, "names no party"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.uris, " "), func(t *testing.T) {
			var us []*url.URL
			for _, s := range tt.uris {
				u, err := url.Parse(s)
				require.NoError(t, err)
				us = append(us, u)
			}
			c, _ := p.issue(t, 50, us)
			_, err := CertParty(c)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

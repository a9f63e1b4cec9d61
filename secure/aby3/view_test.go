package aby3_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// recorder wraps a party's link and keeps a copy of every message it receives.
type recorder struct {
	secure.Network
	mu   sync.Mutex
	recv [][]byte
}

func (r *recorder) Recv(ctx context.Context, peer int) ([]byte, error) {
	b, err := r.Network.Recv(ctx, peer)
	if err == nil {
		r.mu.Lock()
		r.recv = append(r.recv, append([]byte(nil), b...))
		r.mu.Unlock()
	}
	return b, err
}

// view is what one party saw: its share components after each step and the messages it
// received after set-up.
type view struct {
	components [][]uint64
	messages   [][]uint64
}

// observe runs share(x) by party 0, share(y) by party 1, x·y and (x·y)·y and returns each
// party's view.
func observe(t *testing.T, x, y []float64) [3]view {
	t.Helper()
	n := len(x)
	nets := launch.MemNetworks()
	recs := make([]*recorder, 3)
	for i := range nets {
		recs[i] = &recorder{Network: nets[i]}
		nets[i] = recs[i]
	}
	var views [3]view
	var setupMsgs [3]int
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := launch.Run(ctx, nets, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		p, err := aby3.NewParty(ctx, id, net, aby3.Config{})
		if err != nil {
			return err
		}
		recs[id].mu.Lock()
		setupMsgs[id] = len(recs[id].recv)
		recs[id].mu.Unlock()
		keep := func(s *aby3.Shared) {
			a, b := s.Components()
			views[id].components = append(views[id].components, append([]uint64(nil), a...), append([]uint64(nil), b...))
		}
		var in []float64
		if id == 0 {
			in = x
		}
		sx, err := p.Share(0, in, []int{n})
		if err != nil {
			return err
		}
		in = nil
		if id == 1 {
			in = y
		}
		sy, err := p.Share(1, in, []int{n})
		if err != nil {
			return err
		}
		z, err := p.Mul(sx, sy)
		if err != nil {
			return err
		}
		keep(z)
		w, err := p.MulRing(z, sy)
		if err != nil {
			return err
		}
		keep(w)
		tr, err := p.Trunc(w, 16)
		if err != nil {
			return err
		}
		keep(tr)
		return nil
	})
	require.NoError(t, err)
	for id := range views {
		for _, m := range recs[id].recv[setupMsgs[id]:] {
			// The trailer (the sender's position in the program) is public; the payload is
			// what must look uniform.
			m = m[:len(m)-aby3.MessageOverhead]
			v, err := secure.BytesToUint64s(m, len(m)/8)
			require.NoError(t, err)
			views[id].messages = append(views[id].messages, v)
		}
	}
	return views
}

// width returns 64, or 48 when every value is the sign extension of a 48-bit value: the
// components a truncation by 16 bits computes locally (x_2 >> 16) are uniform on
// [-2^47, 2^47) rather than on the whole ring; they are functions of messages the party
// received, so they add nothing to its view.
func width(v []uint64) int {
	for _, x := range v {
		if int64(x<<16)>>16 != int64(x) {
			return 64
		}
	}
	return 48
}

// uniformity returns the largest deviation, in standard deviations, of the frequency of any
// of the w low bit positions from 1/2, and the chi-square statistic of the top byte of those
// w bits over 256 bins.
func uniformity(v []uint64, w int) (maxZ, chi2 float64) {
	var ones [64]int
	var bins [256]int
	for _, x := range v {
		for b := 0; b < w; b++ {
			ones[b] += int(x >> b & 1)
		}
		bins[(x>>(w-8))&0xff]++
	}
	n := float64(len(v))
	sd := math.Sqrt(n / 4)
	for _, c := range ones[:w] {
		maxZ = math.Max(maxZ, math.Abs(float64(c)-n/2)/sd)
	}
	e := n / 256
	for _, c := range bins {
		chi2 += (float64(c) - e) * (float64(c) - e) / e
	}
	return maxZ, chi2
}

// Each party's view (its share components and the messages it receives) is uniformly
// distributed and has the same statistics for very different secrets: all zeros, and large
// values of both signs.
func TestViewIsUniform(t *testing.T) {
	const n = 1 << 14
	secrets := map[string][2][]float64{
		"zeros": {make([]float64, n), make([]float64, n)},
		"large": {fill(n, 3000.5), fill(n, -2047.25)},
	}
	// For 64 bit positions and 255 degrees of freedom, these bounds are exceeded by uniform
	// data with probability far below 1e-6.
	const maxZBound, chi2Bound = 6.0, 400.0
	// The statistics do catch data that is not uniform.
	_, c := uniformity([]uint64{1, 2, 3, 1 << 63, 5, 6, 7, 8}, 64)
	require.Greater(t, c, chi2Bound)
	stats := map[string][3][]float64{}
	sizes := map[string][3][]int{}
	for name, s := range secrets {
		views := observe(t, s[0], s[1])
		var perParty [3][]float64
		var perSize [3][]int
		for id, v := range views {
			require.NotEmpty(t, v.messages, "party %d received nothing", id)
			for k, part := range append(v.components, v.messages...) {
				if isZero(part) {
					continue // the zero component of a fresh input sharing; checked below
				}
				w := width(part)
				z, c := uniformity(part, w)
				assert.Less(t, z, maxZBound, "%s: party %d part %d bit bias", name, id, k)
				assert.Less(t, c, chi2Bound, "%s: party %d part %d top byte", name, id, k)
				perParty[id] = append(perParty[id], mean(part, w))
				perSize[id] = append(perSize[id], len(part))
			}
		}
		stats[name] = perParty
		sizes[name] = perSize
	}
	// The same secret-independent statistics (mean of the values as a fraction of 2^64) for both
	// secrets, part by part.
	for id := 0; id < 3; id++ {
		a, b := stats["zeros"][id], stats["large"][id]
		require.Equal(t, len(a), len(b), "party %d sees as many parts for both secrets", id)
		for k := range a {
			m := float64(sizes["zeros"][id][k]) // messages of narrow lanes hold fewer words
			assert.InDelta(t, a[k], b[k], 6*math.Sqrt(1.0/12/m)*math.Sqrt2, "party %d part %d", id, k)
		}
	}
}

// A fresh input sharing gives the two non-owners one all-zero component each; it is the same
// for every secret, so it reveals nothing, and the first multiplication re-randomises it.
func TestFreshShareZeroComponent(t *testing.T) {
	views := observe(t, fill(64, 1.5), fill(64, 2))
	for id, v := range views {
		for k, part := range v.components {
			assert.False(t, isZero(part), "party %d component %d after a product", id, k)
		}
	}
}

func fill(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func isZero(v []uint64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// mean returns the average of the low w bits of v as fractions of 2^w (uniform: 1/2,
// variance 1/12).
func mean(v []uint64, w int) float64 {
	var s float64
	mask := uint64(1)<<w - 1
	if w == 64 {
		mask = ^uint64(0)
	}
	for _, x := range v {
		s += math.Ldexp(float64(x&mask), -w)
	}
	return s / float64(len(v))
}

func TestHandshakeMismatch(t *testing.T) {
	cases := []struct {
		name string
		cfg  func(id secure.PartyID) aby3.Config
		want string
	}{
		{"precision", func(id secure.PartyID) aby3.Config {
			if id == 2 {
				return aby3.Config{Params: secure.Params{FracBits: 20}}
			}
			return aby3.Config{}
		}, "fractional bits"},
		{"session", func(id secure.PartyID) aby3.Config {
			return aby3.Config{Session: fmt.Sprintf("s%d", id%2)}
		}, "session"},
		{"three-round comparisons", func(id secure.PartyID) aby3.Config {
			if id == 1 {
				return aby3.Config{Params: secure.Params{FastCompareMax: 1000}}
			}
			return aby3.Config{}
		}, "FastCompareMax"},
		{"no three-round comparisons", func(id secure.PartyID) aby3.Config {
			if id == 0 {
				return aby3.Config{Params: secure.Params{FastCompareMax: -1}}
			}
			return aby3.Config{}
		}, "FastCompareMax"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := launch.Local(ctx, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
				_, err := aby3.NewParty(ctx, id, net, c.cfg(id))
				return err
			})
			assert.ErrorContains(t, err, c.want)
		})
	}
	// A party that leaves the choice to the set-up (0) and one that fixes the value disagree,
	// even where the choice would give that value.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assert.ErrorContains(t, launch.Local(ctx, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		cfg := aby3.Config{}
		if id == 2 {
			cfg.Params.FastCompareMax = secure.DefaultFastCompareMax
		}
		_, err := aby3.NewParty(ctx, id, net, cfg)
		return err
	}), "FastCompareMax")
}

// delayNetwork delays each message its party sends by the party's one-way delay, and
// reports the round trip of a link as QUIC would measure it: the two ends' delays added.
type delayNetwork struct {
	secure.Network
	id       secure.PartyID
	delays   [3]time.Duration
	reported time.Duration // if set, the round trip reported instead (a handshake's, under load)
}

func (n delayNetwork) Send(ctx context.Context, peer int, payload []byte) error {
	time.Sleep(n.delays[n.id])
	return n.Network.Send(ctx, peer, payload)
}

func (n delayNetwork) MinRTT(peer int) time.Duration {
	if n.reported > 0 {
		return n.reported
	}
	return n.delays[n.id] + n.delays[peer]
}

// With FastCompareMax 0 the parties choose the value at set-up from the largest round trip
// any of them measured on its link to the next party, all the same one: the default over
// links that measure none (in memory), secure.AutoFastCompareMax of the slowest link
// otherwise, whichever party saw it. A ping-pong takes at least the two delays, so the
// link's own figure (their sum) is what counts here.
func TestFastCompareMaxChosenAtSetUp(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name     string
		delays   [3]time.Duration // one way, per party
		plain    [3]bool          // a party whose network measures no round trip
		reported time.Duration    // what the links report instead of the delays, if set
		want     int
	}{
		{"in memory", [3]time.Duration{}, [3]bool{true, true, true}, 0, secure.DefaultFastCompareMax},
		{"loopback", [3]time.Duration{30 * time.Microsecond, 20 * time.Microsecond, 40 * time.Microsecond}, [3]bool{}, 0, secure.DefaultFastCompareMax},
		// Party 0 measures nothing; party 1 measures its link to party 2.
		{"one slow party", [3]time.Duration{0, 20 * ms, 50 * time.Microsecond}, [3]bool{true, false, false}, 0, secure.AutoFastCompareMax(20*ms + 50*time.Microsecond)},
		{"wide area", [3]time.Duration{19 * ms, 21 * ms, 20 * ms}, [3]bool{}, 0, secure.AutoFastCompareMax(41 * ms)},
		// Links whose only samples are a slow handshake's: the ping-pongs show them fast.
		{"loopback after a slow handshake", [3]time.Duration{}, [3]bool{}, 3800 * time.Microsecond, secure.DefaultFastCompareMax},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var got [3]int
			nets := launch.MemNetworks()
			for i := range nets {
				if !c.plain[i] {
					nets[i] = delayNetwork{Network: nets[i], id: secure.PartyID(i), delays: c.delays, reported: c.reported}
				}
			}
			require.NoError(t, launch.Run(ctx, nets, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
				p, err := aby3.NewParty(ctx, id, net, aby3.Config{})
				if err == nil {
					got[id] = p.Params().FastCompareMax
				}
				return err
			}))
			assert.Equal(t, [3]int{c.want, c.want, c.want}, got)
		})
	}
}

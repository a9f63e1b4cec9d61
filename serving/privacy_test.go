package serving

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// recordingLinks keeps a copy of every message a party receives from its peers.
type recordingLinks struct {
	Links
	mu   sync.Mutex
	msgs [][]byte
}

func (r *recordingLinks) Recv(ctx context.Context, peer int) ([]byte, error) {
	b, err := r.Links.Recv(ctx, peer)
	if err == nil {
		r.mu.Lock()
		r.msgs = append(r.msgs, slices.Clone(b))
		r.mu.Unlock()
	}
	return b, err
}

// view is everything one party received: from its peers and from the client.
type view struct {
	mu     sync.Mutex
	links  *recordingLinks
	client [][2][]uint64 // per request, the components the client sent (seeds expanded)
	seeds  [][][]byte    // per request, the seeds the client sent
}

// words returns the set of 8-byte words (at every multiple of 8) of everything received.
func (v *view) words() map[uint64]bool {
	set := map[uint64]bool{}
	v.links.mu.Lock()
	defer v.links.mu.Unlock()
	for _, m := range v.links.msgs {
		for i := 0; i+8 <= len(m); i += 8 {
			set[binary.LittleEndian.Uint64(m[i:])] = true
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, pair := range v.client {
		for _, c := range pair {
			for _, w := range c {
				set[w] = true
			}
		}
	}
	return set
}

// linksContain reports whether b occurs in a message from a peer.
func (v *view) linksContain(b []byte) bool {
	v.links.mu.Lock()
	defer v.links.mu.Unlock()
	for _, m := range v.links.msgs {
		if bytes.Contains(m, b) {
			return true
		}
	}
	return false
}

// What each party receives, from the client and from its peers, is checked against what
// would let it reconstruct an input or an output:
//
//   - party i receives from the client exactly its pair (x_i, x_{i+1}), x_0 and x_1 as their
//     seeds, and the component it lacks, x_{i+2}, never reaches it, from the client or from a
//     peer, as values or as its seed: it cannot add up x;
//   - no party receives another party's output share, nor the value the client reconstructs
//     (the shifted logits, uniform ring elements): the outputs reach the client only, and
//     nothing revealed to the client comes back to a party;
//   - the words a party receives from the client are uniform and independent of the input:
//     for an input of zeros and one of pixels, every bit of them is 1 with frequency 1/2
//     within 5 standard deviations (over 16 requests of 784 pixels: 25,088 words, σ = 0.0032),
//     and the two frequencies agree within 5·√2 σ.
func TestPartiesViews(t *testing.T) {
	m := newModel(t, "a")
	var views [secure.NumParties]*view
	for i := range views {
		views[i] = &view{}
	}
	l := startLocal(t, m, LocalOptions{Tune: func(c *Config) {
		v := views[c.Party]
		c.wrapLinks = func(l Links) Links {
			v.links = &recordingLinks{Links: l}
			return v.links
		}
		c.onRequest = func(_ []byte, xa, xb []uint64, seeds [][]byte) {
			v.mu.Lock()
			v.client = append(v.client, [2][]uint64{slices.Clone(xa), slices.Clone(xb)})
			v.seeds = append(v.seeds, seeds)
			v.mu.Unlock()
		}
	}})
	type sent struct {
		comps   [secure.NumParties][]uint64 // x_0, x_1, x_2
		seeds   [2][]byte                   // the seeds of x_0 and x_1
		outputs [secure.NumParties][]uint64
		opened  []uint64
	}
	var log []sent
	var cur sent
	cfg, err := l.ClientConfig("alice")
	require.NoError(t, err)
	cfg.onShares = func(split aby3.SeededSplit, n int) {
		for j := range cur.comps {
			cur.comps[j] = split.Component(j, n)
		}
		for j := range cur.seeds {
			cur.seeds[j] = slices.Clone(split.Seeds[j][:])
		}
	}
	cfg.onOutputs = func(o [secure.NumParties][]uint64) {
		cur.outputs = o
		cur.opened = make([]uint64, len(o[0]))
		for j := range cur.opened {
			cur.opened[j] = o[0][j] + o[1][j] + o[2][j]
		}
	}
	c, err := NewClient(cfg)
	require.NoError(t, err)
	defer c.Close()

	const perInput = 16
	zeros := make([]float64, 784)
	pixels := images(m, 1, 42)
	for k := range 2 * perInput {
		x := zeros
		if k%2 == 1 {
			x = pixels
		}
		_, err := c.Predict(predictCtx(t, 30*time.Second), x)
		require.NoError(t, err)
		log = append(log, cur)
	}

	for i, v := range views {
		// The client's messages: one pair per request, the right one, x_0 and x_1 as their
		// seeds and x_2 in full.
		require.Len(t, v.client, len(log), "party %d", i)
		for k, s := range log {
			for h := range 2 {
				j := (i + h) % 3
				require.Equal(t, s.comps[j], v.client[k][h], "party %d, request %d", i, k)
				if j < 2 {
					require.Equal(t, s.seeds[j], v.seeds[k][h], "party %d, request %d", i, k)
				} else {
					require.Empty(t, v.seeds[k][h], "party %d, request %d", i, k)
				}
			}
		}
		set := v.words()
		for k, s := range log {
			missing := s.comps[(i+2)%3] // x_{i+2}, which party i must never see
			for e, w := range missing {
				require.False(t, set[w], "party %d received the component it lacks of request %d, element %d", i, k, e)
			}
			// Nor the seed it expands from.
			if j := (i + 2) % 3; j < 2 {
				for _, got := range v.seeds[k] {
					require.NotEqual(t, s.seeds[j], got, "party %d received the seed of x_%d of request %d", i, j, k)
				}
				require.False(t, v.linksContain(s.seeds[j]), "party %d received the seed of x_%d of request %d from a peer", i, j, k)
			}
			for j := range secure.NumParties {
				if j == i {
					continue
				}
				for e, w := range s.outputs[j] {
					require.False(t, set[w], "party %d received party %d's output share of request %d, element %d", i, j, k, e)
				}
			}
			for e, w := range s.opened {
				require.False(t, set[w], "party %d received the output of request %d, element %d", i, k, e)
			}
		}
		// Uniform and independent of the input.
		var freq [2][64]float64
		var count [2]float64
		for k := range log {
			for _, c := range v.client[k] {
				for _, w := range c {
					for b := range 64 {
						freq[k%2][b] += float64(w >> b & 1)
					}
					count[k%2]++
				}
			}
		}
		sigma := 0.5 / math.Sqrt(count[0])
		for b := range 64 {
			f0, f1 := freq[0][b]/count[0], freq[1][b]/count[1]
			require.InDelta(t, 0.5, f0, 5*sigma, "party %d, bit %d, zeros", i, b)
			require.InDelta(t, 0.5, f1, 5*sigma, "party %d, bit %d, pixels", i, b)
			require.InDelta(t, f0, f1, 5*math.Sqrt2*sigma, "party %d, bit %d", i, b)
		}
	}
	// The revealed values are the shifted logits: uniform ring elements, not small numbers
	// (the shift hides the logits' level).
	small := 0
	for _, s := range log {
		for _, w := range s.opened {
			if bits.Len64(w) < 40 || bits.Len64(-w) < 40 {
				small++
			}
		}
	}
	require.Less(t, small, 3)
}

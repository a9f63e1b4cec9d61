package aby3_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/ring"
)

// fewParams make every comparison take the three-round form.
var fewParams = secure.Params{FastCompareMax: 1 << 30}

// signValues returns n ring values: the extremes of the signed range, values around 0 and
// around ±2^62, and uniform ones.
func signValues(r *rand.Rand, n int) []uint64 {
	edges := []uint64{0, 1, ^uint64(0), 1 << 63, 1<<63 - 1, 1 << 62, ^uint64(1<<62 - 1), 1<<62 - 1, 2, ^uint64(1)}
	x := make([]uint64, n)
	for i := range x {
		switch {
		case i < len(edges):
			x[i] = edges[i]
		case i%3 == 0:
			x[i] = uint64(int64(r.IntN(1<<20) - 1<<19)) // small, both signs
		default:
			x[i] = r.Uint64()
		}
	}
	return x
}

// fewWords is the number of words that carry n bytes.
func fewWords(n int) int { return (n + 7) / 8 }

// The three-round sign bit is the sign of every value, in three rounds, and sends what the
// protocol says: party 0 sends 63 bytes per value to party 2 and then one bit per value;
// parties 1 and 2 send party 0 64 bytes per value each.
func TestFewRoundMSB(t *testing.T) {
	r := rand.New(rand.NewPCG(91, 92))
	for _, n := range []int{1, 7, 64, 65, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			x := signValues(r, n)
			var got []uint64
			var cost [3]aby3.Stats
			require.NoError(t, try3With(93, fewParams, func(p *aby3.Party) error {
				sx, err := shareRandom(p, x, []int{n})
				if err != nil {
					return err
				}
				s := p.Stats()
				b, err := p.MSB(sx)
				cost[p.ID()] = p.Stats().Sub(s)
				return revealBits(p, &got, b, err)
			}))
			for i, v := range x {
				require.Equal(t, b2u(int64(v) < 0), got[i], "value %d (%#x)", int64(v), v)
			}
			nw := (n + 63) / 64
			want := [3]int{
				2*msgOverhead + 8*(fewWords(63*n)+nw),
				msgOverhead + 8*fewWords(64*n),
				msgOverhead + 8*fewWords(64*n),
			}
			for id := range 3 {
				assert.Equal(t, int64(3), cost[id].Rounds, "party %d", id)
				assert.Equal(t, int64(want[id]), cost[id].BytesSent, "party %d", id)
			}
		})
	}
}

// On values known to lie in a narrow range the three-round form compares w-bit residues: w-1
// bytes per value from party 0 and w from each of the others.
func TestFewRoundMSBWithin(t *testing.T) {
	r := rand.New(rand.NewPCG(94, 95))
	for _, c := range []struct {
		lo, hi int64
		w      int
	}{
		{-128, 127, 8},
		{-5, 100, 8},
		{-128, 128, 16},
		{-1 << 15, 1<<15 - 1, 16},
		{-1 << 31, 1<<31 - 1, 32},
		{-1 << 31, 1 << 31, 64},
	} {
		n := 300
		t.Run(fmt.Sprintf("[%d,%d]", c.lo, c.hi), func(t *testing.T) {
			x := make([]uint64, n)
			for i := range x {
				switch i % 5 {
				case 0:
					x[i] = uint64(c.lo)
				case 1:
					x[i] = uint64(c.hi)
				case 2:
					x[i] = uint64(min(max(-1, c.lo), c.hi))
				case 3:
					x[i] = uint64(min(max(0, c.lo), c.hi))
				default:
					x[i] = uint64(c.lo + int64(r.Uint64N(uint64(c.hi-c.lo)+1)))
				}
			}
			var got []uint64
			var cost [3]aby3.Stats
			require.NoError(t, try3With(96, fewParams, func(p *aby3.Party) error {
				sx, err := shareRandom(p, x, []int{n})
				if err != nil {
					return err
				}
				s := p.Stats()
				b, err := p.MSBWithin(sx, c.lo, c.hi)
				cost[p.ID()] = p.Stats().Sub(s)
				return revealBits(p, &got, b, err)
			}))
			for i, v := range x {
				require.Equal(t, b2u(int64(v) < 0), got[i], "value %d", int64(v))
			}
			nw := (n + 63) / 64
			assert.Equal(t, int64(3), cost[0].Rounds)
			assert.Equal(t, int64(2*msgOverhead+8*(fewWords((c.w-1)*n)+nw)), cost[0].BytesSent)
			assert.Equal(t, int64(msgOverhead+8*fewWords(c.w*n)), cost[1].BytesSent)
		})
	}
}

// The comparisons built on sign bits give the same bits with either form, and the three-round
// form saves four rounds per sign-bit extraction.
func TestFewRoundComparisonsMatchAdder(t *testing.T) {
	r := rand.New(rand.NewPCG(97, 98))
	const rows, k = 40, 10
	xs := randValues(r, rows*k, -12, 12)
	ys := randValues(r, rows*k, -12, 12)
	g, err := ring.NewConvGeom(2, 10, 10, 2, 2, 2, 2, 2, false)
	require.NoError(t, err)
	type result struct {
		relu, mask, lt, max, arg, pool []uint64
		rounds                         [4]int64
	}
	runMode := func(params secure.Params) result {
		var res result
		require.NoError(t, try3With(99, params, func(p *aby3.Party) error {
			sx, err := p.Share(0, xs, []int{rows, k})
			if err != nil {
				return err
			}
			sy, err := p.Share(1, ys, []int{rows, k})
			if err != nil {
				return err
			}
			s := p.Stats()
			y, m, err := p.ReLU(sx)
			if p.ID() == 0 {
				res.rounds[0] = p.Stats().Sub(s).Rounds
			}
			if err := revealRing(p, &res.relu, y, err); err != nil {
				return err
			}
			if err := revealBits(p, &res.mask, m, nil); err != nil {
				return err
			}
			s = p.Stats()
			lt, err := p.LessThan(sx, sy)
			if p.ID() == 0 {
				res.rounds[1] = p.Stats().Sub(s).Rounds
			}
			if err := revealBits(p, &res.lt, lt, err); err != nil {
				return err
			}
			s = p.Stats()
			mx, err := p.Max(sx, 1)
			if p.ID() == 0 {
				res.rounds[2] = p.Stats().Sub(s).Rounds
			}
			if err := revealRing(p, &res.max, mx, err); err != nil {
				return err
			}
			am, err := p.ArgMax(sx, 1)
			if err := revealRing(p, &res.arg, am, err); err != nil {
				return err
			}
			img, err := p.Reshape(sx, g.N, g.H, g.W, g.C)
			if err != nil {
				return err
			}
			s = p.Stats()
			pooled, _, err := p.MaxPool2D(img, g)
			if p.ID() == 0 {
				res.rounds[3] = p.Stats().Sub(s).Rounds
			}
			return revealRing(p, &res.pool, pooled, err)
		}))
		return res
	}
	adder, few := runMode(adderParams), runMode(fewParams)
	assert.Equal(t, adder.relu, few.relu, "relu")
	assert.Equal(t, adder.mask, few.mask, "relu mask")
	assert.Equal(t, adder.lt, few.lt, "less than")
	assert.Equal(t, adder.max, few.max, "max")
	assert.Equal(t, adder.arg, few.arg, "argmax")
	assert.Equal(t, adder.pool, few.pool, "max-pooling")
	// ReLU: a sign-bit extraction and a bit product; LessThan: a sign-bit extraction; the
	// maximum of rows of 10 (1,800 pairs): all pairs compared at once, then 4 levels of ANDs
	// and the selection; max-pooling 2x2: 2 levels of a comparison, the injection of its bit
	// (two rounds) and a ring product.
	assert.Equal(t, [4]int64{7 + 1, 7, 7 + 1 + 4, 2 * (7 + 3)}, adder.rounds)
	assert.Equal(t, [4]int64{3 + 1, 3, 3 + 1 + 4, 2 * (3 + 3)}, few.rounds)
	for i, v := range xs {
		q := quantize(v)
		require.Equal(t, b2u(q > 0), few.mask[i], "mask of %v", q)
	}
}

// Softmax and the approximations that compare against thresholds stay within their bounds
// with the three-round comparisons, in fewer rounds.
func TestFewRoundSoftmax(t *testing.T) {
	r := rand.New(rand.NewPCG(100, 101))
	const rows, k = 128, 10
	x := randValues(r, rows*k, -6, 4)
	var got []float64
	var rounds [2]int64
	for i, params := range []secure.Params{adderParams, fewParams} {
		require.NoError(t, try3With(102, params, func(p *aby3.Party) error {
			sx, err := p.Share(0, x, []int{rows, k})
			if err != nil {
				return err
			}
			s := p.Stats()
			y, err := p.Softmax(sx)
			if err != nil {
				return err
			}
			if p.ID() == 0 {
				rounds[i] = p.Stats().Sub(s).Rounds
			}
			v, err := p.Reveal(y, 1)
			if p.ID() == 1 {
				got = v
			}
			return err
		}))
		for row := range rows {
			mx, sum := math.Inf(-1), 0.0
			for j := range k {
				mx = math.Max(mx, quantize(x[row*k+j]))
			}
			for j := range k {
				sum += math.Exp(quantize(x[row*k+j]) - mx)
			}
			for j := range k {
				want := math.Exp(quantize(x[row*k+j])-mx) / sum
				// Softmax's documented bound at f = 16.
				require.InDelta(t, want, got[row*k+j], 2e-3, "row %d col %d", row, j)
			}
		}
	}
	t.Logf("softmax of %dx%d: %d rounds on the adder, %d in three-round comparisons", rows, k, rounds[0], rounds[1])
	// Four batches of comparisons (the maximum's pairs, the exponential's thresholds, the
	// sums' knots on 32-bit lanes, ...) each take 3 rounds instead of 6 or 7: at least 10
	// rounds fewer (43 and 28 measured).
	assert.LessOrEqual(t, rounds[1], rounds[0]-10)
}

// chi2 returns the chi-square statistic of counts against a uniform expectation.
func chi2(counts []int) float64 {
	total := 0
	for _, c := range counts {
		total += c
	}
	e := float64(total) / float64(len(counts))
	s := 0.0
	for _, c := range counts {
		s += (float64(c) - e) * (float64(c) - e) / e
	}
	return s
}

// What the three-round sign bit shows each party is the same for every secret: party 2
// receives uniform values modulo 67 and uniform bits; party 0 receives two vectors of uniform
// values modulo 67 whose sum has, per value, either no zero or exactly one, the zero in half
// of the values whatever their signs, at a uniform position, and uniform non-zero values
// elsewhere. Party 1 receives nothing.
func TestFewRoundMSBViews(t *testing.T) {
	const n = 4096
	r := rand.New(rand.NewPCG(103, 104))
	secrets := map[string][]uint64{
		"zeros": make([]uint64, n),
		"minus one": func() []uint64 {
			v := make([]uint64, n)
			for i := range v {
				v[i] = ^uint64(0)
			}
			return v
		}(),
		"random": signValues(r, n),
	}
	// Chi-square thresholds: exceeded by uniform data with probability below 1e-6 (66 degrees
	// of freedom: 140; 63: 135).
	const chi66, chi63 = 140, 135
	for name, x := range secrets {
		t.Run(name, func(t *testing.T) {
			nets := launch.MemNetworks()
			recs := make([]*recorder, 3)
			for i := range nets {
				recs[i] = &recorder{Network: nets[i]}
				nets[i] = recs[i]
			}
			var before [3]int
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			require.NoError(t, launch.Run(ctx, nets, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
				p, err := aby3.NewParty(ctx, id, net, aby3.Config{Params: fewParams})
				if err != nil {
					return err
				}
				sx, err := shareRandom(p, x, []int{n})
				if err != nil {
					return err
				}
				recs[id].mu.Lock()
				before[id] = len(recs[id].recv)
				recs[id].mu.Unlock()
				_, err = p.MSB(sx)
				return err
			}))
			bytesOf := func(m []byte) []byte { return m[:len(m)-msgOverhead] }
			require.Len(t, recs[1].recv[before[1]:], 0, "party 1 receives nothing")
			got2 := recs[2].recv[before[2]:]
			require.Len(t, got2, 2)
			shares := bytesOf(got2[0])[:63*n]
			var bins [67]int
			for _, b := range shares {
				require.Less(t, b, byte(67))
				bins[b]++
			}
			assert.Less(t, chi2(bins[:]), float64(chi66), "party 2's shares")
			ones := 0
			for _, w := range payload(got2[1]) {
				ones += popcount(w)
			}
			assert.InDelta(t, n/2, ones, 6*math.Sqrt(n/4), "party 2's bits")

			got0 := recs[0].recv[before[0]:]
			require.Len(t, got0, 2)
			m1, m2 := bytesOf(got0[0])[:64*n], bytesOf(got0[1])[:64*n]
			var b1, b2, nonzero [67]int
			var pos [64]int
			withZero := 0
			for i := range n {
				zeros := 0
				for j := range 64 {
					a, b := m1[64*i+j], m2[64*i+j]
					b1[a]++
					b2[b]++
					d := (int(a) + int(b)) % 67
					if d == 0 {
						zeros++
						pos[j]++
					} else {
						nonzero[d]++
					}
				}
				require.LessOrEqual(t, zeros, 1, "value %d", i)
				withZero += zeros
			}
			assert.Less(t, chi2(b1[:]), float64(chi66), "first message")
			assert.Less(t, chi2(b2[:]), float64(chi66), "second message")
			assert.Less(t, chi2(nonzero[1:]), float64(chi66), "non-zero sums")
			assert.Less(t, chi2(pos[:]), float64(chi63), "positions of the zeros")
			assert.InDelta(t, n/2, withZero, 6*math.Sqrt(n/4), "values with a zero")
		})
	}
}

func popcount(w uint64) int {
	c := 0
	for ; w != 0; w &= w - 1 {
		c++
	}
	return c
}

// BenchmarkMSB times sign-bit extractions of 128 and 16,384 values over the in-memory links,
// on the adder and in three rounds.
func BenchmarkMSB(b *testing.B) {
	for _, n := range []int{128, 16384} {
		benchmarkMSB(b, n)
	}
}

func benchmarkMSB(b *testing.B, n int) {
	x := signValues(rand.New(rand.NewPCG(1, 2)), n)
	for _, c := range []struct {
		name   string
		params secure.Params
	}{{"adder", adderParams}, {"three-round", fewParams}} {
		b.Run(fmt.Sprintf("%s/%d", c.name, n), func(b *testing.B) {
			require.NoError(b, try3With(5, c.params, func(p *aby3.Party) error {
				sx, err := shareRandom(p, x, []int{n})
				if err != nil {
					return err
				}
				if p.ID() == 0 {
					b.ResetTimer()
				}
				for range b.N {
					if _, err := p.MSB(sx); err != nil {
						return err
					}
				}
				return nil
			}))
		})
	}
}

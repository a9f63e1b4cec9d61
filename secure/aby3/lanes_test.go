package aby3_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure/aby3"
)

// MSBWithin gives the sign of every value of its range, with 1 + log2(w) rounds and 10·w/64
// words per value for the narrowest lane width w that holds the range.
func TestMSBWithin(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	for _, c := range []struct {
		lo, hi int64
		rounds int64
		words  float64 // per value, all parties (large n)
	}{
		{-128, 127, 4, 1.25},
		{-5, 100, 4, 1.25},
		{-128, 128, 5, 2.5},
		{-1 << 15, 1<<15 - 1, 5, 2.5},
		{0, 1 << 16, 6, 5},
		{-1 << 31, 1<<31 - 1, 6, 5},
		{-1 << 31, 1 << 31, 7, 10},
		{-1 << 62, 1 << 62, 7, 10},
	} {
		for _, n := range []int{1, 7, 4099} {
			t.Run(fmt.Sprintf("[%d,%d]/%d", c.lo, c.hi, n), func(t *testing.T) {
				x := make([]uint64, n)
				for i := range x {
					switch i % 5 {
					case 0:
						x[i] = uint64(c.lo)
					case 1:
						x[i] = uint64(c.hi)
					case 2:
						x[i] = uint64(min(max(-1, c.lo), c.hi))
					default:
						x[i] = uint64(c.lo + int64(r.Uint64N(uint64(c.hi-c.lo)+1)))
					}
				}
				var got []uint64
				var cost [3]aby3.Stats
				run3(t, 73, func(p *aby3.Party) error {
					sx, err := shareRandom(p, x, []int{n})
					if err != nil {
						return err
					}
					s := p.Stats()
					b, err := p.MSBWithin(sx, c.lo, c.hi)
					cost[p.ID()] = p.Stats().Sub(s)
					return revealBits(p, &got, b, err)
				})
				for i, v := range x {
					require.Equal(t, b2u(int64(v) < 0), got[i], "value %d", int64(v))
				}
				var bytes int64
				for id := range 3 {
					assert.Equal(t, c.rounds, cost[id].Rounds)
					bytes += cost[id].BytesSent
				}
				if n > 4000 {
					assert.InDelta(t, c.words, float64(bytes)/8/float64(n), 0.1*c.words)
				}
			})
		}
	}
	run3(t, 74, func(p *aby3.Party) error {
		x, err := p.PublicRing([]uint64{1}, []int{1})
		if err != nil {
			return err
		}
		_, err = p.MSBWithin(x, 2, 1)
		assert.ErrorContains(t, err, "empty range")
		return nil
	})
}

// ClipWithin equals Clip on inputs in its range, with comparisons on 32-bit lanes.
func TestClipWithin(t *testing.T) {
	r := rand.New(rand.NewPCG(75, 76))
	for _, n := range []int{5, 3000} {
		x := make([]float64, n)
		for i := range x {
			x[i] = 3*r.Float64() - 1 // [-1, 2)
		}
		x[0], x[1] = -1, 2
		var a, b []uint64
		var ra, rb int64
		run3(t, 77, func(p *aby3.Party) error {
			sx, err := p.Share(0, x, []int{n})
			if err != nil {
				return err
			}
			s := p.Stats()
			y, err := p.Clip(sx, 1e-7, 1-1e-7)
			if p.ID() == 0 {
				ra = p.Stats().Sub(s).Rounds
			}
			if err := revealRing(p, &a, y, err); err != nil {
				return err
			}
			s = p.Stats()
			y, err = p.ClipWithin(sx, 1e-7, 1-1e-7, -1, 2)
			if p.ID() == 0 {
				rb = p.Stats().Sub(s).Rounds
			}
			return revealRing(p, &b, y, err)
		})
		assert.Equal(t, a, b)
		assert.Equal(t, ra-1, rb, "n=%d", n)
	}
	run3(t, 78, func(p *aby3.Party) error {
		x, err := p.Public([]float64{0}, []int{1})
		if err != nil {
			return err
		}
		_, err = p.ClipWithin(x, 0, 1, 2, 1)
		assert.ErrorContains(t, err, "input range")
		return nil
	})
}

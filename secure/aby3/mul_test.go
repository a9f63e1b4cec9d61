package aby3_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/fixed"
)

const ulp = 0x1p-16 // one unit in the last place at f = 16

var enc16 = fixed.Encoding{FracBits: 16}

// quantize returns the value x's encoding stands for.
func quantize(x float64) float64 {
	v, err := enc16.Encode(x)
	if err != nil {
		panic(err)
	}
	return enc16.Decode(v)
}

// The truncating product is within one ulp of the exact product of the encoded inputs, and so
// within ulp + (|x|+|y|)·2^-17 + 2^-34 of the float64 product. Magnitude ranges keep the
// product below 2^10, where a truncation fails with probability below 2^-21 per element.
func TestMul(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ranges := []struct{ xlo, xhi, ylo, yhi float64 }{
		{-10, 12, -10, -2},
		{-10, 5, -10, 5},
		{-10, -2, -10, 12},
	}
	for _, rg := range ranges {
		for _, shape := range oddShapes {
			t.Run(fmt.Sprintf("x2^[%v,%v]y2^[%v,%v]/%v", rg.xlo, rg.xhi, rg.ylo, rg.yhi, shape), func(t *testing.T) {
				n := numel(shape)
				x, y := randValues(r, n, rg.xlo, rg.xhi), randValues(r, n, rg.ylo, rg.yhi)
				var got []float64
				run3(t, 13, func(p *aby3.Party) error {
					sx, err := p.Share(0, x, shape)
					if err != nil {
						return err
					}
					sy, err := p.Share(2, y, shape)
					if err != nil {
						return err
					}
					z, err := p.Mul(sx, sy)
					if err != nil {
						return err
					}
					v, err := p.Reveal(z, -1)
					if p.ID() == 1 {
						got = v
					}
					return err
				})
				for i := range x {
					exact := quantize(x[i]) * quantize(y[i])
					require.InDelta(t, exact, got[i], ulp, "element %d: %v·%v", i, x[i], y[i])
					bound := ulp + (math.Abs(x[i])+math.Abs(y[i]))*encErr + encErr*encErr
					require.InDelta(t, x[i]*y[i], got[i], bound, "element %d", i)
				}
			})
		}
	}
}

func TestMulPublicAndTrunc(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, shape := range oddShapes {
		x := randValues(r, numel(shape), -10, 12)
		for _, c := range []float64{0.0009765625, -0.3, 1, 7.25} {
			t.Run(fmt.Sprintf("%v/%v", shape, c), func(t *testing.T) {
				var got []float64
				run3(t, 17, func(p *aby3.Party) error {
					sx, err := p.Share(1, x, shape)
					if err != nil {
						return err
					}
					z, err := p.MulPublic(sx, c)
					if err != nil {
						return err
					}
					v, err := p.Reveal(z, 0)
					if p.ID() == 0 {
						got = v
					}
					return err
				})
				for i := range x {
					exact := quantize(x[i]) * quantize(c)
					require.InDelta(t, exact, got[i], ulp, "element %d", i)
				}
			})
		}
	}
}

func TestMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	dims := [][3]int{{1, 1, 1}, {3, 5, 7}, {127, 129, 131}, {128, 784, 10}, {1, 64, 3}}
	for _, d := range dims {
		m, k, n := d[0], d[1], d[2]
		t.Run(fmt.Sprintf("%dx%dx%d", m, k, n), func(t *testing.T) {
			x, y := randValues(r, m*k, -10, 1), randValues(r, k*n, -10, 1)
			var got []float64
			run3(t, 19, func(p *aby3.Party) error {
				sx, err := p.Share(0, x, []int{m, k})
				if err != nil {
					return err
				}
				sy, err := p.Share(1, y, []int{k, n})
				if err != nil {
					return err
				}
				z, err := p.MatMul(sx, sy)
				if err != nil {
					return err
				}
				assert.Equal(t, []int{m, n}, z.Shape())
				v, err := p.Reveal(z, 2)
				if p.ID() == 2 {
					got = v
				}
				return err
			})
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var exact, ref, bound float64
					for q := 0; q < k; q++ {
						a, b := x[i*k+q], y[q*n+j]
						exact += quantize(a) * quantize(b)
						ref += a * b
						bound += (math.Abs(a)+math.Abs(b))*encErr + encErr*encErr
					}
					require.InDelta(t, exact, got[i*n+j], ulp+1e-9, "(%d,%d)", i, j)
					require.InDelta(t, ref, got[i*n+j], ulp+bound, "(%d,%d)", i, j)
				}
			}
		})
	}
}

func TestMatMulErrors(t *testing.T) {
	err := try3(1, func(p *aby3.Party) error {
		x, err := p.Public([]float64{1}, []int{2, 3})
		if err != nil {
			return err
		}
		_, err = p.MatMul(x, x)
		return err
	})
	assert.ErrorContains(t, err, "[2 3] · [2 3]")
	err = try3(1, func(p *aby3.Party) error {
		x, err := p.Public([]float64{1}, []int{6})
		if err != nil {
			return err
		}
		_, err = p.MatMul(x, x)
		return err
	})
	assert.ErrorContains(t, err, "want m×k · k×n")
}

// Ring products cost one round and one element sent per output by every party. Fixed-point
// products add one round for the exact truncation: party 0 sends the output element to party
// 2 and two 16-bit lanes of the wrap correction to each of the others; parties 1 and 2 send
// one element in the first round and one lane to each other in the second.
func TestMulCost(t *testing.T) {
	const m, k, n = 17, 33, 9
	type perParty [3]int64
	cases := []struct {
		name     string
		op       func(p *aby3.Party, a, b, x, y *aby3.Shared) (*aby3.Shared, error)
		outs     int64
		rounds   int64
		bytes    perParty // per output element
		messages perParty
	}{
		{"MulRing", func(p *aby3.Party, a, b, _, _ *aby3.Shared) (*aby3.Shared, error) { return p.MulRing(a, b) }, m * k, 1, perParty{8, 8, 8}, perParty{1, 1, 1}},
		{"Mul", func(p *aby3.Party, a, b, _, _ *aby3.Shared) (*aby3.Shared, error) { return p.Mul(a, b) }, m * k, 2, perParty{16, 10, 10}, perParty{2, 2, 2}},
		{"MatMulRing", func(p *aby3.Party, _, _, x, y *aby3.Shared) (*aby3.Shared, error) { return p.MatMulRing(x, y) }, m * n, 1, perParty{8, 8, 8}, perParty{1, 1, 1}},
		{"MatMul", func(p *aby3.Party, _, _, x, y *aby3.Shared) (*aby3.Shared, error) { return p.MatMul(x, y) }, m * n, 2, perParty{16, 10, 10}, perParty{2, 2, 2}},
		{"Trunc", func(p *aby3.Party, a, _, _, _ *aby3.Shared) (*aby3.Shared, error) { return p.Trunc(a, 16) }, m * k, 1, perParty{16, 2, 2}, perParty{2, 1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var costs [3]aby3.Stats
			run3(t, 23, func(p *aby3.Party) error {
				a, err := p.Public([]float64{1.5}, []int{m, k})
				if err != nil {
					return err
				}
				x, err := p.Public([]float64{0.5}, []int{k, n})
				if err != nil {
					return err
				}
				before := p.Stats()
				if _, err := c.op(p, a, a, a, x); err != nil {
					return err
				}
				costs[p.ID()] = p.Stats().Sub(before)
				return nil
			})
			for id, s := range costs {
				assert.Equal(t, c.rounds, s.Rounds, "party %d rounds", id)
				// Lanes are packed into whole words, in blocks of one word per 64/lane values:
				// up to 7 bytes of padding per block, two blocks per message.
				// Every message also carries its trailer (aby3.MessageOverhead bytes).
				payload := s.BytesSent - s.Messages*aby3.MessageOverhead
				assert.InDelta(t, c.bytes[id]*c.outs, payload, float64(14*s.Messages), "party %d bytes", id)
				assert.GreaterOrEqual(t, payload, c.bytes[id]*c.outs, "party %d bytes", id)
				assert.Equal(t, c.messages[id], s.Messages, "party %d messages", id)
			}
		})
	}
}

// TestTruncExact checks that truncation never fails, whatever the magnitude (below 2^62), the
// shift (1 to 62 bits, so every lane width of the correction) and however the shares fall:
// every result is within one unit in the last place of z/2^d. (A
// truncation without the wrap correction would be off by 2^48 for about |z|/2^64 of the
// elements: 1 in 64 at |z| = 2^58.)
func TestTruncExact(t *testing.T) {
	const n = 1 << 15
	for _, c := range []struct{ l, d uint }{{20, 16}, {58, 16}, {61, 16}, {61, 20}, {61, 33}, {61, 62}, {45, 1}} {
		l, d := c.l, c.d
		z := make([]uint64, n)
		for i := range z {
			z[i] = uint64(i+1) << (l - 15)
			if i%2 == 1 {
				z[i] = -z[i]
			}
		}
		var got []uint64
		run3(t, uint64(29+l+64*d), func(p *aby3.Party) error {
			var in []uint64
			if p.ID() == 0 {
				in = z
			}
			s, err := p.ShareRing(0, in, []int{n})
			if err != nil {
				return err
			}
			one, err := p.PublicRing([]uint64{1}, []int{n})
			if err != nil {
				return err
			}
			s, err = p.MulRing(s, one) // re-randomise all three components
			if err != nil {
				return err
			}
			tr, err := p.Trunc(s, int(d))
			if err != nil {
				return err
			}
			v, err := p.RevealRing(tr, 0)
			if p.ID() == 0 {
				got = v
			}
			return err
		})
		for i, v := range got {
			exact := math.Ldexp(float64(int64(z[i])), -int(d))
			require.InDelta(t, exact, float64(int64(v)), 1, "|z| ≈ 2^%d, d = %d, element %d", l, d, i)
		}
	}
}

func TestBatchMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 48))
	const bs, m, k, n = 3, 4, 5, 6
	x, y := randValues(r, bs*m*k, -10, 1), randValues(r, bs*k*n, -10, 1)
	var got []float64
	var cost aby3.Stats
	run3(t, 53, func(p *aby3.Party) error {
		sx, err := p.Share(0, x, []int{bs, m, k})
		if err != nil {
			return err
		}
		sy, err := p.Share(1, y, []int{bs, k, n})
		if err != nil {
			return err
		}
		before := p.Stats()
		z, err := p.BatchMatMul(sx, sy)
		if err != nil {
			return err
		}
		if p.ID() == 0 {
			cost = p.Stats().Sub(before)
		}
		if _, err := p.BatchMatMul(sx, sx); err == nil {
			return fmt.Errorf("mismatched stacks accepted")
		}
		v, err := p.Reveal(z, 0)
		if p.ID() == 0 {
			got = v
		}
		return err
	})
	assert.Equal(t, int64(2), cost.Rounds)
	assert.Equal(t, int64(16*bs*m*n)+cost.Messages*aby3.MessageOverhead, cost.BytesSent) // party 0: see TestMulCost
	for b := 0; b < bs; b++ {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var exact float64
				for q := 0; q < k; q++ {
					exact += quantize(x[(b*m+i)*k+q]) * quantize(y[(b*k+q)*n+j])
				}
				require.InDelta(t, exact, got[(b*m+i)*n+j], ulp+1e-9)
			}
		}
	}
}

package aby3_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/ring"
)

// encValues returns n fixed-point encodings (f = 16) spread over magnitudes 2^-16 .. 2^40,
// with zeros, repeated values (for ties) and the extremes of the documented range.
func encValues(r *rand.Rand, n int) []uint64 {
	v := make([]uint64, n)
	for i := range v {
		switch i % 7 {
		case 0:
			v[i] = 0
		case 1:
			v[i] = uint64(r.IntN(5)-2) << 16 // small integers: many ties
		case 2:
			v[i] = uint64(int64(r.IntN(7) - 3)) // a few ulps around zero
		case 3:
			s := int64(1) << (16 + 40)
			if r.IntN(2) == 0 {
				s = -s
			}
			v[i] = uint64(s - int64(r.IntN(3)))
		default:
			bits := 1 + r.IntN(56)
			x := int64(r.Uint64() >> (64 - bits))
			if r.IntN(2) == 0 {
				x = -x
			}
			v[i] = uint64(x)
		}
	}
	return v
}

// revealAll opens a sharing to every party and returns party 0's copy through dst.
func revealRing(p *aby3.Party, dst *[]uint64, s *aby3.Shared, err error) error {
	if err != nil {
		return err
	}
	v, err := p.RevealRing(s, -1)
	if p.ID() == 0 {
		*dst = v
	}
	return err
}

func revealBits(p *aby3.Party, dst *[]uint64, s *aby3.BoolShared, err error) error {
	if err != nil {
		return err
	}
	v, err := p.RevealBool(s, -1)
	if p.ID() == 0 {
		*dst = v
	}
	return err
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// Comparisons, ReLU and selections are exact on the encodings.
func TestComparisons(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	const c = -1.25                       // public operand
	var cEnc = uint64(0xFFFFFFFFFFFEC000) // the encoding of c
	for _, shape := range oddShapes {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			n := numel(shape)
			x, y := encValues(r, n), encValues(r, n)
			for i := range y {
				if i%3 == 0 {
					y[i] = x[i] // equal operands
				}
				if i%11 == 4 {
					x[i] = cEnc
				}
			}
			var lt, ltc, gtc, sign, relu, mask, back, sel, maxi, mini, clip []uint64
			var reluA, maskA, backA []uint64
			run3(t, 53, func(p *aby3.Party) error {
				sx, err := shareRandom(p, x, shape)
				if err != nil {
					return err
				}
				sy, err := shareRandom(p, y, shape)
				if err != nil {
					return err
				}
				b, err := p.LessThan(sx, sy)
				if err := revealBits(p, &lt, b, err); err != nil {
					return err
				}
				b, err = p.LessThanPublic(sx, c)
				if err := revealBits(p, &ltc, b, err); err != nil {
					return err
				}
				b, err = p.GreaterThanPublic(sx, c)
				if err := revealBits(p, &gtc, b, err); err != nil {
					return err
				}
				z, err := p.Sign(sx)
				if err := revealRing(p, &sign, z, err); err != nil {
					return err
				}
				z, m, err := p.ReLU(sx)
				if err := revealRing(p, &relu, z, err); err != nil {
					return err
				}
				if err := revealBits(p, &mask, m, nil); err != nil {
					return err
				}
				z, err = p.MulMask(sy, m)
				if err := revealRing(p, &back, z, err); err != nil {
					return err
				}
				z, am, err := p.ReLUArith(sx)
				if err := revealRing(p, &reluA, z, err); err != nil {
					return err
				}
				if err := revealRing(p, &maskA, am, nil); err != nil {
					return err
				}
				z, err = p.MulRing(sy, am)
				if err := revealRing(p, &backA, z, err); err != nil {
					return err
				}
				lb, err := p.LessThan(sx, sy)
				if err != nil {
					return err
				}
				z, err = p.Select(lb, sx, sy)
				if err := revealRing(p, &sel, z, err); err != nil {
					return err
				}
				z, err = p.Maximum(sx, sy)
				if err := revealRing(p, &maxi, z, err); err != nil {
					return err
				}
				z, err = p.Minimum(sx, sy)
				if err := revealRing(p, &mini, z, err); err != nil {
					return err
				}
				z, err = p.Clip(sx, -3, 2.5)
				return revealRing(p, &clip, z, err)
			})
			for i := range x {
				xi, yi := int64(x[i]), int64(y[i])
				require.Equal(t, b2u(xi < yi), lt[i], "x<y %d: %d %d", i, xi, yi)
				require.Equal(t, b2u(xi < int64(cEnc)), ltc[i], "x<c %d: %d", i, xi)
				require.Equal(t, b2u(xi > int64(cEnc)), gtc[i], "x>c %d: %d", i, xi)
				wantSign := uint64(1 << 16)
				if xi < 0 {
					wantSign = -wantSign
				}
				require.Equal(t, wantSign, sign[i], "sign %d", i)
				require.Equal(t, uint64(max(xi, 0)), relu[i], "relu %d", i)
				require.Equal(t, b2u(xi > 0), mask[i], "relu mask %d", i)
				require.Equal(t, y[i]*b2u(xi > 0), back[i], "mul mask %d", i)
				require.Equal(t, relu[i], reluA[i], "relu arith %d", i)
				require.Equal(t, mask[i], maskA[i], "relu arith mask %d", i)
				require.Equal(t, back[i], backA[i], "relu arith mask product %d", i)
				if xi < yi {
					require.Equal(t, x[i], sel[i], "select %d", i)
				} else {
					require.Equal(t, y[i], sel[i], "select %d", i)
				}
				require.Equal(t, uint64(max(xi, yi)), maxi[i], "maximum %d", i)
				require.Equal(t, uint64(min(xi, yi)), mini[i], "minimum %d", i)
				require.Equal(t, uint64(min(max(xi, -3<<16), 5<<15)), clip[i], "clip %d", i)
			}
		})
	}
}

// ReLU costs eight rounds whatever the size (seven for the sign bit of x - 2^-f, one for the
// product) and its mask product one; ReLUArith costs ten (the sign bit, two rounds to inject it
// into the arithmetic sharing, one ring product) and its mask product (a ring product) one,
// with fewer words.
func TestReLUCost(t *testing.T) {
	for _, n := range []int{1, 100, 16384} {
		var relu, back, reluA, backA [3]aby3.Stats
		run3(t, 55, func(p *aby3.Party) error {
			x, err := p.Public([]float64{-0.5}, []int{n})
			if err != nil {
				return err
			}
			s := p.Stats()
			_, m, err := p.ReLU(x)
			if err != nil {
				return err
			}
			relu[p.ID()] = p.Stats().Sub(s)
			s = p.Stats()
			if _, err := p.MulMask(x, m); err != nil {
				return err
			}
			back[p.ID()] = p.Stats().Sub(s)
			s = p.Stats()
			_, am, err := p.ReLUArith(x)
			if err != nil {
				return err
			}
			reluA[p.ID()] = p.Stats().Sub(s)
			s = p.Stats()
			if _, err := p.MulRing(x, am); err != nil {
				return err
			}
			backA[p.ID()] = p.Stats().Sub(s)
			return nil
		})
		var bytes, bytesBack, bytesA, bytesBackA int64
		for id := range 3 {
			assert.Equal(t, int64(7+1), relu[id].Rounds, "n=%d party %d", n, id)
			assert.Equal(t, int64(1), back[id].Rounds, "n=%d party %d", n, id)
			assert.Equal(t, int64(7+2+1), reluA[id].Rounds, "n=%d party %d", n, id)
			assert.Equal(t, int64(1), backA[id].Rounds, "n=%d party %d", n, id)
			bytes += relu[id].BytesSent
			bytesBack += back[id].BytesSent
			bytesA += reluA[id].BytesSent
			bytesBackA += backA[id].BytesSent
		}
		assert.Less(t, bytesA+bytesBackA, bytes+bytesBack, "n=%d", n)
		w := func(b int64) float64 { return float64(b) / 8 / float64(n) }
		t.Logf("n=%d, words per element (all parties): ReLU %.1f + mask %.1f, ReLUArith %.1f + mask %.1f",
			n, w(bytes), w(bytesBack), w(bytesA), w(bytesBackA))
	}
}

// naiveMax returns the maximum and the index of its first occurrence along the middle axis of
// [outer, k, inner] signed values.
func naiveMax(x []uint64, outer, k, inner int) (mx []uint64, arg []int) {
	mx, arg = make([]uint64, outer*inner), make([]int, outer*inner)
	for o := range outer {
		for i := range inner {
			best := 0
			for j := 1; j < k; j++ {
				if int64(x[(o*k+j)*inner+i]) > int64(x[(o*k+best)*inner+i]) {
					best = j
				}
			}
			mx[o*inner+i], arg[o*inner+i] = x[(o*k+best)*inner+i], best
		}
	}
	return mx, arg
}

func TestMaxAxis(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 58))
	cases := []struct {
		shape []int
		axis  int
	}{
		{[]int{1}, 0}, {[]int{5}, -1}, {[]int{3, 10}, 1}, {[]int{4, 7, 3}, 1}, {[]int{9, 2}, 0},
		{[]int{2, 130}, -1}, {[]int{2, 64, 2}, 1}, {[]int{65, 1}, 0},
		{[]int{500, 9}, 1}, // large enough for pooled scratch vectors
		{[]int{6, 3}, 1}, {[]int{4, 4}, -1}, {[]int{2, 16}, 1},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v/%d", c.shape, c.axis), func(t *testing.T) {
			n := numel(c.shape)
			x := encValues(r, n)
			var mx, hot, arg []uint64
			var rounds int64
			run3(t, 59, func(p *aby3.Party) error {
				sx, err := shareRandom(p, x, c.shape)
				if err != nil {
					return err
				}
				s := p.Stats()
				m, err := p.Max(sx, c.axis)
				if p.ID() == 0 {
					rounds = p.Stats().Sub(s).Rounds
				}
				if err := revealRing(p, &mx, m, err); err != nil {
					return err
				}
				_, h, err := p.MaxWithMask(sx, c.axis)
				if err := revealBits(p, &hot, h, err); err != nil {
					return err
				}
				// Twice: the second run reuses the first one's (dirty) scratch vectors.
				for range 2 {
					a, err := p.ArgMax(sx, c.axis)
					if err := revealRing(p, &arg, a, err); err != nil {
						return err
					}
				}
				return nil
			})
			axis := (c.axis + len(c.shape)) % len(c.shape)
			outer, inner := numel(c.shape[:axis]), numel(c.shape[axis+1:])
			k := c.shape[axis]
			wantMax, wantArg := naiveMax(x, outer, k, inner)
			assert.Equal(t, wantMax, mx)
			for o := range outer {
				for i := range inner {
					assert.Equal(t, uint64(wantArg[o*inner+i])<<16, arg[o*inner+i], "argmax (%d,%d)", o, i)
					for j := range k {
						assert.Equal(t, b2u(j == wantArg[o*inner+i]), hot[(o*k+j)*inner+i], "mask (%d,%d,%d)", o, j, i)
					}
				}
			}
			// A tree of comparisons, or all pairs at once when there are at most 2048 pairs.
			ceilLog2 := func(v int) int {
				d := 0
				for 1<<d < v {
					d++
				}
				return d
			}
			want := 8 * ceilLog2(k)
			if k > 2 && outer*inner*k*(k-1)/2 <= 2048 {
				want = 8 + ceilLog2(k-1)
			}
			assert.Equal(t, int64(want), rounds)
		})
	}
}

// naivePool is max-pooling on plain signed values: the maximum over in-image positions and the
// index (in window order) of its first occurrence.
func naivePool(x []uint64, g ring.ConvGeom) (out []uint64, arg []int) {
	for n := range g.N {
		for oh := range g.OutH {
			for ow := range g.OutW {
				for c := range g.C {
					best, bestJ := int64(0), -1
					for kh := range g.KH {
						for kw := range g.KW {
							ih, iw := oh*g.StrideH-g.PadTop+kh, ow*g.StrideW-g.PadLeft+kw
							if ih < 0 || ih >= g.H || iw < 0 || iw >= g.W {
								continue
							}
							v := int64(x[((n*g.H+ih)*g.W+iw)*g.C+c])
							if bestJ < 0 || v > best {
								best, bestJ = v, kh*g.KW+kw
							}
						}
					}
					out = append(out, uint64(best))
					arg = append(arg, bestJ)
				}
			}
		}
	}
	return out, arg
}

func TestMaxPool2D(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	cases := []struct {
		n, h, w, c, kh, kw, sh, sw int
		same                       bool
	}{
		{2, 4, 4, 3, 2, 2, 2, 2, false},
		{1, 5, 5, 2, 2, 2, 2, 2, true}, // padding on the bottom and right
		{2, 5, 6, 1, 3, 3, 1, 1, true}, // overlapping windows, padding on every side
		{1, 7, 5, 4, 3, 2, 2, 1, false},
		{3, 1, 1, 2, 1, 1, 1, 1, false},
	}
	for _, c := range cases {
		g, err := ring.NewConvGeom(c.n, c.h, c.w, c.c, c.kh, c.kw, c.sh, c.sw, c.same)
		require.NoError(t, err)
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			x := encValues(r, c.n*c.h*c.w*c.c)
			for i := range x {
				if i%4 == 0 {
					x[i] = -x[i] // more negative values: padding must still lose
				}
			}
			dy := encValues(r, g.N*g.OutH*g.OutW*g.C)
			for i := range dy {
				dy[i] = uint64(int64(dy[i]) >> 20)
			}
			var out, route, grad []uint64
			var rounds, backRounds int64
			run3(t, 63, func(p *aby3.Party) error {
				sx, err := shareRandom(p, x, []int{c.n, c.h, c.w, c.c})
				if err != nil {
					return err
				}
				s := p.Stats()
				o, rt, err := p.MaxPool2D(sx, g)
				if p.ID() == 0 {
					rounds = p.Stats().Sub(s).Rounds
				}
				if err := revealRing(p, &out, o, err); err != nil {
					return err
				}
				if err := revealRing(p, &route, rt, nil); err != nil {
					return err
				}
				sdy, err := shareRandom(p, dy, o.Shape())
				if err != nil {
					return err
				}
				s = p.Stats()
				gx, err := p.MaxPool2DBackward(sdy, rt, g)
				if p.ID() == 0 {
					backRounds = p.Stats().Sub(s).Rounds
				}
				return revealRing(p, &grad, gx, err)
			})
			k := c.kh * c.kw
			var levels []int // candidates per level of the tree: k, ⌈k/2⌉, ..., 2
			for m := k; m > 1; m = (m + 1) / 2 {
				levels = append(levels, m)
			}
			assert.Equal(t, int64(10*len(levels)), rounds, "maxpool rounds")
			assert.Equal(t, int64(len(levels)), backRounds, "backward rounds")
			wantOut, wantArg := naivePool(x, g)
			require.Equal(t, wantOut, out)
			require.Len(t, route, g.Rows()*(k-1)*c.c)
			// The route descends the tree from its top to the first maximum of every window.
			offs := make([]int, len(levels)+1)
			for i, m := range levels {
				offs[i+1] = offs[i] + g.Rows()*(m/2)*c.c
			}
			for _, bit := range route {
				require.LessOrEqual(t, bit, uint64(1), "route bits are ring integers 0 and 1")
			}
			wantGrad := make([]uint64, len(x))
			for row := range g.Rows() {
				n, oh, ow := row/(g.OutH*g.OutW), row/g.OutW%g.OutH, row%g.OutW
				for ch := range c.c {
					j := 0 // the winner's index among the candidates of the level
					for i := len(levels) - 1; i >= 0; i-- {
						m := levels[i]
						if j < m/2 {
							j = 2*j + int(route[offs[i]+(row*(m/2)+j)*c.c+ch])
						} else {
							j = m - 1
						}
					}
					require.Equal(t, wantArg[row*c.c+ch], j, "winner of row %d ch %d", row, ch)
					ih, iw := oh*g.StrideH-g.PadTop+j/c.kw, ow*g.StrideW-g.PadLeft+j%c.kw
					wantGrad[((n*c.h+ih)*c.w+iw)*c.c+ch] += dy[row*c.c+ch]
				}
			}
			require.Equal(t, wantGrad, grad)
		})
	}
}

func TestCompareErrors(t *testing.T) {
	g, err := ring.NewConvGeom(1, 4, 4, 1, 2, 2, 2, 2, false)
	require.NoError(t, err)
	cases := []struct {
		name string
		op   func(p *aby3.Party, x *aby3.Shared) error
		want string
	}{
		{"max axis", func(p *aby3.Party, x *aby3.Shared) error { _, err := p.Max(x, 2); return err }, "axis 2 out of range"},
		{"clip", func(p *aby3.Party, x *aby3.Shared) error { _, err := p.Clip(x, 1, 0); return err }, "not ordered"},
		{"maxpool", func(p *aby3.Party, x *aby3.Shared) error { _, _, err := p.MaxPool2D(x, g); return err }, "geometry wants [1 4 4 1]"},
		{"less", func(p *aby3.Party, x *aby3.Shared) error {
			y, err := p.Reshape(x, 6)
			if err != nil {
				return err
			}
			_, err = p.LessThan(x, y)
			return err
		}, "differ"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := try3(1, func(p *aby3.Party) error {
				x, err := p.Public([]float64{1}, []int{2, 3})
				if err != nil {
					return err
				}
				return c.op(p, x)
			})
			assert.ErrorContains(t, err, c.want)
		})
	}
}

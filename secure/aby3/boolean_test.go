package aby3_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// randWords returns n random words with the edge cases of the ring mixed in.
func randWords(r *rand.Rand, n int) []uint64 {
	edges := []uint64{0, 1, ^uint64(0), 1 << 63, 1<<63 - 1, 1<<63 + 1, 0xAAAAAAAAAAAAAAAA}
	v := make([]uint64, n)
	for i := range v {
		if i%5 == 2 {
			v[i] = edges[r.IntN(len(edges))]
		} else {
			v[i] = r.Uint64()
		}
	}
	return v
}

// shareRandom shares raw ring values held by party 0 and re-randomises the sharing (the share
// protocol leaves one component zero), so that the components wrap around as in real use.
func shareRandom(p *aby3.Party, v []uint64, shape []int) (*aby3.Shared, error) {
	var in []uint64
	if p.ID() == 0 {
		in = v
	}
	s, err := p.ShareRing(0, in, shape)
	if err != nil {
		return nil, err
	}
	one, err := p.PublicRing([]uint64{1}, shape)
	if err != nil {
		return nil, err
	}
	return p.MulRing(s, one)
}

// shareBool shares words held by party 1 as a boolean sharing whose three components are all
// random (the owner's sharing re-randomised by an AND with all ones).
func shareBool(p *aby3.Party, v []uint64, shape []int) (*aby3.BoolShared, error) {
	var in []uint64
	if p.ID() == 1 {
		in = v
	}
	s, err := p.ShareBool(1, in, shape)
	if err != nil {
		return nil, err
	}
	ones, err := p.BoolPublic([]uint64{^uint64(0)}, shape)
	if err != nil {
		return nil, err
	}
	return p.And(s, ones)
}

var wordShapes = [][]int{{1}, {3, 5}, {257}, {2, 3, 4}, {0}, {70001}} // the last splits loops across cores

func TestBoolOps(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, shape := range wordShapes {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			n := numel(shape)
			x, y, c := randWords(r, n), randWords(r, n), r.Uint64()
			var and, xor, not, andc, xorc, shl, shr []uint64
			run3(t, 41, func(p *aby3.Party) error {
				sx, err := shareBool(p, x, shape)
				if err != nil {
					return err
				}
				sy, err := shareBool(p, y, shape)
				if err != nil {
					return err
				}
				reveal := func(dst *[]uint64, s *aby3.BoolShared, err error) error {
					if err != nil {
						return err
					}
					v, err := p.RevealBool(s, 2)
					if p.ID() == 2 {
						*dst = v
					}
					return err
				}
				z, err := p.And(sx, sy)
				if err := reveal(&and, z, err); err != nil {
					return err
				}
				z, err = p.Xor(sx, sy)
				if err := reveal(&xor, z, err); err != nil {
					return err
				}
				if err := reveal(&not, p.Not(sx), nil); err != nil {
					return err
				}
				z, err = p.AndPublic(sx, []uint64{c})
				if err := reveal(&andc, z, err); err != nil {
					return err
				}
				z, err = p.XorPublic(sx, y)
				if err := reveal(&xorc, z, err); err != nil {
					return err
				}
				if err := reveal(&shl, p.ShiftLeftBool(sx, 5), nil); err != nil {
					return err
				}
				return reveal(&shr, p.ShiftRightBool(sx, 63), nil)
			})
			for i := range x {
				assert.Equal(t, x[i]&y[i], and[i], "and %d", i)
				assert.Equal(t, x[i]^y[i], xor[i], "xor %d", i)
				assert.Equal(t, ^x[i], not[i], "not %d", i)
				assert.Equal(t, x[i]&c, andc[i], "and public %d", i)
				assert.Equal(t, x[i]^y[i], xorc[i], "xor public %d", i)
				assert.Equal(t, x[i]<<5, shl[i], "shl %d", i)
				assert.Equal(t, x[i]>>63, shr[i], "shr %d", i)
			}
		})
	}
}

func TestConversions(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	for _, shape := range wordShapes {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			n := numel(shape)
			x := randWords(r, n)
			bits := make([]uint64, n)
			for i := range bits {
				bits[i] = r.Uint64() & 1
			}
			var a2b, msb, b2a, mulBit, mulPub, inject []uint64
			run3(t, 43, func(p *aby3.Party) error {
				sx, err := shareRandom(p, x, shape)
				if err != nil {
					return err
				}
				bx, err := p.A2B(sx)
				if err != nil {
					return err
				}
				if v, err := p.RevealBool(bx, 0); err != nil {
					return err
				} else if p.ID() == 0 {
					a2b = v
				}
				m, err := p.MSB(sx)
				if err != nil {
					return err
				}
				if v, err := p.RevealBool(m, 0); err != nil {
					return err
				} else if p.ID() == 0 {
					msb = v
				}
				wx, err := shareBool(p, x, shape)
				if err != nil {
					return err
				}
				ax, err := p.B2A(wx)
				if err != nil {
					return err
				}
				if v, err := p.RevealRing(ax, 0); err != nil {
					return err
				} else if p.ID() == 0 {
					b2a = v
				}
				sb, err := shareBool(p, bits, shape)
				if err != nil {
					return err
				}
				z, err := p.MulBit(sb, sx)
				if err != nil {
					return err
				}
				if v, err := p.RevealRing(z, 0); err != nil {
					return err
				} else if p.ID() == 0 {
					mulBit = v
				}
				z, err = p.BitToArith(sb)
				if err != nil {
					return err
				}
				if v, err := p.RevealRing(z, 0); err != nil {
					return err
				} else if p.ID() == 0 {
					inject = v
				}
				z, err = p.BitToFixed(sb)
				if err != nil {
					return err
				}
				v, err := p.RevealRing(z, 0)
				if p.ID() == 0 {
					mulPub = v
				}
				return err
			})
			for i := range x {
				require.Equal(t, x[i], a2b[i], "a2b %d: %#x", i, x[i])
				require.Equal(t, x[i]>>63, msb[i], "msb %d: %#x", i, x[i])
				require.Equal(t, x[i], b2a[i], "b2a %d: %#x", i, x[i])
				require.Equal(t, x[i]*bits[i], mulBit[i], "mul bit %d", i)
				require.Equal(t, bits[i], inject[i], "bit to arith %d", i)
				require.Equal(t, bits[i]<<16, mulPub[i], "bit to fixed %d", i)
			}
		})
	}
}

// The round counts of the boolean protocols do not depend on the size of the tensor; the
// bytes grow linearly with it.
func TestBoolCosts(t *testing.T) {
	cases := []struct {
		name   string
		rounds int64
		op     func(p *aby3.Party, x *aby3.Shared, b *aby3.BoolShared) error
	}{
		{"And", 1, func(p *aby3.Party, _ *aby3.Shared, b *aby3.BoolShared) error { _, err := p.And(b, b); return err }},
		{"MSB", 7, func(p *aby3.Party, x *aby3.Shared, _ *aby3.BoolShared) error { _, err := p.MSB(x); return err }},
		{"A2B", 7, func(p *aby3.Party, x *aby3.Shared, _ *aby3.BoolShared) error { _, err := p.A2B(x); return err }},
		{"B2A", 9, func(p *aby3.Party, _ *aby3.Shared, b *aby3.BoolShared) error { _, err := p.B2A(b); return err }},
		{"MulBit", 1, func(p *aby3.Party, x *aby3.Shared, b *aby3.BoolShared) error { _, err := p.MulBit(b, x); return err }},
		{"BitToArith", 1, func(p *aby3.Party, _ *aby3.Shared, b *aby3.BoolShared) error { _, err := p.BitToArith(b); return err }},
	}
	for _, c := range cases {
		var bytes [2]int64
		for k, n := range []int{1, 4096} {
			t.Run(fmt.Sprintf("%s/%d", c.name, n), func(t *testing.T) {
				var costs [3]aby3.Stats
				run3(t, 47, func(p *aby3.Party) error {
					x, err := p.PublicRing([]uint64{12345}, []int{n})
					if err != nil {
						return err
					}
					b, err := p.BoolPublic([]uint64{1}, []int{n})
					if err != nil {
						return err
					}
					before := p.Stats()
					if err := c.op(p, x, b); err != nil {
						return err
					}
					costs[p.ID()] = p.Stats().Sub(before)
					return nil
				})
				for id, s := range costs {
					assert.Equal(t, c.rounds, s.Rounds, "party %d", id)
					bytes[k] += s.BytesSent
				}
			})
		}
		t.Logf("%s: %d rounds, %.1f words per element (all parties)", c.name, c.rounds, float64(bytes[1])/8/4096)
	}
}

func TestBoolErrors(t *testing.T) {
	err := try3(1, func(p *aby3.Party) error {
		x, err := p.BoolPublic([]uint64{1}, []int{2, 3})
		if err != nil {
			return err
		}
		y, err := p.BoolPublic([]uint64{1}, []int{3, 2})
		if err != nil {
			return err
		}
		_, err = p.And(x, y)
		return err
	})
	assert.ErrorContains(t, err, "and: shapes [2 3] and [3 2] differ")
	err = try3(1, func(p *aby3.Party) error {
		x, err := p.BoolPublic([]uint64{1, 2}, []int{3})
		_ = x
		return err
	})
	assert.ErrorContains(t, err, "2 values for shape [3]")
	err = try3(1, func(p *aby3.Party) error {
		_, err := p.RevealBool(&aby3.BoolShared{}, secure.PartyID(5))
		return err
	})
	assert.Error(t, err)
}

package aby3_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// Encoding error bound: round to nearest with f = 16 fractional bits.
const encErr = 0x1p-17

func TestShareReveal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, shape := range oddShapes {
		for owner := secure.PartyID(0); owner < 3; owner++ {
			for _, to := range []secure.PartyID{-1, 0, 1, 2} {
				t.Run(fmt.Sprintf("%v/owner%d/to%d", shape, owner, to), func(t *testing.T) {
					x := randValues(r, numel(shape), -10, 40)
					var got [3][]float64
					run3(t, 7, func(p *aby3.Party) error {
						var in []float64
						if p.ID() == owner {
							in = x
						}
						s, err := p.Share(owner, in, shape)
						if err != nil {
							return err
						}
						got[p.ID()], err = p.Reveal(s, to)
						return err
					})
					for id := 0; id < 3; id++ {
						if to != -1 && secure.PartyID(id) != to {
							assert.Nil(t, got[id], "party %d must learn nothing", id)
							continue
						}
						require.Len(t, got[id], len(x))
						for i := range x {
							assert.InDelta(t, x[i], got[id][i], encErr, "element %d", i)
						}
					}
				})
			}
		}
	}
}

func TestLinearOps(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	type op struct {
		name string
		ref  func(x, y, c float64) float64
		sec  func(p *aby3.Party, x, y *aby3.Shared, c float64) (*aby3.Shared, error)
		tol  float64 // in units of the encoding error
	}
	ops := []op{
		{"add", func(x, y, _ float64) float64 { return x + y }, func(p *aby3.Party, x, y *aby3.Shared, _ float64) (*aby3.Shared, error) { return p.Add(x, y) }, 2},
		{"sub", func(x, y, _ float64) float64 { return x - y }, func(p *aby3.Party, x, y *aby3.Shared, _ float64) (*aby3.Shared, error) { return p.Sub(x, y) }, 2},
		{"neg", func(x, _, _ float64) float64 { return -x }, func(p *aby3.Party, x, _ *aby3.Shared, _ float64) (*aby3.Shared, error) { return p.Neg(x), nil }, 1},
		{"addpublic", func(x, _, c float64) float64 { return x + c }, func(p *aby3.Party, x, _ *aby3.Shared, c float64) (*aby3.Shared, error) {
			return p.AddPublic(x, []float64{c})
		}, 2},
		{"subfrompublic", func(x, _, c float64) float64 { return c - x }, func(p *aby3.Party, x, _ *aby3.Shared, c float64) (*aby3.Shared, error) {
			return p.SubFromPublic([]float64{c}, x)
		}, 2},
		{"mulpublicint", func(x, _, _ float64) float64 { return -3 * x }, func(p *aby3.Party, x, _ *aby3.Shared, _ float64) (*aby3.Shared, error) {
			return p.MulPublicRing(x, ^uint64(2)), nil // -3 in the ring
		}, 3},
	}
	for _, o := range ops {
		for _, shape := range oddShapes {
			t.Run(fmt.Sprintf("%s/%v", o.name, shape), func(t *testing.T) {
				n := numel(shape)
				x, y := randValues(r, n, -10, 12), randValues(r, n, -10, 12)
				c := -1234.5678
				var got []float64
				run3(t, 11, func(p *aby3.Party) error {
					sx, err := p.Share(0, x, shape)
					if err != nil {
						return err
					}
					sy, err := p.Share(1, y, shape)
					if err != nil {
						return err
					}
					z, err := o.sec(p, sx, sy, c)
					if err != nil {
						return err
					}
					assert.Equal(t, shape, z.Shape())
					v, err := p.Reveal(z, 2)
					if p.ID() == 2 {
						got = v
					}
					return err
				})
				for i := range x {
					assert.InDelta(t, o.ref(x[i], y[i], c), got[i], o.tol*encErr+1e-12, "element %d", i)
				}
			})
		}
	}
}

func TestShareErrors(t *testing.T) {
	err := try3(1, func(p *aby3.Party) error {
		_, err := p.Share(0, []float64{1, 2}, []int{3})
		return err
	})
	assert.ErrorContains(t, err, "2 values for shape [3]")

	err = try3(1, func(p *aby3.Party) error {
		_, err := p.Share(0, []float64{math.NaN()}, []int{1})
		return err
	})
	assert.ErrorContains(t, err, "not a finite number")

	err = try3(1, func(p *aby3.Party) error {
		_, err := p.Share(0, []float64{math.Inf(-1)}, []int{1})
		return err
	})
	assert.ErrorContains(t, err, "not a finite number")

	err = try3(1, func(p *aby3.Party) error {
		_, err := p.Share(0, []float64{1e300}, []int{1})
		return err
	})
	assert.ErrorContains(t, err, "out of fixed-point range")

	err = try3(1, func(p *aby3.Party) error {
		_, err := p.Share(5, nil, []int{1})
		return err
	})
	assert.ErrorContains(t, err, "party 5 does not exist")

	err = try3(1, func(p *aby3.Party) error {
		_, err := p.Reveal(&aby3.Shared{}, 3)
		return err
	})
	assert.ErrorContains(t, err, "party 3 does not exist")

	err = try3(1, func(p *aby3.Party) error {
		x, err := p.Public([]float64{1}, []int{2, 3})
		if err != nil {
			return err
		}
		y, err := p.Public([]float64{1}, []int{3, 2})
		if err != nil {
			return err
		}
		_, err = p.Add(x, y)
		return err
	})
	assert.ErrorContains(t, err, "shapes [2 3] and [3 2] differ")
}

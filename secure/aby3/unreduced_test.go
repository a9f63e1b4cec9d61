package aby3_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// A product reduced with a factor c equals c times the product within one unit in the last
// place plus the representation of c; lifted values and products concatenate and reduce
// together.
func TestUnreduced(t *testing.T) {
	for _, dims := range [][3]int{{7, 33, 5}, {2, 40, 30}} { // the smaller operand on either side
		testUnreduced(t, dims[0], dims[1], dims[2])
	}
}

func testUnreduced(t *testing.T, m, k, n int) {
	r := rand.New(rand.NewPCG(91, 92))
	x, w, b := uniform(r, m*k, -1, 1, false), uniform(r, k*n, -1, 1, false), uniform(r, 3, -2, 2, false)
	for _, c := range []float64{1, -0.2, 0.001, 3.7, -1} {
		var got, gotCat []float64
		var cost aby3.Stats
		run3(t, 93, func(p *aby3.Party) error {
			sx, err := p.Share(0, x, []int{m, k})
			if err != nil {
				return err
			}
			sw, err := p.Share(1, w, []int{k, n})
			if err != nil {
				return err
			}
			sb, err := p.Share(2, b, []int{3})
			if err != nil {
				return err
			}
			s := p.Stats()
			u, err := p.MatMulUnreduced(sx, sw)
			if err != nil {
				return err
			}
			z, err := p.Reduce(u, c)
			if err != nil {
				return err
			}
			if p.ID() == 0 {
				cost = p.Stats().Sub(s)
			}
			v, err := p.Reveal(z, 0)
			if p.ID() == 0 {
				got = v
			}
			if err != nil {
				return err
			}
			flat, err := aby3.ReshapeUnreduced(u, -1)
			if err != nil {
				return err
			}
			cat, err := aby3.ConcatUnreduced(0, aby3.ScaleUnreduced(flat, 2), p.Lift(sb))
			if err != nil {
				return err
			}
			zc, err := p.Reduce(cat, c)
			if err != nil {
				return err
			}
			v, err = p.Reveal(zc, 0)
			if p.ID() == 0 {
				gotCat = v
			}
			return err
		})
		assert.Equal(t, int64(2), cost.Rounds, "c = %v", c)
		require.Len(t, gotCat, m*n+3)
		for i := range m {
			for j := range n {
				want := 0.0
				for l := range k {
					want += quantize(x[i*k+l]) * quantize(w[l*n+j])
				}
				tol := ulp + math.Abs(want)*ulp/2 // c is rounded to a multiple of 2^-16
				assert.InDelta(t, c*want, got[i*n+j], tol, "c = %v (%d,%d)", c, i, j)
				assert.InDelta(t, 2*c*want, gotCat[i*n+j], 2*tol, "concat c = %v (%d,%d)", c, i, j)
			}
		}
		for i := range 3 {
			assert.InDelta(t, c*quantize(b[i]), gotCat[m*n+i], ulp+math.Abs(b[i])*ulp/2, "lifted c = %v", c)
		}
	}
	run3(t, 94, func(p *aby3.Party) error {
		x, err := p.Public([]float64{1}, []int{1, 1})
		if err != nil {
			return err
		}
		u, err := p.MatMulUnreduced(x, x)
		if err != nil {
			return err
		}
		_, err = p.Reduce(u, 0)
		assert.ErrorContains(t, err, "rounds to 0")
		y, err := p.Public([]float64{1, 2}, []int{2, 1})
		if err != nil {
			return err
		}
		_, err = p.MatMulUnreduced(x, y)
		assert.ErrorContains(t, err, "want m×k · k×n")
		_, err = aby3.ConcatUnreduced(0)
		assert.ErrorContains(t, err, "no values")
		return nil
	})
}

// ReduceReLU reduces a product and applies ReLU in one round fewer than Reduce then ReLU: y is
// z where the mask is set and 0 elsewhere, and the mask is [z > 0] except where the product's
// rounding lifted a value below one unit in the last place to it.
func TestReduceReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(95, 96))
	const m, k, n = 37, 19, 41 // 1517 outputs
	x, w, b := uniform(r, m*k, -1, 1, false), uniform(r, k*n, -1, 1, false), uniform(r, n, -0.5, 0.5, false)
	for i := 0; i < k*n; i += 7 {
		w[i] = 0 // some products near 0
	}
	for _, c := range []struct {
		arith  bool
		params secure.Params
		rounds int64 // 1 (the partial sums) + sign bit (7 or 3, its first round shared with the truncation) + 1 (bit product; arith: injection 2 and ring product 1)
	}{
		{false, adderParams, 9}, {true, adderParams, 11},
		{false, fewParams, 5}, {true, fewParams, 7},
	} {
		arith := c.arith
		var z, y, mask []uint64
		var rounds int64
		require.NoError(t, try3With(97, c.params, func(p *aby3.Party) error {
			sx, err := p.Share(0, x, []int{m, k})
			if err != nil {
				return err
			}
			sw, err := p.Share(1, w, []int{k, n})
			if err != nil {
				return err
			}
			sb, err := p.Share(2, b, []int{n})
			if err != nil {
				return err
			}
			s := p.Stats()
			u, err := p.MatMulUnreduced(sx, sw)
			if err != nil {
				return err
			}
			if u, err = p.AddBiasUnreduced(u, sb); err != nil {
				return err
			}
			sz, sy, mb, ma, err := p.ReduceReLU(u, arith)
			if err != nil {
				return err
			}
			if p.ID() == 0 {
				rounds = p.Stats().Sub(s).Rounds
			}
			if err := revealRing(p, &z, sz, nil); err != nil {
				return err
			}
			if err := revealRing(p, &y, sy, nil); err != nil {
				return err
			}
			if arith {
				return revealRing(p, &mask, ma, nil)
			}
			return revealBits(p, &mask, mb, nil)
		}))
		assert.Equal(t, c.rounds, rounds, "arith %v, params %+v", arith, c.params)
		for i := range z {
			zi := int64(z[i])
			require.Equal(t, z[i]*mask[i], y[i], "arith %v: element %d", arith, i)
			if mask[i] == 1 {
				require.GreaterOrEqual(t, zi, int64(1), "element %d", i)
			} else {
				require.LessOrEqual(t, zi, int64(1), "element %d", i)
			}
		}
		// The reduced values are the products plus bias.
		for i := range m {
			for j := range n {
				want := quantize(b[j])
				for l := range k {
					want += quantize(x[i*k+l]) * quantize(w[l*n+j])
				}
				assert.InDelta(t, want, float64(int64(z[i*n+j]))*ulp, 2*ulp)
			}
		}
	}
}

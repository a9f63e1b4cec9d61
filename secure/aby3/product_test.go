package aby3

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/ring"
)

// components returns random components of an r×c sharing whose component zeroAt is zero (as
// ShareRing leaves the component after its owner's two), or none when zeroAt is -1, with the
// marks each party then holds.
func components(rng *rand.Rand, n, zeroAt int) (comps [secure.NumParties][]uint64, marks [secure.NumParties]uint8) {
	for i := range comps {
		comps[i] = make([]uint64, n)
		if i != zeroAt {
			for j := range comps[i] {
				comps[i][j] = rng.Uint64()
			}
		}
	}
	if zeroAt >= 0 {
		// Party i holds components i (A) and i+1 (B).
		marks[zeroAt] = zeroA
		marks[(zeroAt+secure.NumParties-1)%secure.NumParties] = zeroB
	}
	return comps, marks
}

// Skipping the products with a zero component changes no party's terms, bit for bit, and the
// three terms add up to the product, for every placement of the zero components and for
// shapes where either operand is the smaller (the two ways of summing components).
func TestProductTermsSkipZeroComponents(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range [][3]int{{1, 9, 7}, {6, 3, 2}, {4, 4, 4}, {2, 17, 1}} {
		m, k, n := sh[0], sh[1], sh[2]
		for zx := -1; zx < secure.NumParties; zx++ {
			for zy := -1; zy < secure.NumParties; zy++ {
				t.Run(fmt.Sprintf("%dx%dx%d/x-zero-%d/y-zero-%d", m, k, n, zx, zy), func(t *testing.T) {
					xs, xm := components(rng, m*k, zx)
					ys, ym := components(rng, k*n, zy)
					want := make([]uint64, m*n)
					x, y := make([]uint64, m*k), make([]uint64, k*n)
					for i := range xs {
						ring.AddTo(x, x, xs[i])
						ring.AddTo(y, y, ys[i])
					}
					ring.MatMulTo(want, x, y, m, k, n)
					sum := make([]uint64, m*n)
					for i := range secure.NumParties {
						j := (i + 1) % secure.NumParties
						skipped, full := make([]uint64, m*n), make([]uint64, m*n)
						productTerms(skipped, xs[i], xs[j], ys[i], ys[j], xm[i], ym[i], m, k, n)
						productTerms(full, xs[i], xs[j], ys[i], ys[j], 0, 0, m, k, n)
						require.Equal(t, full, skipped, "party %d", i)
						ring.AddTo(sum, sum, skipped)
					}
					require.Equal(t, want, sum)
				})
			}
		}
	}
}

// The zero marks follow a sharing through the local maps that keep zeros zero: a reshape, a
// linear map, and a concatenation where every part has the zero (only there).
func TestZeroMarksFollowLinearMaps(t *testing.T) {
	var p *Party // the local maps use no party state
	mk := func(zero uint8) *Shared {
		return &Shared{shape: []int{2, 3}, a: make([]uint64, 6), b: make([]uint64, 6), zero: zero}
	}
	r, err := p.Reshape(mk(zeroB), 3, 2)
	require.NoError(t, err)
	require.Equal(t, zeroB, r.zero)
	tr, err := p.Transpose(mk(zeroA))
	require.NoError(t, err)
	require.Equal(t, zeroA, tr.zero)
	for _, c := range []struct {
		parts []uint8
		want  uint8
	}{
		{[]uint8{zeroA, zeroA}, zeroA},
		{[]uint8{zeroA, zeroB}, 0},
		{[]uint8{zeroB, 0}, 0},
		{[]uint8{zeroA | zeroB, zeroB}, zeroB},
	} {
		xs := make([]*Shared, len(c.parts))
		for i, z := range c.parts {
			xs[i] = mk(z)
		}
		out, err := p.Concat(0, xs...)
		require.NoError(t, err)
		require.Equal(t, c.want, out.zero, "parts %v", c.parts)
	}
}

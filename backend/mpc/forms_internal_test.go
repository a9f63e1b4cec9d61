package mpc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/secure/aby3"
)

func TestFormsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name        string
		xn, yn, out int
		want        bool
	}{
		{"conv kernel gradient", 25 * 73728, 20 * 73728, 500, true},
		{"small operands", 1 << 15, 1 << 15, 10, false},
		{"dense weight gradient", 128 * 784, 128 * 128, 784 * 128, false},
		{"eight times the product", 1 << 16, 1 << 17, 1 << 13, false},
		{"just past eight times", 1<<16 + 1, 1 << 17, 1 << 13, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, formsAtOnce(tc.xn, tc.yn, tc.out))
		})
	}
}

// A product whose operands dwarf it (a convolution kernel's gradient) holds its terms, not its
// operands, from the MatMul on; a weight gradient of a dense layer stays a product of its
// operands. The formed product agrees with float64 once scaled (an optimizer's step): the
// reference takes the operands as the engine encodes them (rounded to 2^-16), which leaves
// the truncation of the scaled product, under 2^-16, and the factor's encoding (c to within
// 2^-17 times a product under 1/16): tolerance 3·2^-16.
func TestProductsOfLargeOperandsFormAtOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const k, m, n = 1 << 14, 9, 4 // cols [k, m], dz [k, n]: cols^T·dz is [m, n]
	cols, dz := make([]float64, k*m), make([]float64, k*n)
	for i := range cols {
		cols[i] = r.Float64()*2 - 1
	}
	for i := range dz {
		dz[i] = (r.Float64()*2 - 1) / 1024
	}
	const c = -0.1
	enc := func(v float64) float64 { return math.Round(v*65536) / 65536 }
	want := make([]float64, m*n)
	for l := range k {
		for i := range m {
			for j := range n {
				want[i*n+j] += enc(cols[l*m+i]) * enc(dz[l*n+j])
			}
		}
	}
	for i := range want {
		want[i] *= c
	}
	runner := NewLocalRunner(Config{}, nil)
	defer runner.Close()
	var got []float64
	require.NoError(t, runner.Run(func(bk backend.Backend) error {
		e := bk.(*Backend).ops.(*aby3Engine)
		sc, err := bk.Input(cols, []int{k, m}, 0)
		require.NoError(t, err)
		sdz, err := bk.Input(dz, []int{k, n}, 0)
		require.NoError(t, err)
		g, err := e.MatMul(sc, sdz, true, false)
		require.NoError(t, err)
		pd := g.(*tensor[*aby3.Shared, *aby3.Unreduced]).p
		require.NotNil(t, pd)
		assert.True(t, pd.formed, "the terms are formed")
		assert.False(t, pd.product)
		assert.Nil(t, pd.x, "the operands are let go")
		assert.Nil(t, pd.y)

		a, err := bk.Input(cols[:64*m], []int{64, m}, 0)
		require.NoError(t, err)
		small, err := e.MatMul(a, a, true, false) // operands of under 2^16 values
		require.NoError(t, err)
		assert.True(t, small.(*tensor[*aby3.Shared, *aby3.Unreduced]).p.product, "a product of small operands waits")

		s, err := e.Scale(g, c)
		require.NoError(t, err)
		v, err := e.Reveal(s, -1)
		if bk.Party() == 0 {
			got = v
		}
		return err
	}))
	require.Len(t, got, m*n)
	tol := 3 * math.Ldexp(1, -16)
	for i := range want {
		assert.InDelta(t, want[i], got[i], tol, "element %d", i)
	}
}

package mpc_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/mpc"
)

// Pending products agree with the plain engine whatever completes them: an operation that
// needs the shares, a scaling folded into the truncation, or a scaling of the smaller
// operand, alone or in a concatenation with other products and sharings (an optimizer's
// joined gradients). Tolerance: the products' fan-in times the operands' rounding.
func TestPendingProducts(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const m, k, n = 40, 16, 30 // x^T·dz: [m×k]^T... a weight gradient of fan-in k
	x, dz, w, bias := uniform(r, k*m, -1, 1), uniform(r, k*n, -0.1, 0.1), uniform(r, n*5, -1, 1), uniform(r, 5, -1, 1)
	ref := func(c float64) []float64 { // c·x^T·dz flattened, then c·(dz·w) [k×5], then c·bias
		var out []float64
		for i := range m {
			for j := range n {
				s := 0.0
				for l := range k {
					s += x[l*m+i] * dz[l*n+j]
				}
				out = append(out, c*s)
			}
		}
		for i := range k {
			for j := range 5 {
				s := 0.0
				for l := range n {
					s += dz[i*n+l] * w[l*5+j]
				}
				out = append(out, c*s)
			}
		}
		for _, v := range bias {
			out = append(out, c*v)
		}
		return out
	}
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		runner := mpc.NewLocalRunner(cfg, nil)
		defer runner.Close()
		for _, c := range []float64{1, -0.2, 0.015} {
			var got [3][]float64
			var joined, single []float64
			require.NoError(t, runner.Run(func(b backend.Backend) error {
				in := func(v []float64, shape ...int) backend.Tensor {
					tt, err := b.Input(v, shape, 0)
					require.NoError(t, err)
					return tt
				}
				sx, sdz, sw, sb := in(x, k, m), in(dz, k, n), in(w, n, 5), in(bias, 5)
				g1, err := b.MatMul(sx, sdz, true, false) // [m×n], fan-in k: dz the smaller operand
				if err != nil {
					return err
				}
				g2, err := b.MatMul(sdz, sw, false, false) // [k×5]
				if err != nil {
					return err
				}
				// Alone: c·g1 (the operand dz is much smaller than the product).
				s1, err := b.Scale(g1, c)
				if err != nil {
					return err
				}
				v, err := b.Reveal(s1, -1)
				if err != nil {
					return err
				}
				if b.Party() == 0 {
					single = v
				}
				// Joined, as an optimizer joins gradients: flattened, concatenated, scaled, split.
				f1, err := b.Reshape(g1, []int{m * n})
				if err != nil {
					return err
				}
				f2, err := b.Reshape(g2, []int{k * 5})
				if err != nil {
					return err
				}
				cat, err := b.(*mpc.Backend).Concat(0, f1, f2, sb)
				if err != nil {
					return err
				}
				assert.Equal(t, []int{m*n + k*5 + 5}, cat.Shape())
				sc, err := b.Scale(cat, c)
				if err != nil {
					return err
				}
				parts, err := b.(*mpc.Backend).Split(sc, []int{m * n, k * 5, 5})
				if err != nil {
					return err
				}
				for _, p := range parts {
					v, err := b.Reveal(p, -1)
					if err != nil {
						return err
					}
					got[b.Party()] = append(got[b.Party()], v...)
				}
				if b.Party() == 0 {
					joined = got[0]
				}
				return nil
			}))
			want := ref(c)
			// The operands' encodings (k ulps at fan-in k), the rounding of the scaled operand
			// (one ulp per term: k more) and the truncations.
			tol := float64(2*k+2) * ulp
			for i := range want {
				require.InDelta(t, want[i], joined[i], tol, "joined c = %v: element %d", c, i)
				if i < m*n {
					require.InDelta(t, want[i], single[i], tol, "single c = %v: element %d", c, i)
				}
			}
			assert.Equal(t, got[0], got[1])
			assert.Equal(t, got[0], got[2])
		}
	})
}

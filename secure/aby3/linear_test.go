package aby3_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure/aby3"
)

// Local tensor operations on shares agree with the same operations on the plaintext: exactly
// for the permutations and sums (of the encoded values), within one ulp plus the encoding of
// the constant for products with public values.
func TestLinearTensorOps(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	const m, n = 5, 7
	x := randValues(r, m*n, -10, 12)
	bias := randValues(r, n, -10, 12)
	c := randValues(r, m*n, -10, 2)
	q := make([]float64, len(x))
	for i := range x {
		q[i] = quantize(x[i])
	}
	type result struct {
		name  string
		shape []int
		vals  []float64
	}
	var got []result
	run3(t, 37, func(p *aby3.Party) error {
		sx, err := p.Share(0, x, []int{m, n})
		if err != nil {
			return err
		}
		sb, err := p.Share(1, bias, []int{n})
		if err != nil {
			return err
		}
		ops := []struct {
			name string
			f    func() (*aby3.Shared, error)
		}{
			{"transpose", func() (*aby3.Shared, error) { return p.Transpose(sx) }},
			{"permute", func() (*aby3.Shared, error) { return p.Permute(sx, 1, 0) }},
			{"sum0", func() (*aby3.Shared, error) { return p.Sum(sx, 0) }},
			{"sum1", func() (*aby3.Shared, error) { return p.Sum(sx, 1) }},
			{"mean0", func() (*aby3.Shared, error) { return p.Mean(sx, 0) }},
			{"addbias", func() (*aby3.Shared, error) { return p.AddBias(sx, sb) }},
			{"slice", func() (*aby3.Shared, error) { return p.Slice(sx, 1, 2, 5) }},
			{"concat", func() (*aby3.Shared, error) { return p.Concat(0, sx, sx) }},
			{"mulpublic", func() (*aby3.Shared, error) { return p.MulPublicTensor(sx, c) }},
			{"reshape", func() (*aby3.Shared, error) { return p.Reshape(sx, -1) }},
		}
		for _, o := range ops {
			z, err := o.f()
			if err != nil {
				return err
			}
			v, err := p.Reveal(z, -1)
			if err != nil {
				return err
			}
			if p.ID() == 0 {
				got = append(got, result{o.name, z.Shape(), v})
			}
		}
		_, err = p.AddBias(sx, sx)
		require.ErrorContains(t, err, "add bias")
		_, err = p.Mean(sx, 2)
		require.ErrorContains(t, err, "mean over axis 2")
		return nil
	})
	at := func(i, j int) float64 { return q[i*n+j] }
	for _, g := range got {
		switch g.name {
		case "transpose", "permute":
			require.Equal(t, []int{n, m}, g.shape)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					require.Equal(t, at(i, j), g.vals[j*m+i])
				}
			}
		case "sum0", "mean0":
			require.Equal(t, []int{n}, g.shape)
			for j := 0; j < n; j++ {
				var s float64
				for i := 0; i < m; i++ {
					s += at(i, j)
				}
				if g.name == "sum0" {
					require.InDelta(t, s, g.vals[j], 1e-9)
				} else {
					require.InDelta(t, s/m, g.vals[j], ulp+encErr*abs(s), "mean col %d", j)
				}
			}
		case "sum1":
			require.Equal(t, []int{m}, g.shape)
			for i := 0; i < m; i++ {
				var s float64
				for j := 0; j < n; j++ {
					s += at(i, j)
				}
				require.InDelta(t, s, g.vals[i], 1e-9)
			}
		case "addbias":
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					require.InDelta(t, at(i, j)+quantize(bias[j]), g.vals[i*n+j], 1e-9)
				}
			}
		case "slice":
			require.Equal(t, []int{m, 3}, g.shape)
			for i := 0; i < m; i++ {
				for j := 2; j < 5; j++ {
					require.Equal(t, at(i, j), g.vals[i*3+j-2])
				}
			}
		case "concat":
			require.Equal(t, []int{2 * m, n}, g.shape)
			require.Equal(t, q, g.vals[:m*n])
			require.Equal(t, q, g.vals[m*n:])
		case "mulpublic":
			for i := range q {
				require.InDelta(t, q[i]*quantize(c[i]), g.vals[i], ulp)
			}
		case "reshape":
			require.Equal(t, []int{m * n}, g.shape)
			require.Equal(t, q, g.vals)
		}
	}
	require.Len(t, got, 10)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

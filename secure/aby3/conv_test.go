package aby3_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/ring"
)

// naiveConv is TensorFlow's conv2d (NHWC, cross-correlation, zero padding) in float64.
func naiveConv(x []float64, w []float64, g ring.ConvGeom, f int) []float64 {
	out := make([]float64, g.N*g.OutH*g.OutW*f)
	for n := 0; n < g.N; n++ {
		for oh := 0; oh < g.OutH; oh++ {
			for ow := 0; ow < g.OutW; ow++ {
				for o := 0; o < f; o++ {
					var s float64
					for kh := 0; kh < g.KH; kh++ {
						for kw := 0; kw < g.KW; kw++ {
							h, wd := oh*g.StrideH+kh-g.PadTop, ow*g.StrideW+kw-g.PadLeft
							if h < 0 || h >= g.H || wd < 0 || wd >= g.W {
								continue
							}
							for c := 0; c < g.C; c++ {
								s += x[((n*g.H+h)*g.W+wd)*g.C+c] * w[((kh*g.KW+kw)*g.C+c)*f+o]
							}
						}
					}
					out[((n*g.OutH+oh)*g.OutW+ow)*f+o] = s
				}
			}
		}
	}
	return out
}

// The secure convolution equals the float64 convolution of the encoded inputs within one ulp.
func TestConv2D(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	cases := []struct {
		n, h, w, c, kh, kw, s, f int
		same                     bool
	}{
		{1, 5, 5, 1, 3, 3, 1, 1, false},
		{2, 7, 6, 3, 3, 2, 2, 4, true},
		{3, 28, 28, 1, 5, 5, 2, 5, false},
		{1, 1, 1, 2, 1, 1, 1, 3, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			g, err := ring.NewConvGeom(c.n, c.h, c.w, c.c, c.kh, c.kw, c.s, c.s, c.same)
			require.NoError(t, err)
			x := randValues(r, c.n*c.h*c.w*c.c, -10, 1)
			w := randValues(r, c.kh*c.kw*c.c*c.f, -10, 0)
			var got []float64
			var shape []int
			run3(t, 43, func(p *aby3.Party) error {
				sx, err := p.Share(0, x, []int{c.n, c.h, c.w, c.c})
				if err != nil {
					return err
				}
				sw, err := p.Share(1, w, []int{c.kh, c.kw, c.c, c.f})
				if err != nil {
					return err
				}
				z, err := p.Conv2D(sx, sw, g)
				if err != nil {
					return err
				}
				v, err := p.Reveal(z, 0)
				if p.ID() == 0 {
					got, shape = v, z.Shape()
				}
				if _, err := p.Conv2D(sw, sx, g); err == nil {
					return fmt.Errorf("swapped operands accepted")
				}
				return err
			})
			require.Equal(t, []int{c.n, g.OutH, g.OutW, c.f}, shape)
			qx, qw := make([]float64, len(x)), make([]float64, len(w))
			for i := range x {
				qx[i] = quantize(x[i])
			}
			for i := range w {
				qw[i] = quantize(w[i])
			}
			want := naiveConv(qx, qw, g, c.f)
			ref := naiveConv(x, w, g, c.f)
			for i := range want {
				require.InDelta(t, want[i], got[i], ulp+1e-9, "element %d", i)
				require.InDelta(t, ref[i], got[i], ulp+float64(c.kh*c.kw*c.c)*4*encErr, "element %d", i)
				require.False(t, math.IsNaN(got[i]))
			}
		})
	}
}

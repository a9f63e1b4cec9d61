package pond_test

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure/pond"
)

func TestQuickMul(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 1000
	x, y := randValues(r, n, -10, 12), randValues(r, n, -10, 5)
	var got, gotm []float64
	run3(t, 1, func(p *pond.Party) error {
		var in []float64
		if p.ID() == 0 {
			in = x
		}
		sx, err := p.Share(0, in, []int{n})
		if err != nil {
			return err
		}
		in = nil
		if p.ID() == 2 {
			in = y
		}
		sy, err := p.Share(2, in, []int{n})
		if err != nil {
			return err
		}
		z, err := p.Mul(sx, sy)
		if err != nil {
			return err
		}
		v, err := p.Reveal(z, -1)
		if p.ID() == 2 {
			got = v
		}
		a, _ := p.Reshape(sx, 40, 25)
		b, _ := p.Reshape(sy, 25, 40)
		m, err := p.MatMul(a, b)
		if err != nil {
			return err
		}
		v, err = p.Reveal(m, 1)
		if p.ID() == 1 {
			gotm = v
		}
		return err
	})
	for i := range x {
		require.InDelta(t, quantize(x[i])*quantize(y[i]), got[i], ulp, "element %d", i)
	}
	for i := 0; i < 40; i++ {
		for j := 0; j < 40; j++ {
			var s float64
			for k := 0; k < 25; k++ {
				s += quantize(x[i*25+k]) * quantize(y[k*40+j])
			}
			require.InDelta(t, s, gotm[i*40+j], ulp, "%d,%d", i, j)
		}
	}
}

package ring

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewConvGeom(t *testing.T) {
	cases := []struct {
		h, w, kh, kw, sh, sw int
		same                 bool
		outH, outW           int
		top, left, bot, rig  int
	}{
		{28, 28, 5, 5, 1, 1, false, 24, 24, 0, 0, 0, 0},
		{28, 28, 5, 5, 1, 1, true, 28, 28, 2, 2, 2, 2},
		{28, 28, 3, 3, 2, 2, true, 14, 14, 0, 0, 1, 1},
		{28, 28, 2, 2, 2, 2, false, 14, 14, 0, 0, 0, 0},
		{7, 7, 3, 3, 2, 2, false, 3, 3, 0, 0, 0, 0},
		{7, 7, 3, 4, 2, 1, true, 4, 7, 1, 1, 1, 2},
		{5, 5, 1, 1, 2, 2, true, 3, 3, 0, 0, 0, 0},
		{6, 6, 4, 4, 1, 1, true, 6, 6, 1, 1, 2, 2},
		{3, 3, 3, 3, 1, 1, false, 1, 1, 0, 0, 0, 0},
		{2, 2, 5, 5, 1, 1, true, 2, 2, 2, 2, 2, 2},
	}
	for _, c := range cases {
		g, err := NewConvGeom(2, c.h, c.w, 3, c.kh, c.kw, c.sh, c.sw, c.same)
		require.NoError(t, err, "%+v", c)
		assert.Equal(t, ConvGeom{
			N: 2, H: c.h, W: c.w, C: 3, KH: c.kh, KW: c.kw, StrideH: c.sh, StrideW: c.sw,
			PadTop: c.top, PadLeft: c.left, PadBottom: c.bot, PadRight: c.rig, OutH: c.outH, OutW: c.outW,
		}, g, "%+v", c)
	}
	for _, bad := range [][8]int{
		{0, 4, 4, 1, 2, 2, 1, 1}, {1, 4, 4, 0, 2, 2, 1, 1}, {1, 4, 4, 1, 0, 2, 1, 1},
		{1, 4, 4, 1, 2, 2, 0, 1}, {1, 4, 4, 1, 5, 2, 1, 1}, {1, -4, 4, 1, 2, 2, 1, 1},
		{1 << 20, 1 << 10, 1 << 10, 1 << 10, 1, 1, 1, 1},
	} {
		_, err := NewConvGeom(bad[0], bad[1], bad[2], bad[3], bad[4], bad[5], bad[6], bad[7], false)
		assert.ErrorIs(t, err, ErrShape, "%v", bad)
	}
}

// naiveConv is the direct convolution of an NHWC x with KH×KW×C×F filters.
func naiveConv(x, f []uint64, g ConvGeom, nf int) []uint64 {
	out := make([]uint64, g.N*g.OutH*g.OutW*nf)
	for n := range g.N {
		for oh := range g.OutH {
			for ow := range g.OutW {
				for o := range nf {
					var s uint64
					for kh := range g.KH {
						for kw := range g.KW {
							ih, iw := oh*g.StrideH-g.PadTop+kh, ow*g.StrideW-g.PadLeft+kw
							if ih < 0 || ih >= g.H || iw < 0 || iw >= g.W {
								continue
							}
							for c := range g.C {
								s += x[((n*g.H+ih)*g.W+iw)*g.C+c] * f[((kh*g.KW+kw)*g.C+c)*nf+o]
							}
						}
					}
					out[((n*g.OutH+oh)*g.OutW+ow)*nf+o] = s
				}
			}
		}
	}
	return out
}

var convCases = []struct {
	n, h, w, c, kh, kw, sh, sw int
	same                       bool
}{
	{1, 1, 1, 1, 1, 1, 1, 1, false},
	{2, 5, 5, 1, 3, 3, 1, 1, false},
	{2, 5, 5, 1, 3, 3, 1, 1, true},
	{1, 7, 6, 2, 3, 2, 2, 1, true},
	{3, 8, 8, 3, 5, 5, 2, 2, true},
	{1, 6, 9, 2, 4, 4, 3, 2, true},
	{2, 2, 3, 2, 5, 5, 1, 1, true},
	{2, 28, 28, 1, 5, 5, 1, 1, false},
	{1, 9, 9, 4, 3, 3, 3, 3, false},
}

// convGeoms returns the geometries of convCases and hand-built ones whose padding is wider
// than the window, so that whole windows fall in the padding.
func convGeoms(t *testing.T) []ConvGeom {
	var gs []ConvGeom
	for _, c := range convCases {
		g, err := NewConvGeom(c.n, c.h, c.w, c.c, c.kh, c.kw, c.sh, c.sw, c.same)
		require.NoError(t, err)
		gs = append(gs, g)
	}
	wide := ConvGeom{N: 2, H: 3, W: 2, C: 2, KH: 2, KW: 2, StrideH: 1, StrideW: 2,
		PadTop: 3, PadLeft: 3, PadBottom: 1, PadRight: 4}
	wide.OutH = (wide.H+wide.PadTop+wide.PadBottom-wide.KH)/wide.StrideH + 1
	wide.OutW = (wide.W+wide.PadLeft+wide.PadRight-wide.KW)/wide.StrideW + 1
	return append(gs, wide)
}

func TestIm2ColMatchesConvolution(t *testing.T) {
	r := rand.New(rand.NewPCG(30, 31))
	for _, g := range convGeoms(t) {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			x := randTensor(r, g.N, g.H, g.W, g.C)
			const nf = 3
			f := randTensor(r, g.Cols(), nf)
			cols, err := Im2Col(x, g)
			require.NoError(t, err)
			require.Equal(t, []int{g.Rows(), g.Cols()}, cols.Shape)
			y, err := MatMul(cols, f)
			require.NoError(t, err)
			require.Equal(t, naiveConv(x.Data, f.Data, g, nf), y.Data)
		})
	}
}

func dot(a, b []uint64) uint64 {
	var s uint64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestCol2ImIsAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(32, 33))
	for _, g := range convGeoms(t) {
		x := randTensor(r, g.N, g.H, g.W, g.C)
		y := randTensor(r, g.Rows(), g.Cols())
		cols, err := Im2Col(x, g)
		require.NoError(t, err)
		back, err := Col2Im(y, g)
		require.NoError(t, err)
		require.Equal(t, []int{g.N, g.H, g.W, g.C}, back.Shape)
		require.Equal(t, dot(cols.Data, y.Data), dot(x.Data, back.Data), "%+v", g)

		// Col2ImTo overwrites its destination.
		dst := randSlice(r, len(back.Data))
		Col2ImTo(dst, y.Data, g)
		require.Equal(t, back.Data, dst)
	}
}

func TestIm2ColErrors(t *testing.T) {
	g, err := NewConvGeom(2, 5, 5, 1, 3, 3, 1, 1, true)
	require.NoError(t, err)
	_, err = Im2Col(MustNew(2, 5, 5, 2), g)
	assert.ErrorIs(t, err, ErrShape)
	_, err = Im2Col(nil, g)
	assert.ErrorIs(t, err, ErrShape)
	_, err = Col2Im(MustNew(g.Rows(), g.Cols()+1), g)
	assert.ErrorIs(t, err, ErrShape)

	for _, bad := range []ConvGeom{
		{},
		func() ConvGeom { b := g; b.OutH++; return b }(),
		func() ConvGeom { b := g; b.PadLeft = -1; return b }(),
		func() ConvGeom { b := g; b.StrideW = 0; return b }(),
	} {
		_, err := Im2Col(MustNew(bad.N, bad.H, bad.W, bad.C), bad)
		assert.ErrorIs(t, err, ErrShape, "%+v", bad)
		_, err = Col2Im(MustNew(2, 9), bad)
		assert.ErrorIs(t, err, ErrShape, "%+v", bad)
	}
}

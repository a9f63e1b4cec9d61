package mpc

import (
	"fmt"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/secure/ring"
)

// geom converts a window over NHWC images of shape in to the ring's convolution geometry.
func geom(op string, in []int, w backend.Window) (ring.ConvGeom, []int, error) {
	out, err := w.ImageShapes(in)
	if err != nil {
		return ring.ConvGeom{}, nil, fmt.Errorf("%s: %w", op, err)
	}
	g := ring.ConvGeom{
		N: in[0], H: in[1], W: in[2], C: in[3], KH: w.KernelH, KW: w.KernelW,
		StrideH: w.StrideH, StrideW: w.StrideW,
		PadTop: w.PadTop, PadLeft: w.PadLeft, PadBottom: w.PadBottom, PadRight: w.PadRight,
		OutH: out[1], OutW: out[2],
	}
	return g, out, nil
}

// Im2Col unfolds image patches into rows (local).
func (b *engine[S, B, U]) Im2Col(x backend.Tensor, w backend.Window) (backend.Tensor, error) {
	b.p.Begin("Im2Col", b.shape(x))
	s, err := b.get("Im2Col", x)
	if err != nil {
		return nil, err
	}
	g, _, err := geom("Im2Col", s.Shape(), w)
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.MapLinear(s, func(t *ring.Tensor) (*ring.Tensor, error) { return ring.Im2Col(t, g) }))
}

// Col2Im adds rows back into image positions, the adjoint of Im2Col (local). On a pending
// product (a convolution's input gradient dy·Wᵀ, one row per output pixel and KH·KW·C
// columns) it sums the product's terms before their truncation and the result stays pending:
// the truncation then runs on the image, KH·KW/(stride²) times fewer values than the columns.
func (b *engine[S, B, U]) Col2Im(cols backend.Tensor, w backend.Window, inShape []int) (backend.Tensor, error) {
	b.p.Begin("Col2Im", b.shape(cols))
	t, err := b.tensor("Col2Im", cols)
	if err != nil {
		return nil, err
	}
	g, _, err := geom("Col2Im", inShape, w)
	if err != nil {
		return nil, err
	}
	f := func(t *ring.Tensor) (*ring.Tensor, error) { return ring.Col2Im(t, g) }
	if t.p != nil {
		u, err := b.terms(t)
		if err != nil {
			return nil, err
		}
		if u, err = b.p.MapLinearUnreduced(u, f); err != nil {
			return nil, err
		}
		return &tensor[S, U]{p: &pending[S, U]{shape: u.Shape(), u: u, formed: true}}, nil
	}
	return b.wrap(b.p.MapLinear(t.s, f))
}

// poolCounts returns, per output position of a window over images of shape in, 1 over the
// number of window positions inside the image, repeated over the channels: [N*OH*OW*C].
func poolCounts(g ring.ConvGeom) []float64 {
	inv := make([]float64, 0, g.N*g.OutH*g.OutW*g.C)
	for n := 0; n < g.N; n++ {
		for oh := 0; oh < g.OutH; oh++ {
			for ow := 0; ow < g.OutW; ow++ {
				cnt := 0
				for kh := 0; kh < g.KH; kh++ {
					for kw := 0; kw < g.KW; kw++ {
						h, w := oh*g.StrideH+kh-g.PadTop, ow*g.StrideW+kw-g.PadLeft
						if h >= 0 && h < g.H && w >= 0 && w < g.W {
							cnt++
						}
					}
				}
				for c := 0; c < g.C; c++ {
					inv = append(inv, 1/float64(max(cnt, 1)))
				}
			}
		}
	}
	return inv
}

// AvgPool2D averages each channel over each window's in-image positions: a local sum of the
// im2col rows and one product with the public 1/count (one round).
func (b *engine[S, B, U]) AvgPool2D(x backend.Tensor, w backend.Window) (backend.Tensor, error) {
	b.p.Begin("AvgPool2D", b.shape(x))
	s, err := b.get("AvgPool2D", x)
	if err != nil {
		return nil, err
	}
	g, out, err := geom("AvgPool2D", s.Shape(), w)
	if err != nil {
		return nil, err
	}
	sums, err := b.p.MapLinear(s, func(t *ring.Tensor) (*ring.Tensor, error) {
		cols, err := ring.Im2Col(t, g)
		if err != nil {
			return nil, err
		}
		cols, err = cols.Reshape(g.Rows(), g.KH*g.KW, g.C)
		if err != nil {
			return nil, err
		}
		return ring.SumAxis(cols, 1)
	})
	if err != nil {
		return nil, err
	}
	avg, err := b.p.MulPublicTensor(sums, poolCounts(g))
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.Reshape(avg, out...))
}

// AvgPool2DBackward spreads dy evenly over each window's in-image positions (one round).
func (b *engine[S, B, U]) AvgPool2DBackward(dy backend.Tensor, w backend.Window, inShape []int) (backend.Tensor, error) {
	b.p.Begin("AvgPool2DBackward", b.shape(dy))
	s, err := b.get("AvgPool2DBackward", dy)
	if err != nil {
		return nil, err
	}
	g, out, err := geom("AvgPool2DBackward", inShape, w)
	if err != nil {
		return nil, err
	}
	if !ring.SameShape(s.Shape(), out) {
		return nil, fmt.Errorf("%s: AvgPool2DBackward: gradient %v for output %v: %w", b.p.Name(), s.Shape(), out, ring.ErrShape)
	}
	scaled, err := b.p.MulPublicTensor(s, poolCounts(g))
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.MapLinear(scaled, func(t *ring.Tensor) (*ring.Tensor, error) {
		win := g.KH * g.KW
		cols, err := ring.New(g.Rows(), win*g.C)
		if err != nil {
			return nil, err
		}
		for r := 0; r < g.Rows(); r++ {
			src := t.Data[r*g.C : (r+1)*g.C]
			for k := 0; k < win; k++ {
				copy(cols.Data[(r*win+k)*g.C:], src)
			}
		}
		return ring.Col2Im(cols, g)
	}))
}

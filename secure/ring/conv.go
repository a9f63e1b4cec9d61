package ring

import "fmt"

// ConvGeom is the geometry of a 2-D convolution over an NHWC batch: N images of H×W pixels
// with C channels, a KH×KW window moved by StrideH×StrideW, the zero padding on each side,
// and the OutH×OutW output positions. Build it with [NewConvGeom].
type ConvGeom struct {
	N, H, W, C                           int
	KH, KW                               int
	StrideH, StrideW                     int
	PadTop, PadLeft, PadBottom, PadRight int
	OutH, OutW                           int
}

// NewConvGeom returns the geometry of a convolution with Keras/TensorFlow padding rules:
// "valid" (samePadding false) uses no padding and OutH = (H-KH)/StrideH + 1; "same" pads to
// OutH = ceil(H/StrideH) with the total padding max((OutH-1)·StrideH + KH - H, 0) split
// between top and bottom, the odd element at the bottom (and likewise for the width, the odd
// element on the right), as TensorFlow does.
func NewConvGeom(n, h, w, c, kh, kw, strideH, strideW int, samePadding bool) (ConvGeom, error) {
	g := ConvGeom{N: n, H: h, W: w, C: c, KH: kh, KW: kw, StrideH: strideH, StrideW: strideW}
	if n < 1 || h < 1 || w < 1 || c < 1 || kh < 1 || kw < 1 || strideH < 1 || strideW < 1 {
		return ConvGeom{}, fmt.Errorf("conv: input %dx%dx%dx%d, kernel %dx%d, strides %dx%d: every size must be positive: %w",
			n, h, w, c, kh, kw, strideH, strideW, ErrShape)
	}
	if samePadding {
		g.OutH, g.PadTop, g.PadBottom = samePad(h, kh, strideH)
		g.OutW, g.PadLeft, g.PadRight = samePad(w, kw, strideW)
	} else {
		if kh > h || kw > w {
			return ConvGeom{}, fmt.Errorf("conv: kernel %dx%d larger than input %dx%d with valid padding: %w", kh, kw, h, w, ErrShape)
		}
		g.OutH = (h-kh)/strideH + 1
		g.OutW = (w-kw)/strideW + 1
	}
	if err := g.check("conv"); err != nil {
		return ConvGeom{}, err
	}
	return g, nil
}

// samePad returns TensorFlow's output size and padding for "same" along one axis.
func samePad(size, k, stride int) (out, before, after int) {
	out = (size + stride - 1) / stride
	total := max((out-1)*stride+k-size, 0)
	return out, total / 2, total - total/2
}

// Rows is the number of rows of the patch matrix: N·OutH·OutW output positions.
func (g ConvGeom) Rows() int { return g.N * g.OutH * g.OutW }

// Cols is the number of columns of the patch matrix: KH·KW·C values under the window.
func (g ConvGeom) Cols() int { return g.KH * g.KW * g.C }

// check returns an error unless the geometry is one a convolution can have: positive sizes,
// non-negative padding, and OutH, OutW as the padding and strides give them. Tensor-level
// functions call it so that a hand-built ConvGeom never sends a kernel out of range.
func (g ConvGeom) check(op string) error {
	ok := g.N >= 1 && g.H >= 1 && g.W >= 1 && g.C >= 1 && g.KH >= 1 && g.KW >= 1 &&
		g.StrideH >= 1 && g.StrideW >= 1 &&
		g.PadTop >= 0 && g.PadLeft >= 0 && g.PadBottom >= 0 && g.PadRight >= 0 &&
		g.H+g.PadTop+g.PadBottom >= g.KH && g.W+g.PadLeft+g.PadRight >= g.KW &&
		g.OutH == (g.H+g.PadTop+g.PadBottom-g.KH)/g.StrideH+1 &&
		g.OutW == (g.W+g.PadLeft+g.PadRight-g.KW)/g.StrideW+1
	if !ok {
		return fmt.Errorf("%s: inconsistent geometry %+v: %w", op, g, ErrShape)
	}
	if _, err := NumElements([]int{g.N, g.OutH, g.OutW, g.KH, g.KW, g.C}); err != nil {
		return fmt.Errorf("%s: %w: %w", op, err, ErrShape)
	}
	if _, err := NumElements([]int{g.N, g.H, g.W, g.C}); err != nil {
		return fmt.Errorf("%s: %w: %w", op, err, ErrShape)
	}
	return nil
}

// Im2ColTo writes the patch matrix of the NHWC batch x to dst: row (n·OutH + oh)·OutW + ow
// holds the KH×KW×C window under output position (oh, ow) of image n, in (kh, kw, c) order,
// with zeros where the window covers padding:
//
//	dst[((n*OutH+oh)*OutW+ow)*KH*KW*C + (kh*KW+kw)*C + c] = x[((n*H+ih)*W+iw)*C + c]
//
// with ih = oh*StrideH - PadTop + kh and iw = ow*StrideW - PadLeft + kw, or 0 where (ih, iw)
// falls outside the image. It copies each in-range run of the window as one block. A
// convolution with filters in TensorFlow's KH×KW×C×F layout is then the product of dst with
// the filters viewed as a (KH·KW·C)×F matrix. dst must not alias x.
func Im2ColTo(dst, x []uint64, g ConvGeom) {
	cols, kwc := g.Cols(), g.KW*g.C
	dst = dst[:g.Rows()*cols]
	img := g.H * g.W * g.C
	row := 0
	for n := range g.N {
		xn := x[n*img : (n+1)*img]
		for oh := range g.OutH {
			ih0 := oh*g.StrideH - g.PadTop
			for ow := range g.OutW {
				iw0 := ow*g.StrideW - g.PadLeft
				lo, hi := max(0, -iw0), min(g.KW, g.W-iw0) // in-range window columns
				d := dst[row*cols : (row+1)*cols]
				for kh := range g.KH {
					ih := ih0 + kh
					seg := d[kh*kwc : (kh+1)*kwc]
					if ih < 0 || ih >= g.H || lo >= hi {
						clear(seg)
						continue
					}
					clear(seg[:lo*g.C])
					base := (ih*g.W + iw0) * g.C
					copy(seg[lo*g.C:hi*g.C], xn[base+lo*g.C:base+hi*g.C])
					clear(seg[hi*g.C:])
				}
				row++
			}
		}
	}
}

// Col2ImTo sets dst (N×H×W×C) to the adjoint of [Im2ColTo] applied to cols: every entry of
// the patch matrix is added back onto the input pixel it was copied from, and entries over
// padding are dropped. It is the input gradient of a convolution given the gradient of its
// patch matrix, and satisfies <Im2Col(x), y> = <x, Col2Im(y)> in the ring. dst must not
// alias cols.
func Col2ImTo(dst, cols []uint64, g ConvGeom) {
	nc, kwc := g.Cols(), g.KW*g.C
	cols = cols[:g.Rows()*nc]
	img := g.H * g.W * g.C
	dst = dst[:g.N*img]
	clear(dst)
	row := 0
	for n := range g.N {
		xn := dst[n*img : (n+1)*img]
		for oh := range g.OutH {
			ih0 := oh*g.StrideH - g.PadTop
			for ow := range g.OutW {
				iw0 := ow*g.StrideW - g.PadLeft
				lo, hi := max(0, -iw0), min(g.KW, g.W-iw0)
				s := cols[row*nc : (row+1)*nc]
				for kh := range g.KH {
					ih := ih0 + kh
					if ih < 0 || ih >= g.H || lo >= hi {
						continue
					}
					base := (ih*g.W + iw0) * g.C
					px := xn[base+lo*g.C : base+hi*g.C]
					AddTo(px, px, s[kh*kwc+lo*g.C:])
				}
				row++
			}
		}
	}
}

// Im2Col returns the (N·OutH·OutW)×(KH·KW·C) patch matrix of the N×H×W×C tensor x; see
// [Im2ColTo].
func Im2Col(x *Tensor, g ConvGeom) (*Tensor, error) {
	if err := checkTensor("im2col", x); err != nil {
		return nil, err
	}
	if err := g.check("im2col"); err != nil {
		return nil, err
	}
	if !SameShape(x.Shape, []int{g.N, g.H, g.W, g.C}) {
		return nil, fmt.Errorf("im2col: input %v, geometry wants [%d %d %d %d]: %w", x.Shape, g.N, g.H, g.W, g.C, ErrShape)
	}
	out := &Tensor{Shape: []int{g.Rows(), g.Cols()}, Data: make([]uint64, g.Rows()*g.Cols())}
	Im2ColTo(out.Data, x.Data, g)
	return out, nil
}

// Col2Im returns the N×H×W×C adjoint of [Im2Col] applied to the patch matrix cols; see
// [Col2ImTo].
func Col2Im(cols *Tensor, g ConvGeom) (*Tensor, error) {
	if err := checkTensor("col2im", cols); err != nil {
		return nil, err
	}
	if err := g.check("col2im"); err != nil {
		return nil, err
	}
	if !SameShape(cols.Shape, []int{g.Rows(), g.Cols()}) {
		return nil, fmt.Errorf("col2im: patches %v, geometry wants [%d %d]: %w", cols.Shape, g.Rows(), g.Cols(), ErrShape)
	}
	out := &Tensor{Shape: []int{g.N, g.H, g.W, g.C}, Data: make([]uint64, g.N*g.H*g.W*g.C)}
	Col2ImTo(out.Data, cols.Data, g)
	return out, nil
}

package plain

import (
	"fmt"
	"math"
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// image returns x as an NHWC tensor and the output shape of w over it.
func image(op string, x backend.Tensor, w backend.Window) (*Tensor, []int, error) {
	t, err := get(op, x)
	if err != nil {
		return nil, nil, err
	}
	out, err := w.ImageShapes(t.shape)
	if err != nil {
		return nil, nil, fmt.Errorf("plain: %s: %w", op, err)
	}
	return t, out, nil
}

// Im2Col unfolds the windows of x into rows [N*OH*OW, KH*KW*C].
func (b *Backend) Im2Col(x backend.Tensor, w backend.Window) (backend.Tensor, error) {
	t, os, err := image("Im2Col", x, w)
	if err != nil {
		return nil, err
	}
	N, H, W, C := t.shape[0], t.shape[1], t.shape[2], t.shape[3]
	OH, OW := os[1], os[2]
	K := w.KernelH * w.KernelW * C
	out := newT([]int{N * OH * OW, K})
	row := 0
	for n := 0; n < N; n++ {
		img := t.data[n*H*W*C : (n+1)*H*W*C]
		for oh := 0; oh < OH; oh++ {
			for ow := 0; ow < OW; ow++ {
				d := out.data[row*K : (row+1)*K]
				row++
				for kh := 0; kh < w.KernelH; kh++ {
					ih := oh*w.StrideH + kh - w.PadTop
					if ih < 0 || ih >= H {
						continue
					}
					for kw := 0; kw < w.KernelW; kw++ {
						iw := ow*w.StrideW + kw - w.PadLeft
						if iw < 0 || iw >= W {
							continue
						}
						o := (kh*w.KernelW + kw) * C
						copy(d[o:o+C], img[(ih*W+iw)*C:(ih*W+iw+1)*C])
					}
				}
			}
		}
	}
	return out, nil
}

// Col2Im adds the rows of cols back into an image tensor of inShape.
func (b *Backend) Col2Im(cols backend.Tensor, w backend.Window, inShape []int) (backend.Tensor, error) {
	t, err := get("Col2Im", cols)
	if err != nil {
		return nil, err
	}
	os, err := w.ImageShapes(inShape)
	if err != nil {
		return nil, fmt.Errorf("plain: Col2Im: %w", err)
	}
	N, H, W, C := inShape[0], inShape[1], inShape[2], inShape[3]
	OH, OW := os[1], os[2]
	K := w.KernelH * w.KernelW * C
	if !slices.Equal(t.shape, []int{N * OH * OW, K}) {
		return nil, fmt.Errorf("plain: Col2Im: columns %v do not match [%d %d] for input %v", t.shape, N*OH*OW, K, inShape)
	}
	out := newT(inShape)
	row := 0
	for n := 0; n < N; n++ {
		img := out.data[n*H*W*C : (n+1)*H*W*C]
		for oh := 0; oh < OH; oh++ {
			for ow := 0; ow < OW; ow++ {
				s := t.data[row*K : (row+1)*K]
				row++
				for kh := 0; kh < w.KernelH; kh++ {
					ih := oh*w.StrideH + kh - w.PadTop
					if ih < 0 || ih >= H {
						continue
					}
					for kw := 0; kw < w.KernelW; kw++ {
						iw := ow*w.StrideW + kw - w.PadLeft
						if iw < 0 || iw >= W {
							continue
						}
						d := img[(ih*W+iw)*C : (ih*W+iw+1)*C]
						src := s[(kh*w.KernelW+kw)*C:]
						for c := range d {
							d[c] += src[c]
						}
					}
				}
			}
		}
	}
	return out, nil
}

// poolWindows calls f for every output position with the flat offset of its output row (C
// values) and the flat offsets of the in-image window positions (C values each).
func poolWindows(shape []int, w backend.Window, oh, ow int, f func(out int, in []int)) {
	N, H, W, C := shape[0], shape[1], shape[2], shape[3]
	in := make([]int, 0, w.KernelH*w.KernelW)
	o := 0
	for n := 0; n < N; n++ {
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				in = in[:0]
				for kh := 0; kh < w.KernelH; kh++ {
					ih := y*w.StrideH + kh - w.PadTop
					if ih < 0 || ih >= H {
						continue
					}
					for kw := 0; kw < w.KernelW; kw++ {
						iw := x*w.StrideW + kw - w.PadLeft
						if iw < 0 || iw >= W {
							continue
						}
						in = append(in, ((n*H+ih)*W+iw)*C)
					}
				}
				f(o, in)
				o += C
			}
		}
	}
}

// MaxPool2D returns the window maxima and, as the mask, the flat input index of each maximum.
func (b *Backend) MaxPool2D(x backend.Tensor, w backend.Window) (backend.Tensor, backend.Tensor, error) {
	t, os, err := image("MaxPool2D", x, w)
	if err != nil {
		return nil, nil, err
	}
	C := t.shape[3]
	out, arg := newT(os), newT(os)
	poolWindows(t.shape, w, os[1], os[2], func(o int, in []int) {
		d, a := out.data[o:o+C], arg.data[o:o+C]
		for c := range d {
			d[c] = math.Inf(-1)
			a[c] = -1
		}
		for _, i := range in {
			s := t.data[i : i+C]
			for c, v := range s {
				if v > d[c] || a[c] < 0 {
					d[c], a[c] = v, float64(i+c)
				}
			}
		}
	})
	return out, arg, nil
}

// MaxPool2DBackward adds each element of dy to the input position its mask names.
func (b *Backend) MaxPool2DBackward(dy, argmax backend.Tensor, w backend.Window, inShape []int) (backend.Tensor, error) {
	g, a, err := get2("MaxPool2DBackward", dy, argmax)
	if err != nil {
		return nil, err
	}
	os, err := w.ImageShapes(inShape)
	if err != nil {
		return nil, fmt.Errorf("plain: MaxPool2DBackward: %w", err)
	}
	if !slices.Equal(g.shape, os) {
		return nil, fmt.Errorf("plain: MaxPool2DBackward: gradient shape %v does not match %v for input %v", g.shape, os, inShape)
	}
	out := newT(inShape)
	for i, v := range g.data {
		j := int(a.data[i])
		if j < 0 || j >= len(out.data) {
			return nil, fmt.Errorf("plain: MaxPool2DBackward: mask does not come from MaxPool2D over %v", inShape)
		}
		out.data[j] += v
	}
	return out, nil
}

// AvgPool2D averages each window over its in-image positions.
func (b *Backend) AvgPool2D(x backend.Tensor, w backend.Window) (backend.Tensor, error) {
	t, os, err := image("AvgPool2D", x, w)
	if err != nil {
		return nil, err
	}
	C := t.shape[3]
	out := newT(os)
	poolWindows(t.shape, w, os[1], os[2], func(o int, in []int) {
		d := out.data[o : o+C]
		for _, i := range in {
			s := t.data[i : i+C]
			for c := range d {
				d[c] += s[c]
			}
		}
		if len(in) > 0 {
			inv := 1 / float64(len(in))
			for c := range d {
				d[c] *= inv
			}
		}
	})
	return out, nil
}

// AvgPool2DBackward spreads dy evenly over each window's in-image positions.
func (b *Backend) AvgPool2DBackward(dy backend.Tensor, w backend.Window, inShape []int) (backend.Tensor, error) {
	g, err := get("AvgPool2DBackward", dy)
	if err != nil {
		return nil, err
	}
	os, err := w.ImageShapes(inShape)
	if err != nil {
		return nil, fmt.Errorf("plain: AvgPool2DBackward: %w", err)
	}
	if !slices.Equal(g.shape, os) {
		return nil, fmt.Errorf("plain: AvgPool2DBackward: gradient shape %v does not match %v for input %v", g.shape, os, inShape)
	}
	C := inShape[3]
	out := newT(inShape)
	poolWindows(inShape, w, os[1], os[2], func(o int, in []int) {
		if len(in) == 0 {
			return
		}
		inv := 1 / float64(len(in))
		s := g.data[o : o+C]
		for _, i := range in {
			d := out.data[i : i+C]
			for c := range d {
				d[c] += s[c] * inv
			}
		}
	})
	return out, nil
}

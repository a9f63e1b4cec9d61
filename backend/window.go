package backend

import (
	"fmt"
	"strings"
)

// Window describes a 2-D sliding window over NHWC images: the kernel of a convolution or the
// pool of a pooling layer, its strides, and the zero padding added around each image.
type Window struct {
	KernelH, KernelW                     int // window height and width
	StrideH, StrideW                     int // steps between windows
	PadTop, PadBottom, PadLeft, PadRight int // rows and columns added around the image
}

// NewWindow returns the window of a kernel (kh, kw) moved by strides (sh, sw) over images of
// height h and width w with Keras padding "valid" (no padding) or "same" (TensorFlow's rule:
// ceil(h/sh) output rows, the padding split evenly with any odd row at the bottom, and
// likewise for columns).
func NewWindow(h, w, kh, kw, sh, sw int, padding string) (Window, error) {
	win := Window{KernelH: kh, KernelW: kw, StrideH: sh, StrideW: sw}
	if err := win.checkSizes(); err != nil {
		return Window{}, err
	}
	if h <= 0 || w <= 0 {
		return Window{}, fmt.Errorf("window: image size %dx%d must be positive", h, w)
	}
	switch strings.ToLower(padding) {
	case "valid", "":
	case "same":
		ph := max((ceilDiv(h, sh)-1)*sh+kh-h, 0)
		pw := max((ceilDiv(w, sw)-1)*sw+kw-w, 0)
		win.PadTop, win.PadBottom = ph/2, ph-ph/2
		win.PadLeft, win.PadRight = pw/2, pw-pw/2
	default:
		return Window{}, fmt.Errorf("window: unknown padding %q (want \"valid\" or \"same\")", padding)
	}
	if _, _, err := win.OutputSize(h, w); err != nil {
		return Window{}, err
	}
	return win, nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func (w Window) checkSizes() error {
	if w.KernelH <= 0 || w.KernelW <= 0 {
		return fmt.Errorf("window: size %dx%d must be positive", w.KernelH, w.KernelW)
	}
	if w.StrideH <= 0 || w.StrideW <= 0 {
		return fmt.Errorf("window: strides %dx%d must be positive", w.StrideH, w.StrideW)
	}
	if w.PadTop < 0 || w.PadBottom < 0 || w.PadLeft < 0 || w.PadRight < 0 {
		return fmt.Errorf("window: negative padding %+v", w)
	}
	return nil
}

// OutputSize returns the number of window positions over an image of height h and width w:
// (h + PadTop + PadBottom - KernelH)/StrideH + 1 rows, and likewise columns. It is an error
// when the window does not fit the padded image.
func (w Window) OutputSize(h, wd int) (oh, ow int, err error) {
	if err := w.checkSizes(); err != nil {
		return 0, 0, err
	}
	ph, pw := h+w.PadTop+w.PadBottom, wd+w.PadLeft+w.PadRight
	if ph < w.KernelH || pw < w.KernelW {
		return 0, 0, fmt.Errorf("window: %dx%d window does not fit a %dx%d image (padded %dx%d)",
			w.KernelH, w.KernelW, h, wd, ph, pw)
	}
	return (ph-w.KernelH)/w.StrideH + 1, (pw-w.KernelW)/w.StrideW + 1, nil
}

// ImageShapes checks that in is an NHWC shape [N, H, W, C] the window fits and returns the
// output shape [N, OH, OW, C].
func (w Window) ImageShapes(in []int) ([]int, error) {
	if len(in) != 4 {
		return nil, fmt.Errorf("window: input shape %v is not NHWC (rank 4)", in)
	}
	for _, d := range in {
		if d <= 0 {
			return nil, fmt.Errorf("window: input shape %v has a non-positive dimension", in)
		}
	}
	oh, ow, err := w.OutputSize(in[1], in[2])
	if err != nil {
		return nil, err
	}
	return []int{in[0], oh, ow, in[3]}, nil
}

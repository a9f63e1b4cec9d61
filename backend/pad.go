package backend

import "fmt"

// Padder is implemented by backends that pad images with zeros (the plain and the secure
// engine). Layers that need it check for it, as for [ShareCodec].
type Padder interface {
	// Pad2D adds pads[0] rows of zeros above the images of x [N, H, W, C], pads[1] below,
	// pads[2] columns on the left and pads[3] on the right; a negative amount removes as many
	// rows or columns instead (the adjoint, for the backward pass).
	Pad2D(x Tensor, pads [4]int) (Tensor, error)
}

// PadImages is the reference of Pad2D over the row-major elements src of an NHWC tensor of the
// given shape, for any element type: it returns the padded (or cropped) elements and shape.
// Zero values of T fill the padding.
func PadImages[T any](src []T, shape []int, pads [4]int) ([]T, []int, error) {
	if len(shape) != 4 {
		return nil, nil, fmt.Errorf("Pad2D: shape %v is not [N, H, W, C]", shape)
	}
	n, h, w, c := shape[0], shape[1], shape[2], shape[3]
	oh, ow := h+pads[0]+pads[1], w+pads[2]+pads[3]
	if oh <= 0 || ow <= 0 || -pads[0] >= h || -pads[2] >= w {
		return nil, nil, fmt.Errorf("Pad2D: pads %v of an image %dx%d leave nothing", pads, h, w)
	}
	out := []int{n, oh, ow, c}
	size, err := NumElements(out)
	if err != nil {
		return nil, nil, fmt.Errorf("Pad2D: %w", err)
	}
	if len(src) != n*h*w*c {
		return nil, nil, fmt.Errorf("Pad2D: %d elements for shape %v", len(src), shape)
	}
	dst := make([]T, size)
	// Output row y reads input row y - top, column x reads x - left, where they exist.
	for b := range n {
		for y := range oh {
			iy := y - pads[0]
			if iy < 0 || iy >= h {
				continue
			}
			x0, x1 := max(0, pads[2]), min(ow, w+pads[2]) // output columns with an input column
			copy(dst[((b*oh+y)*ow+x0)*c:((b*oh+y)*ow+x1)*c], src[((b*h+iy)*w+x0-pads[2])*c:])
		}
	}
	return dst, out, nil
}

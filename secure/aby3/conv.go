package aby3

import (
	"fmt"

	"github.com/gotfe/gotfe/secure/ring"
)

// Conv2D returns the fixed-point convolution of images x [N, H, W, C] with kernels
// w [KH, KW, C, F] under geometry g (strides and padding; NHWC), as TensorFlow's conv2d
// computes it (a cross-correlation): x is unfolded locally by im2col into
// [N·OH·OW, KH·KW·C] and multiplied by w reshaped to [KH·KW·C, F] with one truncating
// product: two rounds, one ring element sent per output element by every party. The result
// has shape [N, OH, OW, F]; its error is that of [Party.MatMul].
func (p *Party) Conv2D(x, w *Shared, g ring.ConvGeom) (*Shared, error) {
	if len(w.shape) != 4 || w.shape[0] != g.KH || w.shape[1] != g.KW || w.shape[2] != g.C {
		return nil, fmt.Errorf("aby3: conv2d: kernel %v does not match geometry %dx%dx%d: %w", w.shape, g.KH, g.KW, g.C, ring.ErrShape)
	}
	if len(x.shape) != 4 || x.shape[0] != g.N || x.shape[1] != g.H || x.shape[2] != g.W || x.shape[3] != g.C {
		return nil, fmt.Errorf("aby3: conv2d: input %v does not match geometry %dx%dx%dx%d: %w", x.shape, g.N, g.H, g.W, g.C, ring.ErrShape)
	}
	cols, err := MapLinear(x, func(t *ring.Tensor) (*ring.Tensor, error) { return ring.Im2Col(t, g) })
	if err != nil {
		return nil, err
	}
	f := w.shape[3]
	kernel, err := p.Reshape(w, g.KH*g.KW*g.C, f)
	if err != nil {
		return nil, err
	}
	out, err := p.MatMul(cols, kernel)
	if err != nil {
		return nil, err
	}
	return p.Reshape(out, g.N, g.OutH, g.OutW, f)
}

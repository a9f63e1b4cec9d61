package plain

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
)

func randT(t *testing.T, r *rand.Rand, shape ...int) *Tensor {
	t.Helper()
	n, err := backend.NumElements(shape)
	require.NoError(t, err)
	v := make([]float64, n)
	for i := range v {
		v[i] = r.Float64()*2 - 1
	}
	x, err := NewTensor(v, shape)
	require.NoError(t, err)
	return x
}

// vf returns a function that checks err and returns the values of x.
func vf(t *testing.T) func(x backend.Tensor, err error) []float64 {
	return func(x backend.Tensor, err error) []float64 {
		t.Helper()
		require.NoError(t, err)
		return x.(*Tensor).Values()
	}
}

func TestMatMulAgainstLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	b := New()
	for _, tc := range []struct {
		name           string
		batch, m, k, n int
		ta, tb         bool
	}{
		{"ab", 0, 3, 4, 5, false, false},
		{"aTb", 0, 3, 4, 5, true, false},
		{"abT", 0, 3, 4, 5, false, true},
		{"aTbT", 0, 2, 7, 3, true, true},
		{"batched", 3, 2, 4, 5, false, false},
		{"batched aT", 2, 4, 3, 2, true, false},
		{"batched bT", 2, 4, 3, 2, false, true},
		{"vector", 0, 1, 6, 1, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bs := max(tc.batch, 1)
			ashape := []int{tc.m, tc.k}
			if tc.ta {
				ashape = []int{tc.k, tc.m}
			}
			bshape := []int{tc.k, tc.n}
			if tc.tb {
				bshape = []int{tc.n, tc.k}
			}
			if tc.batch > 0 {
				ashape = append([]int{tc.batch}, ashape...)
				bshape = append([]int{tc.batch}, bshape...)
			}
			x, y := randT(t, r, ashape...), randT(t, r, bshape...)
			got, err := b.MatMul(x, y, tc.ta, tc.tb)
			require.NoError(t, err)
			out := got.(*Tensor).Values()
			require.Len(t, out, bs*tc.m*tc.n)
			for s := 0; s < bs; s++ {
				for i := 0; i < tc.m; i++ {
					for j := 0; j < tc.n; j++ {
						want := 0.0
						for l := 0; l < tc.k; l++ {
							var av, bv float64
							if tc.ta {
								av = x.data[s*tc.m*tc.k+l*tc.m+i]
							} else {
								av = x.data[s*tc.m*tc.k+i*tc.k+l]
							}
							if tc.tb {
								bv = y.data[s*tc.n*tc.k+j*tc.k+l]
							} else {
								bv = y.data[s*tc.n*tc.k+l*tc.n+j]
							}
							want += av * bv
						}
						assert.InDelta(t, want, out[s*tc.m*tc.n+i*tc.n+j], 1e-12)
					}
				}
			}
		})
	}
}

// naiveConv computes a convolution of x [N,H,W,C] with kernel [KH,KW,C,F] directly.
func naiveConv(x *Tensor, k *Tensor, w backend.Window) ([]float64, []int) {
	N, H, W, C := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	F := k.shape[3]
	OH, OW, _ := w.OutputSize(H, W)
	out := make([]float64, N*OH*OW*F)
	for n := 0; n < N; n++ {
		for oh := 0; oh < OH; oh++ {
			for ow := 0; ow < OW; ow++ {
				for f := 0; f < F; f++ {
					s := 0.0
					for kh := 0; kh < w.KernelH; kh++ {
						for kw := 0; kw < w.KernelW; kw++ {
							ih, iw := oh*w.StrideH+kh-w.PadTop, ow*w.StrideW+kw-w.PadLeft
							if ih < 0 || ih >= H || iw < 0 || iw >= W {
								continue
							}
							for c := 0; c < C; c++ {
								s += x.data[((n*H+ih)*W+iw)*C+c] * k.data[((kh*w.KernelW+kw)*C+c)*F+f]
							}
						}
					}
					out[((n*OH+oh)*OW+ow)*F+f] = s
				}
			}
		}
	}
	return out, []int{N, OH, OW, F}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestIm2ColConvAndAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := New()
	for _, tc := range []struct {
		name           string
		n, h, w, c, f  int
		kh, kw, sh, sw int
		padding        string
	}{
		{"3x3 valid", 2, 5, 6, 3, 4, 3, 3, 1, 1, "valid"},
		{"3x3 same", 2, 5, 6, 3, 4, 3, 3, 1, 1, "same"},
		{"2x2 stride 2", 1, 6, 6, 2, 3, 2, 2, 2, 2, "valid"},
		{"3x2 stride 2 same", 2, 7, 5, 1, 2, 3, 2, 2, 2, "same"},
		{"1x1", 1, 3, 3, 4, 2, 1, 1, 1, 1, "valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			win, err := backend.NewWindow(tc.h, tc.w, tc.kh, tc.kw, tc.sh, tc.sw, tc.padding)
			require.NoError(t, err)
			x := randT(t, r, tc.n, tc.h, tc.w, tc.c)
			k := randT(t, r, tc.kh, tc.kw, tc.c, tc.f)
			cols, err := b.Im2Col(x, win)
			require.NoError(t, err)
			k2, err := b.Reshape(k, []int{-1, tc.f})
			require.NoError(t, err)
			got := vf(t)(b.MatMul(cols, k2, false, false))
			want, shape := naiveConv(x, k, win)
			require.Equal(t, len(want), len(got))
			assert.InDeltaSlice(t, want, got, 1e-12)
			if tc.padding == "same" {
				assert.Equal(t, []int{tc.n, (tc.h + tc.sh - 1) / tc.sh, (tc.w + tc.sw - 1) / tc.sw, tc.f}, shape)
			}
			// Col2Im is the adjoint: <Im2Col(x), c> == <x, Col2Im(c)>.
			c := randT(t, r, cols.Shape()...)
			back := vf(t)(b.Col2Im(c, win, x.shape))
			assert.InDelta(t, dot(cols.(*Tensor).data, c.data), dot(x.data, back), 1e-9)
		})
	}
}

func TestPooling(t *testing.T) {
	b := New()
	// One 4x4 image, 2 channels: channel 0 counts up, channel 1 counts down.
	v := make([]float64, 32)
	for i := 0; i < 16; i++ {
		v[2*i], v[2*i+1] = float64(i), float64(-i)
	}
	x, err := NewTensor(v, []int{1, 4, 4, 2})
	require.NoError(t, err)
	win, err := backend.NewWindow(4, 4, 2, 2, 2, 2, "valid")
	require.NoError(t, err)
	out, arg, err := b.MaxPool2D(x, win)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 2, 2}, out.Shape())
	assert.Equal(t, []float64{5, 0, 7, -2, 13, -8, 15, -10}, out.(*Tensor).Values())
	g, err := NewTensor([]float64{1, 2, 3, 4, 5, 6, 7, 8}, []int{1, 2, 2, 2})
	require.NoError(t, err)
	dx := vf(t)(b.MaxPool2DBackward(g, arg, win, x.shape))
	want := make([]float64, 32)
	want[2*5], want[2*0+1], want[2*7], want[2*2+1] = 1, 2, 3, 4
	want[2*13], want[2*8+1], want[2*15], want[2*10+1] = 5, 6, 7, 8
	assert.Equal(t, want, dx)

	avg := vf(t)(b.AvgPool2D(x, win))
	assert.Equal(t, []float64{2.5, -2.5, 4.5, -4.5, 10.5, -10.5, 12.5, -12.5}, avg)
	// Same padding on 3x3 with 2x2 windows: edge windows average fewer positions.
	x3, err := NewTensor([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}, []int{1, 3, 3, 1})
	require.NoError(t, err)
	ws, err := backend.NewWindow(3, 3, 2, 2, 2, 2, "same")
	require.NoError(t, err)
	assert.Equal(t, []float64{3, 4.5, 7.5, 9}, vf(t)(b.AvgPool2D(x3, ws)))
	// Adjointness of the average pooling gradient.
	r := rand.New(rand.NewPCG(5, 6))
	xr := randT(t, r, 2, 5, 5, 3)
	wr, err := backend.NewWindow(5, 5, 3, 3, 2, 2, "same")
	require.NoError(t, err)
	y, err := b.AvgPool2D(xr, wr)
	require.NoError(t, err)
	gr := randT(t, r, y.Shape()...)
	back := vf(t)(b.AvgPool2DBackward(gr, wr, xr.shape))
	assert.InDelta(t, dot(y.(*Tensor).data, gr.data), dot(xr.data, back), 1e-9)
}

func TestShapeOps(t *testing.T) {
	b := New()
	x, err := NewTensor([]float64{1, 2, 3, 4, 5, 6}, []int{2, 3})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 4, 2, 5, 3, 6}, vf(t)(b.Transpose(x, nil)))
	assert.Equal(t, []float64{5, 7, 9}, vf(t)(b.Sum(x, 0, false)))
	s, err := b.Sum(x, -1, true)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 1}, s.Shape())
	assert.Equal(t, []float64{6, 15}, s.(*Tensor).Values())
	assert.Equal(t, []float64{2, 5}, vf(t)(b.Mean(x, 1, false)))
	assert.Equal(t, []float64{21}, vf(t)(b.SumAll(x)))
	assert.Equal(t, []float64{6, 6, 6, 15, 15, 15}, vf(t)(b.BroadcastTo(s, []int{2, 3})))
	bias, err := NewTensor([]float64{10, 20, 30}, []int{3})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}, vf(t)(b.BroadcastTo(x, []int{2, 2, 3})))
	assert.Equal(t, []float64{10, 20, 30, 10, 20, 30}, vf(t)(b.BroadcastTo(bias, []int{2, 3})))
	assert.Equal(t, []float64{11, 22, 33, 14, 25, 36}, vf(t)(b.AddBias(x, bias)))
	r, err := b.Reshape(x, []int{3, -1})
	require.NoError(t, err)
	assert.Equal(t, []int{3, 2}, r.Shape())

	// General permutation against index arithmetic.
	rr := rand.New(rand.NewPCG(7, 8))
	y := randT(t, rr, 2, 3, 4, 5)
	perm := []int{2, 0, 3, 1}
	tr, err := b.Transpose(y, perm)
	require.NoError(t, err)
	assert.Equal(t, []int{4, 2, 5, 3}, tr.Shape())
	got := tr.(*Tensor).data
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 4; k++ {
				for l := 0; l < 5; l++ {
					require.Equal(t, y.data[((i*3+j)*4+k)*5+l], got[((k*2+i)*5+l)*3+j])
				}
			}
		}
	}
	// Broadcasting a middle axis.
	m, err := NewTensor([]float64{1, 2, 3, 4}, []int{2, 1, 2})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}, vf(t)(b.BroadcastTo(m, []int{2, 3, 2})))
	// Sum over a middle axis.
	assert.Equal(t, []float64{4, 6}, vf(t)(b.Sum(m, 0, false))[:2])
}

func TestNonlinear(t *testing.T) {
	b := New()
	x, err := NewTensor([]float64{-2, 0, 1, 3, 3, -1}, []int{2, 3})
	require.NoError(t, err)
	out, mask, err := b.ReLU(x)
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 0, 1, 3, 3, 0}, out.(*Tensor).Values())
	g, err := NewTensor([]float64{1, 1, 1, 1, 1, 1}, []int{2, 3})
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 0, 1, 1, 1, 0}, vf(t)(b.MulMask(g, mask)))
	sm := vf(t)(b.Softmax(x))
	e := []float64{math.Exp(-2), 1, math.E}
	assert.InDelta(t, e[2]/(e[0]+e[1]+e[2]), sm[2], 1e-15)
	assert.InDelta(t, 1.0, sm[3]+sm[4]+sm[5], 1e-15)
	assert.Equal(t, []float64{0, 0, 1, 1, 0, 0}, vf(t)(b.ArgMaxMask(x)))
	idx, err := b.ArgMax(x, -1)
	require.NoError(t, err)
	assert.Equal(t, []int{2, 0}, idx)
	sg := vf(t)(b.Sigmoid(x))
	assert.InDelta(t, 1/(1+math.Exp(2)), sg[0], 1e-15)
	big, err := NewTensor([]float64{-1000, 1000}, []int{2})
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 1}, vf(t)(b.Sigmoid(big)))
	assert.Equal(t, []float64{-1, 0, 1, 2, 2, -1}, vf(t)(b.Clip(x, -1, 2)))
	assert.Equal(t, []float64{0.5}, vf(t)(b.InvSqrt(must(NewTensor([]float64{4}, []int{1})))))
}

func must(t *Tensor, err error) *Tensor {
	if err != nil {
		panic(err)
	}
	return t
}

func TestRandomness(t *testing.T) {
	b := New()
	u1 := vf(t)(b.RandomUniform([]int{1000}, -0.5, 0.5, 9))
	u2 := vf(t)(b.RandomUniform([]int{1000}, -0.5, 0.5, 9))
	assert.Equal(t, u1, u2)
	for _, v := range u1 {
		require.True(t, v >= -0.5 && v < 0.5)
	}
	m := vf(t)(b.DropoutMask([]int{10000}, 0.25, 3))
	kept := 0
	for _, v := range m {
		if v != 0 {
			assert.InDelta(t, 4.0/3, v, 1e-15)
			kept++
		}
	}
	assert.InDelta(t, 7500, kept, 200)
	assert.NotEqual(t, backend.DeriveSeed(1, 2), backend.DeriveSeed(1, 3))
}

func TestErrors(t *testing.T) {
	b := New()
	r := rand.New(rand.NewPCG(1, 1))
	a, c := randT(t, r, 2, 3), randT(t, r, 4, 5)
	_, err := b.MatMul(a, c, false, false)
	assert.ErrorContains(t, err, "inner dimensions")
	_, err = b.Add(a, c)
	assert.ErrorContains(t, err, "differ")
	_, err = b.Reshape(a, []int{4, -1})
	assert.Error(t, err)
	_, err = b.Sum(a, 2, false)
	assert.ErrorContains(t, err, "axis 2")
	_, err = b.Input(nil, []int{2}, 0)
	assert.ErrorContains(t, err, "no data")
	_, err = b.Const([]float64{1}, []int{2})
	assert.Error(t, err)
	_, err = b.BroadcastTo(a, []int{3, 3})
	assert.Error(t, err)
	_, err = b.Transpose(a, []int{0, 0})
	assert.Error(t, err)
	_, err = b.Im2Col(a, backend.Window{KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1})
	assert.ErrorContains(t, err, "NHWC")
	_, err = backend.NewWindow(2, 2, 3, 3, 1, 1, "valid")
	assert.Error(t, err)
	_, err = backend.NewWindow(2, 2, 1, 1, 1, 1, "full")
	assert.ErrorContains(t, err, "unknown padding")
	_, err = b.Add(a, nil)
	assert.ErrorContains(t, err, "not a plain tensor")
}

// Input and Const refuse what the secure engine cannot encode, naming the first bad element.
func TestNonFiniteInputs(t *testing.T) {
	b := New()
	tests := []struct {
		name string
		data []float64
		want string // "" for no error
	}{
		{"finite", []float64{0, -1, math.MaxFloat64, -math.SmallestNonzeroFloat64}, ""},
		{"NaN", []float64{1, 2, math.NaN(), 4}, "element 2 is NaN"},
		{"+Inf", []float64{math.Inf(1), 0, 0, 0}, "element 0 is +Inf"},
		{"-Inf after NaN", []float64{0, 0, 0, math.Inf(-1)}, "element 3 is -Inf"},
		{"first of several", []float64{0, math.Inf(-1), math.NaN(), math.Inf(1)}, "element 1 is -Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for op, f := range map[string]func() (backend.Tensor, error){
				"Input": func() (backend.Tensor, error) { return b.Input(tt.data, []int{2, 2}, 0) },
				"Const": func() (backend.Tensor, error) { return b.Const(tt.data, []int{2, 2}) },
			} {
				x, err := f()
				if tt.want == "" {
					require.NoError(t, err, op)
					assert.Equal(t, tt.data, x.(*Tensor).Values(), op)
					continue
				}
				require.ErrorContains(t, err, "plain: "+op+": "+tt.want, op)
				assert.ErrorContains(t, err, "not a finite number", op)
			}
		})
	}
}

package layers

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/plain"
)

func randVals(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.Float64()*2 - 1
	}
	return v
}

func tensor(t *testing.T, b *plain.Backend, v []float64, shape []int) backend.Tensor {
	t.Helper()
	x, err := b.Const(v, shape)
	require.NoError(t, err)
	return x
}

func values(t *testing.T, x backend.Tensor) []float64 {
	t.Helper()
	return x.(*plain.Tensor).Values()
}

// gradCase is one layer whose backward pass is checked against central differences of
// L = sum(r * Forward(x)) for random x, weights and r.
type gradCase struct {
	name     string
	layer    Layer
	in       []int
	batch    int
	training bool
}

func TestBackwardMatchesNumericalGradient(t *testing.T) {
	cases := []gradCase{
		{"dense relu", Dense(4, Activation("relu")), []int{5}, 3, true},
		{"dense linear rank 3", Dense(3), []int{2, 5}, 2, true},
		{"dense sigmoid no bias", Dense(3, Activation("sigmoid"), UseBias(false)), []int{4}, 3, true},
		{"dense tanh", Dense(3, Activation("tanh")), []int{4}, 2, true},
		{"dense softmax", Dense(4, Activation("softmax")), []int{3}, 3, true},
		{"conv2d valid relu", Conv2D(3, [2]int{3, 3}, Activation("relu")), []int{5, 5, 2}, 2, true},
		{"conv2d same stride 2", Conv2D(2, [2]int{3, 2}, Strides(2, 2), Padding("same")), []int{5, 6, 3}, 2, true},
		{"conv2d 1x1 no bias", Conv2D(2, [2]int{1, 1}, UseBias(false)), []int{3, 3, 2}, 1, true},
		{"depthwise valid", DepthwiseConv2D([2]int{3, 3}), []int{4, 5, 2}, 2, true},
		{"depthwise same x2 stride 2 tanh", DepthwiseConv2D([2]int{2, 3}, DepthMultiplier(2), Strides(2, 2), Padding("same"), Activation("tanh")), []int{5, 5, 3}, 2, true},
		{"max pool valid", MaxPooling2D(), []int{4, 4, 2}, 2, true},
		{"max pool same 3x3 stride 2", MaxPooling2D(PoolSize(3, 3), Strides(2, 2), Padding("same")), []int{5, 5, 2}, 2, true},
		{"avg pool valid", AveragePooling2D(), []int{4, 6, 2}, 2, true},
		{"avg pool same", AveragePooling2D(PoolSize(3, 3), Strides(2, 2), Padding("same")), []int{5, 4, 1}, 2, true},
		{"global avg", GlobalAveragePooling2D(), []int{3, 4, 2}, 2, true},
		{"global max", GlobalMaxPooling2D(), []int{3, 4, 2}, 2, true},
		{"flatten", Flatten(), []int{2, 3, 2}, 2, true},
		{"zero padding", ZeroPadding2D([2][2]int{{1, 0}, {2, 1}}), []int{2, 3, 2}, 2, true},
		{"reshape", Reshape([]int{3, -1}), []int{6}, 2, true},
		{"activation softmax", Activation("softmax"), []int{5}, 3, true},
		{"activation sigmoid", Activation("sigmoid"), []int{2, 3}, 2, true},
		{"relu layer", ReLU(), []int{7}, 3, true},
		{"activation relu6", Activation("relu6"), []int{7}, 3, true},
		{"dense relu6", Dense(3, Activation("relu6")), []int{4}, 2, true},
		{"dropout training", Dropout(0.5), []int{10}, 4, true},
		{"dropout inference", Dropout(0.5), []int{10}, 4, false},
		{"batchnorm training", BatchNormalization(), []int{3}, 5, true},
		{"batchnorm training images", BatchNormalization(Epsilon(0.01)), []int{2, 2, 3}, 2, true},
		{"batchnorm inference", BatchNormalization(), []int{2, 3}, 3, false},
		{"leaky relu layer", LeakyReLU(NegativeSlope(0.1)), []int{7}, 3, true},
		{"elu layer", ELU(Alpha(0.7)), []int{7}, 3, true},
		{"prelu", PReLU(AlphaInitializer("glorot_uniform")), []int{2, 3}, 3, true},
		{"prelu shared", PReLU(AlphaInitializer("glorot_uniform"), SharedAxes(1, 2)), []int{2, 3, 2}, 2, true},
		{"dense swish", Dense(3, Activation("swish")), []int{4}, 2, true},
		{"conv2d int kernel gelu", Conv2D(2, 2, Activation("gelu")), []int{3, 3, 2}, 2, true},
	}
	for _, act := range activations {
		if act == "linear" || act == "softmax" || act == "relu" {
			continue
		}
		cases = append(cases, gradCase{"activation " + act, Activation(act), []int{2, 4}, 3, true})
	}
	for ci, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkGradients(t, tc, uint64(ci))
		})
	}
}

func checkGradients(t *testing.T, tc gradCase, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 77))
	b := plain.New()
	specs, err := tc.layer.Weights(tc.in)
	require.NoError(t, err)
	outShape, err := tc.layer.OutputShape(tc.in)
	require.NoError(t, err)
	// Weight values: random, with variances kept positive.
	weights := make([][]float64, len(specs))
	for i, s := range specs {
		n, _ := backend.NumElements(s.Shape)
		weights[i] = randVals(r, n)
		if s.Name == "moving_variance" || s.Name == "gamma" {
			for j := range weights[i] {
				weights[i][j] = 1 + weights[i][j]/2
			}
		}
	}
	xShape := batchShape(tc.batch, tc.in)
	nx, _ := backend.NumElements(xShape)
	x := randVals(r, nx)
	ny, _ := backend.NumElements(batchShape(tc.batch, outShape))
	rw := randVals(r, ny)

	// run builds a fresh instance (so dropout draws the same mask) and returns it with L.
	run := func(x []float64, weights [][]float64) (Instance, []*backend.Variable, float64) {
		vars := make([]*backend.Variable, len(specs))
		for i, s := range specs {
			vars[i] = &backend.Variable{Name: s.Name, Value: tensor(t, b, weights[i], s.Shape), Trainable: s.Trainable}
		}
		inst, err := tc.layer.Build(b, tc.in, vars, 42)
		require.NoError(t, err)
		y, err := inst.Forward(tensor(t, b, x, xShape), tc.training)
		require.NoError(t, err)
		require.Equal(t, batchShape(tc.batch, outShape), y.Shape())
		yv := values(t, y)
		l := 0.0
		for i := range yv {
			l += rw[i] * yv[i]
		}
		return inst, vars, l
	}
	inst, vars, _ := run(x, weights)
	dx, err := inst.Backward(tensor(t, b, rw, batchShape(tc.batch, outShape)), true)
	require.NoError(t, err)
	require.Equal(t, xShape, dx.Shape())

	const h = 1e-6
	numeric := func(v []float64, i int, f func() float64) float64 {
		old := v[i]
		v[i] = old + h
		lp := f()
		v[i] = old - h
		lm := f()
		v[i] = old
		return (lp - lm) / (2 * h)
	}
	check := func(what string, analytic []float64, v []float64, f func() float64) {
		t.Helper()
		require.Len(t, analytic, len(v), what)
		for i := range v {
			want := numeric(v, i, f)
			assert.InDelta(t, want, analytic[i], 1e-6*(1+math.Abs(want)), "%s[%d]", what, i)
		}
	}
	check("dx", values(t, dx), x, func() float64 { _, _, l := run(x, weights); return l })
	for wi, s := range specs {
		if !s.Trainable {
			continue
		}
		require.NotNil(t, vars[wi].Grad, "gradient of %s", s.Name)
		check(s.Name, values(t, vars[wi].Grad), weights[wi], func() float64 { _, _, l := run(x, weights); return l })
	}
	// needDX == false still sets the weight gradients and returns nil.
	inst2, vars2, _ := run(x, weights)
	dx2, err := inst2.Backward(tensor(t, b, rw, batchShape(tc.batch, outShape)), false)
	require.NoError(t, err)
	assert.Nil(t, dx2)
	for wi, s := range specs {
		if s.Trainable {
			assert.Equal(t, values(t, vars[wi].Grad), values(t, vars2[wi].Grad))
		}
	}
}

func buildWith(t *testing.T, b *plain.Backend, l Layer, in []int, weights ...[]float64) Instance {
	t.Helper()
	specs, err := l.Weights(in)
	require.NoError(t, err)
	require.Len(t, weights, len(specs))
	vars := make([]*backend.Variable, len(specs))
	for i, s := range specs {
		vars[i] = &backend.Variable{Name: s.Name, Value: tensor(t, b, weights[i], s.Shape), Trainable: s.Trainable}
	}
	inst, err := l.Build(b, in, vars, 1)
	require.NoError(t, err)
	return inst
}

func TestDenseForwardValues(t *testing.T) {
	b := plain.New()
	inst := buildWith(t, b, Dense(2, Activation("relu")), []int{3},
		[]float64{1, -1, 2, 0, 0, 1}, []float64{0.5, -0.5})
	y, err := inst.Forward(tensor(t, b, []float64{1, 2, 3, -1, 0, 1}, []int{2, 3}), false)
	require.NoError(t, err)
	// Row 1: [1+4+0, -1+0+3] + b = [5.5, 1.5]; row 2: [-1+0+0, 1+0+1] + b = [-0.5, 1.5] -> relu.
	assert.Equal(t, []float64{5.5, 1.5, 0, 1.5}, values(t, y))
}

func TestDepthwiseForwardMatchesLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	b := plain.New()
	const n, h, w, c, m = 2, 5, 4, 3, 2
	l := DepthwiseConv2D([2]int{3, 2}, DepthMultiplier(m), Padding("same"))
	in := []int{h, w, c}
	k := randVals(r, 3*2*c*m)
	bias := randVals(r, c*m)
	inst := buildWith(t, b, l, in, k, bias)
	x := randVals(r, n*h*w*c)
	y, err := inst.Forward(tensor(t, b, x, []int{n, h, w, c}), false)
	require.NoError(t, err)
	win, err := backend.NewWindow(h, w, 3, 2, 1, 1, "same")
	require.NoError(t, err)
	got := values(t, y)
	require.Equal(t, []int{n, h, w, c * m}, y.Shape())
	for i := 0; i < n; i++ {
		for oh := 0; oh < h; oh++ {
			for ow := 0; ow < w; ow++ {
				for ch := 0; ch < c; ch++ {
					for q := 0; q < m; q++ {
						s := bias[ch*m+q]
						for kh := 0; kh < 3; kh++ {
							for kw := 0; kw < 2; kw++ {
								ih, iw := oh+kh-win.PadTop, ow+kw-win.PadLeft
								if ih < 0 || ih >= h || iw < 0 || iw >= w {
									continue
								}
								s += x[((i*h+ih)*w+iw)*c+ch] * k[((kh*2+kw)*c+ch)*m+q]
							}
						}
						assert.InDelta(t, s, got[((i*h+oh)*w+ow)*c*m+ch*m+q], 1e-12)
					}
				}
			}
		}
	}
}

func TestBatchNormUpdatesMovingStatistics(t *testing.T) {
	b := plain.New()
	l := BatchNormalization(Momentum(0.5))
	specs, err := l.Weights([]int{2})
	require.NoError(t, err)
	vars := []*backend.Variable{
		{Value: tensor(t, b, []float64{1, 1}, []int{2}), Trainable: true},
		{Value: tensor(t, b, []float64{0, 0}, []int{2}), Trainable: true},
		{Value: tensor(t, b, []float64{0, 0}, []int{2})},
		{Value: tensor(t, b, []float64{1, 1}, []int{2})},
	}
	require.Len(t, specs, 4)
	inst, err := l.Build(b, []int{2}, vars, 0)
	require.NoError(t, err)
	y, err := inst.Forward(tensor(t, b, []float64{1, 10, 3, 20}, []int{2, 2}), true)
	require.NoError(t, err)
	// Batch mean [2, 15], variance [1, 25].
	assert.InDeltaSlice(t, []float64{1, 7.5}, values(t, vars[2].Value), 1e-12)
	assert.InDeltaSlice(t, []float64{1, 13}, values(t, vars[3].Value), 1e-12)
	yv := values(t, y)
	assert.InDelta(t, -1/math.Sqrt(1.001), yv[0], 1e-12)
	assert.InDelta(t, 5/math.Sqrt(25.001), yv[3], 1e-12)
}

func TestDropoutMasks(t *testing.T) {
	b := plain.New()
	inst := buildWith(t, b, Dropout(0.5, Seed(3)), []int{100})
	x := tensor(t, b, slices.Repeat([]float64{1}, 200), []int{2, 100})
	y1, err := inst.Forward(x, true)
	require.NoError(t, err)
	y2, err := inst.Forward(x, true)
	require.NoError(t, err)
	assert.NotEqual(t, values(t, y1), values(t, y2), "a new mask every step")
	for _, v := range values(t, y1) {
		assert.True(t, v == 0 || v == 2)
	}
	y3, err := inst.Forward(x, false)
	require.NoError(t, err)
	assert.Equal(t, values(t, x), values(t, y3))
	// The same seed and step give the same mask on another instance.
	inst2 := buildWith(t, b, Dropout(0.5, Seed(3)), []int{100})
	y4, err := inst2.Forward(x, true)
	require.NoError(t, err)
	assert.Equal(t, values(t, y1), values(t, y4))
}

func TestShapesAndErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		layer   Layer
		in      []int
		out     []int
		wantErr string
	}{
		{"dense", Dense(10), []int{784}, []int{10}, ""},
		{"dense zero units", Dense(0), []int{4}, nil, "dense (Dense): units must be positive"},
		{"dense bad activation", Dense(3, Activation("mish")), []int{4}, nil, `unknown activation "mish"`},
		{"dense pool option", Dense(3, PoolSize(2, 2)), []int{4}, nil, "option PoolSize does not apply to Dense"},
		{"dense scalar input", Dense(3, Name("head")), []int{}, nil, "head (Dense): input shape (None) has no axis"},
		{"conv valid", Conv2D(32, [2]int{3, 3}), []int{28, 28, 1}, []int{26, 26, 32}, ""},
		{"conv same stride", Conv2D(8, [2]int{3, 3}, Strides(2, 2), Padding("same")), []int{28, 28, 1}, []int{14, 14, 8}, ""},
		{"conv flat input", Conv2D(8, [2]int{3, 3}), []int{784}, nil, "input shape (None, 784) is not an image"},
		{"conv too big", Conv2D(8, [2]int{5, 5}), []int{3, 3, 1}, nil, "does not fit"},
		{"conv bad padding", Conv2D(8, [2]int{3, 3}, Padding("full")), []int{8, 8, 1}, nil, "unknown padding"},
		{"conv bad initializer", Conv2D(8, [2]int{3, 3}, KernelInitializer("orthogonal")), []int{8, 8, 1}, nil, "unknown initializer"},
		{"depthwise", DepthwiseConv2D([2]int{3, 3}, DepthMultiplier(2)), []int{8, 8, 3}, []int{6, 6, 6}, ""},
		{"maxpool", MaxPooling2D(), []int{26, 26, 32}, []int{13, 13, 32}, ""},
		{"maxpool odd", MaxPooling2D(), []int{5, 5, 1}, []int{2, 2, 1}, ""},
		{"avgpool same", AveragePooling2D(Padding("same")), []int{5, 5, 1}, []int{3, 3, 1}, ""},
		{"global", GlobalAveragePooling2D(), []int{7, 7, 16}, []int{16}, ""},
		{"flatten", Flatten(), []int{13, 13, 32}, []int{5408}, ""},
		{"reshape", Reshape([]int{28, 28, 1}), []int{784}, []int{28, 28, 1}, ""},
		{"reshape mismatch", Reshape([]int{27, 28}), []int{784}, nil, "cannot reshape"},
		{"dropout rate", Dropout(1), []int{3}, nil, "rate 1 not in [0, 1)"},
		{"bn", BatchNormalization(), []int{4}, []int{4}, ""},
		{"bn eps", BatchNormalization(Epsilon(0)), []int{4}, nil, "epsilon"},
		{"activation layer", Activation("tanh"), []int{3, 4}, []int{3, 4}, ""},
		{"unknown activation layer", Activation("Swish"), []int{3}, nil, "unknown activation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.layer.OutputShape(tc.in)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				_, err = tc.layer.Build(plain.New(), tc.in, nil, 0)
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.out, out)
		})
	}
}

func TestForwardRejectsWrongInputShape(t *testing.T) {
	b := plain.New()
	inst := buildWith(t, b, Dense(2, Name("d")), []int{3}, make([]float64, 6), make([]float64, 2))
	_, err := inst.Forward(tensor(t, b, make([]float64, 8), []int{2, 4}), false)
	assert.ErrorContains(t, err, "d (Dense): input of shape [2 4] does not match the built input shape (None, 3)")
	// Backward before Forward is an error, not a panic.
	inst2 := buildWith(t, b, Dense(2), []int{3}, make([]float64, 6), make([]float64, 2))
	_, err = inst2.Backward(tensor(t, b, make([]float64, 4), []int{2, 2}), true)
	assert.Error(t, err)
	// Wrong variables.
	_, err = Dense(2).Build(b, []int{3}, nil, 0)
	assert.ErrorContains(t, err, "built with 0 variables, want 2")
}

func TestSnakeCase(t *testing.T) {
	for class, want := range map[string]string{
		"Dense": "dense", "Conv2D": "conv2d", "MaxPooling2D": "max_pooling2d", "ReLU": "re_lu",
		"DepthwiseConv2D": "depthwise_conv2d", "BatchNormalization": "batch_normalization",
		"GlobalAveragePooling2D": "global_average_pooling2d",
	} {
		assert.Equal(t, want, SnakeCase(class))
	}
}

func TestFromConfigRoundTrip(t *testing.T) {
	for _, l := range []Layer{
		Dense(3, Activation("relu"), Name("d")), Conv2D(4, [2]int{3, 3}, Padding("same"), Strides(2, 1)),
		DepthwiseConv2D([2]int{3, 3}, DepthMultiplier(2)), MaxPooling2D(PoolSize(3, 3)), AveragePooling2D(),
		GlobalMaxPooling2D(), GlobalAveragePooling2D(), Flatten(), Reshape([]int{2, -1}), Activation("softmax"),
		ReLU(), Dropout(0.25, Seed(5)), BatchNormalization(Momentum(0.9)), Input(28, 28, 1),
		LeakyReLU(NegativeSlope(0.1)), ELU(Alpha(0.5)), PReLU(SharedAxes(1, 2)), Activation("gelu"),
	} {
		t.Run(l.ClassName(), func(t *testing.T) {
			raw, err := jsonMarshal(l.Config())
			require.NoError(t, err)
			l2, err := FromConfig(l.ClassName(), raw)
			require.NoError(t, err)
			assert.Equal(t, l.Config(), l2.Config())
			assert.Equal(t, l.ClassName(), l2.ClassName())
		})
	}
	_, err := FromConfig("Dense", []byte(`{"units": 3, "unit": 4}`))
	assert.ErrorContains(t, err, "unknown field")
	_, err = FromConfig("Dense", []byte(`{"units": -3}`))
	assert.ErrorContains(t, err, "units must be positive")
	_, err = FromConfig("LSTM", []byte(`{}`))
	assert.ErrorContains(t, err, "unknown layer class")
}

// ReLU6 clips to [0, 6] and passes the gradient only strictly inside.
func TestReLU6Values(t *testing.T) {
	b := plain.New()
	x := []float64{-3, 0, 0.5, 5.9, 6, 7.5}
	inst := buildWith(t, b, Activation("relu6"), []int{6})
	y, err := inst.Forward(tensor(t, b, x, []int{1, 6}), false)
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 0, 0.5, 5.9, 6, 6}, values(t, y))
	dx, err := inst.Backward(tensor(t, b, []float64{1, 2, 3, 4, 5, 6}, []int{1, 6}), true)
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 0, 3, 4, 0, 0}, values(t, dx))
}

// ZeroPadding2D surrounds each image with zeros and its configuration round-trips.
func TestZeroPadding2D(t *testing.T) {
	b := plain.New()
	l := ZeroPadding2D([2][2]int{{0, 1}, {1, 0}}, Name("pad"))
	out, err := l.OutputShape([]int{2, 2, 1})
	require.NoError(t, err)
	assert.Equal(t, []int{3, 3, 1}, out)
	inst := buildWith(t, b, l, []int{2, 2, 1})
	y, err := inst.Forward(tensor(t, b, []float64{1, 2, 3, 4}, []int{1, 2, 2, 1}), false)
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 1, 2, 0, 3, 4, 0, 0, 0}, values(t, y))
	dx, err := inst.Backward(tensor(t, b, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}, []int{1, 3, 3, 1}), true)
	require.NoError(t, err)
	assert.Equal(t, []float64{2, 3, 5, 6}, values(t, dx))

	raw, err := json.Marshal(l.Config())
	require.NoError(t, err)
	back, err := FromConfig("ZeroPadding2D", raw)
	require.NoError(t, err)
	assert.Equal(t, l.Config(), back.Config())
	_, err = ZeroPadding2D([2][2]int{{-1, 0}, {0, 0}}).OutputShape([]int{2, 2, 1})
	assert.ErrorContains(t, err, "must not be negative")
}

// Each activation against its formula, on inputs of both signs, small and large (within the
// ranges the secure engine documents), and its derivative against the hand-derived one.
func TestActivationValues(t *testing.T) {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	geluC := 2 * math.Sqrt(2/math.Pi)
	cases := []struct {
		name string
		f, d func(x float64) float64
	}{
		{"leaky_relu", func(x float64) float64 { return max(x, 0.2*x) }, func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return 0.2
		}},
		{"elu", func(x float64) float64 {
			if x > 0 {
				return x
			}
			return math.Expm1(x)
		}, func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return math.Exp(x)
		}},
		{"selu", func(x float64) float64 {
			if x > 0 {
				return 1.0507009873554805 * x
			}
			return 1.0507009873554805 * 1.6732632423543772 * math.Expm1(x)
		}, func(x float64) float64 {
			if x > 0 {
				return 1.0507009873554805
			}
			return 1.0507009873554805 * 1.6732632423543772 * math.Exp(x)
		}},
		{"gelu", func(x float64) float64 { return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x))) },
			func(x float64) float64 {
				u := geluC * (x + 0.044715*x*x*x)
				return sig(u) + x*sig(u)*(1-sig(u))*geluC*(1+3*0.044715*x*x)
			}},
		{"swish", func(x float64) float64 { return x * sig(x) }, func(x float64) float64 { return sig(x) * (1 + x*(1-sig(x))) }},
		{"silu", func(x float64) float64 { return x * sig(x) }, func(x float64) float64 { return sig(x) * (1 + x*(1-sig(x))) }},
		{"softplus", func(x float64) float64 { return math.Log1p(math.Exp(x)) }, sig},
		{"softsign", func(x float64) float64 { return x / (1 + math.Abs(x)) }, func(x float64) float64 { return 1 / ((1 + math.Abs(x)) * (1 + math.Abs(x))) }},
		{"hard_sigmoid", func(x float64) float64 { return min(max(x/6+0.5, 0), 1) }, func(x float64) float64 {
			if x > -3 && x < 3 {
				return 1.0 / 6
			}
			return 0
		}},
		{"exponential", math.Exp, math.Exp},
	}
	x := []float64{-11, -4, -3.5, -1, -0.25, 0.125, 0.5, 2, 3.5, 4}
	b := plain.New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inst := buildWith(t, b, Activation(tc.name), []int{len(x)})
			y, err := inst.Forward(tensor(t, b, x, []int{1, len(x)}), true)
			require.NoError(t, err)
			dy := make([]float64, len(x))
			for i := range dy {
				dy[i] = float64(i%3) - 0.5
			}
			dx, err := inst.Backward(tensor(t, b, dy, []int{1, len(x)}), true)
			require.NoError(t, err)
			for i, v := range x {
				assert.InDelta(t, tc.f(v), values(t, y)[i], 1e-12*(1+math.Abs(tc.f(v))), "f(%v)", v)
				assert.InDelta(t, dy[i]*tc.d(v), values(t, dx)[i], 1e-12*(1+math.Abs(tc.d(v))), "f'(%v)", v)
			}
		})
	}
	// Keras's gelu default is the exact x·Φ(x); the tanh form is within 5e-4 of it.
	worst := 0.0
	for v := -8.0; v <= 8; v += 1.0 / 64 {
		exact := v * 0.5 * math.Erfc(-v/math.Sqrt2)
		worst = max(worst, math.Abs(exact-0.5*v*(1+math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))))
	}
	assert.Less(t, worst, 5e-4)
	t.Logf("gelu: tanh form within %.2g of the exact form", worst)
}

// The layers LeakyReLU, ELU and PReLU against their formulas.
func TestParametricActivationLayers(t *testing.T) {
	b := plain.New()
	x := []float64{-2, -0.5, 0.25, 3}
	run := func(l Layer, weights ...[]float64) []float64 {
		inst := buildWith(t, b, l, []int{4}, weights...)
		y, err := inst.Forward(tensor(t, b, x, []int{1, 4}), false)
		require.NoError(t, err)
		return values(t, y)
	}
	assert.InDeltaSlice(t, []float64{-0.6, -0.15, 0.25, 3}, run(LeakyReLU()), 1e-15, "Keras's default slope 0.3")
	assert.InDeltaSlice(t, []float64{-0.2, -0.05, 0.25, 3}, run(LeakyReLU(NegativeSlope(0.1))), 1e-15)
	assert.InDeltaSlice(t, []float64{math.Expm1(-2), math.Expm1(-0.5), 0.25, 3}, run(ELU()), 1e-15)
	assert.InDeltaSlice(t, []float64{2 * math.Expm1(-2), 2 * math.Expm1(-0.5), 0.25, 3}, run(ELU(Alpha(2))), 1e-15)
	assert.InDeltaSlice(t, []float64{-1, 0.25 * -0.5, 0.25, 3}, run(PReLU(), []float64{0.5, 0.25, 7, 7}), 1e-15)
	assert.InDeltaSlice(t, []float64{0, 0, 0.25, 3}, run(PReLU(), []float64{0, 0, 0, 0}), 0, "alpha starts at zero: ReLU")
	_, err := PReLU(SharedAxes(3)).OutputShape([]int{4})
	assert.ErrorContains(t, err, "shared axis 3 out of range for input shape (None, 4)")
	_, err = LeakyReLU(Alpha(1)).OutputShape([]int{4})
	assert.ErrorContains(t, err, "option Alpha does not apply to LeakyReLU")
}

// Kernel sizes, strides and pool sizes take one int for a square window, as in Keras.
func TestIntSizes(t *testing.T) {
	assert.Equal(t, Conv2D(8, [2]int{3, 3}, Strides(2, 2)).Config(), Conv2D(8, 3, Strides(2)).Config())
	assert.Equal(t, DepthwiseConv2D([2]int{5, 5}).Config(), DepthwiseConv2D(5).Config())
	assert.Equal(t, MaxPooling2D(PoolSize(3, 3)).Config(), MaxPooling2D(PoolSize(3)).Config())
	_, err := Conv2D(8, 3, Strides(1, 2, 3)).OutputShape([]int{8, 8, 1})
	assert.ErrorContains(t, err, "Conv2D: Strides takes one size or two (height, width), got 3")
}

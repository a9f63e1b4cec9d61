package mpc_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/backend/plain"
)

// Comparisons are exact on the fixed-point values: the secure results equal the plain ones up
// to the encoding of the inputs (2^-17) and, where a product follows, one truncation (2^-16).
func TestAgreementComparisons(t *testing.T) {
	w22 := window(t, 6, 6, 2, 2, "valid")
	w33 := window(t, 5, 5, 3, 2, "same")
	cases := []agreementCase{
		{"relu", [][]int{{7, 9}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			y, _, err := b.ReLU(in[0])
			return y, err
		}},
		{"relumask", [][]int{{7, 9}, {7, 9}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			_, m, err := b.ReLU(in[0])
			if err != nil {
				return nil, err
			}
			return b.MulMask(in[1], m)
		}},
		{"relu/large", [][]int{{37, 41}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			y, _, err := b.ReLU(in[0]) // 1517 elements: the mask is an arithmetic sharing
			return y, err
		}},
		{"relumask/large", [][]int{{37, 41}, {37, 41}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			_, m, err := b.ReLU(in[0])
			if err != nil {
				return nil, err
			}
			return b.MulMask(in[1], m)
		}},
		{"maximum", [][]int{{4, 5}, {4, 5}}, 100, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.Maximum(in[0], in[1])
		}},
		{"clip", [][]int{{4, 5}}, 100, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.Clip(in[0], -20, 35.5)
		}},
		{"maxpool", [][]int{{2, 6, 6, 3}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			y, _, err := b.MaxPool2D(in[0], w22)
			return y, err
		}},
		{"maxpoolsame", [][]int{{2, 5, 5, 2}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			y, _, err := b.MaxPool2D(in[0], w33)
			return y, err
		}},
		{"maxpoolback", [][]int{{2, 6, 6, 3}, {2, 3, 3, 3}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			_, m, err := b.MaxPool2D(in[0], w22)
			if err != nil {
				return nil, err
			}
			return b.MaxPool2DBackward(in[1], m, w22, []int{2, 6, 6, 3})
		}},
		{"argmaxmask", [][]int{{6, 10}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.ArgMaxMask(in[0])
		}},
	}
	runAgreement(t, cases)
}

func TestArgMaxAgrees(t *testing.T) {
	x := []float64{0.1, 0.9, -3, 2, 2, 1, -1, -2, -0.5, 5, 4.99, 5}
	want, err := plain.New().ArgMax(must(plain.NewTensor(x, []int{4, 3})), -1)
	require.NoError(t, err)
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		runner := mpc.NewLocalRunner(cfg, nil)
		defer runner.Close()
		var got [3][]int
		require.NoError(t, runner.Run(func(b backend.Backend) error {
			in, err := b.Input(x, []int{4, 3}, 2)
			if err != nil {
				return err
			}
			got[b.Party()], err = b.ArgMax(in, 1)
			return err
		}))
		require.Equal(t, want, got[1])
		require.Nil(t, got[0])
		require.Nil(t, got[2])
	})
}

func must(t *plain.Tensor, err error) *plain.Tensor {
	if err != nil {
		panic(err)
	}
	return t
}

// The approximations agree with float64 within their documented bounds over their ranges.
func TestAgreementApproximations(t *testing.T) {
	pos := func(f func(b backend.Backend, x backend.Tensor) (backend.Tensor, error), shift float64) func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
		return func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			x, err := b.AddScalar(in[0], shift) // inputs in [shift-scale, shift+scale)
			if err != nil {
				return nil, err
			}
			return f(b, x)
		}
	}
	cases := []agreementCase{
		// The documented bounds (secure/approx) hold against the function of the encoded
		// input; the encoding (ulp/2) moves the function by ulp/2 times its slope.
		{"sigmoid", [][]int{{8, 16}}, 8, sigmoidErr + ulp/8, pos(backend.Backend.Sigmoid, 0)},
		{"tanh", [][]int{{8, 16}}, 4, tanhErr + ulp/2, pos(backend.Backend.Tanh, 0)},
		// A softmax probability moves by at most e^(2δ) - 1 ≈ ulp for logits off by δ = ulp/2.
		{"softmax", [][]int{{16, 10}}, 10, softmaxErr + 1.01*ulp, pos(backend.Backend.Softmax, 0)},
		// e^x ≤ e^3, 1e-3 relative, and the encoding's relative ulp/2.
		{"exp", [][]int{{8, 16}}, 3, math.Exp(3) * (expRel + ulp/2), pos(backend.Backend.Exp, 0)},
		// x in (0.1, 16): 2e-4 absolute, and the encoding's ulp/2 over x ≥ 0.1.
		{"log", [][]int{{8, 16}}, 7.9, logErr + ulp/2/0.1, pos(backend.Backend.Log, 8)},
		// x in (0.1, 8): 1/x ≤ 10 within 1e-3 relative, and the encoding's ulp/2 over x².
		{"reciprocal", [][]int{{8, 16}}, 3.9, 10*recipRel + ulp/2/0.01, pos(backend.Backend.Reciprocal, 4)},
		// x in (0.1, 8): x^-1/2 ≤ 3.17 within 1e-3 relative, and ulp/2 times x^-3/2/2.
		{"invsqrt", [][]int{{8, 16}}, 3.9, math.Pow(0.1, -0.5)*invSqrtRel + ulp/4*math.Pow(0.1, -1.5), pos(backend.Backend.InvSqrt, 4)},
	}
	runAgreement(t, cases)
}

// The secure sigmoid is a probability: its approximation overshoots [0, 1] by up to about
// 2e-3 near saturation (observed: -0.0021 and 1.0017 before the clamp), so it is clamped.
// Inputs from -30 to 30 cover both saturations; the result stays within the documented 1e-2
// of the sigmoid and inside [0, 1].
func TestSigmoidIsProbability(t *testing.T) {
	const n = 601
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = -30 + 60*float64(i)/(n-1)
	}
	runner := mpc.NewLocalRunner(mpc.Config{}, nil)
	defer runner.Close()
	var got [3][]float64
	require.NoError(t, runner.Run(func(b backend.Backend) error {
		x, err := b.Input(xs, []int{n}, 0)
		if err != nil {
			return err
		}
		y, err := b.Sigmoid(x)
		if err != nil {
			return err
		}
		got[b.Party()], err = b.Reveal(y, -1)
		return err
	}))
	for p := range got {
		require.Len(t, got[p], n)
		for i, v := range got[p] {
			require.True(t, v >= 0 && v <= 1, "party %d: sigmoid(%v) = %v outside [0, 1]", p, xs[i], v)
			require.InDelta(t, 1/(1+math.Exp(-xs[i])), v, sigmoidErr, "sigmoid(%v)", xs[i])
		}
	}
}

// A max-pooling's route and a ReLU's mask are not interchangeable: each backward operation
// refuses the other's, with an error on every party.
func TestMaskKinds(t *testing.T) {
	w22, err := backend.NewWindow(4, 4, 2, 2, 2, 2, "valid")
	require.NoError(t, err)
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		runner := mpc.NewLocalRunner(cfg, nil)
		defer runner.Close()
		require.NoError(t, runner.Run(func(b backend.Backend) error {
			x, err := b.Input(make([]float64, 2*4*4*3), []int{2, 4, 4, 3}, 0)
			if err != nil {
				return err
			}
			_, reluMask, err := b.ReLU(x)
			if err != nil {
				return err
			}
			y, route, err := b.MaxPool2D(x, w22)
			if err != nil {
				return err
			}
			_, err = b.MaxPool2DBackward(y, reluMask, w22, x.Shape())
			assert.ErrorContains(t, err, "the mask of a ReLU is not a pooling mask")
			_, err = b.MulMask(y, route)
			assert.ErrorContains(t, err, "the mask of a max-pooling is not a ReLU mask")
			return nil
		}))
	})
}

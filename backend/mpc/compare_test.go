package mpc_test

import (
	"testing"

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
		{"sigmoid", [][]int{{8, 16}}, 8, 1e-2, pos(backend.Backend.Sigmoid, 0)},
		{"tanh", [][]int{{8, 16}}, 4, 1e-2, pos(backend.Backend.Tanh, 0)},
		{"softmax", [][]int{{16, 10}}, 10, 1e-2, pos(backend.Backend.Softmax, 0)},
		{"exp", [][]int{{8, 16}}, 3, 5e-2, pos(backend.Backend.Exp, 0)},                 // e^3·1e-3 relative
		{"log", [][]int{{8, 16}}, 7.9, 1e-3, pos(backend.Backend.Log, 8)},               // x in (0.1, 16)
		{"reciprocal", [][]int{{8, 16}}, 3.9, 1e-2, pos(backend.Backend.Reciprocal, 4)}, // x in (0.1, 8): 1/x ≤ 10, 1e-3 relative
		{"invsqrt", [][]int{{8, 16}}, 3.9, 5e-3, pos(backend.Backend.InvSqrt, 4)},
	}
	runAgreement(t, cases)
}

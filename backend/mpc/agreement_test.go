package mpc_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/backend/plain"
)

// agreementCase is one operation run on both engines over the same inputs.
type agreementCase struct {
	name   string
	shapes [][]int
	scale  float64 // inputs uniform in [-scale, scale)
	tol    float64 // absolute tolerance of the secure result against the plain one
	op     func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error)
}

func window(t *testing.T, h, w, k, s int, padding string) backend.Window {
	win, err := backend.NewWindow(h, w, k, k, s, s, padding)
	require.NoError(t, err)
	return win
}

// Every operation of the secure backend agrees with the plain backend within its stated
// fixed-point tolerance (f = 16: 2^-16 ≈ 1.5e-5 per truncation, plus the encoding of inputs).
func TestAgreementLinear(t *testing.T) {
	w33 := window(t, 6, 5, 3, 1, "same")
	w22 := window(t, 6, 6, 2, 2, "valid")
	cases := []agreementCase{
		{"add", [][]int{{3, 5}, {3, 5}}, 100, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.Add(in[0], in[1]) }},
		{"sub", [][]int{{3, 5}, {3, 5}}, 100, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.Sub(in[0], in[1]) }},
		{"mul", [][]int{{3, 5}, {3, 5}}, 10, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.Mul(in[0], in[1]) }},
		{"neg", [][]int{{4}}, 100, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.Neg(in[0]) }},
		{"scale", [][]int{{4, 2}}, 100, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.Scale(in[0], -0.37) }},
		{"scaleint", [][]int{{4, 2}}, 100, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.Scale(in[0], 3) }},
		{"addscalar", [][]int{{4, 2}}, 100, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.AddScalar(in[0], 2.5) }},
		{"addbias", [][]int{{2, 3, 4}, {4}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.AddBias(in[0], in[1]) }},
		{"sum", [][]int{{2, 3, 4}}, 10, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.Sum(in[0], 1, true) }},
		{"sumall", [][]int{{2, 3, 4}}, 10, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.SumAll(in[0]) }},
		{"mean", [][]int{{2, 3, 4}}, 10, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.Mean(in[0], -1, false) }},
		{"transpose", [][]int{{2, 3, 4}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.Transpose(in[0], nil) }},
		{"permute", [][]int{{2, 3, 4}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.Transpose(in[0], []int{1, 0, 2})
		}},
		{"reshape", [][]int{{2, 3, 4}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.Reshape(in[0], []int{6, -1})
		}},
		{"broadcast", [][]int{{3, 1}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.BroadcastTo(in[0], []int{2, 3, 4})
		}},
		{"matmul", [][]int{{5, 7}, {7, 3}}, 2, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.MatMul(in[0], in[1], false, false)
		}},
		{"matmulTA", [][]int{{7, 5}, {7, 3}}, 2, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.MatMul(in[0], in[1], true, false)
		}},
		{"matmulTB", [][]int{{5, 7}, {3, 7}}, 2, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.MatMul(in[0], in[1], false, true)
		}},
		{"matmulBatch", [][]int{{2, 5, 7}, {2, 7, 3}}, 2, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.MatMul(in[0], in[1], false, false)
		}},
		{"im2col", [][]int{{2, 6, 5, 3}}, 10, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.Im2Col(in[0], w33) }},
		{"col2im", [][]int{{2 * 6 * 5, 27}}, 10, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.Col2Im(in[0], w33, []int{2, 6, 5, 3})
		}},
		// col2im of a pending product (a convolution's input gradient), truncated once after
		// the sum: inputs in [-2, 2] encoded within 2^-17 put at most 4·2^-15 into each of the
		// up to nine products of four terms a pixel adds, 1.1e-3, plus one truncation (2^-16).
		{"col2improduct", [][]int{{2 * 6 * 5, 4}, {27, 4}}, 2, 1.2e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			cols, err := b.MatMul(in[0], in[1], false, true)
			if err != nil {
				return nil, err
			}
			return b.Col2Im(cols, w33, []int{2, 6, 5, 3})
		}},
		{"avgpool", [][]int{{2, 6, 6, 3}}, 10, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.AvgPool2D(in[0], w22) }},
		{"avgpoolsame", [][]int{{2, 6, 5, 3}}, 10, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) { return b.AvgPool2D(in[0], w33) }},
		{"avgpoolback", [][]int{{2, 3, 3, 3}}, 10, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.AvgPool2DBackward(in[0], w22, []int{2, 6, 6, 3})
		}},
		{"avgpoolbacksame", [][]int{{2, 6, 5, 3}}, 10, 1e-3, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.AvgPool2DBackward(in[0], w33, []int{2, 6, 5, 3})
		}},
		{"const", nil, 0, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.Const([]float64{1, -2, 3.5}, []int{3})
		}},
		{"random", nil, 0, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.RandomUniform([]int{4, 4}, -0.5, 0.5, 99)
		}},
		{"dropout", nil, 0, 1e-4, func(b backend.Backend, in []backend.Tensor) (backend.Tensor, error) {
			return b.DropoutMask([]int{4, 4}, 0.25, 7)
		}},
	}
	runAgreement(t, cases)
}

func runAgreement(t *testing.T, cases []agreementCase) {
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) { runAgreementOn(t, cfg, cases) })
}

func runAgreementOn(t *testing.T, cfg mpc.Config, cases []agreementCase) {
	r := rand.New(rand.NewPCG(1, 2))
	runner := mpc.NewLocalRunner(cfg, nil)
	defer runner.Close()
	plainB := plain.New()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := make([][]float64, len(c.shapes))
			for i, s := range c.shapes {
				n, err := backend.NumElements(s)
				require.NoError(t, err)
				data[i] = make([]float64, n)
				for j := range data[i] {
					data[i][j] = c.scale * (2*r.Float64() - 1)
				}
			}
			run := func(b backend.Backend) ([]float64, []int, error) {
				in := make([]backend.Tensor, len(data))
				for i := range data {
					var err error
					if in[i], err = b.Input(data[i], c.shapes[i], 0); err != nil {
						return nil, nil, err
					}
				}
				out, err := c.op(b, in)
				if err != nil {
					return nil, nil, err
				}
				v, err := b.Reveal(out, -1)
				return v, out.Shape(), err
			}
			want, wantShape, err := run(plainB)
			require.NoError(t, err)
			var got [3][]float64
			var gotShape [3][]int
			require.NoError(t, runner.Run(func(b backend.Backend) error {
				v, s, err := run(b)
				got[b.Party()], gotShape[b.Party()] = v, s
				return err
			}))
			for id := 0; id < 3; id++ {
				require.Equal(t, wantShape, gotShape[id], "party %d shape", id)
				require.Len(t, got[id], len(want))
				for i := range want {
					require.False(t, math.IsNaN(got[id][i]))
					require.InDelta(t, want[i], got[id][i], c.tol, fmt.Sprintf("party %d element %d", id, i))
				}
			}
		})
	}
}

// A failing Run (here: mismatched shapes on every party) reports the error and leaves the
// runner usable: the next Run starts a new session.
func TestRunnerRecovers(t *testing.T) {
	runner := mpc.NewLocalRunner(mpc.Config{}, nil)
	defer runner.Close()
	err := runner.Run(func(b backend.Backend) error {
		x, err := b.Zeros([]int{2, 3})
		if err != nil {
			return err
		}
		_, err = b.MatMul(x, x, false, false)
		return err
	})
	require.ErrorContains(t, err, "[2 3] · [2 3]")
	// The owner alone fails (its data does not fit): the others must not hang.
	err = runner.Run(func(b backend.Backend) error {
		var data []float64
		if b.Party() == 1 {
			data = []float64{1}
		}
		_, err := b.Input(data, []int{2}, 1)
		return err
	})
	require.ErrorContains(t, err, "1 values for shape [2]")
	require.NoError(t, runner.Run(func(b backend.Backend) error {
		x, err := b.Fill([]int{2}, 1.5)
		if err != nil {
			return err
		}
		v, err := b.Reveal(x, -1)
		if err == nil && v[1] != 1.5 {
			return fmt.Errorf("got %v", v)
		}
		return err
	}))
}

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
	"github.com/gotfe/gotfe/losses"
)

// lossCase is one loss evaluated on both engines: its value, its gradient with respect to the
// predictions and, where the loss fuses with the model's last activation, the gradient with
// respect to that activation's input.
type lossCase struct {
	name       string
	loss       losses.Loss
	pred       func(r *rand.Rand) []float64 // predictions [lossRows, lossK]
	target     func(r *rand.Rand) []float64 // targets in the layout the user gives them
	activation string                       // the last activation for BackwardLogits ("": none)
	tol        struct{ value, grad, fused float64 }
}

const lossRows, lossK = 4, 5

// Prediction and target generators, over lossRows rows of lossK values.

// probsIn returns probabilities uniform in [lo, hi).
func probsIn(lo, hi float64) func(r *rand.Rand) []float64 {
	return func(r *rand.Rand) []float64 { return uniform(r, lossRows*lossK, lo, hi) }
}

// softmaxRows returns rows of probabilities summing to 1, each at least 0.2/(0.2 + (k-1)).
func softmaxRows(r *rand.Rand) []float64 {
	p := uniform(r, lossRows*lossK, 0.2, 1)
	for i := 0; i < len(p); i += lossK {
		s := 0.0
		for _, v := range p[i : i+lossK] {
			s += v
		}
		for j := i; j < i+lossK; j++ {
			p[j] /= s
		}
	}
	return p
}

// binary returns targets 0 or 1.
func binary(r *rand.Rand) []float64 {
	y := make([]float64, lossRows*lossK)
	for i := range y {
		y[i] = float64(r.IntN(2))
	}
	return y
}

// classes returns one class index per row.
func classes(r *rand.Rand) []float64 {
	y := make([]float64, lossRows)
	for i := range y {
		y[i] = float64(r.IntN(lossK))
	}
	return y
}

// oneHot returns one-hot rows.
func oneHot(r *rand.Rand) []float64 {
	y := make([]float64, lossRows*lossK)
	for i := range lossRows {
		y[i*lossK+r.IntN(lossK)] = 1
	}
	return y
}

// Every loss agrees on the secure engine with the plain one: the value, the gradient with
// respect to the predictions, and the fused gradient (p - y)/n the model uses after a
// sigmoid or a softmax. Inputs stay where the approximations are accurate: probabilities in
// [0.1, 0.9] (or softmax rows whose smallest probability is 0.2/4.2 = 0.048), logits in [-2, 2]
// for the sigmoid and [-1.5, 1.5] for the softmax.
func TestLossesAgree(t *testing.T) {
	const n = lossRows * lossK // terms of the elementwise losses
	var cases []lossCase
	add := func(c lossCase, value, grad, fused float64) {
		c.tol.value, c.tol.grad, c.tol.fused = value, grad, fused
		cases = append(cases, c)
	}

	// MSE over [-1, 1): each (p - y)² errs by 2|p - y|·ulp + ulp (encodings and one
	// truncation) ≤ 5 ulp, the mean by as much plus the rounding of 1/n; the gradient
	// 2(p - y)/n by the encodings (2/n·ulp) plus one rounding.
	add(lossCase{name: "mse", loss: losses.MeanSquaredError(),
		pred:   probsIn(-1, 1),
		target: func(r *rand.Rand) []float64 { return uniform(r, n, -1, 1) }},
		6*ulp, 2*ulp, 0)

	// Binary cross-entropy on probabilities in [0.1, 0.9] and targets y in {0, 1}: each term
	// y·(log p - log(1-p)) + log(1-p) is log p or log(1-p) (the other log's error cancels: it
	// is the same shared value added and subtracted), off by the log's 2e-4 and the encoding
	// of p (ulp/2 over at least 0.1), plus the truncation of the product with y and the
	// rounding of the mean. The gradient (p - y)/(p(1 - p))/n, with p(1-p) ≥ 0.09: the
	// reciprocal (≤ 11.2) errs by 1e-3 relative and by the error of p(1 - p) (an encoding and a
	// truncation, 2 ulp) times 1/(p(1-p))² ≤ 124, all times |p - y| ≤ 0.9; p - y's encoding
	// error times the reciprocal; over n, plus two roundings. The fused gradient (p - y)/n errs
	// by the encodings and one rounding.
	bceGrad := (0.9*(recipRel/0.09+2*ulp/(0.09*0.09))+ulp/2/0.09)/n + lin(0)
	add(lossCase{name: "binary crossentropy", loss: losses.BinaryCrossentropy(),
		pred: probsIn(0.1, 0.9), target: binary, activation: "sigmoid"},
		logErr+ulp/2/0.1+lin(0), bceGrad, lin(0))
	// From logits in [-2, 2]: the sigmoid errs by 1e-2 absolute, so the log of p (or of 1 - p),
	// at least 0.119, errs by log(0.119/(0.119 - 1e-2)) plus the log's own 2e-4; the gradient
	// (sigmoid(z) - y)/n by 1e-2/n.
	add(lossCase{name: "binary crossentropy logits", loss: losses.BinaryCrossentropy(losses.FromLogits(true)),
		pred: probsIn(-2, 2), target: binary},
		math.Log(0.119/(0.119-sigmoidErr))+logErr+lin(0), sigmoidErr/n+lin(0), 0)

	// Categorical cross-entropy on softmax rows (p ≥ 0.048) and one-hot targets. The
	// predictions are divided by their row sum s first: q = p·(1/s) errs relatively by the
	// reciprocal's 1e-3, the encodings of the sum (5·ulp/2) and of p (ulp/2 over p) and the
	// product's truncation (ulp over p). Each row's log q errs by that plus the log's 2e-4,
	// plus the truncation of the product with y and the rounding of the mean. The gradient
	// (sum(y) - y/q)/s/rows: y/q (≤ 21) by 1e-3 relative and q's relative error, times 1/s
	// (1e-3 relative) over |sum(y) - y/q| ≤ 20, over the rows, plus the roundings. The fused
	// gradient by the encodings and one rounding.
	const pMin = 0.2 / 4.2
	qRel := recipRel + 2.5*ulp + 1.5*ulp/pMin
	cceValue := logErr + qRel + lin(0)
	cceGrad := ((recipRel+qRel)/pMin+recipRel/pMin+4*ulp)/lossRows + lin(0)
	add(lossCase{name: "categorical crossentropy", loss: losses.CategoricalCrossentropy(),
		pred: softmaxRows, target: oneHot, activation: "softmax"},
		cceValue, cceGrad, lin(0))
	// From logits in [-1.5, 1.5]: the softmax is an exp (1e-3 relative) over the reciprocal of
	// the row sum (1e-3 relative) (secure/approx.Softmax), so a probability p ≥ e^-3/(e^-3 + 4)
	// errs by 2e-3 relative plus a few ulp, and log p by -log(1 - 2e-3 - 3 ulp/p) plus the
	// log's 2e-4; the gradient (p - y)/rows by the softmax's documented 2e-3 over the rows.
	pLogit := math.Exp(-3) / (math.Exp(-3) + 4)
	cceLogits := -math.Log(1-expRel-recipRel-3*ulp/pLogit) + logErr + lin(0)
	add(lossCase{name: "categorical crossentropy logits", loss: losses.CategoricalCrossentropy(losses.FromLogits(true)),
		pred: probsIn(-1.5, 1.5), target: oneHot},
		cceLogits, softmaxErr/lossRows+lin(0), 0)
	// The sparse forms give class indices, one-hot encoded by the loss (EncodeTargets) on
	// the owner's side: the same tolerances.
	add(lossCase{name: "sparse categorical crossentropy", loss: losses.SparseCategoricalCrossentropy(),
		pred: softmaxRows, target: classes, activation: "softmax"},
		cceValue, cceGrad, lin(0))
	add(lossCase{name: "sparse categorical crossentropy logits", loss: losses.SparseCategoricalCrossentropy(losses.FromLogits(true)),
		pred: probsIn(-1.5, 1.5), target: classes},
		cceLogits, softmaxErr/lossRows+lin(0), 0)

	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		runner := mpc.NewLocalRunner(cfg, nil)
		defer runner.Close()
		shape := []int{lossRows, lossK}
		for ci, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(ci), 0x1055))
				pred := c.pred(r)
				y, err := c.loss.EncodeTargets(c.target(r), shape[1:])
				require.NoError(t, err)
				agree(t, runner, func(b backend.Backend) ([]output, error) {
					p, err := b.Input(pred, shape, 0)
					if err != nil {
						return nil, err
					}
					yt, err := b.Input(y, shape, 0)
					if err != nil {
						return nil, err
					}
					v, err := c.loss.Forward(b, p, yt)
					if err != nil {
						return nil, err
					}
					g, err := c.loss.Backward(b, p, yt)
					if err != nil {
						return nil, err
					}
					outs := []output{{"loss", v, c.tol.value}, {"grad", g, c.tol.grad}}
					if c.activation != "" {
						dz, ok, err := c.loss.BackwardLogits(b, c.activation, p, yt)
						if err != nil {
							return nil, err
						}
						if !ok {
							return nil, fmt.Errorf("%s does not fuse with %s", c.loss.Name(), c.activation)
						}
						outs = append(outs, output{"fused", dz, c.tol.fused})
					}
					return outs, nil
				})
			})
		}
	})
}

// At saturation both engines clip probabilities to [2^-16, 1 - 2^-16] (losses.Epsilon): a
// true class with probability 1e-9 (0 in fixed point) costs -ln 2^-16 = 11.09 on both, and
// the gradients follow the clip (categorical: (1 - 1/2^-16)/rows; binary:
// (p - y)(1/p + 1/(1 - p))/n). Tolerances: the log's 2e-4 and the rounding of the mean; the
// reciprocal of 2^-16 (65536) within 1e-3 relative, over the rows or terms.
func TestLossesAgreeAtSaturation(t *testing.T) {
	runner := mpc.NewLocalRunner(mpc.Config{}, nil)
	defer runner.Close()
	for _, c := range []struct {
		name      string
		loss      losses.Loss
		pred, y   []float64
		shape     []int
		value     float64
		valTol    float64
		gradTol   float64
		wantFirst float64 // the gradient of the first prediction on the plain engine
	}{
		{"categorical", losses.CategoricalCrossentropy(), []float64{1e-9, 1 - 1e-9, 0.5, 0.5}, []float64{1, 0, 1, 0}, []int{2, 2},
			(16*math.Ln2 + math.Ln2) / 2, logErr + ulp/2 + lin(0), recipRel * 65536 / 2, (1 - 65536) / 2.0},
		{"binary", losses.BinaryCrossentropy(), []float64{1e-9, 1, 0.5, 0.5}, []float64{1, 0, 1, 0}, []int{4, 1},
			(16*math.Ln2 + 16*math.Ln2 + 2*math.Ln2) / 4, logErr + lin(0), recipRel * 65537 / 4, -(1 - 0x1p-16) * (65536 + 1/(1-0x1p-16)) / 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			want, err := openAll(plain.New(), func(b backend.Backend) ([]output, error) {
				return lossOutputs(b, c.loss, c.pred, c.y, c.shape)
			})
			require.NoError(t, err)
			require.InDelta(t, c.value, want[0].vals[0], 1e-9, "plain loss")
			require.InDelta(t, c.wantFirst, want[1].vals[0], 1e-6, "plain gradient")
			agree(t, runner, func(b backend.Backend) ([]output, error) {
				outs, err := lossOutputs(b, c.loss, c.pred, c.y, c.shape)
				if err != nil {
					return nil, err
				}
				outs[0].tol, outs[1].tol = c.valTol, c.gradTol
				return outs, nil
			})
		})
	}
}

func lossOutputs(b backend.Backend, l losses.Loss, pred, y []float64, shape []int) ([]output, error) {
	p, err := b.Input(pred, shape, 0)
	if err != nil {
		return nil, err
	}
	yt, err := b.Input(y, shape, 0)
	if err != nil {
		return nil, err
	}
	v, err := l.Forward(b, p, yt)
	if err != nil {
		return nil, err
	}
	g, err := l.Backward(b, p, yt)
	if err != nil {
		return nil, err
	}
	return []output{{"loss", v, 0}, {"grad", g, 0}}, nil
}

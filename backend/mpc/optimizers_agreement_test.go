package mpc_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/optimizers"
)

// optSteps is the number of update steps each optimizer case takes.
const optSteps = 3

// optCase is one optimizer applying optSteps steps to the same weights and gradients on both
// engines; tol bounds the error of the weights after each step.
type optCase struct {
	name string
	opt  optimizers.Optimizer
	tol  float64
}

// Every optimizer's steps agree on the secure engine with the plain one: a kernel [4, 3] and
// a bias [3] in [-1, 1) take three steps with gradients in [-1, 1); a non-trainable
// variable must stay as it is.
func TestOptimizersAgree(t *testing.T) {
	cases := []optCase{
		// w += -lr·g: the product with the public -lr is one rounded linear combination (one
		// ulp plus 2^-20 of the value), on top of the encodings of w and g (ulp/2, and lr·ulp/2):
		// after three steps, ulp/2 + 3·(1.1 ulp).
		{"sgd", optimizers.SGD(0.1), 4 * ulp},
		// v = m·v - lr·g, w += v: two rounded scalings per step (2.2 ulp) enter v, whose
		// errors add up in w: v's errors 2.2, 4.2 and 6 ulp after steps 1 to 3 (m = 0.9), w's
		// 12.4 ulp plus its encoding.
		{"sgd momentum", optimizers.SGD(0.1, optimizers.Momentum(0.9)), 13 * ulp},
		// Nesterov steps by m·v - lr·g: v's error times m plus one more rounded scaling on top
		// of -lr·g's, 4.1, 5.9 and 7.5 ulp, 18 ulp with w's encoding.
		{"sgd nesterov", optimizers.SGD(0.1, optimizers.Momentum(0.9), optimizers.Nesterov(true)), 19 * ulp},
		// Adam and AMSGrad with ε = 2^-8, the smallest the optimizers package recommends for
		// f = 16 (ε ≥ 2^(-f/2), so that ε² is one unit in the last place), and with a larger ε
		// = 2^-5; their tolerances come from adamBounds.
		{"adam eps 2^-8", optimizers.Adam(0.01, optimizers.Epsilon(0x1p-8)), 0},
		{"amsgrad eps 2^-8", optimizers.Adam(0.01, optimizers.Epsilon(0x1p-8), optimizers.AMSGrad(true)), 0},
		{"adam eps 2^-5", optimizers.Adam(0.05, optimizers.Epsilon(0x1p-5), optimizers.Beta1(0.8), optimizers.Beta2(0.99)), 0},
	}
	r := rand.New(rand.NewPCG(5, 0x0b7))
	shapes := [][]int{{4, 3}, {3}}
	init := [][]float64{uniform(r, 12, -1, 1), uniform(r, 3, -1, 1)}
	frozen := uniform(r, 2, -1, 1)
	grads := make([][][]float64, optSteps)
	for s := range grads {
		grads[s] = [][]float64{uniform(r, 12, -1, 1), uniform(r, 3, -1, 1)}
	}

	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		runner := mpc.NewLocalRunner(cfg, nil)
		defer runner.Close()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tols := slices.Repeat([]float64{c.tol}, optSteps)
				if cfg, ok := c.opt.Config().(optimizers.AdamConfig); ok {
					tols = adamBounds(cfg, init, grads)
				}
				agree(t, runner, func(b backend.Backend) ([]output, error) {
					vars := make([]*backend.Variable, 0, 3)
					for i, s := range shapes {
						v, err := b.Input(init[i], s, 0)
						if err != nil {
							return nil, err
						}
						vars = append(vars, &backend.Variable{Name: fmt.Sprint("w", i), Value: v, Trainable: true})
					}
					fv, err := b.Input(frozen, []int{2}, 0)
					if err != nil {
						return nil, err
					}
					vars = append(vars, &backend.Variable{Name: "frozen", Value: fv})
					u, err := c.opt.Build(b, vars)
					if err != nil {
						return nil, err
					}
					var outs []output
					for s := range optSteps {
						for i := range shapes {
							if vars[i].Grad, err = b.Input(grads[s][i], shapes[i], 0); err != nil {
								return nil, err
							}
						}
						if err := u.Update(); err != nil {
							return nil, err
						}
						for _, v := range vars[:len(shapes)] {
							outs = append(outs, output{fmt.Sprintf("step %d %s", s+1, v.Name), v.Value, tols[s]})
						}
					}
					if u.Iterations() != optSteps {
						return nil, fmt.Errorf("%d iterations, want %d", u.Iterations(), optSteps)
					}
					return append(outs, output{"frozen", vars[2].Value, ulp / 2}), nil
				})
			})
		}
	})
}

// adamBounds returns, for each step of Adam with cfg from the weights init and the gradients
// grads[step], a bound on the error of the secure engine's weights after that step. It
// follows the plain trajectory in float64 and bounds the error of every quantity of the update
// elementwise:
//
//   - m = β1·m + (1-β1)·g: two rounded scalings (one ulp each, plus 2^-20 of the value) and the
//     encoding of g, on top of β1 times m's error;
//   - v = β2·v + (1-β2)·g²: the same, with g² off by |g|·ulp for the encodings and one ulp for
//     its truncation; AMSGrad's running maximum errs by at most the larger of its operands'
//     errors, the comparison being exact;
//   - 1/sqrt(v + ε²): the secure engine sees v + ε² off by δ (v's error and the encoding of ε²)
//     and computes the inverse square root of that within 1e-3 relative; 1/sqrt of the
//     true value moves by up to 1/sqrt(max(v + ε² - δ, ulp)) - 1/sqrt(v + ε²) (the input never
//     drops below one ulp when ε ≥ 2^-8). With ε = 2^-8 and a small v this term dominates:
//     16-bit fixed point holds (1-β2)·g² with a handful of significant bits;
//   - m times it: both errors, and one truncation; times the public -α: one rounding.
//
// The weights' errors add up over the steps, from the encoding of the initial weights.
func adamBounds(cfg optimizers.AdamConfig, init [][]float64, grads [][][]float64) []float64 {
	round := func(v float64) float64 { return ulp + 0x1p-20*math.Abs(v) } // a rounded scaling
	eps2 := cfg.Epsilon * cfg.Epsilon
	type state struct{ m, v, vmax, dm, dv, dvmax, dw float64 }
	st := make([][]state, len(init))
	for i := range init {
		st[i] = make([]state, len(init[i]))
		for j := range st[i] {
			st[i][j].dw = ulp / 2
		}
	}
	tols := make([]float64, len(grads))
	for s, gs := range grads {
		t := float64(s + 1)
		alpha := cfg.LearningRate * math.Sqrt(1-math.Pow(cfg.Beta2, t)) / (1 - math.Pow(cfg.Beta1, t))
		for i, g := range gs {
			for j, gj := range g {
				e := &st[i][j]
				e.dm = cfg.Beta1*e.dm + round(cfg.Beta1*e.m) + round((1-cfg.Beta1)*gj) + (1-cfg.Beta1)*ulp/2
				e.m = cfg.Beta1*e.m + (1-cfg.Beta1)*gj
				e.dv = cfg.Beta2*e.dv + round(cfg.Beta2*e.v) + round((1-cfg.Beta2)*gj*gj) + (1-cfg.Beta2)*(math.Abs(gj)+1)*ulp
				e.v = cfg.Beta2*e.v + (1-cfg.Beta2)*gj*gj
				v, dv := e.v, e.dv
				if cfg.AMSGrad {
					e.vmax, e.dvmax = math.Max(e.vmax, e.v), math.Max(e.dvmax, e.dv)
					v, dv = e.vmax, e.dvmax
				}
				d, dd := v+eps2, dv+ulp/2
				inv := 1 / math.Sqrt(d)
				invHi := 1 / math.Sqrt(math.Max(d-dd, ulp)) // the largest the secure input allows
				dinv := math.Max(invHi-inv, inv-1/math.Sqrt(d+dd)) + invSqrtRel*invHi
				dq := math.Abs(e.m)*dinv + invHi*(1+invSqrtRel)*e.dm + ulp
				e.dw += alpha*dq + round(alpha*e.m*inv)
				tols[s] = math.Max(tols[s], e.dw)
			}
		}
	}
	return tols
}

package mpc_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/backend/plain"
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
		// Adam and AMSGrad with ε = 2^-8 (ε² one unit in the last place) and with a larger ε
		// = 2^-5 (Keras's default 1e-7: TestAdamDefaultsAgree); their tolerances come from
		// adamBounds.
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
					tols = maxBounds(adamBounds(cfg, init, grads))
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
// grads[step], a bound on the error of the secure engine's weights after that step, per
// element ([step][variable][element]). It follows the plain trajectory in float64 and bounds
// the error of every quantity of the update elementwise, with S = 2^10 the scaling of the
// gradients and 2^s that of the inverse square root (the optimizers package):
//
//   - S·g carries the encoding of g (S·ulp/2); (S·g)² its error times 2·S·|g| plus one
//     truncation;
//   - M += b1·(S·g - M) and X += b2·((S·g)² - X) (the bias-corrected moments, scaled by S and
//     S²): one rounded scaling, one ulp plus 2^-17 of its operand (the public factor is
//     rounded to a multiple of 2^-16), on top of the errors of both terms; AMSGrad's
//     running maximum errs by at most the larger of its operands' errors (the comparison is
//     exact, its decayed operand rounds once more);
//   - y = 2^s/sqrt(X + S²·ε̂²) (s = 16 - j, lr·2^j near 1): the secure engine sees its input off by δ (X's error and the
//     encoding of ε̂²), clamped to [ulp, 2^28], and computes its inverse square root within
//     1e-3 relative plus 1.5 ulp (secure/approx); y moves by up to the largest change over
//     [X - δ, X + δ];
//   - -lr·2^j·y, its product with M, and the exact scaling by 2^-16: one rounding each, and
//     the product carries both operands' errors.
//
// The weights' errors add up over the steps, from the encoding of the initial weights.
func adamBounds(cfg optimizers.AdamConfig, init [][]float64, grads [][][]float64) [][][]float64 {
	const (
		scale = 1024.0
		top   = 0x1p28
	)
	j := min(max(int(math.Round(-math.Log2(cfg.LearningRate))), 2), 8)
	shift, lr := math.Ldexp(1, 16-j), math.Ldexp(cfg.LearningRate, j)
	round := func(x float64) float64 { return ulp + 0x1p-17*math.Abs(x) } // a rounded scaling of x
	type state struct{ m, v, vmax, dm, dv, dvmax, dw float64 }
	st := make([][]state, len(init))
	for i := range init {
		st[i] = make([]state, len(init[i]))
		for j := range st[i] {
			st[i][j].dw = ulp / 2
		}
	}
	out := make([][][]float64, len(grads))
	for s, gs := range grads {
		t := float64(s + 1)
		c1, c2 := 1-math.Pow(cfg.Beta1, t), 1-math.Pow(cfg.Beta2, t)
		b1, b2 := (1-cfg.Beta1)/c1, (1-cfg.Beta2)/c2
		// towards(x, b, y): (1-b)·x + b·y, one rounding of b·(y - x) unless b = 1.
		towards := func(x, dx, b, y, dy float64) (float64, float64) {
			if b == 1 {
				return y, dy
			}
			return x + b*(y-x), (1-b)*dx + b*dy + round(y-x)
		}
		decay := (1 - math.Pow(cfg.Beta2, t-1)) / c2
		eps2 := scale * scale * cfg.Epsilon * cfg.Epsilon / c2
		out[s] = make([][]float64, len(gs))
		for i, g := range gs {
			out[s][i] = make([]float64, len(g))
			for j, gj := range g {
				e := &st[i][j]
				sg, dsg := scale*gj, scale*ulp/2
				if gj == math.Round(gj/ulp)*ulp {
					dsg = 0 // an encoded gradient
				}
				q, dq := sg*sg, 2*math.Abs(sg)*dsg+dsg*dsg+ulp
				e.m, e.dm = towards(e.m, e.dm, b1, sg, dsg)
				e.v, e.dv = towards(e.v, e.dv, b2, q, dq)
				v, dv := e.v, e.dv
				if cfg.AMSGrad {
					e.dvmax = math.Max(decay*e.dvmax+round(e.vmax), e.dv)
					e.vmax = math.Max(decay*e.vmax, e.v)
					v, dv = e.vmax, e.dvmax
				}
				d, dd := v+eps2, dv+ulp/2
				y := shift / math.Sqrt(d)
				yHi := shift / math.Sqrt(math.Min(math.Max(d-dd, ulp), top))
				yLo := shift / math.Sqrt(math.Min(d+dd, top))
				dy := math.Max(yHi-y, y-yLo) + invSqrtRel*yHi + 1.5*ulp
				dly := lr*dy + round(y)
				lyMax := lr*(yHi*(1+invSqrtRel)+1.5*ulp) + round(yHi) // the secure -lr·2^j·y at most
				dp := math.Abs(e.m)*dly + lyMax*e.dm + ulp
				e.dw += dp*0x1p-16 + ulp // 2^-16 is exact: one truncation
				out[s][i][j] = e.dw
			}
		}
	}
	return out
}

// maxBounds returns the largest bound of each step.
func maxBounds(b [][][]float64) []float64 {
	out := make([]float64, len(b))
	for s := range b {
		for _, v := range b[s] {
			for _, x := range v {
				out[s] = math.Max(out[s], x)
			}
		}
	}
	return out
}

// Adam with Keras's defaults (ε = 1e-7) agrees with the plain engine after 1, 10 and 100
// steps for gradients from 1e-6 to 10 in magnitude (log-spaced, random signs, each step
// scaled by a factor in [0.5, 1.5]), within adamBounds elementwise. The gradients are
// rounded to multiples of 2^-16, the secure engine's input (below 2^-17 they are 0 there): the
// reference is plain Adam on the same gradients. The bounds are checked to stay a small
// fraction of a step, so that they say something: an Adam whose second moment loses the
// small gradients (a step of 7.8e-4 instead of 1e-2 for a gradient of -2.8e-4) fails.
func TestAdamDefaultsAgree(t *testing.T) {
	steps := 100
	n := 40
	if testing.Short() {
		steps, n = 30, 24
	}
	checks := map[int]bool{1: true, 10: true, steps: true}
	r := rand.New(rand.NewPCG(7, 0xada))
	mags := make([]float64, n)
	sign := make([]float64, n)
	for i := range mags {
		mags[i] = math.Pow(10, -6+7*float64(i)/float64(n-1)) // 1e-6 to 10
		sign[i] = float64(1 - 2*r.IntN(2))
	}
	mags[n/2] = 2.8e-4
	enc := func(v float64) float64 { return math.Round(v/ulp) * ulp }
	grads := make([][][]float64, steps)
	for s := range grads {
		g := make([]float64, n)
		for i := range g {
			f := 1.0
			if s > 0 {
				f = 0.5 + r.Float64()
			}
			g[i] = enc(sign[i] * mags[i] * f)
		}
		grads[s] = [][]float64{g}
	}
	init := [][]float64{make([]float64, n)}
	for i := range init[0] {
		init[0][i] = enc(r.Float64()*2 - 1)
	}
	runner := mpc.NewLocalRunner(mpc.Config{}, nil)
	defer runner.Close()
	for _, c := range []struct {
		name string
		opt  optimizers.Optimizer
	}{
		{"adam lr 0.01", optimizers.Adam(0.01)},
		{"adam lr 0.001", optimizers.Adam(0.001)},
		{"amsgrad lr 0.01", optimizers.Adam(0.01, optimizers.AMSGrad(true))},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.opt.Config().(optimizers.AdamConfig)
			bounds := adamBounds(cfg, init, grads)
			prog := func(b backend.Backend) ([]output, error) {
				x, err := b.Input(init[0], []int{n}, 0)
				if err != nil {
					return nil, err
				}
				w := &backend.Variable{Name: "w", Value: x, Trainable: true}
				u, err := c.opt.Build(b, []*backend.Variable{w})
				if err != nil {
					return nil, err
				}
				var outs []output
				for s := range steps {
					if w.Grad, err = b.Input(grads[s][0], []int{n}, 0); err != nil {
						return nil, err
					}
					if err := u.Update(); err != nil {
						return nil, err
					}
					if checks[s+1] {
						outs = append(outs, output{fmt.Sprint("step ", s+1), w.Value, 0})
					}
				}
				return outs, nil
			}
			want, err := openAll(plain.New(), prog)
			require.NoError(t, err)
			var got [3][]opened
			require.NoError(t, runner.Run(func(b backend.Backend) error {
				r, err := openAll(b, prog)
				got[b.Party()] = r
				return err
			}))
			k := 0
			for s := range steps {
				if !checks[s+1] {
					continue
				}
				worst, worstBound := 0.0, 0.0
				for p := range got {
					g := got[p][k].vals
					for i := range n {
						d := math.Abs(g[i] - want[k].vals[i])
						require.LessOrEqual(t, d, bounds[s][0][i], "party %d, step %d, gradient %.3g: plain %v, secure %v",
							p, s+1, grads[0][0][i], want[k].vals[i], g[i])
						worst = math.Max(worst, d)
						if mags[i] >= 1.5e-4 {
							worstBound = math.Max(worstBound, bounds[s][0][i])
						}
					}
				}
				t.Logf("step %3d: max error %.2e, max bound %.2e for gradients from 1.5e-4 (lr %g)", s+1, worst, worstBound, cfg.LearningRate)
				// A bound that says something: far below the steps' length from gradients of
				// 1.5e-4 (X = S²g²/4 = 5.9e-3 = 390 units in the last place at the smallest
				// factor), plus two units in the last place of the weights per step (their own
				// rounding). Below, the moments hold few significant bits and the bound grows
				// to the steps themselves.
				assert.Less(t, worstBound, (0.02*cfg.LearningRate+2*ulp)*float64(s+1), "step %d", s+1)
				k++
			}
			// Keras's first step moves every weight whose gradient is well above ε by about the
			// learning rate, and so does the secure engine (the case of -2.8e-4).
			for i := range n {
				if math.Abs(grads[0][0][i]) >= 1e-4 {
					assert.InDelta(t, cfg.LearningRate, math.Abs(got[0][0].vals[i]-init[0][i]), 0.01*cfg.LearningRate, "gradient %g", grads[0][0][i])
				}
			}
		})
	}
}

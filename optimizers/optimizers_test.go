package optimizers

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/plain"
)

// joining is the plain engine with Concat and Split, so that updaters take the path of the
// secure engine: one step over the concatenation of all the variables.
type joining struct{ *plain.Backend }

func (j joining) Concat(axis int, xs ...backend.Tensor) (backend.Tensor, error) {
	var all []float64
	for _, x := range xs {
		all = append(all, x.(*plain.Tensor).Values()...)
	}
	return plain.NewTensor(all, []int{len(all)})
}

func (j joining) Split(x backend.Tensor, sizes []int) ([]backend.Tensor, error) {
	v := x.(*plain.Tensor).Values()
	var out []backend.Tensor
	for _, n := range sizes {
		t, err := plain.NewTensor(v[:n], []int{n})
		if err != nil {
			return nil, err
		}
		out, v = append(out, t), v[n:]
	}
	return out, nil
}

var _ joiner = joining{}

// run applies the optimizer to one scalar weight starting at w0 with the given gradients and
// returns the weight after each step.
func run(t *testing.T, o Optimizer, w0 float64, grads ...float64) []float64 {
	t.Helper()
	return runOn(t, plain.New(), o, w0, grads...)
}

func runOn(t *testing.T, b backend.Backend, o Optimizer, w0 float64, grads ...float64) []float64 {
	t.Helper()
	val := func(v float64) backend.Tensor {
		x, err := b.Const([]float64{v}, []int{1})
		require.NoError(t, err)
		return x
	}
	frozen := &backend.Variable{Name: "frozen", Value: val(7)}
	w := &backend.Variable{Name: "w", Value: val(w0), Trainable: true}
	u, err := o.Build(b, []*backend.Variable{frozen, w})
	require.NoError(t, err)
	var out []float64
	for _, g := range grads {
		w.Grad = val(g)
		require.NoError(t, u.Update())
		out = append(out, w.Value.(*plain.Tensor).Values()[0])
	}
	assert.Equal(t, len(grads), u.Iterations())
	assert.Equal(t, []float64{7}, frozen.Value.(*plain.Tensor).Values(), "non-trainable variables are left alone")
	return out
}

func TestHandComputedSteps(t *testing.T) {
	sqrt, pow := math.Sqrt, math.Pow
	// Adam, lr 0.1, gradients 0.5 then -1.
	m1, v1 := 0.1*0.5, 0.001*0.25
	a1 := 0.1 * sqrt(1-0.999) / (1 - 0.9)
	w1 := 1 - a1*m1/sqrt(v1+1e-14)
	m2, v2 := 0.9*m1+0.1*-1, 0.999*v1+0.001*1
	a2 := 0.1 * sqrt(1-pow(0.999, 2)) / (1 - pow(0.9, 2))
	w2 := w1 - a2*m2/sqrt(v2+1e-14)
	// AMSGrad, lr 0.1, gradients 1 then 0: the second step divides by max(v1, v2) = v1.
	am1, av1 := 0.1, 0.001
	aw1 := 1 - a1*am1/sqrt(av1+1e-14)
	am2, av2 := 0.9*am1, 0.999*av1
	require.Less(t, av2, av1)
	aw2 := aw1 - a2*am2/sqrt(av1+1e-14)
	aw2plain := aw1 - a2*am2/sqrt(av2+1e-14)

	for _, tc := range []struct {
		name  string
		opt   Optimizer
		grads []float64
		want  []float64
	}{
		{"sgd", SGD(0.1), []float64{0.5, 0.5}, []float64{0.95, 0.9}},
		{"sgd momentum", SGD(0.1, Momentum(0.9)), []float64{0.5, 0.5}, []float64{0.95, 0.95 - 0.095}},
		{"sgd nesterov", SGD(0.1, Momentum(0.9), Nesterov(true)), []float64{0.5, 0.5},
			[]float64{1 - 0.095, 1 - 0.095 - (0.9*0.095 + 0.05)}},
		{"adam", Adam(0.1), []float64{0.5, -1}, []float64{w1, w2}},
		{"amsgrad", Adam(0.1, AMSGrad(true)), []float64{1, 0}, []float64{aw1, aw2}},
		{"adam without amsgrad", Adam(0.1), []float64{1, 0}, []float64{aw1, aw2plain}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDeltaSlice(t, tc.want, run(t, tc.opt, 1, tc.grads...), 1e-12)
			assert.InDeltaSlice(t, tc.want, runOn(t, joining{plain.New()}, tc.opt, 1, tc.grads...), 1e-12, "joined")
		})
	}
	// Adam's first step moves each weight by about the learning rate.
	assert.InDelta(t, 0.9, w1, 1e-6)
}

// Keras's default learning rates: from a zero learning rate, and from the names compile takes.
func TestDefaults(t *testing.T) {
	assert.Equal(t, 0.01, SGD(0).Config().(SGDConfig).LearningRate)
	assert.Equal(t, 0.001, Adam(0).Config().(AdamConfig).LearningRate)
	for name, want := range map[string]float64{"sgd": 0.01, "SGD": 0.01, "adam": 0.001, "Adam": 0.001} {
		o, err := Get(name)
		require.NoError(t, err)
		require.NoError(t, o.Validate())
		switch c := o.Config().(type) {
		case SGDConfig:
			assert.Equal(t, want, c.LearningRate, name)
		case AdamConfig:
			assert.Equal(t, want, c.LearningRate, name)
			assert.Equal(t, 0.9, c.Beta1)
		}
	}
	_, err := Get("adagrad")
	assert.EqualError(t, err, `optimizers: unknown optimizer "adagrad" (want sgd or adam)`)
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Optimizer
		want string
	}{
		{"lr", SGD(-0.1), "learning rate -0.1 must be positive"},
		{"momentum", SGD(0.1, Momentum(1)), "momentum 1 not in [0, 1)"},
		{"option", SGD(0.1, Beta1(0.5)), "option Beta1 does not apply to SGD"},
		{"adam option", Adam(0.1, Nesterov(true)), "option Nesterov does not apply to Adam"},
		{"beta", Adam(0.1, Beta2(1)), "betas"},
		{"eps", Adam(0.1, Epsilon(0)), "epsilon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorContains(t, tc.opt.Validate(), tc.want)
			_, err := tc.opt.Build(plain.New(), nil)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	b := plain.New()
	x, err := b.Const([]float64{1}, []int{1})
	require.NoError(t, err)
	u, err := SGD(0.1).Build(b, []*backend.Variable{{Name: "w", Value: x, Trainable: true}})
	require.NoError(t, err)
	assert.ErrorContains(t, u.Update(), "variable w has no gradient")
}

func TestFromConfig(t *testing.T) {
	o, err := FromConfig("Adam", []byte(`{"learning_rate":0.01,"beta_1":0.8,"beta_2":0.99,"epsilon":1e-6,"amsgrad":true}`))
	require.NoError(t, err)
	assert.Equal(t, AdamConfig{LearningRate: 0.01, Beta1: 0.8, Beta2: 0.99, Epsilon: 1e-6, AMSGrad: true}, o.Config())
	o, err = FromConfig("SGD", []byte(`{"learning_rate":0.1,"momentum":0.9,"nesterov":true}`))
	require.NoError(t, err)
	assert.Equal(t, SGDConfig{LearningRate: 0.1, Momentum: 0.9, Nesterov: true}, o.Config())
	_, err = FromConfig("RMSprop", []byte(`{}`))
	assert.ErrorContains(t, err, "unknown optimizer")
	_, err = FromConfig("SGD", []byte(`{"learning_rate":-1}`))
	assert.ErrorContains(t, err, "learning rate")
}

// On a backend that joins tensors, every optimizer updates all variables at once and gives the
// same weights as variable by variable.
func TestJoinedMatchesPerVariable(t *testing.T) {
	for _, o := range []Optimizer{
		SGD(0.1), SGD(0.1, Momentum(0.9)), SGD(0.1, Momentum(0.9), Nesterov(true)),
		Adam(0.1), Adam(0.1, AMSGrad(true)),
	} {
		t.Run(o.Name(), func(t *testing.T) {
			steps := func(b backend.Backend) [][]float64 {
				val := func(v []float64, shape ...int) backend.Tensor {
					x, err := b.Const(v, shape)
					require.NoError(t, err)
					return x
				}
				k := &backend.Variable{Name: "k", Value: val([]float64{1, -2, 3, 0.5}, 2, 2), Trainable: true}
				frozen := &backend.Variable{Name: "frozen", Value: val([]float64{7}, 1)}
				bias := &backend.Variable{Name: "b", Value: val([]float64{0.1, 0.2, -0.3}, 3), Trainable: true}
				u, err := o.Build(b, []*backend.Variable{k, frozen, bias})
				require.NoError(t, err)
				var out [][]float64
				for s := range 3 {
					f := float64(s + 1)
					k.Grad = val([]float64{0.5 * f, -1, 0.25, 2 / f}, 2, 2)
					bias.Grad = val([]float64{-0.5, f, 0}, 3)
					require.NoError(t, u.Update())
					for _, v := range []*backend.Variable{k, frozen, bias} {
						out = append(out, v.Value.(*plain.Tensor).Values())
					}
					assert.Equal(t, []int{2, 2}, k.Value.Shape())
				}
				return out
			}
			want, got := steps(plain.New()), steps(joining{plain.New()})
			require.Equal(t, len(want), len(got))
			for i := range want {
				assert.InDeltaSlice(t, want[i], got[i], 1e-12)
			}
		})
	}
}

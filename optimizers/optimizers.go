package optimizers

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gotfe/gotfe/backend"
)

// Optimizer is an optimizer spec: hyperparameters from which a model builds one Updater per
// backend.
type Optimizer interface {
	// Name is the Keras class name, "SGD" or "Adam".
	Name() string
	// Config returns the JSON-encodable hyperparameters FromConfig rebuilds the optimizer from.
	Config() any
	// Validate checks the hyperparameters.
	Validate() error
	// Build returns an updater for vars (the trainable ones are updated) on backend b.
	Build(b backend.Backend, vars []*backend.Variable) (Updater, error)
}

// Updater applies an optimizer's steps to one replica of a model's weights.
type Updater interface {
	// Update applies one step to every trainable variable from its Grad.
	Update() error
	// Iterations returns the number of steps applied.
	Iterations() int
	// Slots returns the optimizer's state (SGD's velocity, Adam's moments), in a fixed order;
	// nil for a stateless optimizer. The tensors are the updater's own: do not change them.
	Slots() []backend.Tensor
	// Restore sets the number of steps applied and the state, as Slots returned them (same
	// count and shapes), so that training resumes exactly where it was saved.
	Restore(iterations int, slots []backend.Tensor) error
}

// restoreSlots checks slots against the current ones and copies them in.
func restoreSlots(class string, dst [][]backend.Tensor, slots []backend.Tensor) error {
	n := 0
	for _, d := range dst {
		n += len(d)
	}
	if len(slots) != n {
		return fmt.Errorf("%s: restore: %d state tensors, want %d", class, len(slots), n)
	}
	k := 0
	for _, d := range dst {
		for i := range d {
			if !slices.Equal(d[i].Shape(), slots[k].Shape()) {
				return fmt.Errorf("%s: restore: state tensor %d has shape %v, want %v", class, k, slots[k].Shape(), d[i].Shape())
			}
			k++
		}
	}
	k = 0
	for _, d := range dst {
		for i := range d {
			d[i] = slots[k]
			k++
		}
	}
	return nil
}

func checkIterations(class string, it int) error {
	if it < 0 {
		return fmt.Errorf("%s: restore: %d iterations", class, it)
	}
	return nil
}

// Option is an optional hyperparameter of an optimizer constructor.
type Option interface {
	apply(c *config)
}

type config struct {
	given []string
	sgd   SGDConfig
	adam  AdamConfig
}

type option struct {
	key string
	f   func(c *config)
}

func (o option) apply(c *config) { c.given = append(c.given, o.key); o.f(c) }

// Momentum sets SGD's momentum in [0, 1) (default 0: plain gradient descent).
func Momentum(m float64) Option {
	return option{"Momentum", func(c *config) { c.sgd.Momentum = m }}
}

// Nesterov makes SGD use Nesterov momentum (default false).
func Nesterov(v bool) Option {
	return option{"Nesterov", func(c *config) { c.sgd.Nesterov = v }}
}

// Beta1 sets Adam's decay rate of the first moment estimate (default 0.9).
func Beta1(v float64) Option { return option{"Beta1", func(c *config) { c.adam.Beta1 = v }} }

// Beta2 sets Adam's decay rate of the second moment estimate (default 0.999).
func Beta2(v float64) Option { return option{"Beta2", func(c *config) { c.adam.Beta2 = v }} }

// Epsilon sets Adam's epsilon (default 1e-7).
func Epsilon(v float64) Option { return option{"Epsilon", func(c *config) { c.adam.Epsilon = v }} }

// AMSGrad selects the AMSGrad variant of Adam, which divides by the running maximum of the
// second moment estimate (default false).
func AMSGrad(v bool) Option { return option{"AMSGrad", func(c *config) { c.adam.AMSGrad = v }} }

func collect(class string, opts []Option, c *config, allowed ...string) error {
	for _, o := range opts {
		if o == nil {
			return fmt.Errorf("%s: nil option", class)
		}
		o.apply(c)
	}
	for _, k := range c.given {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("%s: option %s does not apply to %s", class, k, class)
		}
	}
	return nil
}

// SGDConfig holds the hyperparameters of [SGD].
type SGDConfig struct {
	LearningRate float64 `json:"learning_rate"`
	Momentum     float64 `json:"momentum"`
	Nesterov     bool    `json:"nesterov"`
}

type sgd struct {
	cfg SGDConfig
	err error
}

// Keras's default learning rates, which a learning rate of 0 selects (SGD(0), Adam(0)) and
// the names Get takes give.
const (
	DefaultSGDLearningRate  = 0.01
	DefaultAdamLearningRate = 0.001
)

// Get returns an optimizer by the name Keras's compile takes, case-insensitively, with Keras's
// default hyperparameters: "sgd" (SGD(0.01)) or "adam" (Adam(0.001)).
func Get(name string) (Optimizer, error) {
	switch strings.ToLower(name) {
	case "sgd":
		return SGD(0), nil
	case "adam":
		return Adam(0), nil
	}
	return nil, fmt.Errorf("optimizers: unknown optimizer %q (want sgd or adam)", name)
}

// SGD returns stochastic gradient descent with the given learning rate (0 selects Keras's
// default, 0.01). Without momentum a step is w -= lr*g. With momentum m a velocity v (initially 0)
// becomes v = m*v - lr*g and w += v, or with Nesterov w += m*v - lr*g. Options: Momentum,
// Nesterov.
func SGD(learningRate float64, opts ...Option) Optimizer {
	if learningRate == 0 {
		learningRate = DefaultSGDLearningRate
	}
	c := config{sgd: SGDConfig{LearningRate: learningRate}}
	err := collect("SGD", opts, &c, "Momentum", "Nesterov")
	return &sgd{cfg: c.sgd, err: err}
}

func (o *sgd) Name() string { return "SGD" }
func (o *sgd) Config() any  { return o.cfg }

func (o *sgd) Validate() error {
	if o.err != nil {
		return o.err
	}
	if err := checkLR("SGD", o.cfg.LearningRate); err != nil {
		return err
	}
	if !(o.cfg.Momentum >= 0 && o.cfg.Momentum < 1) {
		return fmt.Errorf("SGD: momentum %v not in [0, 1)", o.cfg.Momentum)
	}
	return nil
}

func checkLR(class string, lr float64) error {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("%s: learning rate %v must be positive", class, lr)
	}
	return nil
}

// trainable returns the trainable variables, checking they have values.
func trainable(class string, vars []*backend.Variable) ([]*backend.Variable, error) {
	var out []*backend.Variable
	for i, v := range vars {
		if v == nil || v.Value == nil {
			return nil, fmt.Errorf("%s: variable %d has no value", class, i)
		}
		if v.Trainable {
			out = append(out, v)
		}
	}
	return out, nil
}

func zerosLike(b backend.Backend, vars []*backend.Variable) ([]backend.Tensor, error) {
	out := make([]backend.Tensor, len(vars))
	for i, v := range vars {
		z, err := b.Zeros(v.Value.Shape())
		if err != nil {
			return nil, err
		}
		out[i] = z
	}
	return out, nil
}

func grad(class string, v *backend.Variable) (backend.Tensor, error) {
	if v.Grad == nil {
		return nil, fmt.Errorf("%s: variable %s has no gradient", class, v.Name)
	}
	if !slices.Equal(v.Grad.Shape(), v.Value.Shape()) {
		return nil, fmt.Errorf("%s: gradient of %s has shape %v, value %v", class, v.Name, v.Grad.Shape(), v.Value.Shape())
	}
	return v.Grad, nil
}

// joiner is implemented by backends that concatenate 1-D tensors and split them back (the
// secure engine). On such a backend an updater keeps its slots as one flat tensor and applies
// each step to the concatenation of all the gradients: the same elementwise arithmetic, but a
// multi-party engine pays the communication rounds of a step once per update instead of once
// per variable.
type joiner interface {
	Concat(axis int, xs ...backend.Tensor) (backend.Tensor, error)
	Split(x backend.Tensor, sizes []int) ([]backend.Tensor, error)
}

// flat is the layout of the trainable variables in the concatenation of their values.
type flat struct {
	j     joiner
	sizes []int
	total int
}

// newFlat returns the layout of vars on b, or nil when b cannot join tensors.
func newFlat(b backend.Backend, vars []*backend.Variable) (*flat, error) {
	j, ok := b.(joiner)
	if !ok || len(vars) == 0 {
		return nil, nil
	}
	f := &flat{j: j}
	for _, v := range vars {
		n, err := backend.NumElements(v.Value.Shape())
		if err != nil {
			return nil, err
		}
		f.sizes = append(f.sizes, n)
		f.total += n
	}
	return f, nil
}

// grads returns the concatenation of the variables' gradients.
func (f *flat) grads(b backend.Backend, class string, vars []*backend.Variable) (backend.Tensor, error) {
	parts := make([]backend.Tensor, len(vars))
	for i, v := range vars {
		g, err := grad(class, v)
		if err != nil {
			return nil, err
		}
		if parts[i], err = b.Reshape(g, []int{f.sizes[i]}); err != nil {
			return nil, err
		}
	}
	return f.j.Concat(0, parts...)
}

// apply adds the slices of step to the variables' values.
func (f *flat) apply(b backend.Backend, vars []*backend.Variable, step backend.Tensor) error {
	parts, err := f.j.Split(step, f.sizes)
	if err != nil {
		return err
	}
	for i, v := range vars {
		d, err := b.Reshape(parts[i], v.Value.Shape())
		if err != nil {
			return err
		}
		nv, err := b.Add(v.Value, d)
		if err != nil {
			return err
		}
		v.Value = nv
	}
	return nil
}

func (o *sgd) Build(b backend.Backend, vars []*backend.Variable) (Updater, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	tv, err := trainable("SGD", vars)
	if err != nil {
		return nil, err
	}
	u := &sgdUpdater{b: b, cfg: o.cfg, vars: tv}
	if u.flat, err = newFlat(b, tv); err != nil {
		return nil, fmt.Errorf("SGD: %w", err)
	}
	if o.cfg.Momentum > 0 {
		if u.flat != nil {
			z, err := b.Zeros([]int{u.flat.total})
			if err != nil {
				return nil, fmt.Errorf("SGD: %w", err)
			}
			u.velocity = []backend.Tensor{z}
		} else if u.velocity, err = zerosLike(b, tv); err != nil {
			return nil, fmt.Errorf("SGD: %w", err)
		}
	}
	return u, nil
}

type sgdUpdater struct {
	b        backend.Backend
	cfg      SGDConfig
	vars     []*backend.Variable
	flat     *flat            // non-nil: one step over the concatenated variables
	velocity []backend.Tensor // per variable, or one flat tensor
	steps    int
}

func (u *sgdUpdater) Iterations() int { return u.steps }

// Slots returns the velocity (nil without momentum).
func (u *sgdUpdater) Slots() []backend.Tensor { return slices.Clone(u.velocity) }

// Restore sets the step count and the velocity.
func (u *sgdUpdater) Restore(iterations int, slots []backend.Tensor) error {
	if err := checkIterations("SGD", iterations); err != nil {
		return err
	}
	if err := restoreSlots("SGD", [][]backend.Tensor{u.velocity}, slots); err != nil {
		return err
	}
	u.steps = iterations
	return nil
}

func (u *sgdUpdater) Update() error {
	if u.flat != nil {
		g, err := u.flat.grads(u.b, "SGD", u.vars)
		if err != nil {
			return err
		}
		step, err := u.step(0, g)
		if err == nil {
			err = u.flat.apply(u.b, u.vars, step)
		}
		if err != nil {
			return fmt.Errorf("SGD: %w", err)
		}
		u.steps++
		return nil
	}
	for i, v := range u.vars {
		g, err := grad("SGD", v)
		if err != nil {
			return err
		}
		step, err := u.step(i, g)
		if err == nil {
			var nv backend.Tensor
			if nv, err = u.b.Add(v.Value, step); err == nil {
				v.Value = nv
			}
		}
		if err != nil {
			return fmt.Errorf("SGD: %s: %w", v.Name, err)
		}
	}
	u.steps++
	return nil
}

// step returns the change of the weights whose gradient is g and velocity slot i.
func (u *sgdUpdater) step(i int, g backend.Tensor) (backend.Tensor, error) {
	b, lr, m := u.b, u.cfg.LearningRate, u.cfg.Momentum
	step, err := b.Scale(g, -lr) // -lr*g
	if err != nil {
		return nil, err
	}
	if m > 0 {
		mv, err := b.Scale(u.velocity[i], m)
		if err != nil {
			return nil, err
		}
		vel, err := b.Add(mv, step) // v = m*v - lr*g
		if err != nil {
			return nil, err
		}
		u.velocity[i] = vel
		if u.cfg.Nesterov { // m*v - lr*g
			if mv, err = b.Scale(vel, m); err != nil {
				return nil, err
			}
			if step, err = b.Add(mv, step); err != nil {
				return nil, err
			}
		} else {
			step = vel
		}
	}
	return step, nil
}

// AdamConfig holds the hyperparameters of [Adam].
type AdamConfig struct {
	LearningRate float64 `json:"learning_rate"`
	Beta1        float64 `json:"beta_1"`
	Beta2        float64 `json:"beta_2"`
	Epsilon      float64 `json:"epsilon"`
	AMSGrad      bool    `json:"amsgrad"`
}

type adam struct {
	cfg AdamConfig
	err error
}

// Adam returns the Adam optimizer with the given learning rate (0 selects Keras's default,
// 0.001).
// With t the step number (from 1), m = β1*m + (1-β1)*g, v = β2*v + (1-β2)*g² and
// w -= lr*sqrt(1-β2^t)/(1-β1^t) * m / sqrt(v + ε²) (see the package documentation about ε),
// computed from the bias-corrected moments m̂ = m/(1-β1^t) and v̂ = v/(1-β2^t) as
// w -= lr * m̂ / sqrt(v̂ + ε²/(1-β2^t)), the moments updated as m̂ += b1*(g - m̂) with
// b1 = (1-β1)/(1-β1^t) (and v̂ likewise). With AMSGrad, v is replaced by the running maximum
// of v. Options: Beta1, Beta2, Epsilon, AMSGrad.
func Adam(learningRate float64, opts ...Option) Optimizer {
	if learningRate == 0 {
		learningRate = DefaultAdamLearningRate
	}
	c := config{adam: AdamConfig{LearningRate: learningRate, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7}}
	err := collect("Adam", opts, &c, "Beta1", "Beta2", "Epsilon", "AMSGrad")
	return &adam{cfg: c.adam, err: err}
}

func (o *adam) Name() string { return "Adam" }
func (o *adam) Config() any  { return o.cfg }

func (o *adam) Validate() error {
	if o.err != nil {
		return o.err
	}
	c := o.cfg
	if err := checkLR("Adam", c.LearningRate); err != nil {
		return err
	}
	if !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1) {
		return fmt.Errorf("Adam: betas %v, %v not in [0, 1)", c.Beta1, c.Beta2)
	}
	if !(c.Epsilon > 0) {
		return fmt.Errorf("Adam: epsilon %v must be positive", c.Epsilon)
	}
	return nil
}

func (o *adam) Build(b backend.Backend, vars []*backend.Variable) (Updater, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	tv, err := trainable("Adam", vars)
	if err != nil {
		return nil, err
	}
	u := &adamUpdater{b: b, cfg: o.cfg, vars: tv}
	if u.flat, err = newFlat(b, tv); err != nil {
		return nil, fmt.Errorf("Adam: %w", err)
	}
	slots := func() ([]backend.Tensor, error) {
		if u.flat == nil {
			return zerosLike(b, tv)
		}
		z, err := b.Zeros([]int{u.flat.total})
		return []backend.Tensor{z}, err
	}
	if u.m, err = slots(); err != nil {
		return nil, fmt.Errorf("Adam: %w", err)
	}
	if u.v, err = slots(); err != nil {
		return nil, fmt.Errorf("Adam: %w", err)
	}
	if o.cfg.AMSGrad {
		if u.vmax, err = slots(); err != nil {
			return nil, fmt.Errorf("Adam: %w", err)
		}
	}
	return u, nil
}

type adamUpdater struct {
	b          backend.Backend
	cfg        AdamConfig
	vars       []*backend.Variable
	flat       *flat            // non-nil: one step over the concatenated variables
	m, v, vmax []backend.Tensor // per variable, or one flat tensor each
	steps      int
}

func (u *adamUpdater) Iterations() int { return u.steps }

// Slots returns the first moments, the second moments and, with AMSGrad, their running
// maxima.
func (u *adamUpdater) Slots() []backend.Tensor {
	return slices.Concat(u.m, u.v, u.vmax)
}

// Restore sets the step count and the moments.
func (u *adamUpdater) Restore(iterations int, slots []backend.Tensor) error {
	if err := checkIterations("Adam", iterations); err != nil {
		return err
	}
	if err := restoreSlots("Adam", [][]backend.Tensor{u.m, u.v, u.vmax}, slots); err != nil {
		return err
	}
	u.steps = iterations
	return nil
}

func (u *adamUpdater) Update() error {
	co := newAdamCoefs(u.cfg, u.steps+1)
	if u.flat != nil {
		g, err := u.flat.grads(u.b, "Adam", u.vars)
		if err != nil {
			return err
		}
		step, err := u.step(0, g, co)
		if err == nil {
			err = u.flat.apply(u.b, u.vars, step)
		}
		if err != nil {
			return fmt.Errorf("Adam: %w", err)
		}
		u.steps++
		return nil
	}
	for i, v := range u.vars {
		g, err := grad("Adam", v)
		if err != nil {
			return err
		}
		step, err := u.step(i, g, co)
		if err == nil {
			var nv backend.Tensor
			if nv, err = u.b.Add(v.Value, step); err == nil {
				v.Value = nv
			}
		}
		if err != nil {
			return fmt.Errorf("Adam: %s: %w", v.Name, err)
		}
	}
	u.steps++
	return nil
}

// towards returns x + b*(y - x), with one rounded scaling (y itself when b is 1).
func towards(bk backend.Backend, x backend.Tensor, b float64, y backend.Tensor) (backend.Tensor, error) {
	if b == 1 {
		return y, nil
	}
	d, err := bk.Sub(y, x)
	if err != nil {
		return nil, err
	}
	if d, err = bk.Scale(d, b); err != nil {
		return nil, err
	}
	return bk.Add(x, d)
}

// Adam's fixed-point scalings (see the package documentation). Gradients are multiplied by
// adamScale = 2^10 (exactly) before they enter the moments, so that the square of the
// smallest nonzero 16-bit gradient, 2^-16, is 2^-12 (16 units in the last place) and a
// gradient of 10 gives 2^26.6; the second moment must stay below adamMax = 2^28 (gradients
// up to 16) and the products below 2^30 (gradients up to 32). The inverse square root covers
// [2^-16, adamMax] and returns 2^s/sqrt(x) (s from adamShifts), scaled back after the
// product with the first moment.
const (
	adamScale = 1024
	adamMax   = 0x1p28
)

// adamShifts returns j and s = 16 - j for the learning rate lr: the step is
// (-lr·2^j · 2^s/sqrt(S²·v̂ + S²·ε̂²)) · S·m̂ · 2^-16, with lr·2^j near 1 so that a 16-bit
// fixed-point engine holds it to 2^-17 relative (lr itself would lose 0.8% at 0.001), and
// 2^s/sqrt(...) at least 2^-6 over the whole range, so that it keeps ten significant bits.
func adamShifts(lr float64) (j, s int) {
	j = min(max(int(math.Round(-math.Log2(lr))), 2), 8)
	return j, 16 - j
}

// wideInvSqrter is implemented by backends whose inverse square root has a fixed-point range
// (the secure engine): InvSqrtShifted returns 2^shift/sqrt(x) for x clamped to
// [last place, max].
type wideInvSqrter interface {
	InvSqrtShifted(x backend.Tensor, max float64, shift int) (backend.Tensor, error)
}

// adamCoefs are the public coefficients of step t: the moments are kept bias-corrected,
// m̂_t = m̂_{t-1} + b1·(g - m̂_{t-1}) with b1 = (1-β1)/(1-β1^t) (1 at the first step: m̂ is a
// weighted mean of the gradients), and likewise v̂ with β2 and g².
type adamCoefs struct {
	b1, b2   float64
	amsDecay float64 // (1-β2^(t-1))/(1-β2^t): v̂max of step t-1 in the units of step t
	eps2     float64 // ε²/(1-β2^t): Keras's ε is added to sqrt(v) before bias correction
}

func newAdamCoefs(c AdamConfig, step int) adamCoefs {
	t := float64(step)
	c1, c2 := 1-math.Pow(c.Beta1, t), 1-math.Pow(c.Beta2, t)
	p2 := 1 - math.Pow(c.Beta2, t-1)
	return adamCoefs{
		b1: (1 - c.Beta1) / c1, b2: (1 - c.Beta2) / c2,
		amsDecay: p2 / c2,
		eps2:     c.Epsilon * c.Epsilon / c2,
	}
}

// step updates slot i of the moments with the gradient g and returns the change of the
// weights, -lr·m̂/sqrt(v̂ + ε²/(1-β2^t)). The slots hold S·m̂ and S²·v̂ (S = adamScale).
func (u *adamUpdater) step(i int, g backend.Tensor, co adamCoefs) (backend.Tensor, error) {
	b, c := u.b, u.cfg
	gs, err := b.Scale(g, adamScale) // exact: an integer factor
	if err != nil {
		return nil, err
	}
	g2, err := b.Mul(gs, gs)
	if err != nil {
		return nil, err
	}
	if u.m[i], err = towards(b, u.m[i], co.b1, gs); err != nil {
		return nil, err
	}
	if u.v[i], err = towards(b, u.v[i], co.b2, g2); err != nil {
		return nil, err
	}
	vv := u.v[i]
	if c.AMSGrad {
		prev := u.vmax[i]
		if co.amsDecay != 1 {
			if prev, err = b.Scale(prev, co.amsDecay); err != nil {
				return nil, err
			}
		}
		if u.vmax[i], err = b.Maximum(prev, vv); err != nil {
			return nil, err
		}
		vv = u.vmax[i]
	}
	d, err := b.AddScalar(vv, co.eps2*adamScale*adamScale)
	if err != nil {
		return nil, err
	}
	// y = 2^s/sqrt(S²·v̂ + S²·ε̂²) = 2^s/(S·sqrt(v̂ + ε̂²)).
	j, sh := adamShifts(c.LearningRate)
	var y backend.Tensor
	if w, ok := b.(wideInvSqrter); ok {
		y, err = w.InvSqrtShifted(d, adamMax, sh)
	} else if y, err = b.InvSqrt(d); err == nil {
		y, err = b.Scale(y, math.Ldexp(1, sh))
	}
	if err != nil {
		return nil, err
	}
	// -lr·2^j·y·S·m̂·2^-16 = -lr·m̂/sqrt(v̂ + ε̂²); the final power of two is exact.
	if y, err = b.Scale(y, -math.Ldexp(c.LearningRate, j)); err != nil {
		return nil, err
	}
	p, err := b.Mul(u.m[i], y)
	if err != nil {
		return nil, err
	}
	return b.Scale(p, 0x1p-16)
}

// FromConfig rebuilds an optimizer from its class name ("SGD" or "Adam") and the JSON of its
// configuration.
func FromConfig(name string, config []byte) (Optimizer, error) {
	var o Optimizer
	switch name {
	case "SGD":
		s := &sgd{}
		if err := json.Unmarshal(config, &s.cfg); err != nil {
			return nil, fmt.Errorf("optimizers: config of SGD: %w", err)
		}
		o = s
	case "Adam":
		a := &adam{}
		if err := json.Unmarshal(config, &a.cfg); err != nil {
			return nil, fmt.Errorf("optimizers: config of Adam: %w", err)
		}
		o = a
	default:
		return nil, fmt.Errorf("optimizers: unknown optimizer %q (want SGD or Adam)", name)
	}
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("optimizers: %w", err)
	}
	return o, nil
}

package keras

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/plain"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/optimizers"
)

// DefaultSeed is the seed of a new model's weight initialisation, dropout masks and shuffling.
// It is fixed so that every party of a computation, each building its own model value, starts
// from the same weights.
const DefaultSeed = 1

// Sequential is a linear stack of layers. Its methods are not safe for concurrent use, except
// that its own programs run concurrently on the parties of a secure runner.
type Sequential struct {
	name   string
	layers []layers.Layer
	input  []int                 // sample shape; nil until known
	shapes [][]int               // output shape of each layer
	specs  [][]layers.WeightSpec // weights of each layer

	optimizer  optimizers.Optimizer
	loss       losses.Loss
	metrics    []metric
	compileGen int // incremented by Compile; replicas rebuild their updaters on change

	runner Runner
	seed   uint64
	owner  int

	stop bool // set by StopTraining

	mu       sync.Mutex // guards the fields below, shared by the parties' programs
	replicas map[backend.Backend]*replica
	// Where new replicas get their weights: from the layers' initializers, or input by the
	// owner from weights (which a process that does not run the owner does not know).
	fromOwner bool
	weights   [][]float64
	// diverged is set when replicas were trained since weights (or the initializers) were
	// their source: a replica on a new backend could not be built consistently.
	diverged bool
	// state is the training state that goes with weights (public; nil when none), and
	// stateVals the optimizer's state vectors (the owner's process only).
	state     *trainState
	stateVals [][]float64
	epochs    int // epochs completed by Fit (public)
}

// NewSequential returns a model made of the given layers, in order. A first layer
// layers.Input(shape...) declares the input shape (Keras's keras.Input); without one, call
// Build before using the model. Layers without a name get Keras's default (the class name in
// snake case, numbered from the second on: "dense", "dense_1", ...).
func NewSequential(ls ...layers.Layer) (*Sequential, error) {
	m := &Sequential{name: "sequential", runner: plain.NewRunner(), seed: DefaultSeed}
	for _, l := range ls {
		if err := m.Add(l); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Name returns the model's name ("sequential").
func (m *Sequential) Name() string { return m.name }

// Add appends a layer, checking it against the output of the previous one when the input
// shape is known.
func (m *Sequential) Add(l layers.Layer) error {
	if l == nil {
		return errors.New("keras: Add: nil layer")
	}
	if in, ok := l.(*layers.InputLayer); ok {
		if len(m.layers) > 0 || m.input != nil {
			return errors.New("keras: Add: an Input layer must come first")
		}
		s, err := in.OutputShape(nil)
		if err != nil {
			return fmt.Errorf("keras: %w", err)
		}
		m.input = s
		return nil
	}
	if l.Name() == "" {
		base := layers.SnakeCase(l.ClassName())
		name := base
		for k := 1; m.hasLayer(name); k++ {
			name = fmt.Sprintf("%s_%d", base, k)
		}
		l.SetName(name)
	} else if m.hasLayer(l.Name()) {
		return fmt.Errorf("keras: Add: the model already has a layer named %q", l.Name())
	}
	m.layers = append(m.layers, l)
	if m.input != nil {
		if err := m.build(); err != nil {
			m.layers = m.layers[:len(m.layers)-1]
			return err
		}
	}
	m.resetReplicas()
	return nil
}

func (m *Sequential) hasLayer(name string) bool {
	return slices.ContainsFunc(m.layers, func(l layers.Layer) bool { return l.Name() == name })
}

// Layers returns the model's layers (without the Input layer).
func (m *Sequential) Layers() []layers.Layer { return slices.Clone(m.layers) }

// Build sets the input shape (one sample, without the batch dimension) of a model that did
// not start with an Input layer, and checks every layer against it.
func (m *Sequential) Build(inputShape ...int) error {
	in, err := layers.Input(inputShape...).OutputShape(nil)
	if err != nil {
		return fmt.Errorf("keras: Build: %w", err)
	}
	old := m.input
	m.input = in
	if err := m.build(); err != nil {
		m.input = old
		return err
	}
	m.resetReplicas()
	return nil
}

// build computes every layer's output shape and weights from the input shape.
func (m *Sequential) build() error {
	shapes := make([][]int, len(m.layers))
	specs := make([][]layers.WeightSpec, len(m.layers))
	in := m.input
	for i, l := range m.layers {
		out, err := l.OutputShape(in)
		if err != nil {
			return fmt.Errorf("keras: %w", err)
		}
		if specs[i], err = l.Weights(in); err != nil {
			return fmt.Errorf("keras: %w", err)
		}
		for _, s := range specs[i] {
			if s.Init == nil {
				return fmt.Errorf("keras: layer %s: weight %s has no initializer", l.Name(), s.Name)
			}
			if _, err := backend.NumElements(s.Shape); err != nil {
				return fmt.Errorf("keras: layer %s: weight %s: %w", l.Name(), s.Name, err)
			}
		}
		shapes[i], in = out, out
	}
	m.shapes, m.specs = shapes, specs
	return nil
}

// built returns an error unless the model has an input shape and layers.
func (m *Sequential) built(call string) error {
	if m.input == nil {
		return fmt.Errorf("keras: %s: the model has no input shape: start it with layers.Input(...) or call Build", call)
	}
	if len(m.layers) == 0 {
		return fmt.Errorf("keras: %s: the model has no layers", call)
	}
	return nil
}

// InputShape returns the shape of one input sample, or nil when unknown.
func (m *Sequential) InputShape() []int { return slices.Clone(m.input) }

// OutputShape returns the shape of one output sample, or nil when unknown.
func (m *Sequential) OutputShape() []int {
	if m.input == nil || len(m.layers) == 0 {
		return slices.Clone(m.input)
	}
	return slices.Clone(m.shapes[len(m.shapes)-1])
}

// Compile sets the optimizer, the loss and (with the Metrics option) the metrics of training.
// Compiling again keeps the weights and resets the optimizer's state.
func (m *Sequential) Compile(opt optimizers.Optimizer, loss losses.Loss, opts ...Option) error {
	o, err := collect("Compile", opts, options{}, "Metrics")
	if err != nil {
		return fmt.Errorf("keras: %w", err)
	}
	if opt == nil {
		return errors.New("keras: Compile: nil optimizer")
	}
	if loss == nil {
		return errors.New("keras: Compile: nil loss")
	}
	if err := opt.Validate(); err != nil {
		return fmt.Errorf("keras: Compile: %w", err)
	}
	if err := checkLoss(loss); err != nil {
		return fmt.Errorf("keras: Compile: %w", err)
	}
	if m.input != nil && len(m.layers) > 0 {
		if _, err := loss.TargetSize(m.OutputShape()); err != nil {
			return fmt.Errorf("keras: Compile: %w", err)
		}
	}
	ms := make([]metric, 0, len(o.metrics))
	for _, name := range o.metrics {
		mt, err := newMetric(name, loss)
		if err != nil {
			return fmt.Errorf("keras: Compile: %w", err)
		}
		if slices.ContainsFunc(ms, func(x metric) bool { return x.name == name }) {
			return fmt.Errorf("keras: Compile: metric %q given twice", name)
		}
		ms = append(ms, mt)
	}
	m.optimizer, m.loss, m.metrics = opt, loss, ms
	m.compileGen++
	return nil
}

// Optimizer returns the compiled optimizer, or nil.
func (m *Sequential) Optimizer() optimizers.Optimizer { return m.optimizer }

// Loss returns the compiled loss, or nil.
func (m *Sequential) Loss() losses.Loss { return m.loss }

// SetRunner makes the model run its programs through r. Weights trained on the previous
// runner are revealed to the model owner first, so that the new runner's parties can start
// from them; the previous runner's replicas are dropped.
func (m *Sequential) SetRunner(r Runner) error {
	if r == nil {
		return errors.New("keras: SetRunner: nil runner")
	}
	if m.diverged {
		if _, err := m.syncWeights(); err != nil {
			return fmt.Errorf("keras: SetRunner: %w", err)
		}
	}
	m.runner = r
	m.resetReplicas()
	return nil
}

// Runner returns the runner the model runs on.
func (m *Sequential) Runner() Runner { return m.runner }

// SetSeed sets the seed of weight initialisation, dropout masks and shuffling (default
// DefaultSeed). Every party must use the same seed. It applies to replicas built afterwards;
// weights already set, loaded or revealed keep their values.
func (m *Sequential) SetSeed(seed uint64) { m.seed = seed }

// SetOwner sets the party that owns the model's plaintext weights: it inputs weights set with
// SetWeights or loaded with Load, and receives them when revealed (default 0).
func (m *Sequential) SetOwner(p int) error {
	if p < 0 {
		return fmt.Errorf("keras: SetOwner: party %d", p)
	}
	m.owner = p
	return nil
}

// StopTraining asks Fit to stop after the current epoch, as Keras's
// model.stop_training = True; callbacks call it.
func (m *Sequential) StopTraining() { m.stop = true }

// resetReplicas drops every replica.
func (m *Sequential) resetReplicas() {
	m.mu.Lock()
	m.replicas = nil
	m.mu.Unlock()
}

// weightSpecs returns every weight of the model in order, with its layer index and full name.
func (m *Sequential) weightSpecs() []namedSpec {
	var out []namedSpec
	for i, l := range m.layers {
		for j, s := range m.specs[i] {
			out = append(out, namedSpec{layer: i, index: j, name: l.Name() + "/" + s.Name, spec: s})
		}
	}
	return out
}

type namedSpec struct {
	layer int // index of the layer
	index int // index of the weight in its layer
	name  string
	spec  layers.WeightSpec
}

// replica is the model built on one backend: its layer instances and weights, and the
// optimizer's state for them.
type replica struct {
	lead   int // leading preprocessing layers, applied by the data owner before Input
	b      backend.Backend
	insts  []layers.Instance
	vars   []*backend.Variable // every weight, in model order
	upd    optimizers.Updater
	updGen int
}

// replica returns the model's replica on b, building it on first use. It is called from the
// parties' programs, concurrently; building runs outside the lock since it talks to the other
// parties.
func (m *Sequential) replica(b backend.Backend) (*replica, error) {
	m.mu.Lock()
	r, ok := m.replicas[b]
	fromOwner, weights, diverged := m.fromOwner, m.weights, m.diverged
	m.mu.Unlock()
	if ok {
		return r, nil
	}
	if diverged {
		return nil, errors.New("the model was trained on other backends; reveal its weights (GetWeights) or run on the same runner")
	}
	r, err := m.newReplica(b, fromOwner, weights)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.replicas == nil {
		m.replicas = make(map[backend.Backend]*replica)
	}
	m.replicas[b] = r
	return r, nil
}

func (m *Sequential) newReplica(b backend.Backend, fromOwner bool, weights [][]float64) (*replica, error) {
	r, err := m.newReplicaFrom(b, func(k int, s namedSpec) (backend.Tensor, error) {
		if fromOwner {
			var data []float64
			if weights != nil && backend.Owns(b, m.owner) {
				data = weights[k]
			}
			return b.Input(data, s.spec.Shape, m.owner)
		}
		return s.spec.Init.Init(b, s.spec.Shape, backend.DeriveSeed(m.seed, uint64(s.layer), uint64(s.index)))
	})
	if err != nil || !fromOwner {
		return r, err
	}
	m.mu.Lock()
	st, vals := m.state, m.stateVals
	m.mu.Unlock()
	if !backend.Owns(b, m.owner) {
		vals = nil
	}
	err = m.restoreState(r, st, func(cur []backend.Tensor) ([]backend.Tensor, error) {
		return r.stateTensors(b, cur, st.Slots, vals, m.owner)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// newReplicaFrom builds a replica on b whose k-th weight is value(k, its spec).
func (m *Sequential) newReplicaFrom(b backend.Backend, value func(k int, s namedSpec) (backend.Tensor, error)) (*replica, error) {
	r := &replica{b: b, lead: m.lead()}
	all := m.weightSpecs()
	k := 0
	for i, l := range m.layers {
		vars := make([]*backend.Variable, len(m.specs[i]))
		for j := range vars {
			s := all[k]
			v, err := value(k, s)
			if err != nil {
				return nil, fmt.Errorf("weight %s: %w", s.name, err)
			}
			vars[j] = &backend.Variable{Name: s.name, Value: v, Trainable: s.spec.Trainable}
			k++
		}
		in := m.input
		if i > 0 {
			in = m.shapes[i-1]
		}
		inst, err := l.Build(b, in, vars, backend.DeriveSeed(m.seed, uint64(i), 1<<32))
		if err != nil {
			return nil, err
		}
		if inst == nil {
			return nil, fmt.Errorf("layer %s built no instance", l.Name())
		}
		r.insts = append(r.insts, inst)
		r.vars = append(r.vars, vars...)
	}
	layers.Arrange(r.insts)
	return r, nil
}

// updater returns the replica's optimizer state for the current compilation.
func (r *replica) updater(m *Sequential) (optimizers.Updater, error) {
	if r.upd == nil || r.updGen != m.compileGen {
		u, err := m.optimizer.Build(r.b, r.vars)
		if err != nil {
			return nil, err
		}
		r.upd, r.updGen = u, m.compileGen
	}
	return r.upd, nil
}

// forward runs every layer after the leading preprocessing ones, which the data owner applied
// to x before sharing it.
func (r *replica) forward(x backend.Tensor, training bool) (backend.Tensor, error) {
	var err error
	for _, inst := range r.insts[r.lead:] {
		if x, err = inst.Forward(x, training); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// backward runs the loss's gradient back through every layer, using the loss's closed-form
// gradient at the last activation when it has one.
func (r *replica) backward(loss losses.Loss, pred, y, w backend.Tensor) error {
	b := r.b
	last := len(r.insts) - 1
	var g backend.Tensor
	start := last
	if lb, ok := r.insts[last].(layers.LogitsBackward); ok {
		dz, fused, err := loss.BackwardLogits(b, lb.OutputActivation(), pred, y)
		if err != nil {
			return err
		}
		if fused {
			if w != nil {
				if dz, err = scaleRows(b, dz, w); err != nil {
					return err
				}
			}
			if g, err = lb.BackwardLogits(dz, last > 0); err != nil {
				return err
			}
			start = last - 1
		}
	}
	if start == last {
		var err error
		if g, err = loss.Backward(b, pred, y); err != nil {
			return err
		}
		if w != nil {
			if g, err = scaleRows(b, g, w); err != nil {
				return err
			}
		}
	}
	for i := start; i >= r.lead; i-- {
		var err error
		if g, err = r.insts[i].Backward(g, i > r.lead); err != nil {
			return err
		}
	}
	return nil
}

// lead returns the number of leading layers that are public preprocessing maps
// ([layers.Preprocessing]: Normalization, Rescaling), short of the whole model. The data
// owner applies them to its samples in the clear before sharing them: the same values, with
// no fixed-point error and no communication, and the engine's input range applies to the
// preprocessed values.
func (m *Sequential) lead() int {
	n := 0
	for n < len(m.layers)-1 {
		if _, ok := m.layers[n].(layers.Preprocessing); !ok {
			break
		}
		n++
	}
	return n
}

// preprocess applies the leading preprocessing layers to the owner's samples x.
func (m *Sequential) preprocess(x []float64) ([]float64, error) {
	for _, l := range m.layers[:m.lead()] {
		var err error
		if x, err = l.(layers.Preprocessing).Preprocess(x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// GetWeights returns a copy of every weight's values, in model order (layer by layer, each
// layer's weights as its Weights method lists them). Weights held by replicas are revealed to
// the model owner first; a process that does not run the owner gets nil.
func (m *Sequential) GetWeights() ([][]float64, error) {
	if err := m.built("GetWeights"); err != nil {
		return nil, err
	}
	// Whether the owner already knows the weights is decided from state every party shares
	// (where the weights come from), never from what only the owner holds: a party that
	// skipped the reveal the others perform would read their shares as its next messages.
	m.mu.Lock()
	known := m.fromOwner && !m.diverged
	m.mu.Unlock()
	if !known {
		got, err := m.syncWeights()
		if err != nil {
			return nil, fmt.Errorf("keras: GetWeights: %w", err)
		}
		if !got {
			return nil, nil
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.weights == nil { // a process that does not run the owner
		return nil, nil
	}
	out := make([][]float64, len(m.weights))
	for i, w := range m.weights {
		out[i] = slices.Clone(w)
	}
	return out, nil
}

// SetWeights sets every weight from plaintext values, in GetWeights's order. The model owner
// inputs them to the parties the next time a replica is built. A process that does not run the
// owner calls SetWeights(nil) to say the weights come from the owner.
func (m *Sequential) SetWeights(w [][]float64) error {
	if err := m.built("SetWeights"); err != nil {
		return err
	}
	all := m.weightSpecs()
	if w != nil {
		if len(w) != len(all) {
			return fmt.Errorf("keras: SetWeights: got %d arrays, the model has %d weights", len(w), len(all))
		}
		for i, s := range all {
			n, _ := backend.NumElements(s.spec.Shape)
			if len(w[i]) != n {
				return fmt.Errorf("keras: SetWeights: weight %s of shape %v needs %d values, got %d", s.name, s.spec.Shape, n, len(w[i]))
			}
		}
	}
	var cp [][]float64
	if w != nil {
		cp = make([][]float64, len(w))
		for i := range w {
			cp[i] = slices.Clone(w[i])
		}
	}
	m.mu.Lock()
	m.fromOwner, m.weights, m.diverged = true, cp, false
	m.state, m.stateVals = nil, nil
	m.replicas = nil
	m.mu.Unlock()
	return nil
}

// syncWeights reveals the replicas' weights and training state to the model owner and makes
// them the source of new replicas. It reports whether this process received them.
func (m *Sequential) syncWeights() (bool, error) {
	var (
		mu      sync.Mutex
		got     [][]float64
		gotVals [][]float64
		state   *trainState
	)
	err := m.run("GetWeights", nil, nil, func(b backend.Backend) error {
		r, err := m.replica(b)
		if err != nil {
			return err
		}
		vals := make([][]float64, len(r.vars))
		for i, v := range r.vars {
			if vals[i], err = b.Reveal(v.Value, m.owner); err != nil {
				return fmt.Errorf("reveal %s: %w", v.Name, err)
			}
		}
		st, slots := m.captureState(r)
		slotVals := make([][]float64, len(slots))
		for i, t := range slots {
			if slotVals[i], err = b.Reveal(t, m.owner); err != nil {
				return fmt.Errorf("reveal the optimizer's state: %w", err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		state = st
		if backend.Owns(b, m.owner) {
			got = vals
			if gotVals, err = r.flatSlots(slots, slotVals); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fromOwner, m.diverged = true, false
	m.weights, m.state, m.stateVals = got, state, gotVals
	return got != nil, nil
}

// snapshot captures the weights of every replica (tensors are immutable, so this copies
// handles only).
type snapshot map[backend.Backend][]backend.Tensor

func (m *Sequential) snapshot() snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := make(snapshot, len(m.replicas))
	for b, r := range m.replicas {
		vals := make([]backend.Tensor, len(r.vars))
		for i, v := range r.vars {
			vals[i] = v.Value
		}
		s[b] = vals
	}
	return s
}

func (m *Sequential) restore(s snapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for b, vals := range s {
		if r, ok := m.replicas[b]; ok {
			for i, v := range r.vars {
				v.Value = vals[i]
			}
		}
	}
}

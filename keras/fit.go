package keras

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/nd"
)

// dataset is what a program knows of some samples: their count (public) and, for the owner,
// the samples and the targets in the loss's layout. The owner's samples are x (preprocessed),
// or, read a batch at a time, samples src.off .. src.off+n of src.
type dataset struct {
	n        int
	x, y     []float64 // nil where this process does not hold the owner's data
	src      Rows      // where the samples are read a batch at a time, else nil
	off      int       // the first sample of src
	w        []float64 // the samples' weights, nil where not held
	weighted bool      // whether the samples are weighted (public)
}

// holdsX reports whether d holds the owner's samples.
func (d dataset) holdsX() bool { return d.x != nil || d.src != nil }

// slice returns samples [lo, hi).
func (d dataset) slice(lo, hi, inSize, outSize int) dataset {
	s := dataset{n: hi - lo, weighted: d.weighted, src: d.src, off: d.off + lo}
	if d.w != nil {
		s.w = d.w[lo:hi]
	}
	if d.x != nil {
		s.x = d.x[lo*inSize : hi*inSize]
	}
	if d.y != nil {
		s.y = d.y[lo*outSize : hi*outSize]
	}
	return s
}

func (m *Sequential) inSize() int  { n, _ := backend.NumElements(m.input); return n }
func (m *Sequential) outSize() int { n, _ := backend.NumElements(m.OutputShape()); return n }

// prepare checks x and y against the model and encodes the targets. samples is the
// NumSamples option (0 when not given).
func (m *Sequential) prepare(call string, xd, yd Data, samples int, needY bool) (dataset, error) {
	var d dataset
	x, err := readRows(xd)
	if err != nil {
		return d, fmt.Errorf("keras: %s: x: %w", call, err)
	}
	y, err := read(yd)
	if err != nil {
		return d, fmt.Errorf("keras: %s: y: %w", call, err)
	}
	switch {
	case !x.none():
		if err := m.checkInputs("x", x); err != nil {
			return d, fmt.Errorf("keras: %s: %w", call, err)
		}
		d.n, d.x, d.src = x.shape[0], x.values, x.src
		if d.src == nil {
			if d.x, err = m.preprocess(d.x); err != nil {
				return d, fmt.Errorf("keras: %s: %w", call, err)
			}
		}
		if samples != 0 && samples != d.n {
			return d, fmt.Errorf("keras: %s: NumSamples(%d) but x holds %d samples", call, samples, d.n)
		}
	case !y.none():
		return d, fmt.Errorf("keras: %s: y without x", call)
	default:
		d.n = samples
	}
	if d.n <= 0 {
		return d, fmt.Errorf("keras: %s: no samples (a party that does not own the data passes nil with NumSamples(n))", call)
	}
	if !needY {
		return d, nil
	}
	if !x.none() && y.none() {
		return d, fmt.Errorf("keras: %s: x without targets y", call)
	}
	if y.none() {
		return d, nil
	}
	vals, err := m.targetLayout(call, y, d.n)
	if err != nil {
		return d, fmt.Errorf("keras: %s: %w", call, err)
	}
	if d.y, err = m.loss.EncodeTargets(vals, m.OutputShape()); err != nil {
		return d, fmt.Errorf("keras: %s: %w", call, err)
	}
	return d, nil
}

// checkRange returns an error when the owner's data lies beyond the range of b's engine
// ([backend.InputLimiter]), where the products of training would overflow the fixed-point
// encoding. what names the data ("training data", "validation data").
func (m *Sequential) checkRange(b backend.Backend, d dataset, owner int, what string) error {
	lim, ok := b.(backend.InputLimiter)
	if !ok || !backend.Owns(b, owner) {
		return nil
	}
	limit := lim.InputLimit()
	// first is the index of the sample v starts with.
	check := func(v []float64, size, first int, kind string) error {
		for i, x := range v {
			if !(math.Abs(x) <= limit) {
				hint := "divide them by their largest magnitude, or standardise them"
				if kind == "feature" {
					hint = "standardise them with a layers.Normalization adapted to them (norm.Adapt(x)) as the model's first layer, or rescale them with layers.Rescaling"
					if m.lead() > 0 {
						kind, hint = "preprocessed feature", "the model's first layers leave it beyond the range: adapt its Normalization to this data"
					}
				}
				return fmt.Errorf("%s: sample %d, %s %d is %g, beyond ±%g, the range the %s engine takes: scale the %ss (%s)",
					what, first+i/size, kind, i%size, x, limit, b.Name(), strings.TrimPrefix(kind, "preprocessed "), hint)
			}
		}
		return nil
	}
	if d.src == nil {
		if err := check(d.x, m.inSize(), 0, "feature"); err != nil {
			return err
		}
	} else {
		// Read the samples a chunk at a time, as the batches will be.
		for lo := 0; lo < d.n; lo += rangeChunk {
			v, err := m.gatherX(d, rangeIdx(lo, min(lo+rangeChunk, d.n)))
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			if err := check(v, m.inSize(), lo, "feature"); err != nil {
				return err
			}
		}
	}
	if err := check(d.w, 1, 0, "weight"); err != nil {
		return err
	}
	return check(d.y, m.outSize(), 0, "target")
}

// rangeChunk is the number of samples checkRange reads at a time from a [Rows] source.
const rangeChunk = 1024

// gatherX returns the owner's samples idx of d, preprocessed: gathered from d.x, or read from
// d.src and preprocessed then.
func (m *Sequential) gatherX(d dataset, idx []int) ([]float64, error) {
	if d.src == nil {
		return gatherRows(d.x, m.inSize(), idx), nil
	}
	rows := idx
	if d.off != 0 {
		rows = make([]int, len(idx))
		for i, r := range idx {
			rows[i] = d.off + r
		}
	}
	xb := make([]float64, len(idx)*m.inSize())
	if err := d.src.GatherTo(xb, rows); err != nil {
		return nil, err
	}
	return m.preprocess(xb)
}

// batch is the inputs of one step on one party.
func (m *Sequential) inputBatch(b backend.Backend, d dataset, idx []int, owner int, withY bool) (x, y, w backend.Tensor, err error) {
	outSize := m.outSize()
	var xb, yb, wb []float64
	if backend.Owns(b, owner) && d.holdsX() {
		if xb, err = m.gatherX(d, idx); err != nil {
			return nil, nil, nil, fmt.Errorf("input x: %w", err)
		}
		if withY {
			yb = gatherRows(d.y, outSize, idx)
		}
		if d.weighted {
			wb = gatherRows(d.w, 1, idx)
		}
	}
	xShape := append([]int{len(idx)}, m.input...)
	if sp, ok := b.(splitter); ok && withY {
		// One sharing, one round, for the samples, their targets and their weights.
		return m.inputJoined(sp, b, xb, yb, wb, xShape, len(idx), owner, d.weighted)
	}
	if withY && d.weighted {
		if w, err = b.Input(wb, []int{len(idx)}, owner); err != nil {
			return nil, nil, nil, fmt.Errorf("input sample weights: %w", err)
		}
	}
	if x, err = b.Input(xb, xShape, owner); err != nil {
		return nil, nil, nil, fmt.Errorf("input x: %w", err)
	}
	if withY {
		if y, err = b.Input(yb, append([]int{len(idx)}, m.OutputShape()...), owner); err != nil {
			return nil, nil, nil, fmt.Errorf("input y: %w", err)
		}
	}
	return x, y, w, nil
}

// splitter is a backend that cuts a flat tensor into pieces locally (the secure one), so that
// one sharing carries several inputs.
type splitter interface {
	Split(x backend.Tensor, sizes []int) ([]backend.Tensor, error)
}

// inputJoined shares a batch's samples, targets and (when weighted) sample weights as one
// tensor, in one round, and cuts it into the three. xb, yb and wb are the owner's values (nil
// on the other parties).
func (m *Sequential) inputJoined(sp splitter, b backend.Backend, xb, yb, wb []float64, xShape []int, n, owner int, weighted bool) (x, y, w backend.Tensor, err error) {
	yShape := append([]int{n}, m.OutputShape()...)
	sizes := []int{n * m.inSize(), n * m.outSize()}
	if weighted {
		sizes = append(sizes, n)
	}
	var all []float64
	if xb != nil {
		all = make([]float64, 0, sizes[0]+sizes[1]+n)
		all = append(append(append(all, xb...), yb...), wb...)
	}
	total := 0
	for _, k := range sizes {
		total += k
	}
	joined, err := b.Input(all, []int{total}, owner)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("input x and y: %w", err)
	}
	parts, err := sp.Split(joined, sizes)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("input x and y: %w", err)
	}
	if x, err = b.Reshape(parts[0], xShape); err != nil {
		return nil, nil, nil, fmt.Errorf("input x: %w", err)
	}
	if y, err = b.Reshape(parts[1], yShape); err != nil {
		return nil, nil, nil, fmt.Errorf("input y: %w", err)
	}
	if weighted {
		w = parts[2]
	}
	return x, y, w, nil
}

func gatherRows(src []float64, size int, idx []int) []float64 {
	out := make([]float64, len(idx)*size)
	for i, r := range idx {
		copy(out[i*size:(i+1)*size], src[r*size:(r+1)*size])
	}
	return out
}

func rangeIdx(lo, hi int) []int {
	idx := make([]int, hi-lo)
	for i := range idx {
		idx[i] = lo + i
	}
	return idx
}

// permutation returns a shuffled order of n samples from a public seed.
func permutation(n int, seed uint64) []int {
	return rand.New(rand.NewPCG(seed, 0x51a7e)).Perm(n)
}

// concatenator is implemented by backends that join tensors along an axis (the secure
// engine). Fit and Evaluate use it to compute the loss and metrics of several steps at once.
type concatenator interface {
	Concat(axis int, xs ...backend.Tensor) (backend.Tensor, error)
}

// maxDeferredRows bounds the samples whose predictions and targets an accum keeps before it
// computes their loss and metrics. The comparisons of a logarithm over 4096 rows of 10 classes
// (its thresholds' differences and sign bits, on each party) are the peak of a network A
// benchmark's memory: with 8192 rows, `gotfe bench mnist --iterations 5` peaked at 542 to
// 576 MB, with 4096 at 316 to 326 MB, and a training epoch's loss takes 15 groups of steps
// instead of 8 (about 40 rounds each, against 469 steps).
const maxDeferredRows = 1 << 12

// accum accumulates the sums of the batches of an epoch (the loss times the batch size, then
// each metric's sum) on one party, and reveals their means to every party.
//
// On a backend that plays one party of several (Party() >= 0) and implements concatenator, it
// keeps the batches' predictions and targets and computes their loss and metrics together, up
// to maxDeferredRows samples at a time: the sums are those of the batches (up to the engine's
// rounding), but a multi-party engine pays the communication rounds of the loss and of each
// metric once per group of steps instead of once per step. Running values are only shown on
// backends that play every party, where the sums are computed step by step as before.
type accum struct {
	m         *Sequential
	b         backend.Backend
	cat       concatenator // nil: compute every step's sums at once
	preds, ys []backend.Tensor
	ws        []backend.Tensor // sample weights, when weighted
	rows      int
	sums      []backend.Tensor
	n         int
}

func newAccum(m *Sequential, b backend.Backend) *accum {
	a := &accum{m: m, b: b}
	if c, ok := b.(concatenator); ok && b.Party() >= 0 {
		a.cat = c
	}
	return a
}

// add accumulates the loss and metrics of a batch of n samples (w: their weights, or nil).
func (a *accum) add(pred, y, w backend.Tensor, n int) error {
	if a.cat == nil {
		vals, err := a.m.stepSums(a.b, pred, y, w)
		if err != nil {
			return err
		}
		return a.addSums(vals, n)
	}
	a.preds, a.ys = append(a.preds, pred), append(a.ys, y)
	if w != nil {
		a.ws = append(a.ws, w)
	}
	a.rows += n
	if a.rows >= maxDeferredRows {
		return a.flush()
	}
	return nil
}

// flush computes the loss and metrics of the kept batches.
func (a *accum) flush() error {
	if len(a.preds) == 0 {
		return nil
	}
	pred, y := a.preds[0], a.ys[0]
	var w backend.Tensor
	if len(a.ws) > 0 {
		w = a.ws[0]
	}
	if len(a.preds) > 1 {
		var err error
		if pred, err = a.cat.Concat(0, a.preds...); err != nil {
			return err
		}
		if y, err = a.cat.Concat(0, a.ys...); err != nil {
			return err
		}
		if w != nil {
			if w, err = a.cat.Concat(0, a.ws...); err != nil {
				return err
			}
		}
	}
	vals, err := a.m.stepSums(a.b, pred, y, w)
	if err != nil {
		return err
	}
	n := a.rows
	a.preds, a.ys, a.ws, a.rows = nil, nil, nil, 0
	return a.addSums(vals, n)
}

func (a *accum) addSums(vals []backend.Tensor, n int) error {
	if a.sums == nil {
		a.sums = vals
	} else {
		for i, v := range vals {
			s, err := a.b.Add(a.sums[i], v)
			if err != nil {
				return err
			}
			a.sums[i] = s
		}
	}
	a.n += n
	return nil
}

// logs reveals the running means of the loss and the metrics to every party: each metric's
// sums are first reduced to the scalars it reveals (see metric.reveal).
func (a *accum) logs(keys []string, prefix string) (Logs, error) {
	if err := a.flush(); err != nil {
		return nil, err
	}
	l := Logs{}
	open := func(key string, t backend.Tensor) (float64, error) {
		v, err := a.b.Reveal(t, -1)
		if err != nil {
			return 0, fmt.Errorf("reveal %s: %w", key, err)
		}
		if len(v) != 1 {
			return 0, fmt.Errorf("reveal %s: got %d values", key, len(v))
		}
		return v[0], nil
	}
	if len(a.sums) == 0 {
		return nil, errors.New("no batch to log")
	}
	v, err := open(keys[0], a.sums[0])
	if err != nil {
		return nil, err
	}
	l[prefix+keys[0]] = v / float64(a.n)
	k := 1
	elems := a.n * a.m.outSize()
	for i, mt := range a.m.metrics {
		n := mt.numSums()
		ts, err := mt.reveal(a.b, a.sums[k:k+n], elems)
		if err != nil {
			return nil, fmt.Errorf("metric %s: %w", mt.name, err)
		}
		vals := make([]float64, len(ts))
		for j, t := range ts {
			if vals[j], err = open(keys[i+1], t); err != nil {
				return nil, err
			}
		}
		l[prefix+keys[i+1]] = mt.value(vals, a.n)
		k += n
	}
	return l, nil
}

// stepSums returns the loss (times the batch size) and the metric sums of a batch. With
// sample weights w the loss is Keras's: the sum of the weighted per-sample losses (divided by
// the sample count when the epoch's mean is taken); the metrics are not weighted.
func (m *Sequential) stepSums(b backend.Backend, pred, y, w backend.Tensor) ([]backend.Tensor, error) {
	n := float64(pred.Shape()[0])
	var l backend.Tensor
	var err error
	if w != nil {
		if l, err = weightedLoss(b, m.loss, pred, y, w); err != nil {
			return nil, err
		}
	} else {
		if l, err = m.loss.Forward(b, pred, y); err != nil {
			return nil, err
		}
		if l, err = b.Scale(l, n); err != nil {
			return nil, err
		}
	}
	out := []backend.Tensor{l}
	for _, mt := range m.metrics {
		s, err := mt.sums(b, pred, y)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

// logKeys returns the names of the loss and the metrics.
func (m *Sequential) logKeys() []string {
	keys := []string{"loss"}
	for _, mt := range m.metrics {
		keys = append(keys, mt.name)
	}
	return keys
}

// reporter picks the one party of this process that prints progress and records logs.
type reporter struct {
	mu   sync.Mutex
	b    backend.Backend
	logs Logs
}

func (r *reporter) is(b backend.Backend) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.b == nil {
		r.b = b
	}
	return r.b == b
}

func (r *reporter) set(b backend.Backend, l Logs) {
	if r.is(b) {
		r.mu.Lock()
		r.logs = l
		r.mu.Unlock()
	}
}

// Fit trains the model on samples x and targets y for a number of epochs and returns the
// History of the logged loss and metrics. x has the model's input shape with the samples first
// ([n, 28, 28, 1] for layers.Input(28, 28, 1)); y the layout of the loss (see the package
// documentation, "Data"). Options: Epochs (default 1), InitialEpoch, BatchSize (default 32),
// Shuffle (default true), Seed, ValidationData or ValidationSplit, Callbacks, Verbose (default
// 1), Output, DataOwner, NumSamples, ValidationSamples, SampleWeight, ClassWeight.
//
// On an error the History holds the epochs completed.
func (m *Sequential) Fit(x, y Data, opts ...Option) (*History, error) {
	h := newHistory()
	f, err := m.prepareFit(x, y, opts)
	if err != nil {
		return h, m.fail("Fit", err)
	}
	o, train, val := &f.o, f.train, f.val
	keys := m.logKeys()
	allKeys := slices.Clone(keys)
	if val != nil {
		for _, k := range keys {
			allKeys = append(allKeys, "val_"+k)
		}
	}
	m.stop = false
	for _, cb := range o.callbacks {
		if err := cb.OnTrainBegin(m); err != nil {
			return h, fmt.Errorf("keras: Fit: %w", err)
		}
	}
	steps := (train.n + o.batchSize - 1) / o.batchSize
	rep := &reporter{}
	for epoch := o.initialEpoch; epoch < o.epochs && !m.stop; epoch++ {
		if o.verbose > 0 {
			fmt.Fprintf(o.out, "Epoch %d/%d\n", epoch+1, o.epochs)
		}
		order := rangeIdx(0, train.n)
		if o.shuffle {
			order = permutation(train.n, backend.DeriveSeed(o.seed, uint64(epoch)))
		}
		prog := newProgress(o.out, o.verbose, steps, nil)
		rep.logs = nil
		err := m.run("Fit", f.params(epoch), nil, func(b backend.Backend) error {
			return m.trainEpoch(b, o, train, val, order, keys, prog, rep)
		})
		m.mu.Lock()
		m.diverged = true
		m.mu.Unlock()
		if err != nil {
			return h, fmt.Errorf("keras: Fit: epoch %d: %w", epoch+1, err)
		}
		m.epochs = epoch + 1
		logs := rep.logs
		if logs == nil {
			return h, fmt.Errorf("keras: Fit: epoch %d: no party reported logs", epoch+1)
		}
		prog.finish(steps, logs, allKeys)
		h.add(epoch, logs, allKeys)
		for _, cb := range o.callbacks {
			if err := cb.OnEpochEnd(m, epoch, logs); err != nil {
				return h, fmt.Errorf("keras: Fit: %w", err)
			}
		}
	}
	for _, cb := range o.callbacks {
		if err := cb.OnTrainEnd(m, h); err != nil {
			return h, fmt.Errorf("keras: Fit: %w", err)
		}
	}
	return h, nil
}

// fitRun is a checked Fit call: its options and data.
type fitRun struct {
	o     options
	train dataset
	val   *dataset
}

// params returns the public parameters of one epoch, which every party must share.
func (f *fitRun) params(epoch int) []backend.Param {
	o := &f.o
	val := 0
	if f.val != nil {
		val = f.val.n
	}
	return []backend.Param{
		intParam("epoch", epoch+1), intParam("epochs", o.epochs), intParam("initial epoch", o.initialEpoch),
		intParam("training samples", f.train.n), intParam("validation samples", val),
		anyParam("validation split", o.validationSplit), intParam("batch size", o.batchSize),
		anyParam("shuffle", o.shuffle), anyParam("shuffle seed", o.seed), intParam("data owner", o.owner),
		anyParam("sample weights", f.train.weighted),
	}
}

// prepareFit checks Fit's options and data.
func (m *Sequential) prepareFit(x, y Data, opts []Option) (*fitRun, error) {
	o, err := collect("Fit", opts, options{epochs: 1, batchSize: 32, shuffle: true, verbose: 1, out: os.Stdout},
		"Epochs", "InitialEpoch", "BatchSize", "Shuffle", "Seed", "ValidationData", "ValidationSplit",
		"Callbacks", "Verbose", "Output", "DataOwner", "NumSamples", "ValidationSamples", "SampleWeight", "ClassWeight")
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	if err := m.checkRun("Fit", &o, true); err != nil {
		return nil, err
	}
	if !o.has("Seed") {
		o.seed = backend.DeriveSeed(m.seed, 0x5eed)
	}
	if o.epochs < 0 || o.initialEpoch < 0 || o.initialEpoch > o.epochs {
		return nil, fmt.Errorf("keras: Fit: epochs %d and initial epoch %d", o.epochs, o.initialEpoch)
	}
	if o.validationSplit != 0 && (o.hasValData || !(o.validationSplit > 0 && o.validationSplit < 1)) {
		return nil, fmt.Errorf("keras: Fit: validation split %v must be in (0, 1) and not given with ValidationData", o.validationSplit)
	}
	for _, cb := range o.callbacks {
		if cb == nil {
			return nil, errors.New("keras: Fit: nil callback")
		}
	}
	f := &fitRun{o: o}
	if f.train, err = m.prepare("Fit", x, y, o.samples, true); err != nil {
		return nil, err
	}
	if o.hasSampleWeight || o.classWeight != nil {
		f.train.weighted = true
		if f.train.y != nil {
			if f.train.w, err = m.sampleWeights(o.sampleWeight, o.classWeight, f.train.y, f.train.n); err != nil {
				return nil, fmt.Errorf("keras: Fit: %w", err)
			}
			if f.train.w == nil {
				return nil, errors.New("keras: Fit: SampleWeight(nil) on the party that owns the data")
			}
		}
	}
	switch {
	case o.hasValData:
		v, err := m.prepare("Fit: validation data", o.xVal, o.yVal, o.valSamples, true)
		if err != nil {
			return nil, err
		}
		f.val = &v
	case o.validationSplit > 0:
		at := int(float64(f.train.n) * (1 - o.validationSplit))
		if at <= 0 || at >= f.train.n {
			return nil, fmt.Errorf("keras: Fit: validation split %v of %d samples leaves an empty set", o.validationSplit, f.train.n)
		}
		v := f.train.slice(at, f.train.n, m.inSize(), m.outSize())
		f.train = f.train.slice(0, at, m.inSize(), m.outSize())
		f.val = &v
	}
	return f, nil
}

// fail ends a call that failed before its computation started: on a multi-party backend the
// other parties, waiting for this one, learn why at once. It returns err.
func (m *Sequential) fail(call string, err error) error {
	if m.runner != nil {
		_ = m.run(call, nil, err, nil)
	}
	return err
}

// checkRun validates what Fit, Evaluate and Predict share.
func (m *Sequential) checkRun(call string, o *options, needCompile bool) error {
	if err := m.built(call); err != nil {
		return err
	}
	if needCompile && (m.optimizer == nil || m.loss == nil) {
		return fmt.Errorf("keras: %s: the model is not compiled; call Compile first", call)
	}
	if needCompile {
		if _, err := m.loss.TargetSize(m.OutputShape()); err != nil {
			return fmt.Errorf("keras: %s: %w", call, err)
		}
	}
	if o.batchSize <= 0 {
		return fmt.Errorf("keras: %s: batch size %d must be positive", call, o.batchSize)
	}
	if o.verbose < 0 || o.verbose > 2 {
		return fmt.Errorf("keras: %s: verbose %d not in 0, 1, 2", call, o.verbose)
	}
	if o.owner < 0 {
		return fmt.Errorf("keras: %s: data owner %d", call, o.owner)
	}
	if o.samples < 0 || o.valSamples < 0 {
		return fmt.Errorf("keras: %s: negative sample count", call)
	}
	return nil
}

// trainEpoch is the program of one training epoch on one party.
func (m *Sequential) trainEpoch(b backend.Backend, o *options, train dataset, val *dataset, order []int,
	keys []string, prog *progress, rep *reporter) error {
	r, err := m.replica(b)
	if err != nil {
		return err
	}
	upd, err := r.updater(m)
	if err != nil {
		return err
	}
	if err := m.checkRange(b, train, o.owner, "training data"); err != nil {
		return err
	}
	if val != nil {
		if err := m.checkRange(b, *val, o.owner, "validation data"); err != nil {
			return err
		}
	}
	report := rep.is(b)
	acc := newAccum(m, b)
	for step, lo := 0, 0; lo < train.n; step, lo = step+1, lo+o.batchSize {
		idx := order[lo:min(lo+o.batchSize, train.n)]
		xt, yt, wt, err := m.inputBatch(b, train, idx, o.owner, true)
		if err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		pred, err := r.forward(xt, true)
		if err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		if err := r.backward(m.loss, pred, yt, wt); err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		if err := upd.Update(); err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		if err := acc.add(pred, yt, wt, len(idx)); err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		if report && prog.live() && lo+o.batchSize < train.n {
			var logs Logs
			if b.Party() < 0 { // running values cost nothing and reveal nothing on one party
				if logs, err = acc.logs(keys, ""); err != nil {
					return fmt.Errorf("step %d: %w", step+1, err)
				}
			}
			prog.update(step+1, logs, keys)
		}
	}
	logs, err := acc.logs(keys, "")
	if err != nil {
		return err
	}
	if val != nil {
		vl, err := m.evaluate(b, r, *val, o, "val_", nil, false)
		if err != nil {
			return fmt.Errorf("validation: %w", err)
		}
		for k, v := range vl {
			logs[k] = v
		}
	}
	rep.set(b, logs)
	return nil
}

// evaluate computes the loss and metrics of d on one party; the reporting party redraws prog
// (which may be nil) as it goes.
func (m *Sequential) evaluate(b backend.Backend, r *replica, d dataset, o *options, prefix string, prog *progress, report bool) (Logs, error) {
	keys := m.logKeys()
	acc := newAccum(m, b)
	for step, lo := 0, 0; lo < d.n; step, lo = step+1, lo+o.batchSize {
		idx := rangeIdx(lo, min(lo+o.batchSize, d.n))
		xt, yt, wt, err := m.inputBatch(b, d, idx, o.owner, true)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", step+1, err)
		}
		pred, err := r.forward(xt, false)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", step+1, err)
		}
		if err := acc.add(pred, yt, wt, len(idx)); err != nil {
			return nil, fmt.Errorf("step %d: %w", step+1, err)
		}
		if report && prog.live() && lo+o.batchSize < d.n {
			var logs Logs
			if b.Party() < 0 {
				if logs, err = acc.logs(keys, prefix); err != nil {
					return nil, err
				}
			}
			prog.update(step+1, logs, keys)
		}
	}
	return acc.logs(keys, prefix)
}

// Evaluate returns the loss and metrics of the model on samples x with targets y. Options:
// BatchSize (default 32), Verbose (default 1), Output, DataOwner, NumSamples.
func (m *Sequential) Evaluate(x, y Data, opts ...Option) (Logs, error) {
	o, err := collect("Evaluate", opts, options{batchSize: 32, verbose: 1, out: os.Stdout},
		"BatchSize", "Verbose", "Output", "DataOwner", "NumSamples")
	if err != nil {
		return nil, m.fail("Evaluate", fmt.Errorf("keras: %w", err))
	}
	if err := m.checkRun("Evaluate", &o, true); err != nil {
		return nil, m.fail("Evaluate", err)
	}
	d, err := m.prepare("Evaluate", x, y, o.samples, true)
	if err != nil {
		return nil, m.fail("Evaluate", err)
	}
	steps := (d.n + o.batchSize - 1) / o.batchSize
	prog := newProgress(o.out, o.verbose, steps, nil)
	rep := &reporter{}
	params := []backend.Param{intParam("samples", d.n), intParam("batch size", o.batchSize), intParam("data owner", o.owner)}
	err = m.run("Evaluate", params, nil, func(b backend.Backend) error {
		r, err := m.replica(b)
		if err != nil {
			return err
		}
		if err := m.checkRange(b, d, o.owner, "data"); err != nil {
			return err
		}
		logs, err := m.evaluate(b, r, d, &o, "", prog, rep.is(b))
		if err != nil {
			return err
		}
		rep.set(b, logs)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("keras: Evaluate: %w", err)
	}
	prog.finish(steps, rep.logs, m.logKeys())
	return rep.logs, nil
}

// Predict returns the model's outputs for samples x, an array of shape [n, output shape...].
// The outputs are revealed to the data owner only; in a process that does not run the owner
// Predict returns nil. Options: BatchSize (default 32), Verbose (default 1), Output,
// DataOwner, NumSamples.
func (m *Sequential) Predict(x Data, opts ...Option) (*nd.Array, error) {
	var out []float64
	err := m.predict("Predict", x, opts, func(b backend.Backend, pred backend.Tensor, to int) (func(lo int) error, error) {
		v, err := b.Reveal(pred, to)
		if err != nil || v == nil {
			return nil, err
		}
		return func(lo int) error {
			if out == nil {
				return errors.New("internal: no output buffer")
			}
			copy(out[lo*m.outSize():], v)
			return nil
		}, nil
	}, func(n int) { out = make([]float64, n*m.outSize()) })
	if err != nil || out == nil {
		return nil, err
	}
	return nd.New(out, append([]int{len(out) / m.outSize()}, m.OutputShape()...)...), nil
}

// PredictClasses returns, for each sample of x, the index of the largest output along the last
// axis (Keras's argmax of predict), revealed to the data owner only; in a process that does not
// run the owner it returns nil. A last axis of one unit (a sigmoid's probability) is
// thresholded instead, as Keras users do: 1 where the output is above 0.5, else 0. Options as
// Predict.
func (m *Sequential) PredictClasses(x Data, opts ...Option) ([]int, error) {
	var out []int
	var rows int
	err := m.predict("PredictClasses", x, opts, func(b backend.Backend, pred backend.Tensor, to int) (func(lo int) error, error) {
		pred, err := withThreshold(b, pred)
		if err != nil {
			return nil, err
		}
		v, err := b.ArgMax(pred, to)
		if err != nil || v == nil {
			return nil, err
		}
		return func(lo int) error {
			copy(out[lo*rows:], v)
			return nil
		}, nil
	}, func(n int) {
		s := m.OutputShape()
		rows = m.outSize() / s[len(s)-1]
		out = make([]int, n*rows)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// withThreshold returns pred unchanged unless its last axis has one unit p, and then the pairs
// [0.5, p], whose argmax is 1 exactly where p > 0.5.
func withThreshold(b backend.Backend, pred backend.Tensor) (backend.Tensor, error) {
	s := pred.Shape()
	if len(s) == 0 || s[len(s)-1] != 1 {
		return pred, nil
	}
	n, err := backend.NumElements(s)
	if err != nil {
		return nil, err
	}
	col, err := b.Reshape(pred, []int{n, 1})
	if err != nil {
		return nil, err
	}
	sel, err := b.Const([]float64{0, 1}, []int{1, 2})
	if err != nil {
		return nil, err
	}
	pairs, err := b.MatMul(col, sel, false, false) // [0, p]
	if err != nil {
		return nil, err
	}
	half, err := b.Const([]float64{0.5, 0}, []int{2})
	if err != nil {
		return nil, err
	}
	if pairs, err = b.AddBias(pairs, half); err != nil {
		return nil, err
	}
	return b.Reshape(pairs, append(slices.Clone(s[:len(s)-1]), 2))
}

// predict runs the model over x and hands each batch's output to open, which reveals it and
// returns how to store it (nil where this party gets nothing). alloc is called once in the
// process that receives outputs.
func (m *Sequential) predict(call string, x Data, opts []Option,
	open func(b backend.Backend, pred backend.Tensor, to int) (func(lo int) error, error), alloc func(n int)) error {
	o, err := collect(call, opts, options{batchSize: 32, verbose: 1, out: os.Stdout},
		"BatchSize", "Verbose", "Output", "DataOwner", "NumSamples")
	if err != nil {
		return m.fail(call, fmt.Errorf("keras: %w", err))
	}
	if err := m.checkRun(call, &o, false); err != nil {
		return m.fail(call, err)
	}
	d, err := m.prepare(call, x, nil, o.samples, false)
	if err != nil {
		return m.fail(call, err)
	}
	steps := (d.n + o.batchSize - 1) / o.batchSize
	prog := newProgress(o.out, o.verbose, steps, nil)
	rep := &reporter{}
	var once sync.Once
	params := []backend.Param{intParam("samples", d.n), intParam("batch size", o.batchSize), intParam("data owner", o.owner)}
	err = m.run(call, params, nil, func(b backend.Backend) error {
		r, err := m.replica(b)
		if err != nil {
			return err
		}
		if err := m.checkRange(b, d, o.owner, "data"); err != nil {
			return err
		}
		report := rep.is(b)
		for step, lo := 0, 0; lo < d.n; step, lo = step+1, lo+o.batchSize {
			idx := rangeIdx(lo, min(lo+o.batchSize, d.n))
			xt, _, _, err := m.inputBatch(b, d, idx, o.owner, false)
			if err != nil {
				return fmt.Errorf("step %d: %w", step+1, err)
			}
			pred, err := r.forward(xt, false)
			if err != nil {
				return fmt.Errorf("step %d: %w", step+1, err)
			}
			store, err := open(b, pred, o.owner)
			if err != nil {
				return fmt.Errorf("step %d: %w", step+1, err)
			}
			if store != nil {
				once.Do(func() { alloc(d.n) })
				if err := store(lo); err != nil {
					return err
				}
			}
			if report {
				prog.update(step+1, nil, nil)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("keras: %s: %w", call, err)
	}
	prog.finish(steps, nil, nil)
	return nil
}

// weightedLoss returns the sum over a batch of the per-sample losses times the samples'
// weights w (shape [n]).
func weightedLoss(b backend.Backend, loss losses.Loss, pred, y, w backend.Tensor) (backend.Tensor, error) {
	sl, ok := loss.(losses.SampleLoss)
	if !ok {
		return nil, fmt.Errorf("the loss %s gives no per-sample losses (losses.SampleLoss): samples cannot be weighted", loss.Name())
	}
	ps, err := sl.PerSample(b, pred, y)
	if err != nil {
		return nil, err
	}
	if ps, err = b.Mul(ps, w); err != nil {
		return nil, err
	}
	return b.SumAll(ps)
}

// scaleRows multiplies every sample (row along the first axis) of g by its weight in w [n].
func scaleRows(b backend.Backend, g, w backend.Tensor) (backend.Tensor, error) {
	s := g.Shape()
	ws := make([]int, len(s))
	for i := range ws {
		ws[i] = 1
	}
	ws[0] = s[0]
	wr, err := b.Reshape(w, ws)
	if err != nil {
		return nil, err
	}
	if wr, err = b.BroadcastTo(wr, s); err != nil {
		return nil, err
	}
	return b.Mul(g, wr)
}

package losses

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/gotfe/gotfe/backend"
)

// Epsilon is the clipping margin of probabilities before a logarithm and a division: 2^-16,
// the last place of the secure engine's 16-bit fixed point (Keras's 1e-7 is not
// representable there). Both engines clip with it, so that they agree at saturation (see the
// package documentation).
const Epsilon = 0x1p-16

// Loss is a training objective.
type Loss interface {
	// Name is the Keras name of the loss, e.g. "categorical_crossentropy".
	Name() string
	// Config returns the JSON-encodable configuration FromConfig rebuilds the loss from.
	Config() any
	// FromLogits reports whether the loss expects logits rather than probabilities.
	FromLogits() bool
	// TargetSize checks that the loss applies to model outputs of shape outShape (without the
	// batch dimension) and returns the number of target values a user gives per sample.
	TargetSize(outShape []int) (int, error)
	// EncodeTargets converts the targets of n samples (n*TargetSize values, plain) into the
	// layout of the model's outputs (n*prod(outShape) values). It runs on the owner's data.
	EncodeTargets(y []float64, outShape []int) ([]float64, error)
	// Forward returns the loss of a batch as a scalar tensor.
	Forward(b backend.Backend, yPred, yTrue backend.Tensor) (backend.Tensor, error)
	// Backward returns the gradient of Forward with respect to yPred.
	Backward(b backend.Backend, yPred, yTrue backend.Tensor) (backend.Tensor, error)
	// BackwardLogits returns the gradient with respect to the input of the model's final
	// activation, given that activation's name and its output yPred, when the loss knows it
	// in closed form; ok is false otherwise.
	BackwardLogits(b backend.Backend, activation string, yPred, yTrue backend.Tensor) (dz backend.Tensor, ok bool, err error)
}

// SampleLoss is a Loss that also gives the loss of each sample, which Fit needs to weigh
// samples. Every built-in loss is one.
type SampleLoss interface {
	Loss
	// PerSample returns the loss of each sample of a batch, shape [n]; Forward is its mean.
	PerSample(b backend.Backend, yPred, yTrue backend.Tensor) (backend.Tensor, error)
}

// Option is an optional argument of a loss constructor.
type Option func(*Config)

// FromLogits makes a cross-entropy loss take logits (pre-activation outputs) instead of
// probabilities (default false).
func FromLogits(v bool) Option { return func(c *Config) { c.FromLogits = v } }

// Config is the configuration of a loss.
type Config struct {
	FromLogits bool `json:"from_logits"`
}

type kind int

const (
	mse kind = iota
	bce
	cce
	sparse
)

var names = map[kind]string{
	mse: "mean_squared_error", bce: "binary_crossentropy",
	cce: "categorical_crossentropy", sparse: "sparse_categorical_crossentropy",
}

// loss implements every built-in loss.
type loss struct {
	k   kind
	cfg Config
}

func newLoss(k kind, opts []Option) *loss {
	l := &loss{k: k}
	for _, o := range opts {
		if o != nil {
			o(&l.cfg)
		}
	}
	return l
}

// MeanSquaredError returns the mean over all outputs of (y_pred - y_true)².
func MeanSquaredError() Loss { return newLoss(mse, nil) }

// BinaryCrossentropy returns -mean(y log p + (1-y) log(1-p)) over all outputs, for sigmoid
// outputs p (or logits with FromLogits(true)). Options: FromLogits.
func BinaryCrossentropy(opts ...Option) Loss { return newLoss(bce, opts) }

// CategoricalCrossentropy returns -mean over samples of sum(y log p) along the last axis, for
// softmax outputs p (or logits with FromLogits(true)) and one-hot targets. Options:
// FromLogits.
func CategoricalCrossentropy(opts ...Option) Loss { return newLoss(cce, opts) }

// SparseCategoricalCrossentropy is CategoricalCrossentropy with targets given as class
// indices, one per sample, which EncodeTargets one-hot encodes. Options: FromLogits.
func SparseCategoricalCrossentropy(opts ...Option) Loss { return newLoss(sparse, opts) }

// Get returns a loss by its Keras name or alias: "mean_squared_error" ("mse"),
// "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy".
func Get(name string, opts ...Option) (Loss, error) {
	switch name {
	case "mse":
		name = names[mse]
	}
	for k, n := range names {
		if n == name {
			if k == mse && len(opts) > 0 {
				return nil, fmt.Errorf("losses: %s takes no options", name)
			}
			return newLoss(k, opts), nil
		}
	}
	return nil, fmt.Errorf("losses: unknown loss %q (want mean_squared_error, binary_crossentropy, categorical_crossentropy or sparse_categorical_crossentropy)", name)
}

// FromConfig rebuilds a loss from its name and the JSON of its configuration.
func FromConfig(name string, config []byte) (Loss, error) {
	l, err := Get(name)
	if err != nil {
		return nil, err
	}
	if len(config) > 0 {
		if err := json.Unmarshal(config, &l.(*loss).cfg); err != nil {
			return nil, fmt.Errorf("losses: config of %s: %w", name, err)
		}
	}
	return l, nil
}

func (l *loss) Name() string     { return names[l.k] }
func (l *loss) Config() any      { return l.cfg }
func (l *loss) FromLogits() bool { return l.cfg.FromLogits && l.k != mse }

func (l *loss) TargetSize(outShape []int) (int, error) {
	n, err := backend.NumElements(outShape)
	if err != nil || len(outShape) == 0 || n == 0 {
		return 0, fmt.Errorf("%s: model output shape %s has no values to compare", l.Name(), backend.FormatShape(outShape))
	}
	if l.k == sparse {
		if outShape[len(outShape)-1] < 2 {
			return 0, fmt.Errorf("%s: model output shape %s has fewer than 2 classes on its last axis", l.Name(), backend.FormatShape(outShape))
		}
		return n / outShape[len(outShape)-1], nil
	}
	return n, nil
}

func (l *loss) EncodeTargets(y []float64, outShape []int) ([]float64, error) {
	size, err := l.TargetSize(outShape)
	if err != nil {
		return nil, err
	}
	if len(y)%size != 0 {
		return nil, fmt.Errorf("%s: %d target values are not a whole number of samples of %d for outputs %s",
			l.Name(), len(y), size, backend.FormatShape(outShape))
	}
	k := outShape[len(outShape)-1]
	switch l.k {
	case bce:
		if err := checkBinary(y, size); err != nil {
			return nil, err
		}
	case cce:
		if err := checkOneHot(y, k); err != nil {
			return nil, err
		}
	}
	if l.k != sparse {
		return slices.Clone(y), nil
	}
	out := make([]float64, len(y)*k)
	for i, v := range y {
		c := int(v)
		if float64(c) != v || c < 0 || c >= k {
			return nil, fmt.Errorf("%s: sample %d has target %v, not a class index in [0, %d): the model's last layer has %d units, one per class",
				l.Name(), i/size, v, k, k)
		}
		out[i*k+c] = 1
	}
	return out, nil
}

// checkBinary checks the targets of binary cross-entropy: probabilities in [0, 1]. Integer
// labels beyond 1 are class indices, for which it names the sparse loss.
func checkBinary(y []float64, size int) error {
	for i, v := range y {
		if v >= 0 && v <= 1 {
			continue
		}
		if v == float64(int(v)) && v > 1 {
			top := v
			for _, w := range y {
				top = max(top, w)
			}
			return fmt.Errorf("binary_crossentropy: sample %d has target %v, outside [0, 1]: labels 0..%v are classes; "+
				"use losses.SparseCategoricalCrossentropy() with a softmax output of %v units", i/size, v, top, top+1)
		}
		return fmt.Errorf("binary_crossentropy: sample %d has target %v, outside [0, 1]", i/size, v)
	}
	return nil
}

// oneHotSlack is how far a row of categorical targets may sum from 1 (rounding of targets
// given as probabilities).
const oneHotSlack = 1e-6

// checkOneHot checks the targets of categorical cross-entropy: rows of k values in [0, 1]
// summing to 1 (one-hot, or probabilities). Rows of one class index each are named.
func checkOneHot(y []float64, k int) error {
	for r := 0; r+k <= len(y); r += k {
		row := y[r : r+k]
		sum := 0.0
		for j, v := range row {
			if !(v >= 0 && v <= 1) {
				return fmt.Errorf("categorical_crossentropy: row %d has %v in column %d, outside [0, 1]: targets are one-hot rows "+
					"(nd.OneHot turns class labels into them), or use losses.SparseCategoricalCrossentropy() for class indices", r/k, v, j)
			}
			sum += v
		}
		if math.Abs(sum-1) > oneHotSlack {
			return fmt.Errorf("categorical_crossentropy: row %d sums to %v, not 1: targets are one-hot rows "+
				"(nd.OneHot turns class labels into them), or use losses.SparseCategoricalCrossentropy() for class indices", r/k, sum)
		}
	}
	return nil
}

// terms returns the number of terms the loss averages over: every element for the
// elementwise losses, every row along the last axis for the categorical ones.
func (l *loss) terms(yPred backend.Tensor) (float64, error) {
	s := yPred.Shape()
	n, err := backend.NumElements(s)
	if err != nil {
		return 0, err
	}
	if len(s) == 0 || n == 0 {
		return 0, fmt.Errorf("%s: empty predictions of shape %v", l.Name(), s)
	}
	if l.k == cce || l.k == sparse {
		return float64(n / s[len(s)-1]), nil
	}
	return float64(n), nil
}

func (l *loss) check(yPred, yTrue backend.Tensor) (float64, error) {
	if yPred == nil || yTrue == nil {
		return 0, fmt.Errorf("%s: nil tensor", l.Name())
	}
	if !slices.Equal(yPred.Shape(), yTrue.Shape()) {
		return 0, fmt.Errorf("%s: predictions of shape %v and targets of shape %v differ", l.Name(), yPred.Shape(), yTrue.Shape())
	}
	return l.terms(yPred)
}

// probs returns the probabilities a cross-entropy works on.
func (l *loss) probs(b backend.Backend, yPred backend.Tensor) (backend.Tensor, error) {
	if !l.cfg.FromLogits {
		return yPred, nil
	}
	if l.k == bce {
		return b.Sigmoid(yPred)
	}
	return b.Softmax(yPred)
}

func (l *loss) Forward(b backend.Backend, yPred, yTrue backend.Tensor) (backend.Tensor, error) {
	t, err := l.forward(b, yPred, yTrue)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Name(), err)
	}
	return t, nil
}

func (l *loss) forward(b backend.Backend, yPred, yTrue backend.Tensor) (backend.Tensor, error) {
	n, err := l.check(yPred, yTrue)
	if err != nil {
		return nil, err
	}
	t, sign, err := l.elems(b, yPred, yTrue)
	if err != nil {
		return nil, err
	}
	s, err := b.SumAll(t)
	if err != nil {
		return nil, err
	}
	return b.Scale(s, sign/n)
}

// PerSample returns the loss of each sample of a batch, a tensor of shape [n] whose mean is
// Forward. Fit weighs samples (its SampleWeight and ClassWeight options) through it.
func (l *loss) PerSample(b backend.Backend, yPred, yTrue backend.Tensor) (backend.Tensor, error) {
	terms, err := l.check(yPred, yTrue)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Name(), err)
	}
	s := yPred.Shape()
	if len(s) < 2 {
		return nil, fmt.Errorf("%s: predictions of shape %v have no sample axis", l.Name(), s)
	}
	t, sign, err := l.elems(b, yPred, yTrue)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Name(), err)
	}
	if t, err = b.Reshape(t, []int{s[0], -1}); err != nil {
		return nil, err
	}
	if t, err = b.Sum(t, 1, false); err != nil {
		return nil, err
	}
	return b.Scale(t, sign*float64(s[0])/terms)
}

// elems returns the elementwise terms whose sum, times sign and divided by the number of
// terms, is the loss.
func (l *loss) elems(b backend.Backend, yPred, yTrue backend.Tensor) (backend.Tensor, float64, error) {
	switch l.k {
	case mse:
		d, err := b.Sub(yPred, yTrue)
		if err != nil {
			return nil, 0, err
		}
		d, err = b.Mul(d, d)
		return d, 1, err
	case bce:
		p, err := l.probs(b, yPred)
		if err != nil {
			return nil, 0, err
		}
		if p, err = b.Clip(p, Epsilon, 1-Epsilon); err != nil {
			return nil, 0, err
		}
		// y log p + (1-y) log(1-p) = y (log p - log(1-p)) + log(1-p)
		lp, err := b.Log(p)
		if err != nil {
			return nil, 0, err
		}
		q, err := oneMinus(b, p)
		if err != nil {
			return nil, 0, err
		}
		lq, err := b.Log(q)
		if err != nil {
			return nil, 0, err
		}
		d, err := b.Sub(lp, lq)
		if err != nil {
			return nil, 0, err
		}
		if d, err = b.Mul(yTrue, d); err != nil {
			return nil, 0, err
		}
		d, err = b.Add(d, lq)
		return d, -1, err
	default: // cce, sparse
		p, err := l.probs(b, yPred)
		if err != nil {
			return nil, 0, err
		}
		if !l.cfg.FromLogits {
			if p, _, err = normalizeRows(b, p); err != nil {
				return nil, 0, err
			}
		}
		if p, err = b.Clip(p, Epsilon, 1-Epsilon); err != nil {
			return nil, 0, err
		}
		lp, err := b.Log(p)
		if err != nil {
			return nil, 0, err
		}
		lp, err = b.Mul(yTrue, lp)
		return lp, -1, err
	}
}

func oneMinus(b backend.Backend, x backend.Tensor) (backend.Tensor, error) {
	y, err := b.Neg(x)
	if err != nil {
		return nil, err
	}
	return b.AddScalar(y, 1)
}

func (l *loss) Backward(b backend.Backend, yPred, yTrue backend.Tensor) (backend.Tensor, error) {
	t, err := l.backward(b, yPred, yTrue)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.Name(), err)
	}
	return t, nil
}

func (l *loss) backward(b backend.Backend, yPred, yTrue backend.Tensor) (backend.Tensor, error) {
	n, err := l.check(yPred, yTrue)
	if err != nil {
		return nil, err
	}
	if l.k == mse {
		d, err := b.Sub(yPred, yTrue)
		if err != nil {
			return nil, err
		}
		return b.Scale(d, 2/n)
	}
	if l.cfg.FromLogits { // gradient with respect to the logits: (p - y)/n
		return l.pMinusY(b, yPred, yTrue, n, true)
	}
	if l.k == bce { // (p - y) / (p (1 - p)) / n = (p - y) (1/p + 1/(1 - p)) / n
		p, err := b.Clip(yPred, Epsilon, 1-Epsilon)
		if err != nil {
			return nil, err
		}
		d, err := b.Sub(p, yTrue)
		if err != nil {
			return nil, err
		}
		q, err := oneMinus(b, p)
		if err != nil {
			return nil, err
		}
		// Two reciprocals of clipped values rather than one of the product p(1 - p), which
		// near saturation is a few units in the last place of a fixed-point engine.
		rp, err := b.Reciprocal(p)
		if err != nil {
			return nil, err
		}
		rq, err := b.Reciprocal(q)
		if err != nil {
			return nil, err
		}
		if rp, err = b.Add(rp, rq); err != nil {
			return nil, err
		}
		if d, err = b.Mul(d, rp); err != nil {
			return nil, err
		}
		return b.Scale(d, 1/n)
	}
	// Categorical, with q = clip(p/s) and s the row sum of p: the gradient of
	// -sum(y log q) is (sum(y) - y/q)/s, the clip passing the gradient through.
	q, rs, err := normalizeRows(b, yPred)
	if err != nil {
		return nil, err
	}
	if q, err = b.Clip(q, Epsilon, 1-Epsilon); err != nil {
		return nil, err
	}
	r, err := b.Reciprocal(q)
	if err != nil {
		return nil, err
	}
	if r, err = b.Mul(yTrue, r); err != nil {
		return nil, err
	}
	sy, err := b.Sum(yTrue, -1, true)
	if err != nil {
		return nil, err
	}
	if sy, err = b.BroadcastTo(sy, r.Shape()); err != nil {
		return nil, err
	}
	if r, err = b.Sub(sy, r); err != nil {
		return nil, err
	}
	if r, err = b.Mul(r, rs); err != nil {
		return nil, err
	}
	return b.Scale(r, 1/n)
}

// normalizeRows returns p divided by its sums along the last axis, as Keras and TF.js do
// before a categorical cross-entropy of probabilities, and the reciprocals of the sums
// broadcast to p's shape.
func normalizeRows(b backend.Backend, p backend.Tensor) (q, rs backend.Tensor, err error) {
	s, err := b.Sum(p, -1, true)
	if err != nil {
		return nil, nil, err
	}
	if s, err = b.Reciprocal(s); err != nil {
		return nil, nil, err
	}
	if rs, err = b.BroadcastTo(s, p.Shape()); err != nil {
		return nil, nil, err
	}
	if q, err = b.Mul(p, rs); err != nil {
		return nil, nil, err
	}
	return q, rs, nil
}

// pMinusY returns (p - y)/n, with p the probabilities of yPred (applying the loss's own
// activation when logits is set).
func (l *loss) pMinusY(b backend.Backend, yPred, yTrue backend.Tensor, n float64, logits bool) (backend.Tensor, error) {
	p := yPred
	var err error
	if logits {
		if p, err = l.probs(b, yPred); err != nil {
			return nil, err
		}
	}
	d, err := b.Sub(p, yTrue)
	if err != nil {
		return nil, err
	}
	return b.Scale(d, 1/n)
}

func (l *loss) BackwardLogits(b backend.Backend, activation string, yPred, yTrue backend.Tensor) (backend.Tensor, bool, error) {
	if l.cfg.FromLogits {
		return nil, false, nil
	}
	fused := (l.k == bce && activation == "sigmoid") ||
		((l.k == cce || l.k == sparse) && activation == "softmax")
	if !fused {
		return nil, false, nil
	}
	n, err := l.check(yPred, yTrue)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", l.Name(), err)
	}
	d, err := l.pMinusY(b, yPred, yTrue, n, false)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", l.Name(), err)
	}
	return d, true, nil
}

package keras

import (
	"fmt"
	"math"
	"slices"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/nd"
)

// Data is an array of samples with its shape, the first axis counting the samples: what Fit,
// Evaluate and Predict take. [nd.Array] is one ([nd.New], [nd.Rows], [nd.Labels]), and so is
// a gonum matrix through [nd.Matrix] (one sample per row).
type Data interface {
	// Array returns the shape, the row-major values (which the caller does not modify) and,
	// for an array that could not be made, why.
	Array() (shape []int, values []float64, err error)
}

// Rows is a [Data] that hands its samples out a batch at a time: Fit, Evaluate and Predict
// read the samples x from it as they take each batch (the model's preprocessing layers, if any,
// then apply to that batch), instead of reading every value as float64 at once, so that samples
// kept compactly (an [nd.Indexed] array, as the images of datasets.MNIST) stay so. [nd.Array]
// implements it. Targets and sample weights are read whole.
type Rows interface {
	Data
	// Dims returns the shape (samples first) without the values, or why the array could not
	// be made; a nil shape means no data.
	Dims() ([]int, error)
	// GatherTo writes the values of the samples rows (in that order, row-major) to dst, which
	// holds len(rows) samples.
	GatherTo(dst []float64, rows []int) error
}

// array is a Data read once: nil shape and values when the caller passed none. For a [Rows]
// read by shape only, src holds the samples and values is nil.
type array struct {
	shape  []int
	values []float64
	src    Rows
}

// readRows returns d as an array that reads its values a batch at a time when d is [Rows],
// else as read does.
func readRows(d Data) (array, error) {
	r, ok := d.(Rows)
	if !ok || r == nil {
		return read(d)
	}
	if a, isArr := d.(*nd.Array); isArr && a == nil {
		return array{}, nil
	}
	s, err := r.Dims()
	if err != nil {
		return array{}, err
	}
	if s == nil {
		return array{}, nil
	}
	if _, err := backend.NumElements(s); err != nil {
		return array{}, err
	}
	if len(s) == 0 {
		return array{}, fmt.Errorf("a scalar, not an array of samples")
	}
	return array{shape: s, src: r}, nil
}

// size returns the number of values a holds.
func (a array) size() int {
	if a.src != nil {
		n, _ := backend.NumElements(a.shape)
		return n
	}
	return len(a.values)
}

// read returns what d holds; a nil d (or an [nd.Array] pointer that is nil) holds nothing.
func read(d Data) (array, error) {
	if d == nil {
		return array{}, nil
	}
	s, v, err := d.Array()
	if err != nil {
		return array{}, err
	}
	if s == nil && v == nil {
		return array{}, nil
	}
	n, err := backend.NumElements(s)
	if err != nil {
		return array{}, err
	}
	if len(s) == 0 {
		return array{}, fmt.Errorf("a scalar, not an array of samples")
	}
	if n != len(v) {
		return array{}, fmt.Errorf("shape %s has %d elements but %d values", nd.Format(s), n, len(v))
	}
	return array{shape: s, values: v}, nil
}

func (a array) none() bool { return a.shape == nil }

// perSample returns the shape of one sample.
func (a array) perSample() []int { return a.shape[1:] }

// samplesShape is the Keras form of the shape of n samples of a given shape: (None, 28, 28, 1).
func samplesShape(s []int) string { return backend.FormatShape(s) }

// checkInputs checks samples x against the model's input shape; an array of shape [n] is n
// samples of one feature when the model takes one.
func (m *Sequential) checkInputs(what string, x array) error {
	if slices.Equal(x.perSample(), m.input) {
		return nil
	}
	if len(x.shape) == 1 && slices.Equal(m.input, []int{1}) {
		return nil
	}
	msg := fmt.Sprintf("%s has shape %s, but the model takes samples of shape %s", what, nd.Format(x.shape), samplesShape(m.input))
	if per := m.inSize(); x.size()%per == 0 && len(x.shape) > 0 && x.shape[0] > 0 {
		n := x.size() / per
		want := append([]int{n}, m.input...)
		if n == x.shape[0] {
			msg += fmt.Sprintf(": reshape it to %s (x.Reshape(%s))", nd.Format(want), reshapeArgs(want))
		}
	}
	return fmt.Errorf("%s", msg)
}

func reshapeArgs(s []int) string {
	out := "-1"
	for _, d := range s[1:] {
		out += fmt.Sprintf(", %d", d)
	}
	return out
}

// targetLayout returns the user's targets y of n samples as the flat values the loss
// encodes, checking their shape against the loss and the model's outputs.
func (m *Sequential) targetLayout(call string, y array, n int) ([]float64, error) {
	out := m.OutputShape()
	name := m.loss.Name()
	size, err := m.loss.TargetSize(out)
	if err != nil {
		return nil, err
	}
	if y.shape[0] != n {
		return nil, fmt.Errorf("x holds %d samples but y holds %d (y has shape %s)", n, y.shape[0], nd.Format(y.shape))
	}
	per, _ := backend.NumElements(y.perSample())
	classes := out[len(out)-1]
	outSize := m.outSize()
	sparse := size != outSize // the loss takes one class index per row
	switch {
	case sparse && (slices.Equal(y.perSample(), out[:len(out)-1]) || slices.Equal(y.perSample(), append(slices.Clone(out[:len(out)-1]), 1))):
		return y.values, nil
	case !sparse && (slices.Equal(y.perSample(), out) || (len(y.shape) == 1 && size == 1)):
		return y.values, nil
	case sparse && per == outSize:
		return nil, fmt.Errorf("y has shape %s, one-hot rows of %d classes, but the loss %s takes class indices, shape %s: "+
			"use losses.CategoricalCrossentropy() for one-hot targets, or give the class indices",
			nd.Format(y.shape), classes, name, nd.Format(append([]int{n}, out[:len(out)-1]...)))
	case !sparse && classes > 1 && per*classes == size && (name == "categorical_crossentropy"):
		return nil, fmt.Errorf("y has shape %s, class indices, but the loss %s takes one-hot rows of %d classes, shape %s: "+
			"use losses.SparseCategoricalCrossentropy() for class indices, or one-hot encode them (nd.OneHot)",
			nd.Format(y.shape), name, classes, nd.Format(append([]int{n}, out...)))
	case !sparse && classes > 1 && per*classes == size && (name == "binary_crossentropy" || name == "mean_squared_error"):
		return nil, fmt.Errorf("y has shape %s, one target per sample, but the model has %d outputs %s for the loss %s: "+
			"for class indices use losses.SparseCategoricalCrossentropy() with a softmax output, for binary labels a last layer of 1 unit",
			nd.Format(y.shape), classes, samplesShape(out), name)
	}
	want := append([]int{n}, out...)
	if sparse {
		want = append([]int{n}, out[:len(out)-1]...)
	}
	return nil, fmt.Errorf("y has shape %s, but the loss %s takes targets of shape %s for outputs %s", nd.Format(y.shape), name,
		nd.Format(want), samplesShape(out))
}

// sampleWeights returns the weight of each of the n samples: the product of the
// SampleWeight option's values and of the ClassWeight of each sample's class (read from the
// targets y, as the loss encodes them). It returns nil when neither is given.
func (m *Sequential) sampleWeights(sw Data, cw map[int]float64, y []float64, n int) ([]float64, error) {
	var w []float64
	if sw != nil {
		a, err := read(sw)
		if err != nil {
			return nil, fmt.Errorf("sample weights: %w", err)
		}
		if !a.none() {
			if len(a.values) != n || (len(a.shape) != 1 && !(len(a.shape) == 2 && a.shape[1] == 1)) {
				return nil, fmt.Errorf("sample weights have shape %s, want (%d,): one weight per sample", nd.Format(a.shape), n)
			}
			w = slices.Clone(a.values)
		}
	}
	if len(cw) > 0 && y != nil {
		if w == nil {
			w = make([]float64, n)
			for i := range w {
				w[i] = 1
			}
		}
		per := len(y) / n
		for i := range n {
			c, err := classOf(y[i*per:(i+1)*per], m.OutputShape())
			if err != nil {
				return nil, fmt.Errorf("class weights: sample %d: %w", i, err)
			}
			cwv, ok := cw[c]
			if !ok {
				return nil, fmt.Errorf("class weights: sample %d is of class %d, which ClassWeight does not weigh", i, c)
			}
			w[i] *= cwv
		}
	}
	for i, v := range w {
		if !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("sample %d has weight %v, not a finite non-negative number", i, v)
		}
	}
	return w, nil
}

// classOf returns the class of one sample's dense targets: the index of the one-hot row's 1
// for several classes, the binary label (0 or 1) for one output.
func classOf(t []float64, out []int) (int, error) {
	k := out[len(out)-1]
	if len(t) != k {
		return 0, fmt.Errorf("class weights need one class per sample; outputs %s hold several", samplesShape(out))
	}
	if k == 1 {
		if t[0] != 0 && t[0] != 1 {
			return 0, fmt.Errorf("binary target %v is neither 0 nor 1", t[0])
		}
		return int(t[0]), nil
	}
	best := 0
	for j, v := range t {
		if v > t[best] {
			best = j
		}
	}
	return best, nil
}

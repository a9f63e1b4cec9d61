package keras

import (
	"fmt"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/losses"
)

type metricKind int

const (
	categoricalAccuracy metricKind = iota
	binaryAccuracy
	meanSquaredError
	meanAbsoluteError
	autoAccuracy // resolved against the output shape once known
)

// metric is a compiled metric: its logged name and what it computes. A metric is a sum over
// the samples of a batch of a per-sample value (averaged over the sample's outputs), which
// the model accumulates over an epoch and divides by the sample count.
type metric struct {
	name      string
	kind      metricKind
	threshold float64 // binary accuracy: predictions above count as 1
}

func newMetric(name string, loss losses.Loss) (metric, error) {
	mt := metric{name: name, threshold: 0.5}
	if loss.FromLogits() {
		mt.threshold = 0
	}
	switch name {
	case "accuracy", "acc":
		switch loss.Name() {
		case "binary_crossentropy":
			mt.kind = binaryAccuracy
		case "categorical_crossentropy", "sparse_categorical_crossentropy":
			mt.kind = categoricalAccuracy
		default:
			mt.kind = autoAccuracy
		}
	case "categorical_accuracy", "sparse_categorical_accuracy":
		mt.kind = categoricalAccuracy
	case "binary_accuracy":
		mt.kind = binaryAccuracy
	case "mse", "mean_squared_error":
		mt.kind = meanSquaredError
	case "mae", "mean_absolute_error":
		mt.kind = meanAbsoluteError
	default:
		return mt, fmt.Errorf("unknown metric %q (want accuracy, categorical_accuracy, sparse_categorical_accuracy, binary_accuracy, mse or mae)", name)
	}
	return mt, nil
}

// batchSum returns, as a scalar tensor, the sum over the batch of the metric's per-sample
// values. Targets are in the loss's dense layout (one-hot for categorical losses).
func (mt metric) batchSum(b backend.Backend, pred, y backend.Tensor) (backend.Tensor, error) {
	s := pred.Shape()
	n, err := backend.NumElements(s)
	if err != nil || len(s) < 2 || s[0] == 0 {
		return nil, fmt.Errorf("metric %s: predictions of shape %v", mt.name, s)
	}
	perSample := float64(n / s[0]) // outputs per sample
	kind := mt.kind
	if kind == autoAccuracy {
		kind = categoricalAccuracy
		if s[len(s)-1] == 1 {
			kind = binaryAccuracy
		}
	}
	var sum backend.Tensor
	switch kind {
	case categoricalAccuracy: // hits of argmax, averaged over the sample's rows
		if s[len(s)-1] < 2 {
			return nil, fmt.Errorf("metric %s: categorical accuracy needs at least 2 classes, predictions have shape %v", mt.name, s)
		}
		mask, err := b.ArgMaxMask(pred)
		if err != nil {
			return nil, err
		}
		hits, err := b.Mul(mask, y)
		if err != nil {
			return nil, err
		}
		if sum, err = b.SumAll(hits); err != nil {
			return nil, err
		}
		return b.Scale(sum, float64(s[len(s)-1])/perSample)
	case binaryAccuracy: // correct = 1 - y - m + 2ym with m = [pred > threshold]
		shifted, err := b.AddScalar(pred, -mt.threshold)
		if err != nil {
			return nil, err
		}
		_, gt, err := b.ReLU(shifted)
		if err != nil {
			return nil, err
		}
		ones, err := b.Fill(s, 1)
		if err != nil {
			return nil, err
		}
		m, err := b.MulMask(ones, gt)
		if err != nil {
			return nil, err
		}
		ym, err := b.Mul(y, m)
		if err != nil {
			return nil, err
		}
		if ym, err = b.Scale(ym, 2); err != nil {
			return nil, err
		}
		d, err := b.Sub(ym, y)
		if err != nil {
			return nil, err
		}
		if d, err = b.Sub(d, m); err != nil {
			return nil, err
		}
		if d, err = b.AddScalar(d, 1); err != nil {
			return nil, err
		}
		if sum, err = b.SumAll(d); err != nil {
			return nil, err
		}
	case meanSquaredError:
		d, err := b.Sub(pred, y)
		if err != nil {
			return nil, err
		}
		if d, err = b.Mul(d, d); err != nil {
			return nil, err
		}
		if sum, err = b.SumAll(d); err != nil {
			return nil, err
		}
	case meanAbsoluteError: // |d| = 2 relu(d) - d
		d, err := b.Sub(pred, y)
		if err != nil {
			return nil, err
		}
		r, _, err := b.ReLU(d)
		if err != nil {
			return nil, err
		}
		if r, err = b.Scale(r, 2); err != nil {
			return nil, err
		}
		if d, err = b.Sub(r, d); err != nil {
			return nil, err
		}
		if sum, err = b.SumAll(d); err != nil {
			return nil, err
		}
	}
	return b.Scale(sum, 1/perSample)
}

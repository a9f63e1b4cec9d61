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
	precision
	recall
	auc
)

// AUCThresholds is the number of thresholds of the AUC metric, Keras's default.
const AUCThresholds = 200

// aucThresholds returns Keras's thresholds: 0 - ε, i/(T-1) for i in 1..T-2, and 1 + ε, with
// ε = 2^-16 (Keras's 1e-7 is below the secure engine's resolution), so that predictions of
// exactly 0 and 1 fall between the outer thresholds on both engines.
func aucThresholds() []float64 {
	t := make([]float64, AUCThresholds)
	t[0] = -0x1p-16
	for i := 1; i < AUCThresholds-1; i++ {
		t[i] = float64(i) / (AUCThresholds - 1)
	}
	t[AUCThresholds-1] = 1 + 0x1p-16
	return t
}

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
	case "precision", "Precision":
		mt.kind = precision
	case "recall", "Recall":
		mt.kind = recall
	case "auc", "AUC":
		mt.kind = auc
	default:
		return mt, fmt.Errorf("unknown metric %q (want accuracy, categorical_accuracy, sparse_categorical_accuracy, binary_accuracy, mse, mae, precision, recall or auc)", name)
	}
	return mt, nil
}

// numSums returns how many tensors the metric accumulates over an epoch.
func (mt metric) numSums() int {
	switch mt.kind {
	case precision, recall:
		return 2
	case auc:
		return 3
	}
	return 1
}

// sums returns the metric's additive state of a batch: the sum of its per-sample values, or,
// for precision and recall, the true positives and the predicted (or actual) positives, and
// for AUC the true positives and predicted positives at each threshold and the positives.
func (mt metric) sums(b backend.Backend, pred, y backend.Tensor) ([]backend.Tensor, error) {
	switch mt.kind {
	case precision, recall:
		g, err := above(b, pred, mt.threshold)
		if err != nil {
			return nil, err
		}
		hits, err := b.Mul(g, y)
		if err != nil {
			return nil, err
		}
		tp, err := b.SumAll(hits)
		if err != nil {
			return nil, err
		}
		other := g // predicted positives
		if mt.kind == recall {
			other = y
		}
		pos, err := b.SumAll(other)
		if err != nil {
			return nil, err
		}
		return []backend.Tensor{tp, pos}, nil
	case auc:
		return aucSums(b, pred, y)
	}
	s, err := mt.batchSum(b, pred, y)
	if err != nil {
		return nil, err
	}
	return []backend.Tensor{s}, nil
}

// reveal reduces an epoch's sums to the scalars the parties open: the sums themselves, except
// for AUC, whose per-threshold counts stay secret: the parties open the area's numerator
// Σ_j (FP_j - FP_{j+1})·(TP_j + TP_{j+1})/2 (over the counts divided by the elems outputs, so
// that the products stay in the fixed-point range) and the fraction of positive targets.
func (mt metric) reveal(b backend.Backend, sums []backend.Tensor, elems int) ([]backend.Tensor, error) {
	if mt.kind != auc {
		return sums, nil
	}
	return aucReveal(b, sums, elems)
}

// value returns the metric of an epoch of n samples from the opened scalars.
func (mt metric) value(v []float64, n int) float64 {
	switch mt.kind {
	case precision, recall: // Keras's divide_no_nan
		if v[1] == 0 {
			return 0
		}
		return v[0] / v[1]
	case auc: // numerator / (p·(1 - p)), p the fraction of positives
		p := v[1]
		if p <= 0 || p >= 1 {
			return 0
		}
		return v[0] / (p * (1 - p))
	}
	return v[0] / float64(n)
}

// above returns 1 where x > t and 0 elsewhere (an exact comparison on the secure engine).
func above(b backend.Backend, x backend.Tensor, t float64) (backend.Tensor, error) {
	shifted, err := b.AddScalar(x, -t)
	if err != nil {
		return nil, err
	}
	_, gt, err := b.ReLU(shifted)
	if err != nil {
		return nil, err
	}
	ones, err := b.Fill(x.Shape(), 1)
	if err != nil {
		return nil, err
	}
	return b.MulMask(ones, gt)
}

// aucSums compares every output with the AUC's thresholds: G[i, j] = [p_i > t_j] over the m
// outputs of the batch, TP = yᵀ·G and PP = Σ_i G[i, ·] (both [T]), and the positives Σ y.
func aucSums(b backend.Backend, pred, y backend.Tensor) ([]backend.Tensor, error) {
	n, err := backend.NumElements(pred.Shape())
	if err != nil {
		return nil, err
	}
	col, err := b.Reshape(pred, []int{n, 1})
	if err != nil {
		return nil, err
	}
	wide, err := b.BroadcastTo(col, []int{n, AUCThresholds})
	if err != nil {
		return nil, err
	}
	ts := aucThresholds()
	neg := make([]float64, len(ts))
	for i, t := range ts {
		neg[i] = -t
	}
	shift, err := b.Const(neg, []int{AUCThresholds})
	if err != nil {
		return nil, err
	}
	if wide, err = b.AddBias(wide, shift); err != nil {
		return nil, err
	}
	_, gt, err := b.ReLU(wide)
	if err != nil {
		return nil, err
	}
	ones, err := b.Fill([]int{n, AUCThresholds}, 1)
	if err != nil {
		return nil, err
	}
	g, err := b.MulMask(ones, gt)
	if err != nil {
		return nil, err
	}
	yr, err := b.Reshape(y, []int{1, n})
	if err != nil {
		return nil, err
	}
	tp, err := b.MatMul(yr, g, false, false)
	if err != nil {
		return nil, err
	}
	if tp, err = b.Reshape(tp, []int{AUCThresholds}); err != nil {
		return nil, err
	}
	pp, err := b.Sum(g, 0, false)
	if err != nil {
		return nil, err
	}
	pos, err := b.SumAll(y)
	if err != nil {
		return nil, err
	}
	return []backend.Tensor{tp, pp, pos}, nil
}

// aucReveal computes the AUC's numerator (Keras's interpolated ROC area, times p·(1-p)) from
// the counts: Σ_j dfp_j·htp_j over the T-1 intervals between thresholds, with
// dfp_j = (FP_j - FP_{j+1})/m (FP = PP - TP) and htp_j = (TP_j + TP_{j+1})/(2m), as one matrix
// product (one truncation on the secure engine), and the fraction of positives P/m. The
// counts are exact; the divisions by m keep the product within the fixed-point range.
func aucReveal(b backend.Backend, sums []backend.Tensor, elems int) ([]backend.Tensor, error) {
	if elems <= 0 {
		return nil, fmt.Errorf("no outputs")
	}
	inv := 1 / float64(elems)
	fp, err := b.Sub(sums[1], sums[0])
	if err != nil {
		return nil, err
	}
	const T = AUCThresholds
	diff := make([]float64, T*(T-1)) // column j: e_j - e_{j+1}
	sum := make([]float64, T*(T-1))  // column j: e_j + e_{j+1}
	for j := 0; j < T-1; j++ {
		diff[j*(T-1)+j], diff[(j+1)*(T-1)+j] = 1, -1
		sum[j*(T-1)+j], sum[(j+1)*(T-1)+j] = 1, 1
	}
	dm, err := b.Const(diff, []int{T, T - 1})
	if err != nil {
		return nil, err
	}
	sm, err := b.Const(sum, []int{T, T - 1})
	if err != nil {
		return nil, err
	}
	fpRow, err := b.Reshape(fp, []int{1, T})
	if err != nil {
		return nil, err
	}
	tpRow, err := b.Reshape(sums[0], []int{1, T})
	if err != nil {
		return nil, err
	}
	dx, err := b.MatMul(fpRow, dm, false, false) // integer counts: exact
	if err != nil {
		return nil, err
	}
	hy, err := b.MatMul(tpRow, sm, false, false)
	if err != nil {
		return nil, err
	}
	if dx, err = b.Scale(dx, inv); err != nil {
		return nil, err
	}
	if hy, err = b.Scale(hy, inv/2); err != nil {
		return nil, err
	}
	area, err := b.MatMul(dx, hy, false, true)
	if err != nil {
		return nil, err
	}
	if area, err = b.Reshape(area, []int{}); err != nil {
		return nil, err
	}
	p, err := b.Scale(sums[2], inv)
	if err != nil {
		return nil, err
	}
	return []backend.Tensor{area, p}, nil
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

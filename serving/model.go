package serving

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/secure/aby3"
)

// What a prediction reveals to the client (see the package documentation).
const (
	// OutputProbabilities reveals the logits of a softmax head shifted by a random amount
	// common to each row, from which the client computes the probabilities exactly.
	OutputProbabilities = "probabilities"
	// OutputClass reveals the index of the largest output of each row only.
	OutputClass = "class"
	// OutputValues reveals the model's outputs (its head applied).
	OutputValues = "outputs"
)

// classifier reports whether m ends with a softmax over a one-axis output: a classifier whose
// probabilities the client can compute from shifted logits.
func classifier(m *keras.Sequential) bool {
	ls := m.Layers()
	if len(ls) == 0 || len(m.OutputShape()) != 1 {
		return false
	}
	return activationOf(ls[len(ls)-1]) == "softmax"
}

// activationOf returns the activation a layer applies last, "" when it has none.
func activationOf(l layers.Layer) string {
	switch c := l.Config().(type) {
	case layers.DenseConfig:
		return c.Activation
	case layers.Conv2DConfig:
		return c.Activation
	case layers.DepthwiseConv2DConfig:
		return c.Activation
	case layers.ActivationConfig:
		return c.Activation
	}
	return ""
}

// resolveOutput checks the output mode asked for m; "" picks probabilities for a classifier
// and outputs otherwise.
func resolveOutput(m *keras.Sequential, output string) (string, error) {
	cls := classifier(m)
	switch output {
	case "":
		if cls {
			return OutputProbabilities, nil
		}
		return OutputValues, nil
	case OutputProbabilities:
		if !cls {
			return "", fmt.Errorf("output %q needs a model that ends with a softmax over one axis", output)
		}
	case OutputClass:
		if s := m.OutputShape(); len(s) != 1 || s[0] < 2 {
			return "", fmt.Errorf("output %q needs a model whose output is one axis of at least 2 values, not %v", output, s)
		}
	case OutputValues:
	default:
		return "", fmt.Errorf("output %q: want %s, %s or %s", output, OutputProbabilities, OutputClass, OutputValues)
	}
	return output, nil
}

// headLayers returns the layers the parties run for the output mode: for probabilities and
// classes of a classifier, the model without its final softmax (the logits: softmax is
// shift-invariant and monotonic, so neither needs it).
func headLayers(m *keras.Sequential, output string) ([]layers.Layer, error) {
	ls := m.Layers()
	if output == OutputValues || !classifier(m) {
		return ls, nil
	}
	last := ls[len(ls)-1]
	if _, ok := last.Config().(layers.ActivationConfig); ok {
		return ls[:len(ls)-1], nil
	}
	raw, err := json.Marshal(last.Config())
	if err != nil {
		return nil, err
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, err
	}
	cfg["activation"] = "linear"
	if raw, err = json.Marshal(cfg); err != nil {
		return nil, err
	}
	l, err := layers.FromConfig(last.ClassName(), raw)
	if err != nil {
		return nil, fmt.Errorf("layer %s without its softmax: %w", last.Name(), err)
	}
	return append(slices.Clone(ls[:len(ls)-1]), l), nil
}

// secureModel is the model built on one party's backend, over shared weights.
type secureModel struct {
	insts  []layers.Instance
	in     []int // input shape of one sample
	output string
}

// buildSecure builds ls on b for input shape in, with the weights the owner (party 0) inputs:
// weights on party 0, nil on the others (in GetWeights's order).
func buildSecure(b *mpc.Backend, ls []layers.Layer, in []int, weights [][]float64, output string) (*secureModel, error) {
	sm := &secureModel{in: slices.Clone(in), output: output}
	shape := slices.Clone(in)
	k := 0
	for i, l := range ls {
		specs, err := l.Weights(shape)
		if err != nil {
			return nil, err
		}
		vars := make([]*backend.Variable, len(specs))
		for j, s := range specs {
			var data []float64
			if weights != nil {
				if k >= len(weights) {
					return nil, fmt.Errorf("layer %s: the model has %d weights, more are needed", l.Name(), len(weights))
				}
				data = weights[k]
			}
			t, err := b.Input(data, s.Shape, 0)
			if err != nil {
				return nil, fmt.Errorf("layer %s: weight %s: %w", l.Name(), s.Name, err)
			}
			vars[j] = &backend.Variable{Name: l.Name() + "/" + s.Name, Value: t, Trainable: s.Trainable}
			k++
		}
		inst, err := l.Build(b, shape, vars, backend.DeriveSeed(0, uint64(i), 1<<32))
		if err != nil {
			return nil, err
		}
		sm.insts = append(sm.insts, inst)
		if shape, err = l.OutputShape(shape); err != nil {
			return nil, err
		}
	}
	if weights != nil && k != len(weights) {
		return nil, fmt.Errorf("the model has %d weights, its layers take %d", len(weights), k)
	}
	layers.Arrange(sm.insts)
	return sm, nil
}

// run computes the party's output shares for a batch x of samples: the shifted logits, the
// classes or the outputs, each as this party's additive share for the client.
func (sm *secureModel) run(b *mpc.Backend, x *aby3.Shared) (out []uint64, frac int, err error) {
	p, err := b.Aby3Party()
	if err != nil {
		return nil, 0, err
	}
	t, err := b.FromShared(x)
	if err != nil {
		return nil, 0, err
	}
	for _, inst := range sm.insts {
		if t, err = inst.Forward(t, false); err != nil {
			return nil, 0, err
		}
	}
	frac = p.Encoding().FracBits
	if sm.output == OutputProbabilities {
		// The logits leave before their truncation (no round), shifted by a random amount per
		// row that no party knows; the client learns the differences of a row's logits only,
		// which is what the softmax depends on.
		u, err := b.UnreducedOf(t)
		if err != nil {
			return nil, 0, err
		}
		shape := u.Shape()
		k := shape[len(shape)-1]
		rows := u.Len() / k
		s, err := p.RandomShared([]int{rows})
		if err != nil {
			return nil, 0, err
		}
		sa, sb := s.Components()
		ba, bb := make([]uint64, u.Len()), make([]uint64, u.Len())
		for r := range rows {
			for j := range k {
				ba[r*k+j], bb[r*k+j] = sa[r], sb[r]
			}
		}
		shift, err := aby3.NewShared(shape, ba, bb)
		if err != nil {
			return nil, 0, err
		}
		return p.OutputShareUnreduced(u, shift)
	}
	y, err := b.SharedOf(t)
	if err != nil {
		return nil, 0, err
	}
	if sm.output == OutputClass {
		if y, err = p.ArgMax(y, len(y.Shape())-1); err != nil {
			return nil, 0, err
		}
	}
	return p.OutputShare(y), frac, nil
}

package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
)

// The Keras side of the importer: a Sequential model's configuration, as Keras 2, Keras 3 and
// TF.js write it, becomes gotfe layers; the weights come from a format's own store through
// a weightSource.

// kerasLayer is one imported layer: its Keras class and name, the gotfe layer (nil for an
// InputLayer), and the weights the file holds for it, in Keras's order.
type kerasLayer struct {
	class, name string
	layer       layers.Layer
	weights     []string          // Keras weight names, e.g. kernel, bias
	defaults    map[string]string // gotfe weights the file lacks: their initializer name
}

// maxDefaultWeights bounds a weight the file lacks and the importer fills in (a batch
// normalisation's gamma or beta without scale or center).
const maxDefaultWeights = 1 << 20

// weightSource returns the values of weight k (named name) of imported layer li, whose shape
// in the gotfe model is shape. It checks the file's shape or element count against it.
type weightSource func(li int, l *kerasLayer, k int, name string, shape []int) ([]float64, error)

// kerasModel is a parsed Sequential configuration.
type kerasModel struct {
	name   string
	input  []int
	layers []*kerasLayer
}

type classConfig struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

// parseKerasModel reads a model's configuration ({"class_name": "Sequential", "config": ...}).
func parseKerasModel(data []byte) (*kerasModel, error) {
	var top classConfig
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("model configuration: %w", err)
	}
	if top.ClassName != "Sequential" {
		return nil, fmt.Errorf("model class %q is not supported (only Sequential models)", top.ClassName)
	}
	var cfg struct {
		Name   string        `json:"name"`
		Layers []classConfig `json:"layers"`
	}
	if len(top.Config) > 0 && top.Config[0] == '[' { // Keras before 2.2.3: the list of layers
		if err := json.Unmarshal(top.Config, &cfg.Layers); err != nil {
			return nil, fmt.Errorf("model configuration: %w", err)
		}
	} else if err := json.Unmarshal(top.Config, &cfg); err != nil {
		return nil, fmt.Errorf("model configuration: %w", err)
	}
	km := &kerasModel{name: cfg.Name}
	if len(cfg.Layers) == 0 {
		return nil, errors.New("model configuration: no layers")
	}
	for i, lc := range cfg.Layers {
		kl, input, err := parseKerasLayer(lc)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		switch {
		case input == nil:
		case km.input == nil && len(km.layers) == 0:
			km.input = input
		case !slices.Equal(input, km.input):
			return nil, fmt.Errorf("layer %d (%s): input shape %v, but the model's is %v", i, kl.name, input, km.input)
		}
		if kl.layer != nil {
			km.layers = append(km.layers, kl)
		}
	}
	if km.input == nil {
		return nil, errors.New("model configuration: no input shape (no InputLayer nor batch_input_shape)")
	}
	if len(km.layers) == 0 {
		return nil, errors.New("model configuration: no layers besides the input")
	}
	return km, nil
}

// build makes the gotfe model and sets its weights from src.
func (km *kerasModel) build(src weightSource) (*keras.Sequential, error) {
	ls := []layers.Layer{layers.Input(km.input...)}
	for _, kl := range km.layers {
		ls = append(ls, kl.layer)
	}
	m, err := keras.NewSequential(ls...)
	if err != nil {
		return nil, err
	}
	in := km.input
	var w [][]float64
	for li, kl := range km.layers {
		specs, err := kl.layer.Weights(in)
		if err != nil {
			return nil, err
		}
		for _, s := range specs {
			k := slices.Index(kl.weights, s.Name)
			if k < 0 {
				init, ok := kl.defaults[s.Name]
				if !ok {
					return nil, fmt.Errorf("layer %s (%s): no weight %s", kl.name, kl.class, s.Name)
				}
				n, _ := backend.NumElements(s.Shape)
				if n > maxDefaultWeights {
					return nil, fmt.Errorf("layer %s (%s): weight %s of shape %v is too large", kl.name, kl.class, s.Name, s.Shape)
				}
				v := make([]float64, n)
				if init == "ones" {
					for i := range v {
						v[i] = 1
					}
				}
				w = append(w, v)
				continue
			}
			v, err := src(li, kl, k, s.Name, s.Shape)
			if err != nil {
				return nil, fmt.Errorf("layer %s (%s): weight %s: %w", kl.name, kl.class, s.Name, err)
			}
			w = append(w, v)
		}
		if in, err = kl.layer.OutputShape(in); err != nil {
			return nil, err
		}
	}
	if err := m.SetWeights(w); err != nil {
		return nil, err
	}
	return m, nil
}

// layerArgs is a layer's configuration: every key must be read (by a get method) or be
// known to have no effect on inference, so that an unsupported argument is an error.
type layerArgs struct {
	class, name string
	m           map[string]json.RawMessage
	used        map[string]bool
}

// Keys with no effect on a trained model's inference.
var ignoredKeys = []string{"name", "trainable", "dtype", "batch_input_shape", "batch_shape", "input_shape",
	"input_dtype", "batch_size", "kernel_initializer", "bias_initializer", "depthwise_initializer",
	"beta_initializer", "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
	"kernel_regularizer", "bias_regularizer", "activity_regularizer", "depthwise_regularizer",
	"beta_regularizer", "gamma_regularizer", "kernel_constraint", "bias_constraint",
	"depthwise_constraint", "beta_constraint", "gamma_constraint", "seed", "momentum"}

func (a *layerArgs) raw(key string) (json.RawMessage, bool) {
	a.used[key] = true
	v, ok := a.m[key]
	if ok && string(v) == "null" {
		return nil, false
	}
	return v, ok
}

func (a *layerArgs) errorf(key string, v json.RawMessage, format string, args ...any) error {
	return fmt.Errorf("layer %s (%s): argument %s=%s: %s", a.name, a.class, key, compact(v), fmt.Sprintf(format, args...))
}

func compact(v json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return string(v)
	}
	return b.String()
}

// int reads an integer argument (def when absent).
func (a *layerArgs) int(key string, def int) (int, error) {
	v, ok := a.raw(key)
	if !ok {
		return def, nil
	}
	var x int
	if err := json.Unmarshal(v, &x); err != nil {
		// TF.js and Keras sometimes write a one-element list.
		var l []int
		if json.Unmarshal(v, &l) != nil || len(l) != 1 {
			return 0, a.errorf(key, v, "want an integer")
		}
		x = l[0]
	}
	return x, nil
}

// pair reads an argument that is an integer or a pair (kernel_size, strides, ...).
func (a *layerArgs) pair(key string, def [2]int) ([2]int, error) {
	v, ok := a.raw(key)
	if !ok {
		return def, nil
	}
	var x int
	if json.Unmarshal(v, &x) == nil {
		return [2]int{x, x}, nil
	}
	var l []int
	if json.Unmarshal(v, &l) != nil || len(l) != 2 {
		return def, a.errorf(key, v, "want an integer or a pair")
	}
	return [2]int{l[0], l[1]}, nil
}

func (a *layerArgs) float(key string, def float64) (float64, error) {
	v, ok := a.raw(key)
	if !ok {
		return def, nil
	}
	var x float64
	if err := json.Unmarshal(v, &x); err != nil {
		return 0, a.errorf(key, v, "want a number")
	}
	return x, nil
}

func (a *layerArgs) bool(key string, def bool) (bool, error) {
	v, ok := a.raw(key)
	if !ok {
		return def, nil
	}
	var x bool
	if err := json.Unmarshal(v, &x); err != nil {
		return false, a.errorf(key, v, "want true or false")
	}
	return x, nil
}

func (a *layerArgs) string(key, def string) (string, error) {
	v, ok := a.raw(key)
	if !ok {
		return def, nil
	}
	var x string
	if err := json.Unmarshal(v, &x); err != nil {
		return "", a.errorf(key, v, "want a string")
	}
	return x, nil
}

// padding2D reads ZeroPadding2D's padding: n, [h, w] or [[top, bottom], [left, right]].
func (a *layerArgs) padding2D() ([2][2]int, error) {
	v, ok := a.raw("padding")
	if !ok {
		return [2][2]int{{1, 1}, {1, 1}}, nil
	}
	var n int
	if json.Unmarshal(v, &n) == nil {
		return [2][2]int{{n, n}, {n, n}}, nil
	}
	var hw []int
	if json.Unmarshal(v, &hw) == nil && len(hw) == 2 {
		return [2][2]int{{hw[0], hw[0]}, {hw[1], hw[1]}}, nil
	}
	var full [][]int
	if json.Unmarshal(v, &full) == nil && len(full) == 2 && len(full[0]) == 2 && len(full[1]) == 2 {
		return [2][2]int{{full[0][0], full[0][1]}, {full[1][0], full[1][1]}}, nil
	}
	return [2][2]int{}, a.errorf("padding", v, "want an integer, a pair or a pair of pairs")
}

// want checks that an argument, when present, has one of the given values.
func (a *layerArgs) want(key string, ok func(v json.RawMessage) bool, what string) error {
	v, present := a.raw(key)
	if present && !ok(v) {
		return a.errorf(key, v, "not supported (want %s)", what)
	}
	return nil
}

func isJSON(vals ...string) func(v json.RawMessage) bool {
	return func(v json.RawMessage) bool { return slices.Contains(vals, compact(v)) }
}

// activation reads the activation argument: a name gotfe supports.
func (a *layerArgs) activation(key string) (string, error) {
	v, ok := a.raw(key)
	if !ok {
		return "linear", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", a.errorf(key, v, "not supported (want the name of an activation)")
	}
	switch s {
	case "", "linear", "relu", "relu6", "sigmoid", "tanh", "softmax":
		return s, nil
	}
	return "", a.errorf(key, v, "activation not supported (want linear, relu, relu6, sigmoid, tanh or softmax)")
}

// dataFormat accepts channels_last only.
func (a *layerArgs) dataFormat() error {
	return a.want("data_format", isJSON(`"channels_last"`), `"channels_last"`)
}

// finish returns an error naming the first argument neither read nor ignorable that has a
// value.
func (a *layerArgs) finish() error {
	keys := make([]string, 0, len(a.m))
	for k := range a.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if a.used[k] || slices.Contains(ignoredKeys, k) || string(a.m[k]) == "null" {
			continue
		}
		return a.errorf(k, a.m[k], "argument not supported")
	}
	return nil
}

// parseKerasLayer converts one layer's configuration and returns the input shape it declares
// (batch_input_shape, batch_shape or the InputLayer's), if any.
func parseKerasLayer(lc classConfig) (*kerasLayer, []int, error) {
	a := &layerArgs{class: lc.ClassName, m: map[string]json.RawMessage{}, used: map[string]bool{}}
	if err := json.Unmarshal(lc.Config, &a.m); err != nil {
		return nil, nil, fmt.Errorf("%s: configuration: %w", lc.ClassName, err)
	}
	name, err := a.string("name", "")
	if err != nil {
		return nil, nil, err
	}
	a.name = name
	if name == "" {
		a.name = layers.SnakeCase(lc.ClassName)
	}
	kl := &kerasLayer{class: lc.ClassName, name: a.name}
	input, err := inputShape(a)
	if err != nil {
		return nil, nil, err
	}
	opts := []layers.Option{}
	if name != "" {
		opts = append(opts, layers.Name(name))
	}
	useBias := func() (bool, error) { return a.bool("use_bias", true) }
	switch lc.ClassName {
	case "InputLayer":
		for _, k := range []string{"sparse", "ragged"} {
			if err := a.want(k, isJSON("false"), "false"); err != nil {
				return nil, nil, err
			}
		}
		if input == nil {
			return nil, nil, fmt.Errorf("layer %s (InputLayer): no shape", a.name)
		}
		return kl, input, a.finish()
	case "Dense":
		units, err := a.int("units", 0)
		if err != nil {
			return nil, nil, err
		}
		act, err := a.activation("activation")
		if err != nil {
			return nil, nil, err
		}
		bias, err := useBias()
		if err != nil {
			return nil, nil, err
		}
		if err := a.want("lora_rank", isJSON("0"), "none"); err != nil {
			return nil, nil, err
		}
		kl.layer = layers.Dense(units, append(opts, layers.Activation(act), layers.UseBias(bias))...)
		kl.weights = withBias([]string{"kernel"}, bias)
	case "Conv2D", "DepthwiseConv2D":
		ks, err := a.pair("kernel_size", [2]int{})
		if err != nil {
			return nil, nil, err
		}
		st, err := a.pair("strides", [2]int{1, 1})
		if err != nil {
			return nil, nil, err
		}
		pad, err := a.string("padding", "valid")
		if err != nil {
			return nil, nil, err
		}
		if pad != "valid" && pad != "same" {
			return nil, nil, a.errorf("padding", json.RawMessage(`"`+pad+`"`), `not supported (want "valid" or "same")`)
		}
		if err := a.want("dilation_rate", isJSON("1", "[1,1]", "[1]"), "1"); err != nil {
			return nil, nil, err
		}
		if err := a.want("groups", isJSON("1"), "1"); err != nil {
			return nil, nil, err
		}
		if err := a.dataFormat(); err != nil {
			return nil, nil, err
		}
		act, err := a.activation("activation")
		if err != nil {
			return nil, nil, err
		}
		bias, err := useBias()
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, layers.Strides(st[0], st[1]), layers.Padding(pad), layers.Activation(act), layers.UseBias(bias))
		if lc.ClassName == "Conv2D" {
			filters, err := a.int("filters", 0)
			if err != nil {
				return nil, nil, err
			}
			kl.layer = layers.Conv2D(filters, ks, opts...)
			kl.weights = withBias([]string{"kernel"}, bias)
		} else {
			mult, err := a.int("depth_multiplier", 1)
			if err != nil {
				return nil, nil, err
			}
			kl.layer = layers.DepthwiseConv2D(ks, append(opts, layers.DepthMultiplier(mult))...)
			kl.weights = withBias([]string{"depthwise_kernel"}, bias)
		}
	case "MaxPooling2D", "AveragePooling2D":
		ps, err := a.pair("pool_size", [2]int{2, 2})
		if err != nil {
			return nil, nil, err
		}
		st, err := a.pair("strides", ps)
		if err != nil {
			return nil, nil, err
		}
		pad, err := a.string("padding", "valid")
		if err != nil {
			return nil, nil, err
		}
		if pad != "valid" && pad != "same" {
			return nil, nil, a.errorf("padding", json.RawMessage(`"`+pad+`"`), `not supported (want "valid" or "same")`)
		}
		if err := a.dataFormat(); err != nil {
			return nil, nil, err
		}
		opts = append(opts, layers.PoolSize(ps[0], ps[1]), layers.Strides(st[0], st[1]), layers.Padding(pad))
		if lc.ClassName == "MaxPooling2D" {
			kl.layer = layers.MaxPooling2D(opts...)
		} else {
			kl.layer = layers.AveragePooling2D(opts...)
		}
	case "GlobalAveragePooling2D", "GlobalMaxPooling2D":
		if err := a.dataFormat(); err != nil {
			return nil, nil, err
		}
		if err := a.want("keepdims", isJSON("false"), "false"); err != nil {
			return nil, nil, err
		}
		if lc.ClassName == "GlobalAveragePooling2D" {
			kl.layer = layers.GlobalAveragePooling2D(opts...)
		} else {
			kl.layer = layers.GlobalMaxPooling2D(opts...)
		}
	case "ZeroPadding2D":
		if err := a.dataFormat(); err != nil {
			return nil, nil, err
		}
		p, err := a.padding2D()
		if err != nil {
			return nil, nil, err
		}
		kl.layer = layers.ZeroPadding2D(p, opts...)
	case "Flatten":
		if err := a.dataFormat(); err != nil {
			return nil, nil, err
		}
		kl.layer = layers.Flatten(opts...)
	case "Reshape":
		v, ok := a.raw("target_shape")
		var ts []int
		if !ok || json.Unmarshal(v, &ts) != nil || len(ts) == 0 {
			return nil, nil, a.errorf("target_shape", v, "want a list of integers")
		}
		kl.layer = layers.Reshape(ts, opts...)
	case "Dropout":
		rate, err := a.float("rate", 0)
		if err != nil {
			return nil, nil, err
		}
		if err := a.want("noise_shape", func(json.RawMessage) bool { return false }, "none"); err != nil {
			return nil, nil, err
		}
		kl.layer = layers.Dropout(rate, opts...)
	case "Activation":
		act, err := a.activation("activation")
		if err != nil {
			return nil, nil, err
		}
		kl.layer = layers.Activation(act, opts...)
	case "ReLU":
		mv, err := a.float("max_value", math.Inf(1))
		if err != nil {
			return nil, nil, err
		}
		for _, k := range []string{"negative_slope", "threshold"} {
			if err := a.want(k, isJSON("0", "0.0"), "0"); err != nil {
				return nil, nil, err
			}
		}
		switch {
		case math.IsInf(mv, 1):
			kl.layer = layers.ReLU(opts...)
		case mv == 6:
			kl.layer = layers.Activation("relu6", opts...)
		default:
			v, _ := json.Marshal(mv)
			return nil, nil, a.errorf("max_value", v, "not supported (want none or 6)")
		}
	case "Softmax":
		if err := a.want("axis", isJSON("-1", "[-1]"), "-1"); err != nil {
			return nil, nil, err
		}
		kl.layer = layers.Activation("softmax", opts...)
	case "BatchNormalization":
		if err := a.want("axis", isJSON("-1", "[-1]", "3", "[3]"), "-1 (the channels of channels_last images)"); err != nil {
			return nil, nil, err
		}
		eps, err := a.float("epsilon", 1e-3)
		if err != nil {
			return nil, nil, err
		}
		center, err := a.bool("center", true)
		if err != nil {
			return nil, nil, err
		}
		scale, err := a.bool("scale", true)
		if err != nil {
			return nil, nil, err
		}
		for _, k := range []string{"renorm", "synchronized"} {
			if err := a.want(k, isJSON("false"), "false"); err != nil {
				return nil, nil, err
			}
		}
		a.used["fused"], a.used["virtual_batch_size"], a.used["adjustment"] = true, true, true
		if err := a.want("virtual_batch_size", func(json.RawMessage) bool { return false }, "none"); err != nil {
			return nil, nil, err
		}
		kl.layer = layers.BatchNormalization(append(opts, layers.Epsilon(eps))...)
		kl.defaults = map[string]string{}
		if scale {
			kl.weights = append(kl.weights, "gamma")
		} else {
			kl.defaults["gamma"] = "ones"
		}
		if center {
			kl.weights = append(kl.weights, "beta")
		} else {
			kl.defaults["beta"] = "zeros"
		}
		kl.weights = append(kl.weights, "moving_mean", "moving_variance")
	default:
		return nil, nil, fmt.Errorf("layer %s: class %s is not supported", a.name, lc.ClassName)
	}
	if err := a.finish(); err != nil {
		return nil, nil, err
	}
	return kl, input, nil
}

func withBias(w []string, bias bool) []string {
	if bias {
		return append(w, "bias")
	}
	return w
}

// inputShape reads batch_input_shape / batch_shape (with the batch dimension) or input_shape
// (without), if any.
func inputShape(a *layerArgs) ([]int, error) {
	for _, k := range []string{"batch_input_shape", "batch_shape", "input_shape"} {
		v, ok := a.raw(k)
		if !ok {
			continue
		}
		var s []*int
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, a.errorf(k, v, "want a list of dimensions")
		}
		if k != "input_shape" {
			if len(s) == 0 {
				return nil, a.errorf(k, v, "no batch dimension")
			}
			s = s[1:]
		}
		out := make([]int, len(s))
		for i, d := range s {
			if d == nil || *d <= 0 {
				return nil, a.errorf(k, v, "every dimension but the batch's must be a positive number")
			}
			out[i] = *d
		}
		if len(out) == 0 {
			return nil, a.errorf(k, v, "empty sample shape")
		}
		return out, nil
	}
	return nil, nil
}

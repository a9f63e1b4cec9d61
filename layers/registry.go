package layers

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// FromConfig rebuilds a built-in layer from its class name and the JSON of its configuration,
// as written from [Layer.Config]. Unknown fields are errors, so a misspelt configuration is
// reported rather than silently defaulted.
func FromConfig(className string, config []byte) (Layer, error) {
	dec := func(v any) error {
		d := json.NewDecoder(bytes.NewReader(config))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			return fmt.Errorf("layers: config of %s: %w", className, err)
		}
		return nil
	}
	var l Layer
	switch className {
	case "InputLayer":
		var c InputConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		in := Input(c.Shape...)
		in.name = c.Name
		l = in
	case "Dense":
		var c DenseConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		l = newDense(c)
	case "Conv2D":
		var c Conv2DConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		l = newConv2D(c)
	case "DepthwiseConv2D":
		var c DepthwiseConv2DConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		l = newDepthwiseConv2D(c)
	case "MaxPooling2D", "AveragePooling2D":
		var c Pooling2DConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		l = newPooling(className, c)
	case "GlobalAveragePooling2D", "GlobalMaxPooling2D":
		var c GlobalPoolingConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		l = newGlobal(className, []Option{Name(c.Name)})
	case "ZeroPadding2D":
		var c ZeroPadding2DConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		l = newZeroPadding2D(c)
	case "Flatten":
		var c ReshapeConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		l = Flatten(Name(c.Name))
	case "Reshape":
		var c ReshapeConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		l = Reshape(c.TargetShape, Name(c.Name))
	case "Activation":
		var c ActivationConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		l = Activation(c.Activation, Name(c.Name))
	case "ReLU":
		var c ReLUConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		l = ReLU(Name(c.Name))
	case "LeakyReLU":
		var c LeakyReLUConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		ll := &LeakyReLULayer{cfg: c}
		ll.name, ll.err = c.Name, c.check()
		l = ll
	case "ELU":
		var c ELUConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		el := &ELULayer{cfg: c}
		el.name, el.err = c.Name, c.check()
		l = el
	case "PReLU":
		var c PReLUConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		pl := &PReLULayer{cfg: c}
		pl.name, pl.err = c.Name, pl.cfg.check()
		l = pl
	case "Normalization":
		var c NormalizationConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		nl := &NormalizationLayer{cfg: c}
		nl.name = c.Name
		if len(c.Mean) > 0 || len(c.Variance) > 0 {
			nl.err = c.check()
		}
		l = nl
	case "Rescaling":
		var c RescalingConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		rl := &RescalingLayer{cfg: c}
		rl.name, rl.err = c.Name, c.check()
		l = rl
	case "Dropout":
		var c DropoutConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		l = newDropout(c)
	case "BatchNormalization":
		var c BatchNormalizationConfig
		if err := dec(&c); err != nil {
			return nil, err
		}
		l = newBatchNormalization(c)
	default:
		return nil, fmt.Errorf("layers: unknown layer class %q", className)
	}
	if err := configErr(l); err != nil {
		return nil, fmt.Errorf("layers: config of %s: %w", className, err)
	}
	return l, nil
}

// configErr returns the configuration error of a built-in layer.
func configErr(l Layer) error {
	type errer interface{ configErr() error }
	if e, ok := l.(errer); ok {
		return e.configErr()
	}
	return nil
}

func (l *base) configErr() error { return l.err }

package convert

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
)

// Format names a model file format.
type Format string

// The formats Load reads.
const (
	Auto  Format = ""      // detect from the content and the extension
	TFJS  Format = "tfjs"  // TF.js layers model: model.json and its .bin shards
	Keras Format = "keras" // Keras 3 .keras archive
	H5    Format = "h5"    // legacy Keras (2) HDF5 model
	ONNX  Format = "onnx"  // ONNX ModelProto
	Gotfe Format = "gotfe" // gotfe's own format (keras.Save)
)

// Formats lists the formats Load reads.
var Formats = []Format{TFJS, Keras, H5, ONNX, Gotfe}

// ParseFormat returns the format of a name ("" or "auto": Auto).
func ParseFormat(name string) (Format, error) {
	switch f := Format(strings.ToLower(name)); f {
	case "", "auto":
		return Auto, nil
	case TFJS, Keras, H5, ONNX, Gotfe:
		return f, nil
	}
	return Auto, fmt.Errorf("convert: unknown format %q (want auto, tfjs, keras, h5, onnx or gotfe)", name)
}

const (
	hdf5Magic  = "\x89HDF\r\n\x1a\n"
	zipMagic   = "PK\x03\x04"
	gotfeMagic = "GOTFEMDL"
)

// Detect returns the format of a file from its first bytes and, for ONNX, whose files have no
// magic number, its extension (.onnx) or its first byte (the tag of ir_version).
func Detect(path string, head []byte) (Format, error) {
	switch {
	case bytes.HasPrefix(head, []byte(gotfeMagic)):
		return Gotfe, nil
	case bytes.HasPrefix(head, []byte(hdf5Magic)):
		return H5, nil
	case bytes.HasPrefix(head, []byte(zipMagic)):
		return Keras, nil
	case len(bytes.TrimLeft(head, " \t\r\n")) > 0 && bytes.TrimLeft(head, " \t\r\n")[0] == '{':
		return TFJS, nil
	case strings.EqualFold(filepath.Ext(path), ".onnx"), len(head) > 0 && head[0] == 0x08:
		return ONNX, nil
	}
	return Auto, fmt.Errorf("convert: %s: unknown model format (not TF.js model.json, .keras, .h5, ONNX nor gotfe)", path)
}

// Load reads a model file of any supported format into a Sequential model with its weights,
// on the plain engine. format Auto detects the format (see [Detect]).
//
//   - TF.js layers format: path is model.json; its weightsManifest's .bin shards are read from
//     beside it (float32, named "<layer>/<weight>").
//   - Keras 3 .keras (config.json and model.weights.h5 in a zip) and legacy Keras 2 .h5
//     (root attribute model_config, weights under model_weights by layer_names and
//     weight_names).
//   - ONNX (opsets 9 to 21): a chain of Gemm, MatMul (with the Add of its bias), Conv (depthwise
//     when group is the number of channels), MaxPool, AveragePool, GlobalAveragePool,
//     GlobalMaxPool, BatchNormalization, Relu, Sigmoid, Tanh, Softmax, Clip(0, 6), Flatten,
//     Reshape to a constant shape, Pad by zeros, Identity and Dropout (the identity), with
//     Constant and Cast folded. A padding other than TensorFlow's "same" becomes a
//     ZeroPadding2D layer before the window (for MaxPool, only over non-negative values, as
//     after a ReLU). Images are NCHW in ONNX and NHWC in gotfe: an imported model takes its
//     images as [H, W, C]; a Gemm after a Flatten has its weight rows permuted to match. A
//     graph that branches (a residual Add) is an error naming the node.
//   - gotfe's own format (keras.Load).
//
// The Keras classes read are Dense, Conv2D, DepthwiseConv2D, MaxPooling2D, AveragePooling2D,
// GlobalAveragePooling2D, GlobalMaxPooling2D, ZeroPadding2D, Flatten, Reshape, Dropout,
// Activation, ReLU, Softmax and BatchNormalization, with the arguments gotfe supports: an unsupported layer,
// argument or activation is an error naming the layer, the argument and its value.
func Load(path string, format Format) (*keras.Sequential, error) {
	m, err := load(path, format)
	if err != nil {
		return nil, fmt.Errorf("convert: %s: %w", path, err)
	}
	return m, nil
}

func load(path string, format Format) (*keras.Sequential, error) {
	if format == Gotfe {
		return keras.Load(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if format == Auto {
		if format, err = Detect(path, data[:min(len(data), 64)]); err != nil {
			return nil, errors.New("unknown model format (not TF.js model.json, .keras, .h5, ONNX nor gotfe)")
		}
	}
	switch format {
	case Gotfe:
		return keras.Load(path)
	case TFJS:
		dir := filepath.Dir(path)
		m, err := readTFJS(data, func(p string) ([]byte, error) {
			if !filepath.IsLocal(p) {
				return nil, fmt.Errorf("path %q is not beside model.json", p)
			}
			return os.ReadFile(filepath.Join(dir, p))
		})
		if err != nil {
			return nil, fmt.Errorf("tfjs: %w", err)
		}
		return m, nil
	case H5:
		m, err := readH5(path)
		if err != nil {
			return nil, fmt.Errorf("h5: %w", err)
		}
		return m, nil
	case Keras:
		m, err := readKerasZip(data)
		if err != nil {
			return nil, fmt.Errorf("keras: %w", err)
		}
		return m, nil
	case ONNX:
		m, err := readONNX(data, filepath.Dir(path))
		if err != nil {
			return nil, fmt.Errorf("onnx: %w", err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// snakeCase is Keras's snake case of a class name, e.g. "max_pooling2d".
func snakeCase(class string) string { return layers.SnakeCase(class) }

// SoftmaxHead reports whether the model ends with a softmax (over its last axis), that is
// whether it is a classifier whose outputs are probabilities.
func SoftmaxHead(m *keras.Sequential) bool {
	ls := m.Layers()
	if len(ls) == 0 {
		return false
	}
	switch c := ls[len(ls)-1].Config().(type) {
	case layers.DenseConfig:
		return c.Activation == "softmax"
	case layers.Conv2DConfig:
		return c.Activation == "softmax"
	case layers.DepthwiseConv2DConfig:
		return c.Activation == "softmax"
	case layers.ActivationConfig:
		return c.Activation == "softmax"
	}
	return false
}

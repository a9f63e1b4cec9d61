package convert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
)

// ONNX opsets of the default domain the importer reads.
const (
	minOpset = 9
	maxOpset = 21
)

// maxWeights bounds the number of elements of one tensor (1 << 28 float64 values: 2 GiB).
const maxWeights = 1 << 28

// ReadONNX converts an ONNX model (a serialised ModelProto) into a Sequential model. dir is
// the directory tensors stored as external data are read from ("" if there is none). See
// [Load] for what the importer accepts.
func ReadONNX(data []byte, dir string) (*keras.Sequential, error) {
	m, err := readONNX(data, dir)
	if err != nil {
		return nil, fmt.Errorf("convert: onnx: %w", err)
	}
	return m, nil
}

// layout says how the gotfe tensor of a step orders the elements of the ONNX tensor.
type layout int

const (
	sameOrder layout = iota // the same elements in the same row-major order
	nhwc                    // ONNX [C, H, W] is gotfe's [H, W, C]
	permuted                // flat; perm(i) is the gotfe index of ONNX element i
)

// onnxImport is the state of one conversion: the layers so far and the tensor they produce.
type onnxImport struct {
	dir    string
	opset  int64
	consts map[string]*onnxTensor // initializers and constant folds, by name
	layers []layers.Layer
	fills  []func() ([][]float64, error) // each layer's weights, in its Weights order

	cur    string // the tensor the last layer produces
	shape  []int  // its ONNX shape (no batch)
	gshape []int  // its gotfe shape (no batch)
	lay    layout
	perm   func(i int) int // with lay == permuted: the gotfe index of ONNX element i
	nonNeg bool            // its values are known to be non-negative (after a ReLU, ...)
}

func readONNX(data []byte, dir string) (*keras.Sequential, error) {
	pm, err := decodeONNX(data)
	if err != nil {
		return nil, err
	}
	opset, ok := pm.opsets[""]
	if !ok {
		return nil, errors.New("the model imports no opset of the default domain")
	}
	if opset < minOpset || opset > maxOpset {
		return nil, fmt.Errorf("opset %d is not supported (want %d to %d)", opset, minOpset, maxOpset)
	}
	g := pm.graph
	c := &onnxImport{dir: dir, opset: opset, consts: map[string]*onnxTensor{}}
	for _, t := range g.inits {
		c.consts[t.name] = t
	}
	var in *onnxValueInfo
	for _, v := range g.inputs {
		if _, isInit := c.consts[v.name]; isInit {
			continue
		}
		if in != nil {
			return nil, fmt.Errorf("the graph has more than one input (%q and %q)", in.name, v.name)
		}
		in = v
	}
	if in == nil {
		return nil, errors.New("the graph has no input")
	}
	inShape, err := c.input(in)
	if err != nil {
		return nil, err
	}
	skip := make([]bool, len(g.nodes))
	for i, n := range g.nodes {
		if skip[i] {
			continue
		}
		if err := c.node(g, i, skip); err != nil {
			return nil, fmt.Errorf("node %q (%s): %w", n.name, n.opType, err)
		}
	}
	if len(g.outputs) != 1 {
		return nil, fmt.Errorf("the graph has %d outputs, want 1", len(g.outputs))
	}
	if g.outputs[0].name != c.cur {
		return nil, fmt.Errorf("the graph's output %q is not the end of its chain of layers (%q)", g.outputs[0].name, c.cur)
	}
	if c.lay == permuted {
		return nil, errors.New("the graph's output is a flattened image that no Gemm or MatMul reads: gotfe's order of its elements differs from ONNX's")
	}
	if len(c.layers) == 0 {
		return nil, errors.New("the graph computes nothing")
	}
	m, err := keras.NewSequential(append([]layers.Layer{layers.Input(inShape...)}, c.layers...)...)
	if err != nil {
		return nil, err
	}
	var w [][]float64
	for _, f := range c.fills {
		lw, err := f()
		if err != nil {
			return nil, err
		}
		w = append(w, lw...)
	}
	if err := m.SetWeights(w); err != nil {
		return nil, err
	}
	return m, nil
}

// input sets the state from the graph's input and returns gotfe's input shape.
func (c *onnxImport) input(v *onnxValueInfo) ([]int, error) {
	if !v.hasShape || len(v.shape) < 2 {
		return nil, fmt.Errorf("input %q: want a known shape [batch, ...]", v.name)
	}
	if v.elemType != onnxFloat && v.elemType != onnxDouble {
		return nil, fmt.Errorf("input %q: element type %d, want float", v.name, v.elemType)
	}
	var s []int
	for i, d := range v.shape[1:] {
		if !d.known || d.value <= 0 || d.value > maxWeights {
			return nil, fmt.Errorf("input %q: dimension %d is %q, want a positive number", v.name, i+1, d.param)
		}
		s = append(s, int(d.value))
	}
	if _, err := checkedProduct(s); err != nil {
		return nil, fmt.Errorf("input %q: %w", v.name, err)
	}
	c.cur, c.shape = v.name, s
	switch len(s) {
	case 3: // NCHW images
		c.gshape, c.lay = []int{s[1], s[2], s[0]}, nhwc
	default:
		c.gshape, c.lay = slices.Clone(s), sameOrder
	}
	return slices.Clone(c.gshape), nil
}

// checkedProduct returns the product of positive dims, or an error past maxWeights.
func checkedProduct(dims []int) (int, error) {
	d := make([]int64, len(dims))
	for i, v := range dims {
		d[i] = int64(v)
	}
	return numElements(d, maxWeights)
}

// attrs helpers.
func attr(n *onnxNode, name string) *onnxAttr {
	for _, a := range n.attrs {
		if a.name == name {
			return a
		}
	}
	return nil
}

func attrInt(n *onnxNode, name string, def int64) int64 {
	if a := attr(n, name); a != nil {
		return a.i
	}
	return def
}

func attrFloat(n *onnxNode, name string, def float32) float32 {
	if a := attr(n, name); a != nil {
		return a.f
	}
	return def
}

func attrInts(n *onnxNode, name string) []int64 {
	if a := attr(n, name); a != nil {
		return a.ints
	}
	return nil
}

func attrString(n *onnxNode, name, def string) string {
	if a := attr(n, name); a != nil {
		return string(a.s)
	}
	return def
}

// isConst reports whether a tensor name is an initializer or a folded constant.
func (c *onnxImport) isConst(name string) bool {
	_, ok := c.consts[name]
	return ok
}

// constInput returns input k of n, which must be a constant.
func (c *onnxImport) constInput(n *onnxNode, k int, what string) (*onnxTensor, error) {
	if k >= len(n.inputs) || n.inputs[k] == "" {
		return nil, nil
	}
	t, ok := c.consts[n.inputs[k]]
	if !ok {
		return nil, fmt.Errorf("%s %q is computed by the graph, not a constant", what, n.inputs[k])
	}
	return t, nil
}

// add appends a layer with its weights and moves the state to the node's output.
func (c *onnxImport) add(n *onnxNode, l layers.Layer, fill func() ([][]float64, error)) error {
	if len(n.outputs) == 0 || n.outputs[0] == "" {
		return errors.New("no output")
	}
	if l != nil {
		out, err := l.OutputShape(c.gshape)
		if err != nil {
			return err
		}
		c.layers = append(c.layers, l)
		c.fills = append(c.fills, func() ([][]float64, error) {
			if fill == nil {
				return nil, nil
			}
			w, err := fill()
			if err != nil {
				return nil, fmt.Errorf("node %q (%s): %w", n.name, n.opType, err)
			}
			return w, nil
		})
		c.gshape = out
	}
	c.cur = n.outputs[0]
	return nil
}

// node converts node i of g.
func (c *onnxImport) node(g *onnxGraph, i int, skip []bool) error {
	n := g.nodes[i]
	if n.domain != "" && n.domain != "ai.onnx" {
		return fmt.Errorf("operator domain %q is not supported", n.domain)
	}
	if len(n.outputs) == 0 || n.outputs[0] == "" {
		return errors.New("no output")
	}
	for _, o := range n.outputs[1:] {
		if o != "" && c.usedLater(g, i, o) {
			return fmt.Errorf("its output %q is read by other nodes; only the first output is supported", o)
		}
	}
	// Nodes over constants only are folded.
	var data []string
	for _, in := range n.inputs {
		if in != "" && !c.isConst(in) {
			data = append(data, in)
		}
	}
	if len(data) == 0 {
		return c.fold(n)
	}
	if len(data) > 1 {
		return fmt.Errorf("%d inputs computed by the graph (%s): the graph branches and merges, which a Sequential model cannot express", len(data), strings.Join(data, ", "))
	}
	if n.inputs[0] != c.cur {
		if data[0] != c.cur {
			return fmt.Errorf("reads %q, not the output of the previous layer (%q): the graph branches, which a Sequential model cannot express", data[0], c.cur)
		}
		return fmt.Errorf("its data %q is not its first input", c.cur)
	}
	nonNeg := c.nonNeg
	if err := c.op(g, i, skip); err != nil {
		return err
	}
	switch n.opType {
	case "Relu", "Sigmoid", "Softmax", "Clip": // Clip is imported as ReLU or ReLU6 only
		c.nonNeg = true
	case "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Reshape", "Identity", "Dropout", "Pad":
		c.nonNeg = nonNeg
	default:
		c.nonNeg = false
	}
	return nil
}

// op converts node i of g, whose data input is the current tensor.
func (c *onnxImport) op(g *onnxGraph, i int, skip []bool) error {
	n := g.nodes[i]
	switch n.opType {
	case "Identity", "Dropout":
		return c.add(n, nil, nil)
	case "Relu", "Sigmoid", "Tanh":
		return c.add(n, layers.Activation(strings.ToLower(n.opType)), nil)
	case "Clip":
		return c.clip(n)
	case "Softmax":
		return c.softmax(n)
	case "Gemm":
		return c.gemm(n)
	case "MatMul":
		return c.matmul(g, i, skip)
	case "Conv":
		return c.conv(n)
	case "MaxPool", "AveragePool":
		return c.pool(n)
	case "GlobalAveragePool", "GlobalMaxPool":
		if c.lay != nhwc {
			return fmt.Errorf("input of shape %v is not an image [C, H, W]", c.shape)
		}
		l := layers.GlobalAveragePooling2D()
		if n.opType == "GlobalMaxPool" {
			l = layers.GlobalMaxPooling2D()
		}
		ch := c.shape[0]
		if err := c.add(n, l, nil); err != nil {
			return err
		}
		c.shape, c.lay = []int{ch, 1, 1}, sameOrder
		return nil
	case "BatchNormalization":
		return c.batchNorm(n)
	case "Flatten":
		if axis := attrInt(n, "axis", 1); axis != 1 {
			return fmt.Errorf("attribute axis=%d is not supported (want 1)", axis)
		}
		return c.flatten(n)
	case "Reshape":
		return c.reshape(n)
	case "Pad":
		return c.pad(n)
	case "Add":
		return errors.New("Add of a constant is supported only right after MatMul (as its bias)")
	}
	return fmt.Errorf("op %s is not supported", n.opType)
}

// usedLater reports whether a node after i reads name.
func (c *onnxImport) usedLater(g *onnxGraph, i int, name string) bool {
	for _, m := range g.nodes[i+1:] {
		if slices.Contains(m.inputs, name) {
			return true
		}
	}
	return slices.ContainsFunc(g.outputs, func(v *onnxValueInfo) bool { return v.name == name })
}

// fold evaluates a node whose inputs are all constants: Constant, Identity and Cast.
func (c *onnxImport) fold(n *onnxNode) error {
	switch n.opType {
	case "Constant":
		a := attr(n, "value")
		if a == nil || a.t == nil {
			if f := attr(n, "value_float"); f != nil {
				c.consts[n.outputs[0]] = &onnxTensor{dataType: onnxDouble, doubles: []float64{float64(f.f)}}
				return nil
			}
			if v := attr(n, "value_ints"); v != nil {
				c.consts[n.outputs[0]] = &onnxTensor{dataType: onnxInt64, dims: []int64{int64(len(v.ints))}, int64s: v.ints}
				return nil
			}
			if v := attr(n, "value_int"); v != nil {
				c.consts[n.outputs[0]] = &onnxTensor{dataType: onnxInt64, int64s: []int64{v.i}}
				return nil
			}
			return errors.New("a Constant without a tensor, float or integer value is not supported")
		}
		c.consts[n.outputs[0]] = a.t
		return nil
	case "Identity":
		if len(n.inputs) != 1 {
			return fmt.Errorf("%d inputs, want 1", len(n.inputs))
		}
		c.consts[n.outputs[0]] = c.consts[n.inputs[0]]
		return nil
	case "Cast":
		if len(n.inputs) != 1 {
			return fmt.Errorf("%d inputs, want 1", len(n.inputs))
		}
		t := c.consts[n.inputs[0]]
		v, err := t.values(c.dir, maxWeights)
		if err != nil {
			return err
		}
		to := attrInt(n, "to", onnxFloat)
		out := &onnxTensor{dims: t.dims}
		switch to {
		case onnxFloat, onnxDouble:
			out.dataType, out.doubles = onnxDouble, v
		case onnxInt32, onnxInt64:
			out.dataType = onnxInt64
			for _, x := range v {
				out.int64s = append(out.int64s, int64(x))
			}
		default:
			return fmt.Errorf("attribute to=%d is not supported", to)
		}
		c.consts[n.outputs[0]] = out
		return nil
	}
	return fmt.Errorf("op %s over constants only is not supported", n.opType)
}

// values decodes a tensor's elements (float, double, int32 or int64) as float64, reading
// external data from dir.
func (t *onnxTensor) values(dir string, limit int) ([]float64, error) {
	n, err := numElements(t.dims, limit)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.name, err)
	}
	size := map[int64]int{onnxFloat: 4, onnxDouble: 8, onnxInt32: 4, onnxInt64: 8}[t.dataType]
	if size == 0 {
		return nil, fmt.Errorf("tensor %q: data type %d is not supported (want float, double, int32 or int64)", t.name, t.dataType)
	}
	raw, hasRaw := t.raw, t.hasRaw
	if t.location == 1 || t.external != nil {
		if raw, err = t.readExternal(dir, n*size); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.name, err)
		}
		hasRaw = true
	}
	if hasRaw {
		if len(raw) != n*size {
			return nil, fmt.Errorf("tensor %q: %d bytes of data for %d elements of %d bytes", t.name, len(raw), n, size)
		}
		out := make([]float64, n)
		for i := range out {
			b := raw[i*size:]
			switch t.dataType {
			case onnxFloat:
				out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
			case onnxDouble:
				out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b))
			case onnxInt32:
				out[i] = float64(int32(binary.LittleEndian.Uint32(b)))
			case onnxInt64:
				out[i] = float64(int64(binary.LittleEndian.Uint64(b)))
			}
		}
		return out, nil
	}
	have := map[int64]int{onnxFloat: len(t.floats), onnxDouble: len(t.doubles), onnxInt32: len(t.int32s), onnxInt64: len(t.int64s)}[t.dataType]
	if have != n {
		return nil, fmt.Errorf("tensor %q: %d values for dimensions %v (%d elements)", t.name, have, t.dims, n)
	}
	out := make([]float64, n)
	for i := range out {
		switch t.dataType {
		case onnxFloat:
			out[i] = float64(t.floats[i])
		case onnxDouble:
			out[i] = t.doubles[i]
		case onnxInt32:
			out[i] = float64(int32(t.int32s[i]))
		case onnxInt64:
			out[i] = float64(t.int64s[i])
		}
	}
	return out, nil
}

// readExternal reads a tensor's bytes from the file its external_data names, relative to dir.
func (t *onnxTensor) readExternal(dir string, want int) ([]byte, error) {
	loc := t.external["location"]
	if dir == "" {
		return nil, errors.New("stored as external data, which is only read from files")
	}
	if loc == "" || filepath.IsAbs(loc) || !filepath.IsLocal(loc) {
		return nil, fmt.Errorf("external data location %q is not a file beside the model", loc)
	}
	var off, length int64
	var err error
	if s := t.external["offset"]; s != "" {
		if off, err = strconv.ParseInt(s, 10, 64); err != nil || off < 0 {
			return nil, fmt.Errorf("external data offset %q", s)
		}
	}
	length = int64(want)
	if s := t.external["length"]; s != "" {
		if length, err = strconv.ParseInt(s, 10, 64); err != nil || length != int64(want) {
			return nil, fmt.Errorf("external data length %q, want %d bytes", s, want)
		}
	}
	f, err := os.Open(filepath.Join(dir, loc))
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	if off > st.Size() || length > st.Size()-off {
		return nil, fmt.Errorf("external data: %d bytes at %d do not fit %s (%d bytes)", length, off, loc, st.Size())
	}
	b := make([]byte, length)
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("external data: %w", err)
	}
	return b, nil
}

// weight decodes a constant input and checks its dimensions.
func (c *onnxImport) weight(t *onnxTensor, what string, dims ...int) ([]float64, error) {
	if len(t.dims) != len(dims) {
		return nil, fmt.Errorf("%s %q has dimensions %v, want %v", what, t.name, t.dims, dims)
	}
	for i, d := range dims {
		if t.dims[i] != int64(d) {
			return nil, fmt.Errorf("%s %q has dimensions %v, want %v", what, t.name, t.dims, dims)
		}
	}
	return t.values(c.dir, maxWeights)
}

// vector decodes a constant input of n elements (any shape of n elements, e.g. [n] or [1, n]).
func (c *onnxImport) vector(t *onnxTensor, what string, n int) ([]float64, error) {
	v, err := t.values(c.dir, maxWeights)
	if err != nil {
		return nil, err
	}
	if len(v) == 1 && n > 1 { // a broadcast scalar
		s := v[0]
		v = make([]float64, n)
		for i := range v {
			v[i] = s
		}
	}
	if len(v) != n {
		return nil, fmt.Errorf("%s %q has %d elements (dimensions %v), want %d", what, t.name, len(v), t.dims, n)
	}
	return v, nil
}

// scalar decodes a constant of one element.
func (c *onnxImport) scalar(t *onnxTensor, what string) (float64, error) {
	v, err := t.values(c.dir, 1)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("%s %q has %d elements, want 1", what, t.name, len(v))
	}
	return v[0], nil
}

func (c *onnxImport) clip(n *onnxNode) error {
	lo, hi := math.Inf(-1), math.Inf(1)
	if c.opset < 11 {
		if a := attr(n, "min"); a != nil {
			lo = float64(a.f)
		}
		if a := attr(n, "max"); a != nil {
			hi = float64(a.f)
		}
	} else {
		for k, p := range []*float64{&lo, &hi} {
			t, err := c.constInput(n, k+1, []string{"min", "max"}[k])
			if err != nil {
				return err
			}
			if t != nil {
				if *p, err = c.scalar(t, []string{"min", "max"}[k]); err != nil {
					return err
				}
			}
		}
	}
	switch {
	case lo == 0 && hi == 6:
		return c.add(n, layers.Activation("relu6"), nil)
	case lo == 0 && math.IsInf(hi, 1):
		return c.add(n, layers.Activation("relu"), nil)
	}
	return fmt.Errorf("min=%v, max=%v is not supported (want 0 and 6, ReLU6, or 0 and none, ReLU)", lo, hi)
}

func (c *onnxImport) softmax(n *onnxNode) error {
	def := int64(-1)
	if c.opset < 13 {
		def = 1
	}
	axis := attrInt(n, "axis", def)
	if len(c.shape) != 1 || (axis != -1 && axis != 1) {
		return fmt.Errorf("attribute axis=%d over an input of shape [N %v] is not supported (want the features of [N, features])", axis, c.shape)
	}
	return c.add(n, layers.Activation("softmax"), nil)
}

// flatten makes the current tensor flat, as ONNX's Flatten with axis 1.
func (c *onnxImport) flatten(n *onnxNode) error {
	total, err := checkedProduct(c.shape)
	if err != nil {
		return err
	}
	var l layers.Layer
	if len(c.gshape) != 1 {
		l = layers.Flatten()
	}
	if c.lay == nhwc {
		ch, h, w := c.shape[0], c.shape[1], c.shape[2]
		if ch > 1 && h*w > 1 {
			// ONNX element (c, p) of the flattened [C, H·W] is gotfe's (p, c) of [H·W, C].
			c.perm = func(i int) int { return (i%(h*w))*ch + i/(h*w) }
		}
	}
	if err := c.add(n, l, nil); err != nil {
		return err
	}
	c.shape = []int{total}
	if c.perm != nil {
		c.lay = permuted
	} else if c.lay != permuted {
		c.lay = sameOrder
	}
	return nil
}

func (c *onnxImport) reshape(n *onnxNode) error {
	t, err := c.constInput(n, 1, "shape")
	if err != nil {
		return err
	}
	if t == nil {
		return errors.New("no shape input")
	}
	if len(t.dims) != 1 || t.dims[0] < 1 || t.dims[0] > maxDims {
		return fmt.Errorf("shape %q has dimensions %v, want a vector", t.name, t.dims)
	}
	sv, err := t.values(c.dir, maxDims)
	if err != nil {
		return err
	}
	allowZero := attrInt(n, "allowzero", 0) != 0
	total, err := checkedProduct(c.shape)
	if err != nil {
		return err
	}
	target := make([]int, len(sv))
	in := append([]int{-1}, c.shape...) // the batch dimension is unknown
	for i, v := range sv {
		target[i] = int(v)
		if v == 0 && !allowZero {
			if i >= len(in) {
				return fmt.Errorf("shape %v copies dimension %d, which the input lacks", sv, i)
			}
			target[i] = in[i]
		}
	}
	if target[0] != -1 {
		return fmt.Errorf("shape %v must keep the batch dimension first (0 or -1)", sv)
	}
	rest := target[1:]
	known, free := 1, -1
	for i, d := range rest {
		switch {
		case d == -1 && free < 0:
			free = i
		case d > 0:
			known *= d
		default:
			return fmt.Errorf("shape %v is not supported (a -1 besides the batch dimension, or a non-positive size)", sv)
		}
	}
	if free >= 0 {
		return fmt.Errorf("shape %v is not supported: only the batch dimension may be -1", sv)
	}
	if known != total {
		return fmt.Errorf("shape %v does not hold the %d elements of a sample of shape %v", sv, total, c.shape)
	}
	switch {
	case slices.Equal(rest, c.shape):
		return c.add(n, nil, nil)
	case len(rest) == 1:
		return c.flatten(n)
	case c.lay == sameOrder && len(rest) == 3 && rest[0] == 1:
		// Flat features to one-channel images: the same order in NCHW and NHWC.
		if err := c.add(n, layers.Reshape([]int{rest[1], rest[2], 1}), nil); err != nil {
			return err
		}
		c.shape, c.lay = rest, nhwc
		return nil
	case c.lay == sameOrder && len(rest) != 3:
		if err := c.add(n, layers.Reshape(rest), nil); err != nil {
			return err
		}
		c.shape = rest
		return nil
	}
	return fmt.Errorf("shape %v of an input of shape %v is not supported (it would reorder channels)", sv, c.shape)
}

// pad converts Pad by zeros: the identity, or a ZeroPadding2D of the height and width of an
// image.
func (c *onnxImport) pad(n *onnxNode) error {
	if mode := attrString(n, "mode", "constant"); mode != "constant" {
		return fmt.Errorf("attribute mode=%s is not supported (want constant)", mode)
	}
	var pads []int64
	value := float64(attrFloat(n, "value", 0))
	if c.opset < 11 {
		pads = attrInts(n, "pads")
	} else {
		t, err := c.constInput(n, 1, "pads")
		if err != nil {
			return err
		}
		if t != nil {
			v, err := t.values(c.dir, 2*maxDims)
			if err != nil {
				return err
			}
			for _, x := range v {
				pads = append(pads, int64(x))
			}
		}
		if t, err = c.constInput(n, 2, "constant_value"); err != nil {
			return err
		}
		if t != nil {
			if value, err = c.scalar(t, "constant_value"); err != nil {
				return err
			}
		}
		if len(n.inputs) > 3 && n.inputs[3] != "" {
			return errors.New("the axes input is not supported")
		}
	}
	if value != 0 {
		return fmt.Errorf("constant_value=%v is not supported (want 0)", value)
	}
	if !slices.ContainsFunc(pads, func(v int64) bool { return v != 0 }) {
		return c.add(n, nil, nil)
	}
	// An image [N, C, H, W]: pads [N, C, H, W begins, N, C, H, W ends], zero but on H and W.
	if c.lay != nhwc || len(pads) != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 ||
		slices.ContainsFunc(pads, func(v int64) bool { return v < 0 || v > maxPad }) {
		return fmt.Errorf("pads=%v of an input of shape [N %v] is not supported (only zeros around the height and width of images)", pads, c.shape)
	}
	if err := c.add(n, layers.ZeroPadding2D([2][2]int{{int(pads[2]), int(pads[6])}, {int(pads[3]), int(pads[7])}}), nil); err != nil {
		return err
	}
	c.shape = []int{c.gshape[2], c.gshape[0], c.gshape[1]}
	return nil
}

func (c *onnxImport) gemm(n *onnxNode) error {
	if a := attrInt(n, "transA", 0); a != 0 {
		return fmt.Errorf("attribute transA=%d is not supported", a)
	}
	if len(c.shape) != 1 {
		return fmt.Errorf("input of shape [N %v] is not a matrix [N, features]", c.shape)
	}
	transB := attrInt(n, "transB", 0) != 0
	alpha, beta := float64(attrFloat(n, "alpha", 1)), float64(attrFloat(n, "beta", 1))
	bt, err := c.constInput(n, 1, "B")
	if err != nil {
		return err
	}
	if bt == nil || len(bt.dims) != 2 {
		return errors.New("B is not a constant matrix")
	}
	in := c.shape[0]
	var out int
	if transB {
		out = int(bt.dims[0])
	} else {
		out = int(bt.dims[1])
	}
	if out <= 0 || out > maxWeights {
		return fmt.Errorf("B %q has dimensions %v", bt.name, bt.dims)
	}
	ct, err := c.constInput(n, 2, "C")
	if err != nil {
		return err
	}
	perm := c.perm
	fill := func() ([][]float64, error) {
		dims := []int{in, out}
		if transB {
			dims = []int{out, in}
		}
		b, err := c.weight(bt, "B", dims...)
		if err != nil {
			return nil, err
		}
		k := make([]float64, in*out)
		for i := 0; i < in; i++ {
			row := i
			if perm != nil {
				row = perm(i)
			}
			for o := 0; o < out; o++ {
				v := b[i*out+o]
				if transB {
					v = b[o*in+i]
				}
				k[row*out+o] = alpha * v
			}
		}
		w := [][]float64{k}
		if ct != nil {
			bias, err := c.vector(ct, "C", out)
			if err != nil {
				return nil, err
			}
			for o := range bias {
				bias[o] *= beta
			}
			w = append(w, bias)
		}
		return w, nil
	}
	if err := c.add(n, layers.Dense(out, layers.UseBias(ct != nil)), fill); err != nil {
		return err
	}
	c.shape, c.lay, c.perm = []int{out}, sameOrder, nil
	return nil
}

// matmul converts MatMul by a constant, with the Add of a constant bias that follows it.
func (c *onnxImport) matmul(g *onnxGraph, i int, skip []bool) error {
	n := g.nodes[i]
	if len(c.shape) != 1 && c.lay != sameOrder {
		return fmt.Errorf("input of shape [N %v] is not supported", c.shape)
	}
	bt, err := c.constInput(n, 1, "B")
	if err != nil {
		return err
	}
	if bt == nil || len(bt.dims) != 2 {
		return errors.New("B is not a constant matrix")
	}
	in, out := c.shape[len(c.shape)-1], int(bt.dims[1])
	if out <= 0 || out > maxWeights {
		return fmt.Errorf("B %q has dimensions %v", bt.name, bt.dims)
	}
	// The bias: the next node reading the product, if it is an Add of a constant.
	var bias *onnxTensor
	for j := i + 1; j < len(g.nodes); j++ {
		m := g.nodes[j]
		if !slices.Contains(m.inputs, n.outputs[0]) {
			continue
		}
		if m.opType == "Add" && len(m.inputs) == 2 && len(m.outputs) > 0 && m.outputs[0] != "" && !c.usedLater(g, j, n.outputs[0]) {
			other := m.inputs[0]
			if other == n.outputs[0] {
				other = m.inputs[1]
			}
			if t, ok := c.consts[other]; ok {
				bias = t
				skip[j] = true
				n = &onnxNode{name: n.name, opType: n.opType, inputs: n.inputs, outputs: m.outputs}
			}
		}
		break
	}
	perm := c.perm
	fill := func() ([][]float64, error) {
		k, err := c.weight(bt, "B", in, out)
		if err != nil {
			return nil, err
		}
		if perm != nil {
			p := make([]float64, len(k))
			for r := 0; r < in; r++ {
				copy(p[perm(r)*out:(perm(r)+1)*out], k[r*out:(r+1)*out])
			}
			k = p
		}
		w := [][]float64{k}
		if bias != nil {
			b, err := c.vector(bias, "bias (Add)", out)
			if err != nil {
				return nil, err
			}
			w = append(w, b)
		}
		return w, nil
	}
	if err := c.add(n, layers.Dense(out, layers.UseBias(bias != nil)), fill); err != nil {
		return err
	}
	c.shape[len(c.shape)-1] = out
	if len(c.shape) == 1 {
		c.lay, c.perm = sameOrder, nil
	}
	return nil
}

// window reads the kernel, strides and padding of a Conv or pooling node over the current
// image and returns them with gotfe's padding: "valid", "same", or "explicit" with the pads
// [top, bottom, left, right] a ZeroPadding2D layer must add before a "valid" window.
//
// With zerosCount (an average counting the padding) any padding is explicit.
func (c *onnxImport) window(n *onnxNode, kernel []int, zerosCount bool) (strides [2]int, padding string, explicit [4]int, err error) {
	if d := attrInts(n, "dilations"); d != nil && slices.ContainsFunc(d, func(v int64) bool { return v != 1 }) {
		return strides, "", explicit, fmt.Errorf("attribute dilations=%v is not supported (want 1)", d)
	}
	strides = [2]int{1, 1}
	if s := attrInts(n, "strides"); s != nil {
		if len(s) != 2 || s[0] <= 0 || s[1] <= 0 || s[0] > maxWeights || s[1] > maxWeights {
			return strides, "", explicit, fmt.Errorf("attribute strides=%v is not supported", s)
		}
		strides = [2]int{int(s[0]), int(s[1])}
	}
	h, w := c.shape[1], c.shape[2]
	same := func(in, k, s int) (int, int) {
		out := (in + s - 1) / s
		total := max((out-1)*s+k-in, 0)
		return total / 2, total - total/2
	}
	switch ap := attrString(n, "auto_pad", "NOTSET"); ap {
	case "VALID":
		return strides, "valid", explicit, nil
	case "SAME_UPPER":
		t, b := same(h, kernel[0], strides[0])
		l, r := same(w, kernel[1], strides[1])
		if zerosCount && t+b+l+r > 0 {
			return strides, "explicit", [4]int{t, b, l, r}, nil
		}
		return strides, "same", explicit, nil
	case "SAME_LOWER": // the extra row and column go first
		t, b := same(h, kernel[0], strides[0])
		l, r := same(w, kernel[1], strides[1])
		if t == b && l == r && !(zerosCount && t+l > 0) {
			return strides, "same", explicit, nil
		}
		return strides, "explicit", [4]int{b, t, r, l}, nil
	case "NOTSET", "":
	default:
		return strides, "", explicit, fmt.Errorf("attribute auto_pad=%s is not supported", ap)
	}
	pads := attrInts(n, "pads")
	if pads == nil || !slices.ContainsFunc(pads, func(v int64) bool { return v != 0 }) {
		return strides, "valid", explicit, nil
	}
	if len(pads) != 4 || slices.ContainsFunc(pads, func(v int64) bool { return v < 0 || v > maxPad }) {
		return strides, "", explicit, fmt.Errorf("attribute pads=%v is not supported", pads)
	}
	t, b := same(h, kernel[0], strides[0])
	l, r := same(w, kernel[1], strides[1])
	if slices.Equal(pads, []int64{int64(t), int64(l), int64(b), int64(r)}) && !zerosCount {
		return strides, "same", explicit, nil
	}
	// ONNX orders pads [top, left, bottom, right].
	return strides, "explicit", [4]int{int(pads[0]), int(pads[2]), int(pads[1]), int(pads[3])}, nil
}

// maxPad bounds one side of an explicit padding.
const maxPad = 1 << 16

// padFirst adds the ZeroPadding2D layer an explicit padding needs.
func (c *onnxImport) padFirst(n *onnxNode, p [4]int) error {
	l := layers.ZeroPadding2D([2][2]int{{p[0], p[1]}, {p[2], p[3]}})
	out := c.cur
	if err := c.add(n, l, nil); err != nil {
		return err
	}
	c.cur = out // the node itself follows
	c.shape = []int{c.gshape[2], c.gshape[0], c.gshape[1]}
	return nil
}

func (c *onnxImport) conv(n *onnxNode) error {
	if c.lay != nhwc {
		return fmt.Errorf("input of shape %v is not an image [C, H, W]", c.shape)
	}
	wt, err := c.constInput(n, 1, "W")
	if err != nil {
		return err
	}
	if wt == nil || len(wt.dims) != 4 {
		return errors.New("W is not a constant of 4 dimensions")
	}
	ch := c.shape[0]
	for _, d := range wt.dims {
		if d <= 0 || d > maxWeights {
			return fmt.Errorf("W %q has dimensions %v", wt.name, wt.dims)
		}
	}
	m, cg, kh, kw := int(wt.dims[0]), int(wt.dims[1]), int(wt.dims[2]), int(wt.dims[3])
	if ks := attrInts(n, "kernel_shape"); ks != nil && !slices.Equal(ks, wt.dims[2:]) {
		return fmt.Errorf("attribute kernel_shape=%v disagrees with W's dimensions %v", ks, wt.dims)
	}
	strides, padding, explicit, err := c.window(n, []int{kh, kw}, false)
	if err != nil {
		return err
	}
	if padding == "explicit" {
		if err := c.padFirst(n, explicit); err != nil {
			return err
		}
		padding = "valid"
	}
	bt, err := c.constInput(n, 2, "B")
	if err != nil {
		return err
	}
	group := attrInt(n, "group", 1)
	opts := []layers.Option{layers.Strides(strides[0], strides[1]), layers.Padding(padding), layers.UseBias(bt != nil)}
	var l layers.Layer
	var fill func() ([][]float64, error)
	switch {
	case group == 1:
		if cg != ch {
			return fmt.Errorf("W %q has dimensions %v for an input of %d channels", wt.name, wt.dims, ch)
		}
		l = layers.Conv2D(m, [2]int{kh, kw}, opts...)
		fill = func() ([][]float64, error) {
			w, err := c.weight(wt, "W", m, ch, kh, kw)
			if err != nil {
				return nil, err
			}
			k := make([]float64, len(w))
			for o := 0; o < m; o++ {
				for ci := 0; ci < ch; ci++ {
					for y := 0; y < kh; y++ {
						for x := 0; x < kw; x++ {
							k[((y*kw+x)*ch+ci)*m+o] = w[((o*ch+ci)*kh+y)*kw+x]
						}
					}
				}
			}
			return c.withBias(k, bt, m)
		}
	case group == int64(ch) && cg == 1 && m%ch == 0:
		mult := m / ch
		l = layers.DepthwiseConv2D([2]int{kh, kw}, append(opts, layers.DepthMultiplier(mult))...)
		fill = func() ([][]float64, error) {
			w, err := c.weight(wt, "W", m, 1, kh, kw)
			if err != nil {
				return nil, err
			}
			k := make([]float64, len(w))
			for ci := 0; ci < ch; ci++ {
				for j := 0; j < mult; j++ {
					for y := 0; y < kh; y++ {
						for x := 0; x < kw; x++ {
							k[((y*kw+x)*ch+ci)*mult+j] = w[(ci*mult+j)*kh*kw+y*kw+x]
						}
					}
				}
			}
			return c.withBias(k, bt, m)
		}
	default:
		return fmt.Errorf("attribute group=%d is not supported (want 1, or the %d input channels for a depthwise convolution)", group, ch)
	}
	if err := c.add(n, l, fill); err != nil {
		return err
	}
	c.shape = []int{c.gshape[2], c.gshape[0], c.gshape[1]}
	return nil
}

func (c *onnxImport) withBias(k []float64, bt *onnxTensor, m int) ([][]float64, error) {
	if bt == nil {
		return [][]float64{k}, nil
	}
	b, err := c.vector(bt, "B", m)
	if err != nil {
		return nil, err
	}
	return [][]float64{k, b}, nil
}

func (c *onnxImport) pool(n *onnxNode) error {
	if c.lay != nhwc {
		return fmt.Errorf("input of shape %v is not an image [C, H, W]", c.shape)
	}
	ks := attrInts(n, "kernel_shape")
	if len(ks) != 2 || ks[0] <= 0 || ks[1] <= 0 || ks[0] > maxWeights || ks[1] > maxWeights {
		return fmt.Errorf("attribute kernel_shape=%v is not supported", ks)
	}
	if cm := attrInt(n, "ceil_mode", 0); cm != 0 {
		return fmt.Errorf("attribute ceil_mode=%d is not supported", cm)
	}
	if so := attrInt(n, "storage_order", 0); so != 0 {
		return fmt.Errorf("attribute storage_order=%d is not supported", so)
	}
	cip := attrInt(n, "count_include_pad", 0)
	strides, padding, explicit, err := c.window(n, []int{int(ks[0]), int(ks[1])}, n.opType == "AveragePool" && cip != 0)
	if err != nil {
		return err
	}
	if padding == "explicit" {
		// Zeros stand for ONNX's padding when they cannot change the result: a maximum over
		// non-negative values (each window holds at least one of them), or an average that
		// counts the padding.
		switch {
		case n.opType == "MaxPool" && !c.nonNeg:
			return fmt.Errorf("attribute pads=%v over values that may be negative is not supported (gotfe pads with zeros)", attrInts(n, "pads"))
		case n.opType == "AveragePool" && cip == 0:
			return fmt.Errorf("attribute pads=%v with count_include_pad=0 is not supported", attrInts(n, "pads"))
		}
		if err := c.padFirst(n, explicit); err != nil {
			return err
		}
		padding = "valid"
	}
	opts := []layers.Option{layers.PoolSize(int(ks[0]), int(ks[1])), layers.Strides(strides[0], strides[1]), layers.Padding(padding)}
	var l layers.Layer
	if n.opType == "MaxPool" {
		l = layers.MaxPooling2D(opts...)
	} else {
		l = layers.AveragePooling2D(opts...)
	}
	if err := c.add(n, l, nil); err != nil {
		return err
	}
	c.shape = []int{c.gshape[2], c.gshape[0], c.gshape[1]}
	return nil
}

func (c *onnxImport) batchNorm(n *onnxNode) error {
	if tm := attrInt(n, "training_mode", 0); tm != 0 {
		return fmt.Errorf("attribute training_mode=%d is not supported", tm)
	}
	var ch int
	switch {
	case c.lay == nhwc:
		ch = c.shape[0]
	case len(c.shape) == 1 && c.lay == sameOrder:
		ch = c.shape[0]
	default:
		return fmt.Errorf("input of shape %v is not supported (want an image [C, H, W] or features)", c.shape)
	}
	eps := float64(attrFloat(n, "epsilon", 1e-5))
	var ts [4]*onnxTensor
	for k, what := range []string{"scale", "B", "mean", "var"} {
		t, err := c.constInput(n, k+1, what)
		if err != nil {
			return err
		}
		if t == nil {
			return fmt.Errorf("no %s input", what)
		}
		ts[k] = t
	}
	fill := func() ([][]float64, error) {
		var w [][]float64
		for k, what := range []string{"scale", "B", "mean", "var"} {
			v, err := c.weight(ts[k], what, ch)
			if err != nil {
				return nil, err
			}
			w = append(w, v)
		}
		return w, nil
	}
	if !(eps > 0) {
		return fmt.Errorf("attribute epsilon=%v is not supported (want > 0)", eps)
	}
	return c.add(n, layers.BatchNormalization(layers.Epsilon(eps)), fill)
}

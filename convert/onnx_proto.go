package convert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The ONNX messages the importer reads, decoded with protowire by the field numbers of
// onnx.proto3 (IR version 3 and later). Fields it does not need are skipped; every length
// comes from protowire, which checks it against the bytes that remain, and packed arrays are
// sized from their byte length, so no allocation exceeds the input's size.

// ONNX TensorProto.DataType values the importer reads.
const (
	onnxFloat  = 1
	onnxInt32  = 6
	onnxInt64  = 7
	onnxDouble = 11
)

// maxDims bounds the rank of a tensor or a value's shape.
const maxDims = 16

type onnxModel struct {
	irVersion int64
	producer  string
	opsets    map[string]int64 // domain ("" for the default) -> version
	graph     *onnxGraph
}

type onnxGraph struct {
	name    string
	nodes   []*onnxNode
	inits   []*onnxTensor
	inputs  []*onnxValueInfo
	outputs []*onnxValueInfo
}

type onnxNode struct {
	inputs, outputs []string
	name, opType    string
	domain          string
	attrs           []*onnxAttr
}

type onnxAttr struct {
	name    string
	typ     int64
	f       float32
	i       int64
	s       []byte
	t       *onnxTensor
	floats  []float32
	ints    []int64
	strings int // count of strings (their values are not needed)
}

type onnxTensor struct {
	name     string
	dims     []int64
	dataType int64
	raw      []byte
	hasRaw   bool
	floats   []float32
	int32s   []int64 // int32_data holds int32 and smaller types as varints
	int64s   []int64
	doubles  []float64
	external map[string]string
	location int64 // 1: EXTERNAL
}

type onnxDim struct {
	value int64
	param string
	known bool
}

type onnxValueInfo struct {
	name     string
	elemType int64
	shape    []onnxDim
	hasShape bool
}

// field is one decoded field of a message: its number and wire type, and its value (v for
// varint and fixed types, b for length-delimited ones).
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	b   []byte
}

// eachField calls fn for every field of the message b.
func eachField(b []byte, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad field tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			return fmt.Errorf("field %d: unsupported wire type %d", num, typ)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func wantType(f field, typ protowire.Type, what string) error {
	if f.typ != typ {
		return fmt.Errorf("%s (field %d) has wire type %d, want %d", what, f.num, f.typ, typ)
	}
	return nil
}

// varints appends the values of a repeated integer field, packed or not.
func varints(dst []int64, f field, what string) ([]int64, error) {
	switch f.typ {
	case protowire.VarintType:
		return append(dst, int64(f.v)), nil
	case protowire.BytesType:
		b := f.b
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, fmt.Errorf("%s: %w", what, protowire.ParseError(n))
			}
			dst = append(dst, int64(v))
			b = b[n:]
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%s (field %d) has wire type %d", what, f.num, f.typ)
}

// float32s appends the values of a repeated float field, packed or not.
func float32s(dst []float32, f field, what string) ([]float32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, math.Float32frombits(uint32(f.v))), nil
	case protowire.BytesType:
		if len(f.b)%4 != 0 {
			return nil, fmt.Errorf("%s: packed floats of %d bytes", what, len(f.b))
		}
		for i := 0; i < len(f.b); i += 4 {
			dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(f.b[i:])))
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%s (field %d) has wire type %d", what, f.num, f.typ)
}

// float64s appends the values of a repeated double field, packed or not.
func float64s(dst []float64, f field, what string) ([]float64, error) {
	switch f.typ {
	case protowire.Fixed64Type:
		return append(dst, math.Float64frombits(f.v)), nil
	case protowire.BytesType:
		if len(f.b)%8 != 0 {
			return nil, fmt.Errorf("%s: packed doubles of %d bytes", what, len(f.b))
		}
		for i := 0; i < len(f.b); i += 8 {
			dst = append(dst, math.Float64frombits(binary.LittleEndian.Uint64(f.b[i:])))
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%s (field %d) has wire type %d", what, f.num, f.typ)
}

// decodeONNX decodes a ModelProto.
func decodeONNX(b []byte) (*onnxModel, error) {
	m := &onnxModel{opsets: map[string]int64{}}
	err := eachField(b, func(f field) error {
		switch f.num {
		case 1: // ir_version
			if err := wantType(f, protowire.VarintType, "ir_version"); err != nil {
				return err
			}
			m.irVersion = int64(f.v)
		case 2: // producer_name
			if err := wantType(f, protowire.BytesType, "producer_name"); err != nil {
				return err
			}
			m.producer = string(f.b)
		case 7: // graph
			if err := wantType(f, protowire.BytesType, "graph"); err != nil {
				return err
			}
			if m.graph != nil {
				return errors.New("more than one graph")
			}
			g, err := decodeGraph(f.b)
			if err != nil {
				return fmt.Errorf("graph: %w", err)
			}
			m.graph = g
		case 8: // opset_import
			if err := wantType(f, protowire.BytesType, "opset_import"); err != nil {
				return err
			}
			var domain string
			var version int64
			if err := eachField(f.b, func(g field) error {
				switch g.num {
				case 1:
					if err := wantType(g, protowire.BytesType, "opset_import.domain"); err != nil {
						return err
					}
					domain = string(g.b)
				case 2:
					if err := wantType(g, protowire.VarintType, "opset_import.version"); err != nil {
						return err
					}
					version = int64(g.v)
				}
				return nil
			}); err != nil {
				return fmt.Errorf("opset_import: %w", err)
			}
			if domain == "ai.onnx" {
				domain = ""
			}
			m.opsets[domain] = version
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ModelProto: %w", err)
	}
	if m.graph == nil {
		return nil, errors.New("the model has no graph (not an ONNX ModelProto?)")
	}
	return m, nil
}

func decodeGraph(b []byte) (*onnxGraph, error) {
	g := &onnxGraph{}
	return g, eachField(b, func(f field) error {
		switch f.num {
		case 1: // node
			if err := wantType(f, protowire.BytesType, "node"); err != nil {
				return err
			}
			n, err := decodeNode(f.b)
			if err != nil {
				return fmt.Errorf("node %d: %w", len(g.nodes), err)
			}
			g.nodes = append(g.nodes, n)
		case 2: // name
			if err := wantType(f, protowire.BytesType, "name"); err != nil {
				return err
			}
			g.name = string(f.b)
		case 5: // initializer
			if err := wantType(f, protowire.BytesType, "initializer"); err != nil {
				return err
			}
			t, err := decodeTensor(f.b)
			if err != nil {
				return fmt.Errorf("initializer %d: %w", len(g.inits), err)
			}
			g.inits = append(g.inits, t)
		case 11, 12: // input, output
			if err := wantType(f, protowire.BytesType, "input/output"); err != nil {
				return err
			}
			v, err := decodeValueInfo(f.b)
			if err != nil {
				return fmt.Errorf("value info: %w", err)
			}
			if f.num == 11 {
				g.inputs = append(g.inputs, v)
			} else {
				g.outputs = append(g.outputs, v)
			}
		case 15: // sparse_initializer
			return errors.New("sparse initializers are not supported")
		}
		return nil
	})
}

func decodeNode(b []byte) (*onnxNode, error) {
	n := &onnxNode{}
	return n, eachField(b, func(f field) error {
		if f.num >= 1 && f.num <= 7 && f.num != 5 && f.typ != protowire.BytesType {
			return fmt.Errorf("field %d has wire type %d", f.num, f.typ)
		}
		switch f.num {
		case 1:
			n.inputs = append(n.inputs, string(f.b))
		case 2:
			n.outputs = append(n.outputs, string(f.b))
		case 3:
			n.name = string(f.b)
		case 4:
			n.opType = string(f.b)
		case 7:
			n.domain = string(f.b)
		case 5:
			if err := wantType(f, protowire.BytesType, "attribute"); err != nil {
				return err
			}
			a, err := decodeAttr(f.b)
			if err != nil {
				return fmt.Errorf("attribute %d: %w", len(n.attrs), err)
			}
			n.attrs = append(n.attrs, a)
		}
		return nil
	})
}

func decodeAttr(b []byte) (*onnxAttr, error) {
	a := &onnxAttr{}
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			err = wantType(f, protowire.BytesType, "name")
			a.name = string(f.b)
		case 20:
			err = wantType(f, protowire.VarintType, "type")
			a.typ = int64(f.v)
		case 2:
			err = wantType(f, protowire.Fixed32Type, "f")
			a.f = math.Float32frombits(uint32(f.v))
		case 3:
			err = wantType(f, protowire.VarintType, "i")
			a.i = int64(f.v)
		case 4:
			err = wantType(f, protowire.BytesType, "s")
			a.s = f.b
		case 5:
			if err = wantType(f, protowire.BytesType, "t"); err == nil {
				a.t, err = decodeTensor(f.b)
			}
		case 7:
			a.floats, err = float32s(a.floats, f, "floats")
		case 8:
			a.ints, err = varints(a.ints, f, "ints")
		case 9:
			a.strings++
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%q: %w", a.name, err)
	}
	return a, nil
}

func decodeTensor(b []byte) (*onnxTensor, error) {
	t := &onnxTensor{}
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			t.dims, err = varints(t.dims, f, "dims")
			if len(t.dims) > maxDims {
				err = fmt.Errorf("more than %d dimensions", maxDims)
			}
		case 2:
			err = wantType(f, protowire.VarintType, "data_type")
			t.dataType = int64(f.v)
		case 4:
			t.floats, err = float32s(t.floats, f, "float_data")
		case 5:
			t.int32s, err = varints(t.int32s, f, "int32_data")
		case 7:
			t.int64s, err = varints(t.int64s, f, "int64_data")
		case 8:
			err = wantType(f, protowire.BytesType, "name")
			t.name = string(f.b)
		case 9:
			err = wantType(f, protowire.BytesType, "raw_data")
			t.raw, t.hasRaw = f.b, true
		case 10:
			t.doubles, err = float64s(t.doubles, f, "double_data")
		case 13:
			if err = wantType(f, protowire.BytesType, "external_data"); err != nil {
				return err
			}
			var k, v string
			if err = eachField(f.b, func(g field) error {
				if g.typ != protowire.BytesType {
					return fmt.Errorf("external_data field %d has wire type %d", g.num, g.typ)
				}
				switch g.num {
				case 1:
					k = string(g.b)
				case 2:
					v = string(g.b)
				}
				return nil
			}); err != nil {
				return err
			}
			if t.external == nil {
				t.external = map[string]string{}
			}
			t.external[k] = v
		case 14:
			err = wantType(f, protowire.VarintType, "data_location")
			t.location = int64(f.v)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.name, err)
	}
	return t, nil
}

func decodeValueInfo(b []byte) (*onnxValueInfo, error) {
	v := &onnxValueInfo{}
	err := eachField(b, func(f field) error {
		switch f.num {
		case 1:
			if err := wantType(f, protowire.BytesType, "name"); err != nil {
				return err
			}
			v.name = string(f.b)
		case 2: // type: TypeProto
			if err := wantType(f, protowire.BytesType, "type"); err != nil {
				return err
			}
			return eachField(f.b, func(g field) error {
				if g.num != 1 { // tensor_type; other kinds are left unset
					return nil
				}
				if err := wantType(g, protowire.BytesType, "tensor_type"); err != nil {
					return err
				}
				return eachField(g.b, func(h field) error {
					switch h.num {
					case 1:
						if err := wantType(h, protowire.VarintType, "elem_type"); err != nil {
							return err
						}
						v.elemType = int64(h.v)
					case 2: // shape: TensorShapeProto
						if err := wantType(h, protowire.BytesType, "shape"); err != nil {
							return err
						}
						v.hasShape = true
						return eachField(h.b, func(d field) error {
							if d.num != 1 {
								return nil
							}
							if err := wantType(d, protowire.BytesType, "dim"); err != nil {
								return err
							}
							if len(v.shape) >= maxDims {
								return fmt.Errorf("more than %d dimensions", maxDims)
							}
							var dim onnxDim
							if err := eachField(d.b, func(e field) error {
								switch e.num {
								case 1:
									if err := wantType(e, protowire.VarintType, "dim_value"); err != nil {
										return err
									}
									dim.value, dim.known = int64(e.v), true
								case 2:
									if err := wantType(e, protowire.BytesType, "dim_param"); err != nil {
										return err
									}
									dim.param = string(e.b)
								}
								return nil
							}); err != nil {
								return err
							}
							v.shape = append(v.shape, dim)
							return nil
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%q: %w", v.name, err)
	}
	return v, nil
}

// numElements returns the number of elements of a tensor with the given dims, or an error if
// a dimension is negative or the count exceeds limit.
func numElements(dims []int64, limit int) (int, error) {
	n := 1
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in %v", dims)
		}
		if d != 0 && n > limit/int(min(d, int64(limit)+1)) {
			return 0, fmt.Errorf("dimensions %v exceed %d elements", dims, limit)
		}
		n *= int(d)
	}
	if n > limit {
		return 0, fmt.Errorf("dimensions %v exceed %d elements", dims, limit)
	}
	return n, nil
}

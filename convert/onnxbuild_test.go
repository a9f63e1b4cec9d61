package convert_test

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// A small writer of ONNX models for tests, by the field numbers of onnx.proto3.

type tAttr struct {
	name string
	i    *int64
	f    *float32
	ints []int64
}

func iAttr(name string, v int64) tAttr     { return tAttr{name: name, i: &v} }
func fAttr(name string, v float32) tAttr   { return tAttr{name: name, f: &v} }
func isAttr(name string, v ...int64) tAttr { return tAttr{name: name, ints: v} }

type tNode struct {
	op, name string
	in, out  []string
	attrs    []tAttr
}

type tTensor struct {
	name string
	dims []int64
	vals []float32
	raw  []byte // overrides vals
}

type tModel struct {
	opset   int64
	input   []int64 // sample shape (the batch dimension is added)
	nodes   []tNode
	inits   []tTensor
	output  string
	noInput bool
}

func msg(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

func str(b []byte, num protowire.Number, s string) []byte { return msg(b, num, []byte(s)) }

func vint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func packed(b []byte, num protowire.Number, v []int64) []byte {
	var p []byte
	for _, x := range v {
		p = protowire.AppendVarint(p, uint64(x))
	}
	return msg(b, num, p)
}

func (t tTensor) bytes() []byte {
	var b []byte
	b = packed(b, 1, t.dims)
	b = vint(b, 2, 1) // FLOAT
	b = str(b, 8, t.name)
	raw := t.raw
	if raw == nil {
		for _, v := range t.vals {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	}
	return msg(b, 9, raw)
}

func (m tModel) bytes() []byte {
	var g []byte
	for _, n := range m.nodes {
		var nb []byte
		for _, in := range n.in {
			nb = str(nb, 1, in)
		}
		for _, out := range n.out {
			nb = str(nb, 2, out)
		}
		nb = str(nb, 3, n.name)
		nb = str(nb, 4, n.op)
		for _, a := range n.attrs {
			ab := str(nil, 1, a.name)
			switch {
			case a.i != nil:
				ab = vint(ab, 20, 2)
				ab = vint(ab, 3, uint64(*a.i))
			case a.f != nil:
				ab = vint(ab, 20, 1)
				ab = protowire.AppendTag(ab, 2, protowire.Fixed32Type)
				ab = protowire.AppendFixed32(ab, math.Float32bits(*a.f))
			default:
				ab = vint(ab, 20, 7)
				ab = packed(ab, 8, a.ints)
			}
			nb = msg(nb, 5, ab)
		}
		g = msg(g, 1, nb)
	}
	g = str(g, 2, "test")
	for _, t := range m.inits {
		g = msg(g, 5, t.bytes())
	}
	if !m.noInput {
		var shape []byte
		shape = msg(shape, 1, str(nil, 2, "N"))
		for _, d := range m.input {
			shape = msg(shape, 1, vint(nil, 1, uint64(d)))
		}
		tt := vint(nil, 1, 1)
		tt = msg(tt, 2, shape)
		vi := str(nil, 1, "x")
		vi = msg(vi, 2, msg(nil, 1, tt))
		g = msg(g, 11, vi)
	}
	g = msg(g, 12, str(nil, 1, m.output))
	var b []byte
	b = vint(b, 1, 8)
	b = str(b, 2, "gotfe-test")
	b = msg(b, 7, g)
	opset := m.opset
	if opset == 0 {
		opset = 13
	}
	return msg(b, 8, vint(str(nil, 1, ""), 2, uint64(opset)))
}

// gemmModel is x [N, 4] -> Gemm(B [3, 4], transB) -> Relu -> y, with its weights.
func gemmModel() tModel {
	return tModel{
		input: []int64{4},
		nodes: []tNode{
			{op: "Gemm", name: "fc", in: []string{"x", "B", "C"}, out: []string{"h"}, attrs: []tAttr{iAttr("transB", 1)}},
			{op: "Relu", name: "act", in: []string{"h"}, out: []string{"y"}},
		},
		inits: []tTensor{
			{name: "B", dims: []int64{3, 4}, vals: []float32{1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1}},
			{name: "C", dims: []int64{3}, vals: []float32{0.5, -10, 0}},
		},
		output: "y",
	}
}

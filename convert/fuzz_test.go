package convert_test

import (
	"os"
	"testing"

	"github.com/gotfe/gotfe/convert"
)

// FuzzReadONNX feeds the ONNX reader arbitrary bytes, seeded with the real fixtures and the
// test writer's model: it must return a model or an error, never panic or allocate beyond
// what the input holds.
func FuzzReadONNX(f *testing.F) {
	for _, p := range []string{"testdata/onnx_mlp/model.onnx", "testdata/onnx_cnn/model.onnx",
		"testdata/onnx_ops/model.onnx", "testdata/resnet18.onnx"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(gemmModel().bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := convert.ReadONNX(data, "")
		if err == nil && m == nil {
			t.Fatal("no model and no error")
		}
	})
}

// FuzzReadTFJS feeds the TF.js reader an arbitrary model.json and one shard served for every
// path, seeded with the real fixtures.
func FuzzReadTFJS(f *testing.F) {
	for _, d := range []string{"testdata/tfjs_cnn", "testdata/tfjs_mlp"} {
		j, err := os.ReadFile(d + "/model.json")
		if err != nil {
			f.Fatal(err)
		}
		var shard []byte
		for _, s := range []string{"group1-shard1of1.bin", "group1-shard1of2.bin"} {
			if b, err := os.ReadFile(d + "/" + s); err == nil {
				shard = b
			}
		}
		f.Add(j, shard)
	}
	f.Fuzz(func(t *testing.T, modelJSON, shard []byte) {
		m, err := convert.ReadTFJS(modelJSON, func(string) ([]byte, error) { return shard, nil })
		if err == nil && m == nil {
			t.Fatal("no model and no error")
		}
	})
}

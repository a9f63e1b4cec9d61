package convert_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/convert"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/nd"
)

// The test model of onnxbuild_test.go computes relu(x·Bᵀ + C).
func TestONNXWriterModel(t *testing.T) {
	m, err := convert.ReadONNX(gemmModel().bytes(), "")
	require.NoError(t, err)
	got, err := m.Predict(nd.Rows([][]float64{{1, 2, 3, 4}, {-1, -2, -3, -4}}), keras.Verbose(0))
	require.NoError(t, err)
	assert.Equal(t, []float64{1.5, 0, 10, 0, 0, 0}, got.Data())
}

func TestBadONNX(t *testing.T) {
	edit := func(f func(m *tModel)) []byte {
		m := gemmModel()
		f(&m)
		return m.bytes()
	}
	good := gemmModel().bytes()
	resnet, err := os.ReadFile("testdata/resnet18.onnx")
	require.NoError(t, err)
	mobilenet, err := os.ReadFile("testdata/mobilenet_v2.onnx")
	require.NoError(t, err)
	cases := []struct {
		name string
		data []byte
		want []string // substrings of the error
	}{
		{"empty", nil, []string{"no graph"}},
		{"truncated", good[:len(good)/2], []string{"ModelProto: field 7: unexpected EOF"}},
		{"not protobuf", []byte("\x08\x07\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), []string{"ModelProto: bad field tag"}},
		{"old opset", edit(func(m *tModel) { m.opset = 7 }), []string{"opset 7"}},
		{"new opset", edit(func(m *tModel) { m.opset = 22 }), []string{"opset 22"}},
		{"no input", edit(func(m *tModel) { m.noInput = true }), []string{"no input"}},
		{"unsupported op", edit(func(m *tModel) { m.nodes[1].op = "Elu" }), []string{`node "act" (Elu)`, "op Elu is not supported"}},
		{"transA", edit(func(m *tModel) { m.nodes[0].attrs = append(m.nodes[0].attrs, iAttr("transA", 1)) }),
			[]string{`node "fc" (Gemm)`, "transA=1"}},
		{"B disagrees with the input", edit(func(m *tModel) { m.inits[0] = tTensor{name: "B", dims: []int64{2, 6}, vals: make([]float32, 12)} }),
			[]string{`node "fc" (Gemm)`, `B "B" has dimensions [2 6], want [2 4]`}},
		{"short raw data", edit(func(m *tModel) { m.inits[0].raw = make([]byte, 40) }), []string{`node "fc" (Gemm)`, `tensor "B": 40 bytes of data for 12 elements`}},
		{"bias of the wrong size", edit(func(m *tModel) { m.inits[1] = tTensor{name: "C", dims: []int64{2}, vals: []float32{1, 2}} }),
			[]string{`"C" has 2 elements`, "want 3"}},
		{"clip other than relu6", edit(func(m *tModel) {
			m.nodes[1] = tNode{op: "Clip", name: "clip", in: []string{"h", "lo", "hi"}, out: []string{"y"}}
			m.inits = append(m.inits, tTensor{name: "lo", vals: []float32{0}}, tTensor{name: "hi", vals: []float32{1}})
		}), []string{`node "clip" (Clip)`, "min=0, max=1"}},
		{"softmax over the batch", edit(func(m *tModel) {
			m.nodes[1] = tNode{op: "Softmax", name: "sm", in: []string{"h"}, out: []string{"y"}, attrs: []tAttr{iAttr("axis", 0)}}
		}),
			[]string{`node "sm" (Softmax)`, "axis=0"}},
		{"branch", edit(func(m *tModel) {
			m.nodes = append(m.nodes, tNode{op: "Relu", name: "side", in: []string{"h"}, out: []string{"s"}})
		}), []string{`node "side" (Relu)`, "branches"}},
		{"merge", edit(func(m *tModel) {
			m.nodes = append(m.nodes, tNode{op: "Add", name: "sum", in: []string{"y", "h"}, out: []string{"z"}})
			m.output = "z"
		}), []string{`node "sum" (Add)`, "branches and merges"}},
		{"external data missing", edit(func(m *tModel) { m.inits[0].raw = nil; m.inits[0].vals = nil }), []string{`tensor "B"`}},
		{"output not the chain's end", edit(func(m *tModel) { m.output = "h" }), []string{"output"}},
		// torchvision's residual networks: the first node a Sequential model cannot express.
		{"resnet18", resnet, []string{`node "/layer1/layer1.0/Add" (Add)`, "branches and merges"}},
		{"mobilenet_v2", mobilenet, []string{`node "/features/features.3/Add" (Add)`, "branches and merges"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := convert.ReadONNX(c.data, "")
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			t.Log(err)
		})
	}
}

// copyDir copies a fixture directory to a temporary one.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	es, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644))
	}
	return dst
}

func TestBadTFJS(t *testing.T) {
	cases := []struct {
		name  string
		dir   string
		setup func(t *testing.T, dir string)
		want  []string
	}{
		{"truncated model.json", "tfjs_mlp", truncate("model.json", 0.5), []string{"model.json"}},
		{"missing shard", "tfjs_mlp", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "group1-shard2of2.bin")))
		}, []string{"shard group1-shard2of2.bin", "no such file"}},
		{"short shard", "tfjs_mlp", truncate("group1-shard2of2.bin", 0.9), []string{"shards hold 49104 bytes", "need 50920"}},
		{"long shard", "tfjs_cnn", appendBytes("group1-shard1of1.bin", 8), []string{"longer than the 27240 bytes"}},
		{"shape disagrees with the configuration", "tfjs_cnn", replace("model.json", `"shape":[676,10]`, `"shape":[10,676]`),
			[]string{"dense_Dense3/kernel has shape [10 676] in the manifest", "[676 10]"}},
		{"unsupported layer", "tfjs_cnn", replace("model.json", `"class_name":"MaxPooling2D"`, `"class_name":"LSTM"`),
			[]string{"max_pooling2d_MaxPooling2D1", "class LSTM is not supported"}},
		{"dilation", "tfjs_cnn", replace("model.json", `"dilation_rate":[1,1]`, `"dilation_rate":[2,2]`),
			[]string{"layer conv2d_Conv2D1 (Conv2D)", "argument dilation_rate=[2,2]"}},
		{"channels first", "tfjs_cnn", replace("model.json", `"data_format":"channels_last","dilation_rate"`, `"data_format":"channels_first","dilation_rate"`),
			[]string{"layer conv2d_Conv2D1 (Conv2D)", `argument data_format="channels_first"`}},
		{"activation", "tfjs_mlp", replace("model.json", `"activation":"relu"`, `"activation":"elu"`),
			[]string{"layer dense_Dense1 (Dense)", `argument activation="elu"`}},
		{"unknown argument", "tfjs_mlp", replace("model.json", `"units":16,`, `"units":16,"lora_alpha":3,`),
			[]string{"layer dense_Dense1 (Dense)", "argument lora_alpha=3"}},
		{"quantized", "tfjs_mlp", replace("model.json", `"shape":[10],"dtype":"float32"}`, `"shape":[10],"dtype":"float32","quantization":{"dtype":"uint8"}}`),
			[]string{"weight dense_Dense2/bias: quantized weights are not supported"}},
		{"functional model", "tfjs_mlp", replace("model.json", `"class_name":"Sequential"`, `"class_name":"Model"`),
			[]string{`model class "Model"`}},
		{"graph model", "tfjs_mlp", replace("model.json", `"format":"layers-model"`, `"format":"graph-model"`),
			[]string{`format "graph-model"`}},
		{"shard outside", "tfjs_mlp", replace("model.json", `"group1-shard1of2.bin"`, `"../group1-shard1of2.bin"`),
			[]string{"not beside model.json"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, filepath.Join("testdata", c.dir))
			c.setup(t, dir)
			_, err := convert.Load(filepath.Join(dir, "model.json"), convert.Auto)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			t.Log(err)
		})
	}
}

func truncate(file string, frac float64) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, b[:int(float64(len(b))*frac)], 0o644))
	}
}

func appendBytes(file string, n int) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, append(b, make([]byte, n)...), 0o644))
	}
}

func replace(file, old, new string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.Contains(t, string(b), old)
		require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644))
	}
}

// rezip rewrites a .keras archive with fn applied to each entry (nil drops it).
func rezip(t *testing.T, src, dst string, fn func(name string, b []byte) []byte) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	require.NoError(t, err)
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
		if b = fn(f.Name, b); b == nil {
			continue
		}
		w, err := zw.Create(f.Name)
		require.NoError(t, err)
		_, err = w.Write(b)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(dst, buf.Bytes(), 0o644))
}

func TestBadKeras(t *testing.T) {
	dir := t.TempDir()
	h5, err := os.ReadFile("testdata/keras/mlp.h5")
	require.NoError(t, err)
	cases := []struct {
		name string
		make func(path string)
		want []string
	}{
		{"truncated h5", func(p string) { require.NoError(t, os.WriteFile(p, h5[:len(h5)/3], 0o644)) }, []string{"h5"}},
		{"h5 header only", func(p string) { require.NoError(t, os.WriteFile(p, h5[:16], 0o644)) }, []string{"h5"}},
		{"corrupt h5", func(p string) {
			b := bytes.Clone(h5)
			for i := 512; i < len(b); i += 97 {
				b[i] ^= 0x5a
			}
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}, []string{"h5"}},
		{"keras without weights", func(p string) {
			rezip(t, "testdata/keras/mlp.keras", p, func(name string, b []byte) []byte {
				if name == "model.weights.h5" {
					return nil
				}
				return b
			})
		}, []string{"no model.weights.h5"}},
		{"keras config disagrees with the weights", func(p string) {
			rezip(t, "testdata/keras/mlp.keras", p, func(name string, b []byte) []byte {
				if name == "config.json" {
					return []byte(strings.Replace(string(b), `"units": 16`, `"units": 17`, 1))
				}
				return b
			})
		}, []string{"layer dense (Dense): weight kernel", "holds 12544 values", "[784 17]"}},
		{"keras unsupported layer", func(p string) {
			rezip(t, "testdata/keras/cnn.keras", p, func(name string, b []byte) []byte {
				if name == "config.json" {
					return []byte(strings.Replace(string(b), `"class_name": "Flatten"`, `"class_name": "GRU"`, 1))
				}
				return b
			})
		}, []string{"layer flatten: class GRU is not supported"}},
		{"keras bias off", func(p string) {
			rezip(t, "testdata/keras/cnn.keras", p, func(name string, b []byte) []byte {
				if name == "config.json" {
					return []byte(strings.Replace(string(b), `"use_bias": true`, `"use_bias": "no"`, 1))
				}
				return b
			})
		}, []string{"layer conv2d (Conv2D)", `argument use_bias="no"`}},
		{"truncated keras", func(p string) {
			b, err := os.ReadFile("testdata/keras/cnn.keras")
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, b[:len(b)-100], 0o644))
		}, []string{"keras"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ext := ".h5"
			if strings.HasPrefix(c.name, "keras") || strings.HasPrefix(c.name, "truncated keras") {
				ext = ".keras"
			}
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+ext)
			c.make(p)
			_, err := convert.Load(p, convert.Auto)
			require.Error(t, err, "case %d", i)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			t.Log(err)
		})
	}
}

// Keras classes beyond the fixtures' read from a configuration: ZeroPadding2D in its three
// spellings, ReLU(max_value=6), BatchNormalization without scale (gamma filled with ones).
func TestKerasConfigClasses(t *testing.T) {
	const model = `{"class_name": "Sequential", "config": {"name": "s", "layers": [
		{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 4, 2], "name": "in"}},
		{"class_name": "ZeroPadding2D", "config": {"name": "p1", "padding": 1, "data_format": "channels_last"}},
		{"class_name": "ZeroPadding2D", "config": {"name": "p2", "padding": [0, 2]}},
		{"class_name": "ZeroPadding2D", "config": {"name": "p3", "padding": [[1, 0], [0, 3]]}},
		{"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "scale": false, "epsilon": 0.5}},
		{"class_name": "ReLU", "config": {"name": "r6", "max_value": 6}},
		{"class_name": "GlobalMaxPooling2D", "config": {"name": "g"}}]}}`
	manifest := `[{"paths": ["w.bin"], "weights": [{"name": "bn/beta", "shape": [2], "dtype": "float32"},
		{"name": "bn/moving_mean", "shape": [2], "dtype": "float32"}, {"name": "bn/moving_variance", "shape": [2], "dtype": "float32"}]}]`
	shard := make([]byte, 24)
	for i, v := range []uint32{0x3f800000, 0, 0, 0, 0x3f000000, 0x3f000000} { // beta 1, 0; mean 0; var 0.5
		binary.LittleEndian.PutUint32(shard[4*i:], v)
	}
	m, err := convert.ReadTFJS([]byte(`{"modelTopology": `+model+`, "weightsManifest": `+manifest+`}`),
		func(string) ([]byte, error) { return shard, nil })
	require.NoError(t, err)
	var sb strings.Builder
	require.NoError(t, m.Summary(&sb))
	assert.Contains(t, sb.String(), "(None, 7, 13, 2)")
	// One 4x4 image of 2 channels, all 8: normalised to 8/sqrt(0.5+0.5) + beta = 9 and 8,
	// clipped to 6 by ReLU6; the padding's zeros become beta (1 and 0): the maxima are 6, 6.
	x := make([]float64, 32)
	for i := range x {
		x[i] = 8
	}
	got, err := m.Predict(xsOf(m, x), keras.Verbose(0))
	require.NoError(t, err)
	assert.Equal(t, []float64{6, 6}, got.Data())
}

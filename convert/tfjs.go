package convert

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gotfe/gotfe/keras"
)

// maxShardBytes bounds the bytes of one weight group of a TF.js model (2 GiB).
const maxShardBytes = 1 << 31

type tfjsFile struct {
	ModelTopology   json.RawMessage `json:"modelTopology"`
	Format          string          `json:"format"`
	WeightsManifest []tfjsGroup     `json:"weightsManifest"`
}

type tfjsGroup struct {
	Paths   []string     `json:"paths"`
	Weights []tfjsWeight `json:"weights"`
}

type tfjsWeight struct {
	Name         string          `json:"name"`
	Shape        []int64         `json:"shape"`
	Dtype        string          `json:"dtype"`
	Quantization json.RawMessage `json:"quantization"`
}

// tfjsValue is one weight of the manifest: its shape and its float32 bytes.
type tfjsValue struct {
	shape []int
	data  []byte
}

// ReadTFJS converts a TF.js layers model: modelJSON is the model.json file, and shard returns
// the bytes of a weight file its manifest names (a path relative to model.json). See [Load].
func ReadTFJS(modelJSON []byte, shard func(path string) ([]byte, error)) (*keras.Sequential, error) {
	m, err := readTFJS(modelJSON, shard)
	if err != nil {
		return nil, fmt.Errorf("convert: tfjs: %w", err)
	}
	return m, nil
}

func readTFJS(modelJSON []byte, shard func(path string) ([]byte, error)) (*keras.Sequential, error) {
	var f tfjsFile
	if err := json.Unmarshal(modelJSON, &f); err != nil {
		return nil, fmt.Errorf("model.json: %w", err)
	}
	if f.Format != "" && f.Format != "layers-model" {
		return nil, fmt.Errorf("model.json: format %q is not supported (only layers-model)", f.Format)
	}
	if len(f.ModelTopology) == 0 || string(f.ModelTopology) == "null" {
		return nil, errors.New("model.json: no modelTopology")
	}
	topo := f.ModelTopology
	// tensorflowjs_converter wraps the Keras configuration: {"model_config": ..., ...}.
	var wrapped struct {
		ModelConfig json.RawMessage `json:"model_config"`
	}
	if json.Unmarshal(topo, &wrapped) == nil && len(wrapped.ModelConfig) > 0 {
		topo = wrapped.ModelConfig
	}
	km, err := parseKerasModel(topo)
	if err != nil {
		return nil, err
	}
	values, err := tfjsWeights(f.WeightsManifest, shard)
	if err != nil {
		return nil, err
	}
	return km.build(func(_ int, l *kerasLayer, _ int, name string, shape []int) ([]float64, error) {
		v, key, err := lookupTFJS(values, l.name, name)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(v.shape, shape) {
			return nil, fmt.Errorf("%s has shape %v in the manifest, the configuration gives %v", key, v.shape, shape)
		}
		out := make([]float64, len(v.data)/4)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(v.data[4*i:])))
		}
		return out, nil
	})
}

// tfjsWeights reads every group's shards and cuts them into weights.
func tfjsWeights(groups []tfjsGroup, shard func(path string) ([]byte, error)) (map[string]tfjsValue, error) {
	values := map[string]tfjsValue{}
	for gi, g := range groups {
		need := 0
		shapes := make([][]int, len(g.Weights))
		for wi, w := range g.Weights {
			if w.Dtype != "float32" {
				return nil, fmt.Errorf("weight %s: dtype %q is not supported (want float32)", w.Name, w.Dtype)
			}
			if len(w.Quantization) > 0 && string(w.Quantization) != "null" {
				return nil, fmt.Errorf("weight %s: quantized weights are not supported", w.Name)
			}
			if len(w.Shape) > maxDims {
				return nil, fmt.Errorf("weight %s: shape %v has more than %d dimensions", w.Name, w.Shape, maxDims)
			}
			n, err := numElements(w.Shape, maxShardBytes/4)
			if err != nil {
				return nil, fmt.Errorf("weight %s: %w", w.Name, err)
			}
			if need += 4 * n; need > maxShardBytes {
				return nil, fmt.Errorf("weight group %d needs more than %d bytes", gi, maxShardBytes)
			}
			shapes[wi] = make([]int, len(w.Shape))
			for i, d := range w.Shape {
				shapes[wi][i] = int(d)
			}
		}
		if len(g.Paths) == 0 && need > 0 {
			return nil, fmt.Errorf("weight group %d has weights but no shard", gi)
		}
		var data []byte
		for _, p := range g.Paths {
			b, err := shard(p)
			if err != nil {
				return nil, fmt.Errorf("weight group %d: shard %s: %w", gi, p, err)
			}
			if len(b) > need-len(data) {
				return nil, fmt.Errorf("weight group %d: shard %s makes the group longer than the %d bytes its weights need", gi, p, need)
			}
			data = append(data, b...)
		}
		if len(data) != need {
			return nil, fmt.Errorf("weight group %d: its shards hold %d bytes, its weights need %d", gi, len(data), need)
		}
		off := 0
		for wi, w := range g.Weights {
			n := 4
			for _, d := range shapes[wi] {
				n *= d
			}
			name := strings.TrimSuffix(w.Name, ":0")
			if _, dup := values[name]; dup {
				return nil, fmt.Errorf("weight %s is listed twice", name)
			}
			values[name] = tfjsValue{shape: shapes[wi], data: data[off : off+n]}
			off += n
		}
	}
	return values, nil
}

// lookupTFJS finds a layer's weight: "<layer>/<weight>", or, as the converter may prefix the
// model's name, the one name ending in "/<layer>/<weight>".
func lookupTFJS(values map[string]tfjsValue, layer, weight string) (tfjsValue, string, error) {
	key := layer + "/" + weight
	if v, ok := values[key]; ok {
		return v, key, nil
	}
	var found []string
	for k := range values {
		if strings.HasSuffix(k, "/"+key) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 1:
		return values[found[0]], found[0], nil
	case 0:
		return tfjsValue{}, key, fmt.Errorf("%s is not in the weights manifest", key)
	}
	slices.Sort(found)
	return tfjsValue{}, key, fmt.Errorf("%s is ambiguous in the weights manifest (%s)", key, strings.Join(found, ", "))
}

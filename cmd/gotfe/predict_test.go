package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fixtureRows returns the first n inputs of a convert fixture's reference, scaled as its tool
// fed them, and the tool's outputs.
func fixtureRows(t *testing.T, ref string, n int) ([][]float64, [][]float64) {
	t.Helper()
	b, err := os.ReadFile(ref)
	require.NoError(t, err)
	var r struct {
		InputScale float64     `json:"input_scale"`
		Inputs     [][]float64 `json:"inputs"`
		Outputs    [][]float64 `json:"outputs"`
	}
	require.NoError(t, json.Unmarshal(b, &r))
	rows := r.Inputs[:n]
	for _, row := range rows {
		for i := range row {
			row[i] = float64(float32(row[i]) / float32(r.InputScale))
		}
	}
	return rows, r.Outputs[:n]
}

// predict on the TF.js CNN fixture over the in-memory links: one JSON object per row, the
// class and the probabilities the tool computed (within the secure engine's 2.1e-3, see
// convert's tests), for rows given flat and nested in the input shape [28, 28, 1].
func TestPredictCommand(t *testing.T) {
	const n = 4
	rows, want := fixtureRows(t, "../../convert/testdata/tfjs_cnn/reference.json", n)
	var in []any
	for i, row := range rows {
		if i%2 == 0 {
			in = append(in, row)
			continue
		}
		img := make([][][]float64, 28)
		for y := range img {
			img[y] = make([][]float64, 28)
			for x := range img[y] {
				img[y][x] = []float64{row[y*28+x]}
			}
		}
		in = append(in, img)
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "rows.json")
	b, err := json.Marshal(in)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(input, b, 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, predict(ctx, []string{"--model", "../../convert/testdata/tfjs_cnn/model.json", "--input", input, "--transport", "mem"}, &out))
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	i := 0
	for sc.Scan() {
		var p struct {
			Class         *int      `json:"class"`
			Probabilities []float64 `json:"probabilities"`
		}
		d := json.NewDecoder(strings.NewReader(sc.Text()))
		d.DisallowUnknownFields()
		require.NoError(t, d.Decode(&p), sc.Text())
		require.NotNil(t, p.Class)
		require.Len(t, p.Probabilities, 10)
		best := 0
		for k, v := range want[i] {
			require.InDelta(t, v, p.Probabilities[k], 2.1e-3)
			if v > want[i][best] {
				best = k
			}
		}
		require.Equal(t, best, *p.Class)
		i++
	}
	require.Equal(t, n, i)
}

// A model without a softmax head prints its outputs.
func TestPredictOutputs(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "rows.json")
	row := make([]float64, 12*12*2)
	b, err := json.Marshal([][]float64{row})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(input, b, 0o644))
	var out bytes.Buffer
	require.NoError(t, predict(context.Background(), []string{"--model", "../../convert/testdata/onnx_ops/model.onnx", "--input", input, "--plain"}, &out))
	var p struct {
		Outputs []float64 `json:"outputs"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &p))
	require.Len(t, p.Outputs, 5)
}

func TestPredictErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	model := "../../convert/testdata/tfjs_mlp/model.json"
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no model", []string{"--input", "x"}, "--model and --input are required"},
		{"not an array", []string{"--model", model, "--input", write("a.json", `{"x": 1}`), "--plain"}, "want a JSON array of rows"},
		{"short row", []string{"--model", model, "--input", write("b.json", `[[1, 2, 3]]`), "--plain"}, "row 0 has 3 values, the model takes 784"},
		{"bad nesting", []string{"--model", model, "--input", write("c.json", `[[[1], [2]]]`), "--plain"}, "row 0"},
		{"no rows", []string{"--model", model, "--input", write("d.json", `[]`), "--plain"}, "no rows"},
		{"bad model", []string{"--model", write("e.onnx", "garbage"), "--input", write("f.json", `[[1]]`), "--plain"}, "onnx"},
		{"party 1 with a model", []string{"--model", model, "--config", "p.json", "--party", "1"}, "only party 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := predict(context.Background(), c.args, &bytes.Buffer{})
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestInspectCommand(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, inspect([]string{"../../convert/testdata/keras/cnn.keras"}, &out))
	s := out.String()
	require.Contains(t, s, "conv2d (Conv2D)")
	require.Contains(t, s, "(None, 13, 13, 4)")
	require.Contains(t, s, "Total params: 6,810")
	require.Contains(t, s, "Classifier")
	require.ErrorIs(t, inspect(nil, &out), errUsage)
	require.ErrorContains(t, inspect([]string{"../../convert/testdata/resnet18.onnx"}, &out), `node "/layer1/layer1.0/Add"`)
}

package mpc_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/nd"
	"github.com/gotfe/gotfe/optimizers"
)

// costCase is a layer of a typical size, run on a batch of costBatch samples.
type costCase struct {
	name  string
	layer layers.Layer
	in    []int
}

const costBatch = 64

var costCases = []costCase{
	{"Dense 784→128", layers.Dense(128), []int{784}},
	{"Dense 784→128, relu", layers.Dense(128, layers.Activation("relu")), []int{784}},
	{"Dense 128→10, softmax", layers.Dense(10, layers.Activation("softmax")), []int{128}},
	{"Conv2D 8 3x3 on 28x28x1", layers.Conv2D(8, 3), []int{28, 28, 1}},
	{"Conv2D 8 3x3 stride 2 on 28x28x1", layers.Conv2D(8, 3, layers.Strides(2)), []int{28, 28, 1}},
	{"MaxPooling2D 2x2 on 26x26x8", layers.MaxPooling2D(), []int{26, 26, 8}},
	{"AveragePooling2D 2x2 on 26x26x8", layers.AveragePooling2D(), []int{26, 26, 8}},
	{"ReLU on 26x26x8", layers.ReLU(), []int{26, 26, 8}},
	{"ReLU on 128", layers.ReLU(), []int{128}},
	{"LeakyReLU on 128", layers.LeakyReLU(), []int{128}},
	{"PReLU on 128", layers.PReLU(), []int{128}},
	{"relu6 on 128", layers.Activation("relu6"), []int{128}},
	{"hard_sigmoid on 128", layers.Activation("hard_sigmoid"), []int{128}},
	{"sigmoid on 128", layers.Activation("sigmoid"), []int{128}},
	{"tanh on 128", layers.Activation("tanh"), []int{128}},
	{"swish on 128", layers.Activation("swish"), []int{128}},
	{"gelu on 128", layers.Activation("gelu"), []int{128}},
	{"elu on 128", layers.Activation("elu"), []int{128}},
	{"softplus on 128", layers.Activation("softplus"), []int{128}},
	{"softsign on 128", layers.Activation("softsign"), []int{128}},
	{"exponential on 128", layers.Activation("exponential"), []int{128}},
	{"softmax on 10", layers.Activation("softmax"), []int{10}},
	{"BatchNormalization on 128", layers.BatchNormalization(), []int{128}},
	{"Dropout 0.2 on 128", layers.Dropout(0.2), []int{128}},
	{"Normalization on 128 (not first)", layers.Normalization(layers.Mean(make([]float64, 128)...), layers.Variance(ones(128)...)), []int{128}},
	{"Rescaling on 128 (not first)", layers.Rescaling(0.5), []int{128}},
	{"Flatten, Reshape", layers.Flatten(), []int{26, 26, 8}},
}

func ones(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

// cost is the communication of one forward pass, and of one forward and backward pass.
type cost struct {
	inferRounds, trainRounds int64
	inferBytes, trainBytes   int64 // sent by the three parties together
}

// measureCost runs a layer on the secure engine and reads the parties' counters.
func measureCost(t *testing.T, runner *mpc.LocalRunner, c costCase) cost {
	t.Helper()
	specs, err := c.layer.Weights(c.in)
	require.NoError(t, err)
	outShape, err := c.layer.OutputShape(c.in)
	require.NoError(t, err)
	// Each party keeps its own instance and tensors: run the passes in one program.
	var res cost
	var insts [3]layers.Instance
	var xs, dys [3]backend.Tensor
	var allVars [3][]*backend.Variable
	require.NoError(t, runner.Run(func(b backend.Backend) error {
		vars := make([]*backend.Variable, len(specs))
		for i, s := range specs {
			v, err := s.Init.Init(b, s.Shape, uint64(i))
			if err != nil {
				return err
			}
			vars[i] = &backend.Variable{Name: s.Name, Value: v, Trainable: s.Trainable}
		}
		in, err := c.layer.Build(b, c.in, vars, 1)
		if err != nil {
			return err
		}
		p := b.Party()
		insts[p], allVars[p] = in, vars
		if xs[p], err = b.RandomUniform(append([]int{costBatch}, c.in...), -1, 1, 7); err != nil {
			return err
		}
		dys[p], err = b.RandomUniform(append([]int{costBatch}, outShape...), -1, 1, 8)
		return err
	}))
	phase := func(train bool) (int64, int64) {
		before := runner.Stats()
		require.NoError(t, runner.Run(func(b backend.Backend) error {
			p := b.Party()
			// Every result is made into shares (a pending product is truncated), as the next
			// layer or the optimizer would; encoding the shares is local.
			codec := b.(backend.ShareCodec)
			y, err := insts[p].Forward(xs[p], train)
			if err != nil {
				return err
			}
			if !train {
				_, err = codec.AppendShare(nil, y)
				return err
			}
			dx, err := insts[p].Backward(dys[p], true)
			if err != nil {
				return err
			}
			outs := []backend.Tensor{dx}
			for _, v := range allVars[p] {
				if v.Trainable {
					outs = append(outs, v.Grad)
				}
			}
			for _, o := range outs {
				if _, err := codec.AppendShare(nil, o); err != nil {
					return err
				}
			}
			return nil
		}))
		after := runner.Stats()
		var bytes int64
		for i := range after {
			bytes += after[i].Sub(before[i]).BytesSent
		}
		return after[0].Sub(before[0]).Rounds, bytes
	}
	res.inferRounds, res.inferBytes = phase(false)
	res.trainRounds, res.trainBytes = phase(true)
	return res
}

func formatBytes(n int64) string {
	switch {
	case n == 0:
		return "0"
	case n < 1<<20:
		return fmt.Sprintf("%.0f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

func TestLayerCosts(t *testing.T) {
	runner := mpc.NewLocalRunner(mpc.Config{}, nil)
	defer runner.Close()
	var sb strings.Builder
	for _, c := range costCases {
		k := measureCost(t, runner, c)
		fmt.Fprintf(&sb, "| %s | %d | %s | %d | %s |\n", c.name, k.inferRounds, formatBytes(k.inferBytes), k.trainRounds, formatBytes(k.trainBytes))
	}
	t.Log("\n" + sb.String())
	if os.Getenv("GOTFE_PRINT_COSTS") != "" {
		fmt.Print(sb.String())
	}
	checkReadmeRows(t, sb.String())
}

// modelCostCases are whole training steps of the Keras tutorial's small CNN and of two
// cheaper arrangements of it (batch of 64 MNIST-sized images, SGD, sparse cross-entropy).
func modelCostCases() []struct {
	name   string
	layers []layers.Layer
} {
	return []struct {
		name   string
		layers []layers.Layer
	}{
		{"Conv2D 8 3x3 relu, MaxPooling2D, Dense 10 (the tutorial's)", []layers.Layer{
			layers.Conv2D(8, 3, layers.Activation("relu")), layers.MaxPooling2D(), layers.Flatten(),
			layers.Dense(10, layers.Activation("softmax"))}},
		{"Conv2D 8 3x3, MaxPooling2D, ReLU, Dense 10 (pool first)", []layers.Layer{
			layers.Conv2D(8, 3), layers.MaxPooling2D(), layers.ReLU(), layers.Flatten(),
			layers.Dense(10, layers.Activation("softmax"))}},
		{"Conv2D 8 3x3 stride 2 relu, Dense 10 (no pooling)", []layers.Layer{
			layers.Conv2D(8, 3, layers.Strides(2), layers.Activation("relu")), layers.Flatten(),
			layers.Dense(10, layers.Activation("softmax"))}},
		{"Conv2D 8 3x3, AveragePooling2D, ReLU, Dense 10", []layers.Layer{
			layers.Conv2D(8, 3), layers.AveragePooling2D(), layers.ReLU(), layers.Flatten(),
			layers.Dense(10, layers.Activation("softmax"))}},
	}
}

func TestModelStepCosts(t *testing.T) {
	runner := mpc.NewLocalRunner(mpc.Config{}, nil)
	defer runner.Close()
	x := nd.Zeros(costBatch, 28, 28, 1)
	for i := range x.Data() {
		x.Data()[i] = float64(i%17) / 17
	}
	y := make([]int, costBatch)
	for i := range y {
		y[i] = i % 10
	}
	var sb strings.Builder
	for _, c := range modelCostCases() {
		m, err := keras.NewSequential(append([]layers.Layer{layers.Input(28, 28, 1)}, c.layers...)...)
		require.NoError(t, err)
		require.NoError(t, m.Compile(optimizers.SGD(0.1), keras.Loss("sparse_categorical_crossentropy")))
		require.NoError(t, m.SetRunner(runner))
		fit := func() {
			_, err := m.Fit(x, nd.Labels(y), keras.BatchSize(costBatch), keras.Verbose(0))
			require.NoError(t, err)
		}
		fit() // builds the replicas
		before := runner.Stats()
		fit()
		after := runner.Stats()
		var bytes int64
		for i := range after {
			bytes += after[i].Sub(before[i]).BytesSent
		}
		fmt.Fprintf(&sb, "| %s | %d | %s |\n", c.name, after[0].Sub(before[0]).Rounds, formatBytes(bytes))
	}
	t.Log("\n" + sb.String())
	if os.Getenv("GOTFE_PRINT_COSTS") != "" {
		fmt.Print(sb.String())
	}
	checkReadmeRows(t, sb.String())
}

// checkReadmeRows checks that the README's "What costs what" tables hold the measured rows
// (regenerate them with GOTFE_PRINT_COSTS=1 when the engine's costs change).
func checkReadmeRows(t *testing.T, rows string) {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, row := range strings.Split(strings.TrimSpace(rows), "\n") {
		require.Contains(t, string(readme), row+"\n", "the README's cost table is out of date")
	}
}

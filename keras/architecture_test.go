package keras_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/nd"
	"github.com/gotfe/gotfe/optimizers"
)

// The architecture round-trips without the weights: the rebuilt model has the same layers and
// summary, and predicts like the original once given its weights.
func TestArchitectureRoundTrip(t *testing.T) {
	m, err := keras.NewSequential(layers.Input(6, 6, 2), layers.Conv2D(3, [2]int{3, 3}, layers.Activation("relu6")),
		layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.2), layers.Dense(4, layers.Activation("softmax")))
	require.NoError(t, err)
	require.NoError(t, m.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy(), keras.Metrics("accuracy")))
	m.SetSeed(7)
	data, err := keras.MarshalArchitecture(m)
	require.NoError(t, err)
	w, err := m.GetWeights()
	require.NoError(t, err)
	for _, v := range w {
		for _, x := range v {
			if x == 0 { // the biases start at zero, a digit the JSON holds anyway
				continue
			}
			require.NotContains(t, string(data), strconv.FormatFloat(x, 'g', -1, 64), "a weight value leaked into the architecture")
		}
	}

	back, err := keras.UnmarshalArchitecture(data)
	require.NoError(t, err)
	var s1, s2 strings.Builder
	require.NoError(t, m.Summary(&s1))
	require.NoError(t, back.Summary(&s2))
	require.Equal(t, s1.String(), s2.String())
	require.NotNil(t, back.Optimizer())

	require.NoError(t, back.SetWeights(w))
	x := make([]float64, 2*6*6*2)
	for i := range x {
		x[i] = float64(i%7)/7 - 0.4
	}
	p1, err := m.Predict(nd.New(x, 2, 6, 6, 2), keras.Verbose(0))
	require.NoError(t, err)
	p2, err := back.Predict(nd.New(x, 2, 6, 6, 2), keras.Verbose(0))
	require.NoError(t, err)
	require.Equal(t, p1, p2)
}

func TestUnmarshalArchitectureErrors(t *testing.T) {
	for _, c := range []struct{ name, data, want string }{
		{"not json", "{", "unexpected EOF"},
		{"wrong format", `{"format":"gotfe-model","class_name":"Sequential","config":{"name":"","input_shape":[2],"seed":1,"owner":0,"layers":[]},"weights":[]}`, `format "gotfe-model"`},
		{"unknown layer", `{"format":"gotfe-architecture","class_name":"Sequential","config":{"name":"","input_shape":[2],"seed":1,"owner":0,"layers":[{"class_name":"LSTM","config":{}}]},"weights":[]}`, `unknown layer class "LSTM"`},
		{"weights disagree", `{"format":"gotfe-architecture","class_name":"Sequential","config":{"name":"","input_shape":[2],"seed":1,"owner":0,"layers":[{"class_name":"Dense","config":{"name":"d","units":3,"activation":"linear","use_bias":true,"kernel_initializer":"","bias_initializer":""}}]},"weights":[]}`, "file lists 0 weights"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := keras.UnmarshalArchitecture([]byte(c.data))
			require.ErrorContains(t, err, c.want)
		})
	}
}

package models_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/datasets"
	"github.com/gotfe/gotfe/models"
)

// The networks have the parameter counts their definitions give.
func TestParams(t *testing.T) {
	want := map[string]int{
		"a":  784*128 + 128 + 128*128 + 128 + 128*10 + 10,
		"b":  5*5*16 + 16 + 5*5*16*16 + 16 + 256*100 + 100 + 100*10 + 10,
		"c":  5*5*20 + 20 + 5*5*20*50 + 50 + 800*500 + 500 + 500*10 + 10,
		"d":  5*5*5 + 5 + 980*100 + 100 + 100*10 + 10,
		"lr": 784 + 1,
	}
	for _, name := range models.Names {
		m, err := models.New(name)
		require.NoError(t, err, name)
		n, err := m.CountParams()
		require.NoError(t, err, name)
		assert.Equal(t, want[name], n, name)
	}
	_, err := models.New("e")
	assert.ErrorContains(t, err, "unknown network")
	_, err = models.Optimizer("rmsprop", 0)
	assert.ErrorContains(t, err, "unknown optimizer")
}

// Data gives each network the images in its input shape (train and test apart) and the
// targets of its loss, the images read as the float64 pixels of the set.
func TestData(t *testing.T) {
	d, err := datasets.LoadMNIST("")
	require.NoError(t, err)
	d, err = d.Subset(5, 3)
	require.NoError(t, err)
	for _, tc := range []struct {
		name      string
		in, yRest []int
	}{
		{"a", []int{784}, []int{10}},
		{"c", []int{28, 28, 1}, []int{10}},
		{"lr", []int{784}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, y, xt, yt, err := models.Data(tc.name, d)
			require.NoError(t, err)
			assert.Equal(t, append([]int{5}, tc.in...), x.Shape())
			assert.Equal(t, append([]int{3}, tc.in...), xt.Shape())
			assert.Equal(t, append([]int{5}, tc.yRest...), y.Shape())
			assert.Equal(t, append([]int{3}, tc.yRest...), yt.Shape())
			assert.Equal(t, d.TrainX(), x.Data())
			assert.Equal(t, d.TestX(), xt.Data())
		})
	}
}

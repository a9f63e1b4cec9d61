package models_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

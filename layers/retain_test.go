package layers

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend/plain"
)

// Between the passes a layer keeps what its backward pass reads, in its narrowest form: a
// convolution its input (not the patches, KH·KW times larger), an activation its output only
// where the derivative reads it.
func TestLayersKeepWhatTheBackwardPassNeeds(t *testing.T) {
	b := plain.New()
	r := rand.New(rand.NewPCG(1, 2))
	x := tensor(t, b, randVals(r, 2*6*6*3), []int{2, 6, 6, 3})
	conv := buildWith(t, b, Conv2D(4, [2]int{3, 3}), []int{6, 6, 3}, randVals(r, 3*3*3*4), randVals(r, 4)).(*convInst)
	_, err := conv.Forward(x, true)
	require.NoError(t, err)
	assert.Same(t, x, conv.x, "the convolution keeps its input")

	for _, tc := range []struct {
		name string
		keep bool
	}{
		{"linear", false}, {"relu", false}, {"elu", false}, {"softsign", false},
		{"sigmoid", true}, {"tanh", true}, {"softmax", true}, {"swish", true}, {"exponential", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAct(b, tc.name)
			_, err := a.backward(x)
			require.ErrorContains(t, err, "backward pass before a forward pass")
			y, err := a.forward(x)
			require.NoError(t, err)
			if tc.keep {
				assert.Same(t, y, a.out)
			} else {
				assert.Nil(t, a.out)
			}
			_, err = a.backward(x)
			require.NoError(t, err)
		})
	}
}

package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/plain"
)

// A ReLU moved after the max-pooling that follows it (Arrange) gives the same outputs, input
// gradients and weight gradients, bit for bit on the plain engine, on inputs with ties, windows
// of only negative values and zeros, and padding; the pooling then compares the activation's
// input and the ReLU sees the pooled map.
func TestArrangeMovesReLUAfterMaxPooling(t *testing.T) {
	for _, c := range []struct {
		name  string
		first Layer
		pool  *Pooling2DLayer
		in    []int
	}{
		{"conv relu, pool 2x2", Conv2D(3, 3, Activation("relu")), MaxPooling2D(), []int{6, 6, 2}},
		{"conv relu, pool 3x3 stride 2 same", Conv2D(2, 2, Activation("relu"), Padding("same")), MaxPooling2D(PoolSize(3, 3), Strides(2, 2), Padding("same")), []int{5, 5, 1}},
		{"activation relu, pool 2x2", Activation("relu"), MaxPooling2D(), []int{4, 6, 3}},
		{"dense relu over channels, pool 2x2", Dense(4, Activation("relu")), MaxPooling2D(), []int{4, 4, 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			// Quarters in [-2, 1]: many ties, windows without a positive value, exact zeros.
			quarters := func(n int) []float64 {
				v := make([]float64, n)
				for i := range v {
					v[i] = math.Floor(r.Float64()*12)/4 - 2
				}
				return v
			}
			specs, err := c.first.Weights(c.in)
			require.NoError(t, err)
			weights := make([][]float64, len(specs))
			for i, s := range specs {
				n := 1
				for _, d := range s.Shape {
					n *= d
				}
				weights[i] = quarters(n)
			}
			mid, err := c.first.OutputShape(c.in)
			require.NoError(t, err)
			out, err := c.pool.OutputShape(mid)
			require.NoError(t, err)
			const batch = 3
			x := quarters(batch * numel(c.in))
			dy := quarters(batch * numel(out))

			run := func(arrange bool) (y, dx []float64, grads [][]float64, moved bool) {
				b := plain.New()
				first := buildWith(t, b, c.first, c.in, weights...)
				pool := buildWith(t, b, c.pool, mid)
				insts := []Instance{first, pool}
				if arrange {
					Arrange(insts)
				}
				moved = pool.(*poolInst).post != nil
				h, err := first.Forward(tensor(t, b, x, append([]int{batch}, c.in...)), true)
				require.NoError(t, err)
				yt, err := pool.Forward(h, true)
				require.NoError(t, err)
				g, err := pool.Backward(tensor(t, b, dy, yt.Shape()), true)
				require.NoError(t, err)
				dxt, err := first.Backward(g, true)
				require.NoError(t, err)
				for _, v := range varsOf(first) {
					grads = append(grads, values(t, v.Grad))
				}
				return values(t, yt), values(t, dxt), grads, moved
			}
			y0, dx0, g0, moved0 := run(false)
			y1, dx1, g1, moved1 := run(true)
			require.False(t, moved0)
			require.True(t, moved1, "the ReLU moves after the pooling")
			require.Equal(t, y0, y1, "outputs")
			require.Equal(t, dx0, dx1, "input gradients")
			require.Equal(t, g0, g1, "weight gradients")
			nonzero := 0
			for _, v := range dx1 {
				if v != 0 {
					nonzero++
				}
			}
			require.Positive(t, nonzero, "some gradient flows")
		})
	}
}

// Arrange leaves alone what does not commute or is not a plain ReLU: average pooling, other
// activations, and a leaky ReLU.
func TestArrangeKeepsOtherOrders(t *testing.T) {
	b := plain.New()
	for i, c := range []struct{ first, pool Layer }{
		{Conv2D(2, 3, Activation("relu")), AveragePooling2D()},
		{Conv2D(2, 3, Activation("relu6")), MaxPooling2D()},
		{Activation("sigmoid"), MaxPooling2D()},
		{LeakyReLU(), MaxPooling2D()},
	} {
		in := []int{6, 6, 1}
		specs, err := c.first.Weights(in)
		require.NoError(t, err)
		ws := make([][]float64, len(specs))
		for j, s := range specs {
			ws[j] = make([]float64, numel(s.Shape))
		}
		first := buildWith(t, b, c.first, in, ws...)
		mid, err := c.first.OutputShape(in)
		require.NoError(t, err)
		pool := buildWith(t, b, c.pool, mid)
		Arrange([]Instance{first, pool})
		require.Nil(t, pool.(*poolInst).post, fmt.Sprint("case ", i))
	}
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// varsOf returns the trainable variables of an instance, in its layer's weight order.
func varsOf(inst Instance) []*backend.Variable {
	switch i := inst.(type) {
	case *denseInst:
		return []*backend.Variable{i.kernel, i.bias}
	case *convInst:
		return []*backend.Variable{i.kernel, i.bias}
	}
	return nil
}

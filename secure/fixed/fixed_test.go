package fixed_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure/fixed"
)

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, f := range []int{8, 13, 16, 20, 30} {
		e, err := fixed.New(f)
		require.NoError(t, err)
		for i := 0; i < 10000; i++ {
			x := math.Exp2(-10+30*r.Float64()) * float64(1-2*r.IntN(2))
			v, err := e.Encode(x)
			require.NoError(t, err)
			assert.InDelta(t, x, e.Decode(v), e.Ulp()/2, "f=%d x=%v", f, x)
		}
	}
}

func TestEncodeEdges(t *testing.T) {
	e, _ := fixed.New(16)
	cases := []struct {
		x    float64
		want uint64
		err  error
	}{
		{0, 0, nil},
		{1, 1 << 16, nil},
		{-1, ^uint64(1<<16) + 1, nil},
		{0x1p-17, 1, nil}, // a tie rounds away from zero
		{0x1p-18, 0, nil},
		{-0x1p-17, ^uint64(0), nil},
		{math.Ldexp(1, 47) - 1, uint64(math.Ldexp(1, 63) - math.Ldexp(1, 16)), nil},
		{math.Ldexp(1, 47), 0, fixed.ErrRange},
		{-math.Ldexp(1, 47), 1 << 63, nil},
		{math.NaN(), 0, fixed.ErrNotFinite},
		{math.Inf(1), 0, fixed.ErrNotFinite},
		{math.Inf(-1), 0, fixed.ErrNotFinite},
		{1e300, 0, fixed.ErrRange},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.x), func(t *testing.T) {
			v, err := e.Encode(c.x)
			if c.err != nil {
				assert.ErrorIs(t, err, c.err)
				assert.Error(t, e.EncodeTo(make([]uint64, 1), []float64{c.x}))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, v)
			s, err := e.EncodeSlice([]float64{c.x})
			require.NoError(t, err)
			assert.Equal(t, c.want, s[0])
		})
	}
}

func TestBadPrecision(t *testing.T) {
	for _, f := range []int{0, -1, 63} {
		_, err := fixed.New(f)
		assert.Error(t, err)
	}
	e, _ := fixed.New(16)
	assert.Error(t, e.EncodeTo(make([]uint64, 2), []float64{1}))
}

func ExampleEncoding() {
	e, _ := fixed.New(16)
	v, _ := e.Encode(-2.5)
	fmt.Printf("%#x %v\n", v, e.Decode(v))
	// Output: 0xfffffffffffd8000 -2.5
}

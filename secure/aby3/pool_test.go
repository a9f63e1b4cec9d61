package aby3

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Size classes are a quarter of a power of two apart: a pooled buffer holds at most a quarter
// more words than asked for, and a buffer given back serves the next request of its class.
func TestSizeClasses(t *testing.T) {
	for _, tc := range []struct{ n, class, size int }{
		{1024, 9*subClasses + 3, 1024},
		{1025, 10*subClasses + 0, 1280},
		{1280, 10*subClasses + 0, 1280},
		{1281, 10*subClasses + 1, 1536},
		{1792, 10*subClasses + 2, 1792},
		{1793, 10*subClasses + 3, 2048},
		{1 << 20, 19*subClasses + 3, 1 << 20},
		{1474560, 20*subClasses + 1, 1572864}, // a max-pooling's patches, 128·12·12·4·20
	} {
		class, size := sizeClass(tc.n)
		assert.Equal(t, tc.class, class, "class of %d", tc.n)
		assert.Equal(t, tc.size, size, "size of %d", tc.n)
	}
	prev := 0
	for n := minPooled; n <= 1<<16; n++ {
		class, size := sizeClass(n)
		require.GreaterOrEqual(t, size, n)
		require.LessOrEqual(t, 4*size, 5*n, "at most a quarter more than %d", n)
		require.GreaterOrEqual(t, class, prev, "classes grow with n")
		prev = class
		c2, s2 := sizeClass(size)
		require.Equal(t, [2]int{class, size}, [2]int{c2, s2}, "a class's size is in the class")
	}

	b := getWords(3000)
	require.Len(t, b, 3000)
	assert.Equal(t, 3072+slack, cap(b))
	if raceEnabled {
		return // sync.Pool drops Puts at random under the race detector
	}
	b[0] = 42
	putWords(b)
	for range 100 { // a pool may drop what it is given; it rarely does outside a collection
		c := getWords(2900)
		if c[0] == 42 {
			assert.Len(t, c, 2900)
			return
		}
		putWords(c)
	}
	t.Fatal("a buffer given back never served a request of its class")
}

package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The .npy reader takes the dtypes NumPy writes for images and refuses what it does not read.
func TestParseNPY(t *testing.T) {
	rows := [][]float64{{1, -2, 3.5, 0}, {0.25, 5, 6, 7}}
	x, n, err := parseNPY(npyFloat32(rows, []int{2, 2, 2}), []int{4})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []float64{1, -2, 3.5, 0, 0.25, 5, 6, 7}, x)
	x, n, err = parseNPY(npyFloat32(rows[:1], []int{2, 2}), []int{2, 2})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Len(t, x, 4)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"wrong shape", npyFloat32(rows, []int{2, 4}), "want [rows, ...] with 3 values"},
		{"short data", npyFloat32(rows, []int{3, 3}), "needs 36 bytes"},
		{"no magic", []byte("NUMPY"), "not a .npy file"},
	} {
		_, _, err := parseNPY(c.data, []int{3})
		require.ErrorContains(t, err, c.want, c.name)
	}
	b := npyFloat32(rows, []int{2, 4})
	copy(b[10:], "{'descr': '<c8'")
	_, _, err = parseNPY(b, []int{4})
	require.ErrorContains(t, err, "dtype")
}

// FuzzParseNPY: no input makes the reader panic or return rows of the wrong size.
func FuzzParseNPY(f *testing.F) {
	f.Add(npyFloat32([][]float64{{1, 2, 3, 4}}, []int{1, 4}))
	f.Add(npyFloat32([][]float64{{1, 2, 3, 4}, {5, 6, 7, 8}}, []int{2, 2, 2}))
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'shape': (1,)}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, n, err := parseNPY(data, []int{2, 2})
		if err == nil && len(x) != 4*n {
			t.Fatalf("%d values for %d rows", len(x), n)
		}
	})
}

package datasets

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOneHot(t *testing.T) {
	tests := []struct {
		name    string
		labels  []int
		classes int
		want    []float64
		wantErr string
	}{
		{"three", []int{2, 0, 1}, 3, []float64{0, 0, 1, 1, 0, 0, 0, 1, 0}, ""},
		{"one class", []int{0, 0}, 1, []float64{1, 1}, ""},
		{"empty", nil, 10, []float64{}, ""},
		{"label too large", []int{0, 3}, 3, nil, "label 3 at index 1"},
		{"negative label", []int{-1}, 3, nil, "label -1 at index 0"},
		{"no classes", []int{0}, 0, nil, "0 classes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := OneHot(tc.labels, tc.classes)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestOneHotTo(t *testing.T) {
	dst := []float64{7, 7, 7, 7}
	require.NoError(t, OneHotTo(dst, []int{1, 0}, 2))
	assert.Equal(t, []float64{0, 1, 1, 0}, dst, "every element is written")
	assert.ErrorContains(t, OneHotTo(make([]float64, 3), []int{1, 0}, 2), "dst has length 3")
}

func TestSmallVsLarge(t *testing.T) {
	assert.Equal(t, []float64{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}, SmallVsLarge([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}))
	assert.Equal(t, []float64{}, SmallVsLarge(nil))
}

func TestPermutation(t *testing.T) {
	for _, n := range []int{0, 1, 2, 10, 1000} {
		p := Permutation(n, 42)
		require.Len(t, p, n)
		sorted := slices.Sorted(slices.Values(p))
		for i, v := range sorted {
			require.Equal(t, i, v, "n=%d: not a permutation", n)
		}
		assert.Equal(t, p, Permutation(n, 42), "same seed, same permutation")
	}
	assert.NotEqual(t, Permutation(1000, 1), Permutation(1000, 2))
	assert.NotEqual(t, Permutation(1000, 1), Permutation(1000, 1<<32|1), "every seed bit counts")
	assert.Equal(t, []int{}, Permutation(-3, 1))
}

func TestShuffleMatchesGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, rowLen int }{{0, 3}, {1, 1}, {2, 5}, {17, 4}, {500, 1}} {
		x := make([]float64, tc.n*tc.rowLen)
		for i := range x {
			x[i] = rng.Float64()
		}
		y := make([]int, tc.n)
		for i := range y {
			y[i] = i
		}
		const seed = 7
		p := Permutation(tc.n, seed)
		wantX, err := Gather(x, tc.rowLen, p)
		require.NoError(t, err)
		wantY, err := Gather(y, 1, p)
		require.NoError(t, err)

		require.NoError(t, Shuffle(x, tc.rowLen, y, seed))
		assert.Equal(t, wantX, x, "n=%d rowLen=%d", tc.n, tc.rowLen)
		assert.Equal(t, wantY, y)
	}
}

func TestShuffleErrors(t *testing.T) {
	x := make([]float64, 6)
	assert.NoError(t, Shuffle(x, 3, nil, 1), "labels are optional")
	assert.ErrorContains(t, Shuffle(x, 4, nil, 1), "whole number of rows")
	assert.ErrorContains(t, Shuffle(x, 0, nil, 1), "whole number of rows")
	assert.ErrorContains(t, Shuffle(x, 3, []int{1, 2, 3}, 1), "2 rows but 3 labels")
}

func TestBatches(t *testing.T) {
	tests := []struct {
		name    string
		n, size int
		want    [][2]int
		wantErr bool
	}{
		{"exact", 6, 3, [][2]int{{0, 3}, {3, 6}}, false},
		{"partial last", 7, 3, [][2]int{{0, 3}, {3, 6}, {6, 7}}, false},
		{"one batch", 2, 128, [][2]int{{0, 2}}, false},
		{"size one", 3, 1, [][2]int{{0, 1}, {1, 2}, {2, 3}}, false},
		{"empty", 0, 4, [][2]int{}, false},
		{"zero size", 4, 0, nil, true},
		{"negative n", -1, 4, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Batches(tc.n, tc.size)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestGather(t *testing.T) {
	x := []float64{0, 1, 10, 11, 20, 21}
	tests := []struct {
		name    string
		rowLen  int
		idx     []int
		want    []float64
		wantErr string
	}{
		{"rows", 2, []int{2, 0}, []float64{20, 21, 0, 1}, ""},
		{"repeat", 2, []int{1, 1}, []float64{10, 11, 10, 11}, ""},
		{"none", 2, nil, []float64{}, ""},
		{"scalars", 1, []int{5, 0}, []float64{21, 0}, ""},
		{"out of range", 2, []int{0, 3}, nil, "index 3 at position 1"},
		{"negative", 2, []int{-1}, nil, "index -1"},
		{"ragged", 4, []int{0}, nil, "whole number of rows"},
		{"zero row length", 0, []int{0}, nil, "row length 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Gather(x, tc.rowLen, tc.idx)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	labels, err := Gather([]int{4, 5, 6}, 1, []int{2, 0})
	require.NoError(t, err)
	assert.Equal(t, []int{6, 4}, labels)
	assert.ErrorContains(t, GatherTo(make([]float64, 3), x, 2, []int{0}), "dst has length 3")
}

func TestShapes(t *testing.T) {
	assert.Equal(t, []int{5, 784}, FlatShape(5))
	assert.Equal(t, []int{5, 28, 28, 1}, NHWCShape(5))
}

func BenchmarkGatherBatch(b *testing.B) {
	const n, batch = 60000, 128
	x := make([]float64, n*ImageSize)
	idx := Permutation(n, 1)[:batch]
	dst := make([]float64, batch*ImageSize)
	b.SetBytes(int64(len(dst) * 8))
	b.ReportAllocs()
	for b.Loop() {
		if err := GatherTo(dst, x, ImageSize, idx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkShuffle(b *testing.B) {
	const n = 60000
	x := make([]float64, n*ImageSize)
	y := make([]int, n)
	b.ReportAllocs()
	for b.Loop() {
		if err := Shuffle(x, ImageSize, y, 3); err != nil {
			b.Fatal(err)
		}
	}
}

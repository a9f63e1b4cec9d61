package datasets

import (
	"fmt"
	"math/rand/v2"
)

// permStream is the PCG stream constant paired with the caller's seed; fixing it makes a
// seed name one permutation for good.
const permStream = 0x6d6e6973745f7065 // "mnist_pe"

// OneHot returns labels as a row-major [len(labels), classes] matrix with a 1 in column
// labels[i] of row i and 0 elsewhere. A label outside [0, classes) or classes <= 0 is an error.
func OneHot(labels []int, classes int) ([]float64, error) {
	if classes <= 0 {
		return nil, fmt.Errorf("datasets: one-hot: %d classes, want > 0", classes)
	}
	dst := make([]float64, len(labels)*classes)
	if err := OneHotTo(dst, labels, classes); err != nil {
		return nil, err
	}
	return dst, nil
}

// OneHotTo writes the one-hot encoding of labels into dst, which must have length
// len(labels)*classes; every element of dst is written. Errors as [OneHot]; on error dst may
// be partly written.
func OneHotTo(dst []float64, labels []int, classes int) error {
	if classes <= 0 {
		return fmt.Errorf("datasets: one-hot: %d classes, want > 0", classes)
	}
	if len(dst) != len(labels)*classes {
		return fmt.Errorf("datasets: one-hot: dst has length %d, want %d×%d", len(dst), len(labels), classes)
	}
	clear(dst)
	for i, l := range labels {
		if l < 0 || l >= classes {
			return fmt.Errorf("datasets: one-hot: label %d at index %d, want 0..%d", l, i, classes-1)
		}
		dst[i*classes+l] = 1
	}
	return nil
}

// SmallVsLarge returns binary targets for telling small digits from large ones: 1 where the
// label is 5 or more (5..9), 0 where it is less (0..4).
func SmallVsLarge(labels []int) []float64 {
	y := make([]float64, len(labels))
	for i, l := range labels {
		if l >= 5 {
			y[i] = 1
		}
	}
	return y
}

// Permutation returns a pseudo-random permutation of 0..n-1 determined by seed (a PCG
// generator from math/rand/v2; not for cryptographic use). n <= 0 gives an empty permutation.
// Row k of Gather(x, rowLen, Permutation(n, seed)) is row Permutation(n, seed)[k] of x.
func Permutation(n int, seed uint64) []int {
	if n <= 0 {
		return []int{}
	}
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	rand.New(rand.NewPCG(seed, permStream)).Shuffle(n, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

// Shuffle reorders the rows of x (row length rowLen) and the entries of y in place, keeping
// them paired, into the order Permutation(n, seed) gives: afterwards row k holds what row
// Permutation(n, seed)[k] held. y may be nil; otherwise len(x) must be len(y)*rowLen.
func Shuffle(x []float64, rowLen int, y []int, seed uint64) error {
	if rowLen <= 0 || len(x)%rowLen != 0 {
		return fmt.Errorf("datasets: shuffle: length %d is not a whole number of rows of %d", len(x), rowLen)
	}
	n := len(x) / rowLen
	if y != nil && len(y) != n {
		return fmt.Errorf("datasets: shuffle: %d rows but %d labels", n, len(y))
	}
	if n == 0 {
		return nil
	}
	tmp := make([]float64, rowLen)
	rand.New(rand.NewPCG(seed, permStream)).Shuffle(n, func(i, j int) {
		ri, rj := x[i*rowLen:(i+1)*rowLen], x[j*rowLen:(j+1)*rowLen]
		copy(tmp, ri)
		copy(ri, rj)
		copy(rj, tmp)
		if y != nil {
			y[i], y[j] = y[j], y[i]
		}
	})
	return nil
}

// Batches cuts [0, n) into consecutive [start, end) ranges of batchSize elements; the last
// range is shorter when batchSize does not divide n. n == 0 gives no batches. A negative n or
// a batchSize <= 0 is an error.
func Batches(n, batchSize int) ([][2]int, error) {
	if n < 0 {
		return nil, fmt.Errorf("datasets: batches: n = %d, want >= 0", n)
	}
	if batchSize <= 0 {
		return nil, fmt.Errorf("datasets: batches: batch size %d, want > 0", batchSize)
	}
	out := make([][2]int, 0, (n+batchSize-1)/batchSize)
	for start := 0; start < n; start += batchSize {
		out = append(out, [2]int{start, min(start+batchSize, n)})
	}
	return out, nil
}

// Gather returns the rows of x (row length rowLen) named by idx, in that order, as a new flat
// row-major [len(idx), rowLen] slice. Labels gather with rowLen 1. An index outside the rows
// of x, or a length of x that is not a whole number of rows, is an error.
func Gather[T any](x []T, rowLen int, idx []int) ([]T, error) {
	if rowLen <= 0 {
		return nil, fmt.Errorf("datasets: gather: row length %d, want > 0", rowLen)
	}
	dst := make([]T, len(idx)*rowLen)
	if err := GatherTo(dst, x, rowLen, idx); err != nil {
		return nil, err
	}
	return dst, nil
}

// GatherTo writes the rows of x named by idx into dst, which must have length
// len(idx)*rowLen and must not overlap x. Errors as [Gather]; on error dst may be partly
// written.
func GatherTo[T any](dst, x []T, rowLen int, idx []int) error {
	if rowLen <= 0 || len(x)%rowLen != 0 {
		return fmt.Errorf("datasets: gather: length %d is not a whole number of rows of %d", len(x), rowLen)
	}
	if len(dst) != len(idx)*rowLen {
		return fmt.Errorf("datasets: gather: dst has length %d, want %d×%d", len(dst), len(idx), rowLen)
	}
	n := len(x) / rowLen
	for k, i := range idx {
		if i < 0 || i >= n {
			return fmt.Errorf("datasets: gather: index %d at position %d, want 0..%d", i, k, n-1)
		}
		copy(dst[k*rowLen:(k+1)*rowLen], x[i*rowLen:(i+1)*rowLen])
	}
	return nil
}

package ring

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// matMulShapes are the products every kernel is checked on: edges of the 8×24 register tile,
// k = 1, depths and widths past one packed panel, and the shapes of an MNIST network.
var matMulShapes = [][3]int{
	{1, 1, 1}, {1, 1, 8}, {1, 3, 9}, {2, 1, 1}, {3, 5, 7}, {8, 1, 24}, {7, 3, 23}, {9, 2, 25},
	{8, 8, 8}, {16, 17, 48}, {17, 4, 49}, {5, 1000, 3}, {1000, 1, 1}, {1, 1, 1000},
	{33, 300, 70}, {20, 600, 300}, {65, 257, 263}, {127, 129, 131},
	{128, 784, 128}, {128, 784, 10}, {1, 784, 128}, {784, 128, 128}, {128, 10, 128},
	{17, 70, 530}, {9, 300, 1000}, {40, 3, 777}, {13, 5, 50}, {12, 40, 600}, {3, 7, 31},
	// One-row tiles of the wide kernels: full and masked last vectors, tails of every width.
	{1, 5, 121}, {1, 9, 127}, {1, 3, 57}, {1, 2, 64}, {1, 300, 200}, {1, 600, 300}, {1, 7, 500},
	{9, 5, 121}, {11, 260, 185}, {1, 4, 120}, {1, 4, 56}, {1, 3, 129},
}

func randSlice(r *rand.Rand, n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = r.Uint64()
	}
	return s
}

// matMulImpls lists the kernels this machine can run.
func matMulImpls() []bool {
	if hasAVX512 {
		return []bool{false, true}
	}
	return []bool{false}
}

func implName(asm bool) string {
	if asm {
		return "avx512"
	}
	return "generic"
}

func TestMatMulAddToMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range matMulShapes {
		m, k, n := s[0], s[1], s[2]
		a, b, init := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
		want := make([]uint64, m*n)
		MatMulRef(want, a, b, m, k, n)
		AddTo(want, want, init)
		for _, asm := range matMulImpls() {
			for _, workers := range []int{1, 2, 3} {
				for _, split := range []int{splitAuto, splitRows, splitCols} {
					if workers == 1 && split != splitAuto {
						continue
					}
					name := fmt.Sprintf("%dx%dx%d/%s/w%d/s%d", m, k, n, implName(asm), workers, split)
					t.Run(name, func(t *testing.T) {
						got := append([]uint64(nil), init...)
						matMulAdd(got, a, b, m, k, n, asm, workers, split)
						require.Equal(t, want, got)
					})
				}
			}
		}
	}
}

func TestMatMulAddToPublic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{3, 5, 7}, {127, 129, 131}} {
		m, k, n := s[0], s[1], s[2]
		a, b, init := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
		for _, asm := range matMulImpls() {
			t.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, implName(asm)), func(t *testing.T) {
				defer func(old bool) { useAVX512 = old }(useAVX512)
				useAVX512 = asm
				want := make([]uint64, m*n)
				MatMulRef(want, a, b, m, k, n)
				got := append([]uint64(nil), init...)
				MatMulTo(got, a, b, m, k, n)
				require.Equal(t, want, got)
				AddTo(want, want, init)
				got = append(got[:0], init...)
				MatMulAddTo(got, a, b, m, k, n)
				require.Equal(t, want, got)
			})
		}
	}
}

// TestMatMulAddToConcurrent runs products from several goroutines at once, as three parties
// in one process do, so that the helper hand-off is exercised under contention.
func TestMatMulAddToConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const m, k, n = 64, 150, 72
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	want := make([]uint64, m*n)
	MatMulRef(want, a, b, m, k, n)
	var wg sync.WaitGroup
	errs := make(chan string, 3)
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make([]uint64, m*n)
			for it := range 30 {
				clear(got)
				matMulAdd(got, a, b, m, k, n, useAVX512, 2+g, splitAuto)
				if !slices.Equal(want, got) {
					errs <- fmt.Sprintf("goroutine %d, iteration %d: wrong product", g, it)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestMatMulAddToEmpty(t *testing.T) {
	dst := []uint64{7}
	MatMulAddTo(dst, nil, nil, 1, 0, 1)
	MatMulAddTo(nil, nil, nil, 0, 5, 3)
	require.Equal(t, []uint64{7}, dst)
}

// TestMatMulAddToBounds runs the kernels on slices with no spare capacity so that a read or
// write past the end of an operand faults instead of going unnoticed.
func TestMatMulAddToBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][3]int{{1, 1, 1}, {9, 3, 5}, {13, 7, 30}, {1, 300, 17}} {
		m, k, n := s[0], s[1], s[2]
		a, b := randSlice(r, m*k)[:m*k:m*k], randSlice(r, k*n)[:k*n:k*n]
		want := make([]uint64, m*n)
		MatMulRef(want, a, b, m, k, n)
		for _, asm := range matMulImpls() {
			got := make([]uint64, m*n)
			matMulAdd(got, a, b, m, k, n, asm, 1, splitAuto)
			require.Equal(t, want, got, "%v %s", s, implName(asm))
		}
	}
}

func TestMatMulAddToAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count is noisy under -short runs of the race detector")
	}
	m, k, n := 128, 200, 128
	a, b, dst := make([]uint64, m*k), make([]uint64, k*n), make([]uint64, m*n)
	MatMulAddTo(dst, a, b, m, k, n) // warm the pools and start the helpers
	allocs := testing.AllocsPerRun(20, func() { MatMulAddTo(dst, a, b, m, k, n) })
	require.Zero(t, allocs)
}

func TestMatMulTensors(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	a, b := randTensor(r, 3, 4), randTensor(r, 4, 5)
	c, err := MatMul(a, b)
	require.NoError(t, err)
	want := make([]uint64, 15)
	MatMulRef(want, a.Data, b.Data, 3, 4, 5)
	require.Equal(t, []int{3, 5}, c.Shape)
	require.Equal(t, want, c.Data)

	ba, bb := randTensor(r, 2, 3, 4), randTensor(r, 2, 4, 5)
	bc, err := MatMul(ba, bb)
	require.NoError(t, err)
	require.Equal(t, []int{2, 3, 5}, bc.Shape)
	for i := range 2 {
		MatMulRef(want, ba.Data[i*12:], bb.Data[i*20:], 3, 4, 5)
		require.Equal(t, want, bc.Data[i*15:(i+1)*15])
	}

	for _, c := range []struct{ a, b *Tensor }{
		{a, a},
		{a, MustNew(4)},
		{ba, MustNew(3, 4, 5)},
		{ba, b},
		{nil, b},
		{a, &Tensor{Shape: []int{4, 5}, Data: make([]uint64, 19)}},
	} {
		_, err := MatMul(c.a, c.b)
		require.ErrorIs(t, err, ErrShape)
	}
}

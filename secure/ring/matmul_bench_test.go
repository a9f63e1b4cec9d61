package ring

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShapes are square products and the thin shapes of an MNIST network with batch 128:
// forward X·W, the output layer, one-sample prediction, the weight gradient Xᵀ·dY and a
// narrow hidden layer's dY·Wᵀ.
var benchShapes = [][3]int{
	{128, 784, 128}, {256, 256, 256}, {1024, 1024, 1024},
	{128, 784, 10}, {1, 784, 128}, {784, 128, 128}, {128, 10, 128},
}

// BenchmarkMatMul measures MatMulAddTo in multiply-adds per second. Run it with -cpu 1,2 to
// compare one core with two; sub-benchmarks "generic" force the portable kernel.
func BenchmarkMatMul(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, s := range benchShapes {
		m, k, n := s[0], s[1], s[2]
		x, y, dst := randSlice(r, m*k), randSlice(r, k*n), make([]uint64, m*n)
		for _, asm := range matMulImpls() {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, implName(asm)), func(b *testing.B) {
				if !asm && m*k*n > 1<<28 && testing.Short() {
					b.Skip("slow portable kernel on a large product")
				}
				defer func(old bool) { useAVX512 = old }(useAVX512)
				useAVX512 = asm
				b.ReportAllocs()
				for b.Loop() {
					MatMulAddTo(dst, x, y, m, k, n)
				}
				b.ReportMetric(float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}

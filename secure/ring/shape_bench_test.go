package ring

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkTransposeTo measures the blocked transpose on the shapes of backpropagation
// (a batch of MNIST images, a weight matrix) in bytes moved per second.
func BenchmarkTransposeTo(b *testing.B) {
	r := rand.New(rand.NewPCG(40, 41))
	for _, s := range [][2]int{{128, 784}, {784, 128}, {1024, 1024}, {128, 10}} {
		m, n := s[0], s[1]
		a, dst := randSlice(r, m*n), make([]uint64, m*n)
		b.Run(fmt.Sprintf("%dx%d", m, n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(16 * m * n))
			for b.Loop() {
				TransposeTo(dst, a, m, n)
			}
		})
	}
}

// BenchmarkIm2ColTo measures patch extraction for a LeNet-style first and second layer on a
// batch of 128.
func BenchmarkIm2ColTo(b *testing.B) {
	r := rand.New(rand.NewPCG(42, 43))
	for _, c := range []struct {
		name                    string
		n, h, w, ch, kh, kw, st int
		same                    bool
	}{
		{"28x28x1/k5/same", 128, 28, 28, 1, 5, 5, 1, true},
		{"14x14x16/k3/valid", 128, 14, 14, 16, 3, 3, 1, false},
	} {
		g, err := NewConvGeom(c.n, c.h, c.w, c.ch, c.kh, c.kw, c.st, c.st, c.same)
		if err != nil {
			b.Fatal(err)
		}
		x := randSlice(r, c.n*c.h*c.w*c.ch)
		cols := make([]uint64, g.Rows()*g.Cols())
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(8 * len(cols)))
			for b.Loop() {
				Im2ColTo(cols, x, g)
			}
		})
		b.Run(c.name+"/col2im", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(8 * len(cols)))
			for b.Loop() {
				Col2ImTo(x, cols, g)
			}
		})
	}
}

//go:build !amd64 || purego

package ring

// hasAVX512 is false where the assembly kernels are not built.
const hasAVX512 = false

// matMulAddAVX512 is never called when hasAVX512 is false.
func matMulAddAVX512(dst, a, b []uint64, k, n, i0, i1, j0, j1 int) {
	panic("ring: AVX-512 kernel not built")
}

// packsB is never true where the assembly kernels are not built.
func packsB(m, n int) bool { return false }

// asmMR and asmNR give the tile the work split aligns to.
const (
	asmMR = 8
	asmNR = 24
	asmKC = 256
	asmNC = 256
)

//go:build amd64 && !purego

package ring

import "golang.org/x/sys/cpu"

//go:generate go run matmul_asm_gen.go

// hasAVX512 reports whether the AVX-512 kernels can run: VPMULLQ needs AVX512DQ on top of
// AVX512F (x/sys/cpu also checks that the OS saves the ZMM and mask registers).
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// The micro-kernels of matmul_amd64.s. mmKernelRxW adds the R×W tile
//
//	for r := 0; r < R; r++ {
//		for j := 0; j < W; j++ {
//			if j < W-8 || mask>>(j-(W-8))&1 == 1 {
//				for p := 0; p < kc; p++ {
//					c[r*ldc+j] += a[r*lda+p] * b[p*ldb+j]
//				}
//			}
//		}
//	}
//
// for R = 1, 2, 4, 8 rows and W = 8, 16, 24 columns (one, two or three vectors of eight
// lanes; mask selects the live lanes of the last vector). Strides are in elements and kc >= 1.
// Masked-off lanes of b and c are neither read nor written, so a tile may end at the last
// element of its slice.
//
//go:noescape
func mmKernel8x24(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

//go:noescape
func mmKernel8x16(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

//go:noescape
func mmKernel8x8(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

//go:noescape
func mmKernel4x24(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

//go:noescape
func mmKernel4x16(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

//go:noescape
func mmKernel4x8(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

//go:noescape
func mmKernel2x24(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

//go:noescape
func mmKernel2x16(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

//go:noescape
func mmKernel2x8(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

//go:noescape
func mmKernel1x24(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

//go:noescape
func mmKernel1x16(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

//go:noescape
func mmKernel1x8(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

// mmKernel1x128 and mmKernel1x64 are the wide one-row kernels: the same sum for R = 1 and
// W = 128 or 64, each depth step reading a contiguous run of a row of b.
//
//go:noescape
func mmKernel1x128(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

//go:noescape
func mmKernel1x64(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

// asmKernel is the signature shared by the micro-kernels.
type asmKernel func(kc int, a *uint64, lda int, b *uint64, ldb int, c *uint64, ldc int, mask uint64)

// asmKernels[log2(R)][nv-1] is the R×(8·nv) micro-kernel.
var asmKernels = [4][3]asmKernel{
	{mmKernel1x8, mmKernel1x16, mmKernel1x24},
	{mmKernel2x8, mmKernel2x16, mmKernel2x24},
	{mmKernel4x8, mmKernel4x16, mmKernel4x24},
	{mmKernel8x8, mmKernel8x16, mmKernel8x24},
}

// Blocking of the AVX-512 path (BLIS-style): a kc×nc panel of b is packed into 24-column
// slivers that stay in L2; an 8×kc sliver of a stays in L1 while the kernel sweeps the
// panel's slivers; the 8×24 tile of dst lives in 24 ZMM registers for the whole depth loop.
const (
	asmMR = 8   // rows of the register tile
	asmNR = 24  // columns of the register tile
	asmKC = 256 // depth of a packed panel
	asmNC = 256 // columns of a packed panel
)

// packsB reports whether the AVX-512 path packs b for a block of m rows of a product with n
// columns. Packing pays only when b's rows are long (n >= 512: a stride of 4 KiB or more sends
// a sliver's rows to few cache sets) and the panel serves more than one row tile; on
// shorter rows the kernels read b in place as fast as from a packed copy, and packing would
// cost about a tenth of the product.
func packsB(m, n int) bool { return m > asmMR && n >= 512 }

// matMulAddAVX512 adds a[i0:i1, :]·b[:, j0:j1] into dst[i0:i1, j0:j1] with the AVX-512
// kernels. a is m×k, b is k×n and dst m×n, row-major.
func matMulAddAVX512(dst, a, b []uint64, k, n, i0, i1, j0, j1 int) {
	pack := packsB(i1-i0, n) && j1-j0 > asmNR
	kc := ceilDiv(k, ceilDiv(k, asmKC))
	nc := roundUp(ceilDiv(j1-j0, ceilDiv(j1-j0, asmNC)), 8)
	var buf *[]uint64
	var panel []uint64
	if pack {
		buf = getPanel()
		panel = *buf
	}
	for jc := j0; jc < j1; jc += nc {
		jcEnd := min(jc+nc, j1)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			if pack {
				packPanel(panel, b, n, pc, kb, jc, jcEnd)
			}
			for i := i0; i < i1; {
				// Eight-row tiles, then at most one tile each of 4, 2 and 1 rows.
				lg := 3
				for i+1<<lg > i1 {
					lg--
				}
				ap := &a[i*k+pc]
				off := 0
				if lg == 0 && !pack {
					// One row: wide slivers that read b's rows in long runs.
					for jj, w := jc, 0; jj < jcEnd; jj += w {
						w = rowSliverWidth(jcEnd - jj)
						nv := (w + 7) / 8
						mask := uint64(1)<<(w-8*(nv-1)) - 1
						rowKernel(nv)(kb, ap, k, &b[pc*n+jj], n, &dst[i*n+jj], n, mask)
					}
					i++
					continue
				}
				for jj, w := jc, 0; jj < jcEnd; jj += w {
					w = sliverWidth(jcEnd - jj)
					nv := (w + 7) / 8
					mask := uint64(1)<<(w-8*(nv-1)) - 1
					bp, ldb := &b[pc*n+jj], n
					if pack {
						bp, ldb = &panel[off], 8*nv
						off += kb * 8 * nv
					}
					asmKernels[lg][nv-1](kb, ap, k, bp, ldb, &dst[i*n+jj], n, mask)
				}
				i += 1 << lg
			}
		}
	}
	if pack {
		putPanel(buf)
	}
}

// rowSliverWidth returns the width of the next column sliver of a one-row tile when rem
// columns are left: 128 (121 to 128 at the end) and 64 (57 to 64) while they last, so that
// the wide kernels run with their every vector live, then as sliverWidth says.
func rowSliverWidth(rem int) int {
	switch {
	case rem > 120:
		return min(rem, 128)
	case rem > 56:
		return min(rem, 64)
	}
	return sliverWidth(rem)
}

// rowKernel returns the one-row kernel for nv vectors of columns: the wide kernels for 16
// and 8, the narrow ones for 1 to 3.
func rowKernel(nv int) asmKernel {
	switch nv {
	case 16:
		return mmKernel1x128
	case 8:
		return mmKernel1x64
	}
	return asmKernels[0][nv-1]
}

// sliverWidth returns the width of the next column sliver when rem columns are left: 24,
// except that a tail of 25 to 32 columns goes as 16 and 9 to 16, since the one-vector kernel
// is much slower per multiply than the two- and three-vector ones.
func sliverWidth(rem int) int {
	if rem > asmNR && rem <= asmNR+8 {
		return 16
	}
	return min(asmNR, rem)
}

// packPanel copies b[pc:pc+kb, jc:jcEnd] into panel as consecutive slivers of the widths
// sliverWidth gives, each kb rows of 8, 16 or 24 contiguous elements (zero-padded).
func packPanel(panel, b []uint64, n, pc, kb, jc, jcEnd int) {
	off := 0
	for jj, w := jc, 0; jj < jcEnd; jj += w {
		w = sliverWidth(jcEnd - jj)
		if w == asmNR {
			for p := range kb {
				src := b[(pc+p)*n+jj:]
				*(*[asmNR]uint64)(panel[off+p*asmNR:]) = *(*[asmNR]uint64)(src)
			}
			off += kb * asmNR
			continue
		}
		ld := roundUp(w, 8)
		for p := range kb {
			d := panel[off+p*ld : off+(p+1)*ld]
			copy(d, b[(pc+p)*n+jj:(pc+p)*n+jj+w])
			clear(d[w:])
		}
		off += kb * ld
	}
}

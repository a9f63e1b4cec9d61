package ring

import (
	"fmt"
	"runtime"
	"sync"
)

// MatMulTo sets dst = a·b where a is m×k, b is k×n and dst is m×n, all row-major, mod 2^64.
// dst must not alias a or b.
func MatMulTo(dst, a, b []uint64, m, k, n int) {
	clear(dst[:m*n])
	MatMulAddTo(dst, a, b, m, k, n)
}

// MatMulAddTo sets dst += a·b (shapes as for [MatMulTo]). It equals the reference loop
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			for p := 0; p < k; p++ {
//				dst[i*n+j] += a[i*k+p] * b[p*n+j]
//			}
//		}
//	}
//
// computed by a cache-blocked kernel split across the machine's cores for large products.
func MatMulAddTo(dst, a, b []uint64, m, k, n int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	_, _, _ = dst[m*n-1], a[m*k-1], b[k*n-1]
	work := m * k * n
	workers := runtime.GOMAXPROCS(0)
	if workers > m {
		workers = m
	}
	if work < 1<<16 || workers <= 1 {
		matMulAddRows(dst, a, b, 0, m, k, n)
		return
	}
	// Split rows of the output among workers; each keeps a private stripe of dst.
	var wg sync.WaitGroup
	chunk := (m + workers - 1) / workers
	for lo := 0; lo < m; lo += chunk {
		hi := min(lo+chunk, m)
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			matMulAddRows(dst, a, b, lo, hi, k, n)
		}(lo, hi)
	}
	wg.Wait()
}

// Block sizes of the portable kernel: a kc×nc panel of b stays in L2 while rows stream by.
const (
	blockK = 256
	blockN = 512
)

// matMulAddRows computes rows [lo, hi) of dst += a·b.
func matMulAddRows(dst, a, b []uint64, lo, hi, k, n int) {
	for p0 := 0; p0 < k; p0 += blockK {
		p1 := min(p0+blockK, k)
		for j0 := 0; j0 < n; j0 += blockN {
			j1 := min(j0+blockN, n)
			i := lo
			for ; i+4 <= hi; i += 4 {
				kernel4(dst, a, b, i, p0, p1, j0, j1, k, n)
			}
			for ; i < hi; i++ {
				d := dst[i*n+j0 : i*n+j1]
				for p := p0; p < p1; p++ {
					av := a[i*k+p]
					bp := b[p*n+j0 : p*n+j1]
					for j := range d {
						d[j] += av * bp[j]
					}
				}
			}
		}
	}
}

// kernel4 updates four rows of dst over the column block [j0, j1) and depth block [p0, p1),
// two depth steps at a time so each loaded b element feeds four rows.
func kernel4(dst, a, b []uint64, i, p0, p1, j0, j1, k, n int) {
	w := j1 - j0
	d0 := dst[i*n+j0 : i*n+j0+w]
	d1 := dst[(i+1)*n+j0 : (i+1)*n+j0+w]
	d2 := dst[(i+2)*n+j0 : (i+2)*n+j0+w]
	d3 := dst[(i+3)*n+j0 : (i+3)*n+j0+w]
	p := p0
	for ; p+2 <= p1; p += 2 {
		a00, a01 := a[i*k+p], a[i*k+p+1]
		a10, a11 := a[(i+1)*k+p], a[(i+1)*k+p+1]
		a20, a21 := a[(i+2)*k+p], a[(i+2)*k+p+1]
		a30, a31 := a[(i+3)*k+p], a[(i+3)*k+p+1]
		b0 := b[p*n+j0 : p*n+j0+w]
		b1 := b[(p+1)*n+j0 : (p+1)*n+j0+w]
		for j := range d0 {
			x, y := b0[j], b1[j]
			d0[j] += a00*x + a01*y
			d1[j] += a10*x + a11*y
			d2[j] += a20*x + a21*y
			d3[j] += a30*x + a31*y
		}
	}
	for ; p < p1; p++ {
		a0, a1, a2, a3 := a[i*k+p], a[(i+1)*k+p], a[(i+2)*k+p], a[(i+3)*k+p]
		bp := b[p*n+j0 : p*n+j0+w]
		for j := range d0 {
			x := bp[j]
			d0[j] += a0 * x
			d1[j] += a1 * x
			d2[j] += a2 * x
			d3[j] += a3 * x
		}
	}
}

// MatMulRef is the naive triple loop, kept as the reference the fast kernels are tested against.
func MatMulRef(dst, a, b []uint64, m, k, n int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s uint64
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[p*n+j]
			}
			dst[i*n+j] = s
		}
	}
}

// MatMul returns a·b for 2-D tensors a (m×k) and b (k×n), or batched over a leading axis
// when both are 3-D (B×m×k and B×k×n).
func MatMul(a, b *Tensor) (*Tensor, error) {
	switch {
	case len(a.Shape) == 2 && len(b.Shape) == 2:
		m, k, n := a.Shape[0], a.Shape[1], b.Shape[1]
		if b.Shape[0] != k {
			return nil, fmt.Errorf("matmul: %v · %v: inner dimensions differ: %w", a.Shape, b.Shape, ErrShape)
		}
		out := &Tensor{Shape: []int{m, n}, Data: make([]uint64, m*n)}
		MatMulTo(out.Data, a.Data, b.Data, m, k, n)
		return out, nil
	case len(a.Shape) == 3 && len(b.Shape) == 3:
		bs, m, k, n := a.Shape[0], a.Shape[1], a.Shape[2], b.Shape[2]
		if b.Shape[0] != bs || b.Shape[1] != k {
			return nil, fmt.Errorf("matmul: batched %v · %v: %w", a.Shape, b.Shape, ErrShape)
		}
		out := &Tensor{Shape: []int{bs, m, n}, Data: make([]uint64, bs*m*n)}
		for i := 0; i < bs; i++ {
			MatMulTo(out.Data[i*m*n:(i+1)*m*n], a.Data[i*m*k:(i+1)*m*k], b.Data[i*k*n:(i+1)*k*n], m, k, n)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("matmul: want 2-D·2-D or 3-D·3-D, got %v · %v: %w", a.Shape, b.Shape, ErrShape)
	}
}

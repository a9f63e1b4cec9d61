package ring

// Block sizes of the portable kernel: a kc×nc panel of b stays in L2 while rows stream by.
const (
	blockK = 256
	blockN = 512
)

// matMulAddGeneric adds a[i0:i1, :]·b[:, j0:j1] into dst[i0:i1, j0:j1] in pure Go; it is the
// kernel where the assembly ones are not available. a is m×k, b is k×n and dst m×n.
func matMulAddGeneric(dst, a, b []uint64, k, n, i0, i1, j0, j1 int) {
	for p0 := 0; p0 < k; p0 += blockK {
		p1 := min(p0+blockK, k)
		for c0 := j0; c0 < j1; c0 += blockN {
			c1 := min(c0+blockN, j1)
			i := i0
			for ; i+4 <= i1; i += 4 {
				kernel4(dst, a, b, i, p0, p1, c0, c1, k, n)
			}
			for ; i < i1; i++ {
				d := dst[i*n+c0 : i*n+c1]
				for p := p0; p < p1; p++ {
					av := a[i*k+p]
					bp := b[p*n+c0 : p*n+c1]
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

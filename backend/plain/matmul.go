package plain

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/gotfe/gotfe/backend"
)

// MatMul returns op(a)·op(b) for matrices or pairwise for rank-3 stacks of matrices, with gonum's
// Dgemm. It equals the reference loop
//
//	for i, j: c[i][j] = sum over l of opA[i][l] * opB[l][j]
func (b *Backend) MatMul(x, y backend.Tensor, transA, transB bool) (backend.Tensor, error) {
	p, err := get("MatMul", x)
	if err != nil {
		return nil, err
	}
	q, err := get("MatMul", y)
	if err != nil {
		return nil, err
	}
	r := len(p.shape)
	if (r != 2 && r != 3) || len(q.shape) != r || (r == 3 && p.shape[0] != q.shape[0]) {
		return nil, fmt.Errorf("plain: MatMul: operands %v and %v are not two matrices or two stacks of as many matrices", p.shape, q.shape)
	}
	batch := 1
	if r == 3 {
		batch = p.shape[0]
	}
	ar, ac := p.shape[r-2], p.shape[r-1]
	br, bc := q.shape[r-2], q.shape[r-1]
	m, k := ar, ac
	if transA {
		m, k = ac, ar
	}
	k2, n := br, bc
	if transB {
		k2, n = bc, br
	}
	if k != k2 {
		return nil, fmt.Errorf("plain: MatMul: inner dimensions differ: %v%s · %v%s", p.shape, tmark(transA), q.shape, tmark(transB))
	}
	shape := []int{m, n}
	if r == 3 {
		shape = []int{batch, m, n}
	}
	out := newT(shape)
	if m == 0 || n == 0 || k == 0 {
		return out, nil
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	for i := 0; i < batch; i++ {
		ga := blas64.General{Rows: ar, Cols: ac, Stride: ac, Data: p.data[i*ar*ac : (i+1)*ar*ac]}
		gb := blas64.General{Rows: br, Cols: bc, Stride: bc, Data: q.data[i*br*bc : (i+1)*br*bc]}
		gc := blas64.General{Rows: m, Cols: n, Stride: n, Data: out.data[i*m*n : (i+1)*m*n]}
		blas64.Gemm(ta, tb, 1, ga, gb, 0, gc)
	}
	return out, nil
}

func tmark(t bool) string {
	if t {
		return "ᵀ"
	}
	return ""
}

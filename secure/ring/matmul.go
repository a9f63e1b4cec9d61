package ring

import (
	"fmt"
	"runtime"
	"sync"
)

// useAVX512 selects the assembly kernels; tests switch it off to check the portable path.
var useAVX512 = hasAVX512

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
// exactly (the ring's addition is associative, so the order of the sums does not matter).
// On amd64 with AVX-512 it runs register-blocked assembly kernels; elsewhere a cache-blocked
// Go kernel. Products of more than 2^21 multiply-adds are split across up to GOMAXPROCS
// cores by blocks of rows or of columns. It does not allocate in steady state.
func MatMulAddTo(dst, a, b []uint64, m, k, n int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	_, _, _ = dst[m*n-1], a[m*k-1], b[k*n-1]
	matMulAdd(dst, a, b, m, k, n, useAVX512, runtime.GOMAXPROCS(0), splitAuto)
}

// Ways to split a product among cores.
const (
	splitAuto = iota
	splitRows
	splitCols
)

// Sizes of the parallel split, in multiply-adds. Handing work to a parked helper takes some
// 10 to 70 µs before it runs (the Go scheduler's wake-up), so products below parallelMACs
// (about 40 µs on one core) run on the caller alone. Above it there are up to
// partsPerWorker parts per core, none below partMACs, so that a helper that starts late
// still finds work; from wholeMACs on, one part per core, since each extra part re-reads
// one operand and the start-up delay no longer matters.
const (
	parallelMACs   = 1 << 21
	partMACs       = 1 << 18
	partsPerWorker = 4
	wholeMACs      = 1 << 26
)

// mmJob is one product split into parts: blocks of rows (multiples of asmMR) or of columns
// (multiples of 8).
type mmJob struct {
	dst, a, b []uint64
	m, k, n   int
	asm       bool
	byCols    bool
	units     int // row tiles or 8-column units to share
	parts     int
}

var mmJobs = sync.Pool{New: func() any { return new(mmJob) }}

func (j *mmJob) runPart(i int) {
	lo, hi := i*j.units/j.parts, (i+1)*j.units/j.parts
	i0, i1, j0, j1 := 0, j.m, 0, j.n
	if j.byCols {
		j0, j1 = lo*8, min(hi*8, j.n)
	} else {
		i0, i1 = lo*asmMR, min(hi*asmMR, j.m)
	}
	if i0 >= i1 || j0 >= j1 {
		return
	}
	if j.asm {
		matMulAddAVX512(j.dst, j.a, j.b, j.k, j.n, i0, i1, j0, j1)
	} else {
		matMulAddGeneric(j.dst, j.a, j.b, j.k, j.n, i0, i1, j0, j1)
	}
}

// matMulAdd computes dst += a·b with the chosen kernel on up to workers cores.
func matMulAdd(dst, a, b []uint64, m, k, n int, asm bool, workers, split int) {
	j := mmJobs.Get().(*mmJob)
	*j = mmJob{dst: dst, a: a, b: b, m: m, k: k, n: n, asm: asm, units: ceilDiv(m, asmMR), parts: 1}
	if workers > 1 && m*k*n >= parallelMACs {
		planSplit(j, workers, split)
	}
	runParallel(j, j.parts, workers)
	*j = mmJob{}
	mmJobs.Put(j)
}

// planSplit shares the product among parts of rows or of columns. Row blocks keep the full
// width of the kernels' tiles and are preferred, unless b is packed (each row block would
// pack all of b again) or there are too few rows to go round.
func planSplit(j *mmJob, workers, split int) {
	rowTiles, colUnits := ceilDiv(j.m, asmMR), ceilDiv(j.n, 8)
	macs := j.m * j.k * j.n
	want := max(2, min(workers*partsPerWorker, macs/partMACs))
	if macs >= wholeMACs {
		want = workers
	}
	byCols := rowTiles < want && colUnits > rowTiles
	if j.asm && packsB(j.m, j.n) {
		byCols = true
	}
	switch split {
	case splitRows:
		byCols = false
	case splitCols:
		byCols = true
	}
	j.byCols = byCols
	if byCols {
		j.units = colUnits
	} else {
		j.units = rowTiles
	}
	j.parts = min(want, j.units)
}

// panels holds packing buffers of asmKC×asmNC elements.
var panels = sync.Pool{New: func() any {
	p := make([]uint64, asmKC*asmNC)
	return &p
}}

func getPanel() *[]uint64  { return panels.Get().(*[]uint64) }
func putPanel(p *[]uint64) { panels.Put(p) }

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }

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
	if err := checkTensor("matmul", a); err != nil {
		return nil, err
	}
	if err := checkTensor("matmul", b); err != nil {
		return nil, err
	}
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

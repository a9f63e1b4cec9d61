package ring

import (
	"fmt"
	"slices"
)

// checkTensor returns an error wrapping [ErrShape] unless t is a well-formed tensor: non-nil,
// no negative dimension, and exactly as many elements as its shape holds.
func checkTensor(op string, t *Tensor) error {
	if t == nil {
		return fmt.Errorf("%s: nil tensor: %w", op, ErrShape)
	}
	n, err := NumElements(t.Shape)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", op, err, ErrShape)
	}
	if n != len(t.Data) {
		return fmt.Errorf("%s: %d elements do not fill shape %v: %w", op, len(t.Data), t.Shape, ErrShape)
	}
	return nil
}

// checkAxis returns an error unless 0 <= axis < rank.
func checkAxis(op string, axis int, shape []int) error {
	if axis < 0 || axis >= len(shape) {
		return fmt.Errorf("%s: axis %d out of range for shape %v: %w", op, axis, shape, ErrShape)
	}
	return nil
}

// splitAt returns the products of the dimensions before and after axis.
func splitAt(shape []int, axis int) (outer, inner int) {
	outer, inner = 1, 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	return outer, inner
}

// transposeBlock is the side of the square blocks TransposeTo walks: a 64×64 block of the
// source and one of the destination (64 KiB) stay in L1 and L2 while 8×8 tiles move.
const transposeBlock = 64

// TransposeTo sets dst (n×m) to the transpose of a (m×n), row-major. It equals
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			dst[j*m+i] = a[i*n+j]
//		}
//	}
//
// moving 8×8 tiles (eight source rows read, each destination row written as one cache line)
// within cache-sized blocks. dst must not alias a.
func TransposeTo(dst, a []uint64, m, n int) {
	if m == 0 || n == 0 {
		return
	}
	_, _ = dst[m*n-1], a[m*n-1]
	if m == 1 || n == 1 {
		copy(dst[:m*n], a[:m*n])
		return
	}
	m8, n8 := m&^7, n&^7
	for i0 := 0; i0 < m8; i0 += transposeBlock {
		i1 := min(i0+transposeBlock, m8)
		for j0 := 0; j0 < n8; j0 += transposeBlock {
			j1 := min(j0+transposeBlock, n8)
			for i := i0; i < i1; i += 8 {
				for j := j0; j < j1; j += 8 {
					transpose8(dst, a, m, n, i, j)
				}
			}
		}
	}
	// Edges: the last m%8 rows and n%8 columns.
	for i := 0; i < m; i++ {
		j := n8
		if i >= m8 {
			j = 0
		}
		for ; j < n; j++ {
			dst[j*m+i] = a[i*n+j]
		}
	}
}

// transpose8 moves the 8×8 tile of a at (i, j) to dst at (j, i).
func transpose8(dst, a []uint64, m, n, i, j int) {
	r0 := (*[8]uint64)(a[i*n+j:])
	r1 := (*[8]uint64)(a[(i+1)*n+j:])
	r2 := (*[8]uint64)(a[(i+2)*n+j:])
	r3 := (*[8]uint64)(a[(i+3)*n+j:])
	r4 := (*[8]uint64)(a[(i+4)*n+j:])
	r5 := (*[8]uint64)(a[(i+5)*n+j:])
	r6 := (*[8]uint64)(a[(i+6)*n+j:])
	r7 := (*[8]uint64)(a[(i+7)*n+j:])
	for c := range 8 {
		d := (*[8]uint64)(dst[(j+c)*m+i:])
		d[0], d[1], d[2], d[3] = r0[c], r1[c], r2[c], r3[c]
		d[4], d[5], d[6], d[7] = r4[c], r5[c], r6[c], r7[c]
	}
}

// Transpose returns the transpose of the 2-D tensor t.
func Transpose(t *Tensor) (*Tensor, error) {
	if err := checkTensor("transpose", t); err != nil {
		return nil, err
	}
	if len(t.Shape) != 2 {
		return nil, fmt.Errorf("transpose: want a 2-D tensor, got shape %v: %w", t.Shape, ErrShape)
	}
	m, n := t.Shape[0], t.Shape[1]
	out := &Tensor{Shape: []int{n, m}, Data: make([]uint64, m*n)}
	TransposeTo(out.Data, t.Data, m, n)
	return out, nil
}

// Permute returns t with its axes reordered: axis i of the result is axis perm[i] of t, as
// numpy.transpose and tf.transpose do. perm must be a permutation of 0..rank-1.
func Permute(t *Tensor, perm ...int) (*Tensor, error) {
	if err := checkTensor("permute", t); err != nil {
		return nil, err
	}
	nd := len(t.Shape)
	if len(perm) != nd {
		return nil, fmt.Errorf("permute: %d axes in permutation %v of shape %v: %w", len(perm), perm, t.Shape, ErrShape)
	}
	seen := make([]bool, nd)
	for _, p := range perm {
		if p < 0 || p >= nd || seen[p] {
			return nil, fmt.Errorf("permute: %v is not a permutation of the axes of %v: %w", perm, t.Shape, ErrShape)
		}
		seen[p] = true
	}
	shape := make([]int, nd)
	for i, p := range perm {
		shape[i] = t.Shape[p]
	}
	out := &Tensor{Shape: shape, Data: make([]uint64, len(t.Data))}
	if len(t.Data) > 0 {
		dims, order := mergeAxes(t.Shape, perm)
		permuteTo(out.Data, t.Data, dims, order)
	}
	return out, nil
}

// mergeAxes drops axes of size 1 and fuses runs of axes that stay adjacent and in order under
// perm, so that, for example, NHWC -> NCHW becomes a batch of 2-D transposes. It returns the
// reduced source dimensions and permutation.
func mergeAxes(shape, perm []int) (dims, order []int) {
	// Keep axes of size > 1 and renumber them.
	var keep []int
	for _, p := range perm {
		if shape[p] != 1 {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return []int{1}, []int{0}
	}
	// Runs in the output order whose source axes are consecutive become one axis.
	type run struct{ first, size int }
	var runs []run
	for i, p := range keep {
		if i > 0 && p == keep[i-1]+1 {
			runs[len(runs)-1].size *= shape[p]
			continue
		}
		runs = append(runs, run{p, shape[p]})
	}
	// The source order of the runs is the order of their first axes.
	byFirst := make([]int, len(runs))
	for i := range byFirst {
		byFirst[i] = i
	}
	slices.SortFunc(byFirst, func(x, y int) int { return runs[x].first - runs[y].first })
	dims = make([]int, len(runs))
	order = make([]int, len(runs))
	for src, r := range byFirst {
		dims[src] = runs[r].size
		order[r] = src
	}
	return dims, order
}

// permuteTo writes the permutation order of the row-major src (dimensions dims) to dst.
func permuteTo(dst, src []uint64, dims, order []int) {
	nd := len(dims)
	switch {
	case nd == 1:
		copy(dst, src)
		return
	case nd == 2:
		TransposeTo(dst, src, dims[0], dims[1])
		return
	case order[0] == 0:
		// The outer axis stays outer: permute each slab on its own.
		slab := len(src) / dims[0]
		sub := make([]int, nd-1)
		for i := range sub {
			sub[i] = order[i+1] - 1
		}
		for i := range dims[0] {
			permuteTo(dst[i*slab:(i+1)*slab], src[i*slab:(i+1)*slab], dims[1:], sub)
		}
		return
	}
	// General case: walk the destination in order with an odometer over its outer axes and
	// gather its last axis with the source stride.
	srcStride := make([]int, nd)
	s := 1
	for i := nd - 1; i >= 0; i-- {
		srcStride[i] = s
		s *= dims[i]
	}
	outDims := make([]int, nd)
	stride := make([]int, nd) // source stride of each destination axis
	for i, p := range order {
		outDims[i] = dims[p]
		stride[i] = srcStride[p]
	}
	last, lastStride := outDims[nd-1], stride[nd-1]
	idx := make([]int, nd-1)
	off := 0
	for o := 0; o < len(dst); o += last {
		row := dst[o : o+last]
		if lastStride == 1 {
			copy(row, src[off:off+last])
		} else {
			for j := range row {
				row[j] = src[off+j*lastStride]
			}
		}
		for ax := nd - 2; ax >= 0; ax-- {
			idx[ax]++
			off += stride[ax]
			if idx[ax] < outDims[ax] {
				break
			}
			off -= idx[ax] * stride[ax]
			idx[ax] = 0
		}
	}
}

// Slice returns a copy of t restricted to [start, end) along axis.
func Slice(t *Tensor, axis, start, end int) (*Tensor, error) {
	if err := checkTensor("slice", t); err != nil {
		return nil, err
	}
	if err := checkAxis("slice", axis, t.Shape); err != nil {
		return nil, err
	}
	d := t.Shape[axis]
	if start < 0 || start > end || end > d {
		return nil, fmt.Errorf("slice: range [%d, %d) out of [0, %d) on axis %d of %v: %w", start, end, d, axis, t.Shape, ErrShape)
	}
	outer, inner := splitAt(t.Shape, axis)
	shape := slices.Clone(t.Shape)
	shape[axis] = end - start
	w := (end - start) * inner
	out := &Tensor{Shape: shape, Data: make([]uint64, outer*w)}
	for o := range outer {
		copy(out.Data[o*w:(o+1)*w], t.Data[(o*d+start)*inner:])
	}
	return out, nil
}

// Concat joins tensors along axis. They must have the same rank and agree on every other
// dimension; at least one is needed.
func Concat(axis int, ts ...*Tensor) (*Tensor, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("concat: no tensors: %w", ErrShape)
	}
	for _, t := range ts {
		if err := checkTensor("concat", t); err != nil {
			return nil, err
		}
	}
	first := ts[0].Shape
	if err := checkAxis("concat", axis, first); err != nil {
		return nil, err
	}
	total := 0
	for _, t := range ts {
		ok := len(t.Shape) == len(first)
		for i := 0; ok && i < len(first); i++ {
			ok = i == axis || t.Shape[i] == first[i]
		}
		if !ok {
			return nil, fmt.Errorf("concat: shape %v does not match %v off axis %d: %w", t.Shape, first, axis, ErrShape)
		}
		total += t.Shape[axis]
	}
	outer, inner := splitAt(first, axis)
	shape := slices.Clone(first)
	shape[axis] = total
	out, err := New(shape...)
	if err != nil {
		return nil, fmt.Errorf("concat: %w", err)
	}
	w := total * inner
	at := 0
	for _, t := range ts {
		tw := t.Shape[axis] * inner
		for o := range outer {
			copy(out.Data[o*w+at:o*w+at+tw], t.Data[o*tw:(o+1)*tw])
		}
		at += tw
	}
	return out, nil
}

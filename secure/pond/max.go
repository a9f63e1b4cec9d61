package pond

import (
	"fmt"

	"github.com/gotfe/gotfe/secure/ring"
)

// axisSplit returns the sizes (outer, k, inner) of shape around axis (negative axes count
// from the end).
func axisSplit(op string, shape []int, axis int) (outer, k, inner, ax int, err error) {
	if axis < 0 {
		axis += len(shape)
	}
	if axis < 0 || axis >= len(shape) {
		return 0, 0, 0, 0, fmt.Errorf("pond: %s: axis %d out of range for shape %v: %w", op, axis, shape, ring.ErrShape)
	}
	outer, inner = 1, 1
	for i, d := range shape {
		switch {
		case i < axis:
			outer *= d
		case i > axis:
			inner *= d
		}
	}
	if shape[axis] == 0 {
		return 0, 0, 0, 0, fmt.Errorf("pond: %s: empty axis %d of shape %v: %w", op, axis, shape, ring.ErrShape)
	}
	return outer, shape[axis], inner, axis, nil
}

// dropAxis returns shape without axis.
func dropAxis(shape []int, axis int) []int {
	out := append([]int(nil), shape[:axis]...)
	return append(out, shape[axis+1:]...)
}

// rangeBits returns the bits of word w (positions 64w .. 64w+63) that lie in [lo, hi).
func rangeBits(lo, hi, w int) uint64 {
	lo, hi = max(lo-64*w, 0), min(hi-64*w, 64)
	if lo >= hi {
		return 0
	}
	return (^uint64(0) >> (64 - (hi - lo))) << lo
}

// maxTree computes the maximum along the middle axis of the shares x laid out [outer, k,
// inner] by a tree of comparisons: level L compares candidates 2t and 2t+1 (each the winner of
// 2^L consecutive positions; an odd last candidate waits for the next level) and keeps the
// right one only when it is strictly greater, so the first maximum wins ties. Each level is
// one sign-bit extraction (seven rounds) and one round of bit products: 8·⌈log2 k⌉ rounds.
// With withMask it also tracks, in the same rounds, the one-hot mask of the winning position
// (packed 64 positions per word, ANDed with the level's outcome in the round of the bit
// products) and returns it laid out [outer, k, inner] with the bit in bit 0.
func (p *Party) maxTree(op string, x []uint64, outer, k, inner int, withMask bool) (m, hot []uint64, err error) {
	holds := p.holds()
	groups := outer * inner
	words := (k + 63) / 64
	cand := x // the candidates, [outer, cur, inner]
	cur := k
	var mask []uint64 // [groups, words]: positions still in the running
	if withMask && holds {
		mask = make([]uint64, groups*words)
		if p.id == 0 {
			for g := range groups {
				for w := range words {
					mask[g*words+w] = rangeBits(0, k, w)
				}
			}
		}
	}
	for span := 1; cur > 1; span *= 2 {
		pairs, odd := cur/2, cur%2
		n := outer * pairs * inner
		d, c, err := p.levelBits(op, cand, outer, cur, inner, holds)
		if err != nil {
			return nil, nil, err
		}
		// left + c·(right - left); the masks ANDed with the outcome, in one round.
		r := p.newRound()
		st := p.bitMulSend(r, c, d, nil, n)
		var and *andStep
		if withMask {
			var y []uint64
			if holds {
				y = p.maskUpdate(c, outer, inner, k, cur, span, words)
			}
			and = p.andSend(r, mask, y, groups*words)
		}
		if err := p.exchange(op, r); err != nil {
			return nil, nil, err
		}
		z, _ := st.finish(p, r)
		next := pairs + odd
		var nc []uint64
		if holds {
			nc = make([]uint64, outer*next*inner)
			ring.PairWinnersTo(nc, cand, z, outer, cur, inner)
		}
		if withMask {
			mask = and.finish(p, r)
		}
		cand, cur = nc, next
	}
	if holds {
		m = append([]uint64(nil), cand...)
	}
	if !withMask || !holds {
		return m, nil, nil
	}
	hot = make([]uint64, outer*k*inner)
	for o := range outer {
		for i := range inner {
			g := (o*inner + i) * words
			for pos := range k {
				hot[(o*k+pos)*inner+i] = mask[g+pos/64] >> (pos % 64) & 1
			}
		}
	}
	return m, hot, nil
}

// maskUpdate returns this party's shares of the words the winner masks are ANDed with at one
// level of maxTree: for pair t with right-wins bit c, ¬c on the left candidate's positions, c
// on the right one's, and 1 elsewhere: base ⊕ c·(left ∪ right), where the public base (party
// 0's share) has ones except on right positions. c·bits is linear in c's shares.
func (p *Party) maskUpdate(c []uint64, outer, inner, k, cur, span, words int) []uint64 {
	pairs := cur / 2
	groups := outer * inner
	y := make([]uint64, groups*words)
	type flip struct {
		t, w int
		bits uint64
	}
	var flips []flip
	base := make([]uint64, words)
	for w := range words {
		base[w] = rangeBits(0, k, w)
	}
	for t := range pairs {
		lo, mid, hi := 2*t*span, (2*t+1)*span, min((2*t+2)*span, k)
		for w := lo / 64; w <= (hi-1)/64; w++ {
			flips = append(flips, flip{t, w, rangeBits(lo, hi, w)})
			base[w] &^= rangeBits(mid, hi, w)
		}
	}
	if p.id == 0 {
		for g := range groups {
			copy(y[g*words:(g+1)*words], base)
		}
	}
	for o := range outer {
		for i := range inner {
			g := (o*inner + i) * words
			for _, f := range flips {
				at := (o*pairs+f.t)*inner + i
				y[g+f.w] ^= -(c[at] & 1) & f.bits
			}
		}
	}
	return y
}

// Max returns the maximum of x along axis (the axis is dropped): a tree of comparisons,
// 8·⌈log2 k⌉ rounds for an axis of size k.
func (p *Party) Max(x *Shared, axis int) (*Shared, error) {
	outer, k, inner, ax, err := axisSplit("max", x.shape, axis)
	if err != nil {
		return nil, err
	}
	m, _, err := p.maxTree("max", x.v, outer, k, inner, false)
	if err != nil {
		return nil, err
	}
	return wrapShared(dropAxis(x.shape, ax), outer*inner, m), nil
}

// MaxWithMask returns the maximum of x along axis (dropped) and the one-hot mask of the first
// maximum along that axis, shaped like x (bit 0 of a boolean sharing). Same rounds as
// [Party.Max].
func (p *Party) MaxWithMask(x *Shared, axis int) (*Shared, *BoolShared, error) {
	outer, k, inner, ax, err := axisSplit("max", x.shape, axis)
	if err != nil {
		return nil, nil, err
	}
	m, hot, err := p.maxTree("max", x.v, outer, k, inner, true)
	if err != nil {
		return nil, nil, err
	}
	return wrapShared(dropAxis(x.shape, ax), outer*inner, m),
		&BoolShared{shape: append([]int(nil), x.shape...), n: x.n, v: hot}, nil
}

// ArgMax returns the index of the first maximum of x along axis (dropped), as fixed-point
// integers: the one-hot mask of [Party.MaxWithMask] weighted by the positions, one round more.
func (p *Party) ArgMax(x *Shared, axis int) (*Shared, error) {
	outer, k, inner, ax, err := axisSplit("argmax", x.shape, axis)
	if err != nil {
		return nil, err
	}
	_, hot, err := p.maxTree("argmax", x.v, outer, k, inner, true)
	if err != nil {
		return nil, err
	}
	pos := make([]uint64, x.n)
	for o := range outer {
		for j := range k {
			for i := range inner {
				pos[(o*k+j)*inner+i] = uint64(j) * p.enc.One()
			}
		}
	}
	r := p.newRound()
	st := p.bitMulSend(r, hot, nil, pos, x.n)
	if err := p.exchange("argmax", r); err != nil {
		return nil, err
	}
	z, _ := st.finish(p, r)
	out := p.newShared(dropAxis(x.shape, ax), outer*inner)
	if p.holds() {
		ring.SumAxisTo(out.v, z, outer, k, inner)
	}
	return out, nil
}

// padValue is the encoding the padding positions of a pooling window take: -2^62, below every
// value the comparisons are exact for, so padding never wins.
const padValue = uint64(0xC000000000000000) // -2^62

// poolWindows validates g against x's shape and returns the padding indicator of one image
// and channel: for output position (oh, ow) and window position j, whether the position lies
// in the image.
func poolWindows(op string, shape []int, g ring.ConvGeom) ([]uint64, error) {
	if !ring.SameShape(shape, []int{g.N, g.H, g.W, g.C}) {
		return nil, fmt.Errorf("pond: %s: input %v, geometry wants [%d %d %d %d]: %w", op, shape, g.N, g.H, g.W, g.C, ring.ErrShape)
	}
	one := g
	one.N, one.C = 1, 1
	img, err := ring.FromData(make([]uint64, g.H*g.W), 1, g.H, g.W, 1)
	if err != nil {
		return nil, fmt.Errorf("pond: %s: %w", op, err)
	}
	for i := range img.Data {
		img.Data[i] = 1
	}
	ind, err := ring.Im2Col(img, one)
	if err != nil {
		return nil, fmt.Errorf("pond: %s: %w", op, err)
	}
	k := g.KH * g.KW
	for r := range g.OutH * g.OutW {
		var any uint64
		for j := range k {
			any |= ind.Data[r*k+j]
		}
		if any == 0 {
			return nil, fmt.Errorf("pond: %s: geometry %+v has a window entirely in the padding: %w", op, g, ring.ErrShape)
		}
	}
	if _, err := ring.NumElements([]int{g.N, g.OutH, g.OutW, g.KH, g.KW, g.C}); err != nil {
		return nil, fmt.Errorf("pond: %s: %w", op, err)
	}
	return ind.Data, nil
}

// MaxPool2D takes the maximum of each channel of x [N, H, W, C] over the windows of g and
// returns it [N, OutH, OutW, C], with the route of the gradient for [Party.MaxPool2DBackward]:
// the outcomes of the window's comparisons as ring integers 0 and 1 (see poolTree), which the
// bit products that select the winners give for free. Padding positions never win; the first
// maximum of a window wins ties. 8·⌈log2(KH·KW)⌉ rounds.
func (p *Party) MaxPool2D(x *Shared, g ring.ConvGeom) (out, route *Shared, err error) {
	ind, err := poolWindows("maxpool", x.shape, g)
	if err != nil {
		return nil, nil, err
	}
	rows, cols, k := g.Rows(), g.Cols(), g.KH*g.KW
	var cx []uint64
	if p.holds() {
		cx = make([]uint64, rows*cols)
		ring.Im2ColTo(cx, x.v, g)
		if p.id == 0 {
			per := g.OutH * g.OutW
			for r := range rows {
				w := ind[(r%per)*k : (r%per+1)*k]
				for j, in := range w {
					if in == 0 {
						seg := cx[r*cols+j*g.C : r*cols+(j+1)*g.C]
						for c := range seg {
							seg[c] = padValue
						}
					}
				}
			}
		}
	}
	m, rt, err := p.poolTree("maxpool", cx, rows, k, g.C)
	if err != nil {
		return nil, nil, err
	}
	nr := rows * (k - 1) * g.C
	return wrapShared([]int{g.N, g.OutH, g.OutW, g.C}, rows*g.C, m), wrapShared([]int{nr}, nr, rt), nil
}

// poolLevels returns the number of candidates at each level of a tree of comparisons over k
// positions: k, ⌈k/2⌉, ... down to 2 (none for k = 1).
func poolLevels(k int) []int {
	var levels []int
	for m := k; m > 1; m = (m + 1) / 2 {
		levels = append(levels, m)
	}
	return levels
}

// poolTree computes the maximum along the middle axis of the shares x laid out [outer, k,
// inner] by the tree of maxTree and returns it with the route: every comparison's bit
// c = [left < right] as a ring integer, level by level, each level laid out [outer, pairs,
// inner]: (k-1)·outer·inner values in all (nil on the producer).
func (p *Party) poolTree(op string, x []uint64, outer, k, inner int) (m, route []uint64, err error) {
	holds := p.holds()
	if holds {
		route = make([]uint64, 0, outer*(k-1)*inner)
	}
	cand := x // the candidates, [outer, cur, inner]
	for _, cur := range poolLevels(k) {
		pairs, odd := cur/2, cur%2
		n := outer * pairs * inner
		d, c, err := p.levelBits(op, cand, outer, cur, inner, holds)
		if err != nil {
			return nil, nil, err
		}
		r := p.newRound()
		st := p.bitMulSend(r, c, d, nil, n)
		if err := p.exchange(op, r); err != nil {
			return nil, nil, err
		}
		z, bit := st.finish(p, r)
		next := pairs + odd
		var nc []uint64
		if holds {
			route = append(route, bit...)
			nc = make([]uint64, outer*next*inner)
			ring.PairWinnersTo(nc, cand, z, outer, cur, inner)
		}
		cand = nc
	}
	if holds {
		m = append([]uint64(nil), cand...)
	}
	return m, route, nil
}

// MaxPool2DBackward routes dy [N, OutH, OutW, C] down the route (from [Party.MaxPool2D] with
// the same geometry) to the winning positions and returns the gradient of the pooling's input
// [N, H, W, C], adding the contributions of overlapping windows. From the top of the tree,
// every comparison's gradient g goes right as c·g (a Beaver product of ring values) and left
// as g - c·g: one round per level (two for 2×2). Exact.
func (p *Party) MaxPool2DBackward(dy, route *Shared, g ring.ConvGeom) (*Shared, error) {
	if !ring.SameShape(dy.shape, []int{g.N, g.OutH, g.OutW, g.C}) {
		return nil, fmt.Errorf("pond: maxpool backward: gradient %v, geometry wants [%d %d %d %d]: %w", dy.shape, g.N, g.OutH, g.OutW, g.C, ring.ErrShape)
	}
	rows, k, inner := g.Rows(), g.KH*g.KW, g.C
	if !ring.SameShape(route.shape, []int{rows * (k - 1) * inner}) {
		return nil, fmt.Errorf("pond: maxpool backward: route %v, geometry wants [%d]: %w", route.shape, rows*(k-1)*inner, ring.ErrShape)
	}
	holds := p.holds()
	levels := poolLevels(k)
	offs := make([]int, len(levels)+1) // where each level's bits start in the route
	for i, m := range levels {
		offs[i+1] = offs[i] + rows*(m/2)*inner
	}
	grad := dy.v // the gradients of the candidates after the current level
	for i := len(levels) - 1; i >= 0; i-- {
		m := levels[i]
		pairs, odd := m/2, m%2
		next := pairs + odd
		n := rows * pairs * inner
		var w, c []uint64
		if holds {
			w = make([]uint64, n)
			for o := range rows {
				copy(w[o*pairs*inner:(o+1)*pairs*inner], grad[o*next*inner:(o*next+pairs)*inner])
			}
			c = route.v[offs[i]:offs[i+1]]
		}
		z, err := p.MulRing(wrapShared([]int{n}, n, c), wrapShared([]int{n}, n, w))
		if err != nil {
			return nil, err
		}
		var ng []uint64
		if holds {
			ng = make([]uint64, rows*m*inner)
			for o := range rows {
				for t := range pairs {
					at := (o*pairs + t) * inner
					l := (o*m + 2*t) * inner
					ring.SubTo(ng[l:l+inner], w[at:at+inner], z.v[at:at+inner])
					copy(ng[l+inner:l+2*inner], z.v[at:at+inner])
				}
				if odd == 1 {
					src := (o*next + pairs) * inner
					dst := (o*m + m - 1) * inner
					copy(ng[dst:dst+inner], grad[src:src+inner])
				}
			}
		}
		grad = ng
	}
	out := p.newShared([]int{g.N, g.H, g.W, g.C}, g.N*g.H*g.W*g.C)
	if holds {
		ring.Col2ImTo(out.v, grad, g)
	}
	return out, nil
}

// levelBits runs the comparisons of one level of a tree over candidates laid out
// [outer, cur, inner] (pairs 2t, 2t+1): it returns the differences right - left of the pairs
// (on the parties that hold shares; nil elsewhere) and the bits [left < right], for which the
// right one wins. One round.
func (p *Party) levelBits(op string, cand []uint64, outer, cur, inner int, holds bool) (d, c []uint64, err error) {
	n := outer * (cur / 2) * inner
	if holds {
		d = make([]uint64, n)
		ring.PairDiffsTo(d, cand, outer, cur, inner)
	}
	r := p.newRound()
	ms := p.msbSend(r, d, 0, n)
	if err := p.exchange(op, r); err != nil {
		return nil, nil, err
	}
	if c, err = ms.finish(p, r, op); err != nil {
		return nil, nil, err
	}
	if holds {
		ring.NegTo(d, d)
	}
	return d, c, nil
}

package aby3

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
		return 0, 0, 0, 0, fmt.Errorf("aby3: %s: axis %d out of range for shape %v: %w", op, axis, shape, ring.ErrShape)
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
		return 0, 0, 0, 0, fmt.Errorf("aby3: %s: empty axis %d of shape %v: %w", op, axis, shape, ring.ErrShape)
	}
	return outer, shape[axis], inner, axis, nil
}

// dropAxis returns shape without axis.
func dropAxis(shape []int, axis int) []int {
	out := append([]int(nil), shape[:axis]...)
	return append(out, shape[axis+1:]...)
}

// maxTree computes the maximum along the middle axis of data laid out [outer, k, inner] by a
// tree of comparisons: level L compares candidates 2t and 2t+1 (each the winner of 2^L
// consecutive positions; an odd last candidate waits for the next level) and keeps the right
// one only when it is strictly greater, so the first maximum wins ties. Each level is one
// batched sign-bit extraction (seven rounds) and one round of bit products: 8·⌈log2 k⌉
// rounds. With withMask it also tracks, in the same rounds, the one-hot mask of the winning
// position (packed 64 positions per word while the tree runs) and returns it laid out
// [outer, k, inner] with the bit in bit 0.
func (p *Party) maxTree(op string, xa, xb []uint64, outer, k, inner int, withMask bool) (ma, mb, hotA, hotB []uint64, err error) {
	groups := outer * inner
	m := k
	ca, cb := xa, xb // the candidates; pooled (owned) after the first level
	owned := false
	words := (k + 63) / 64
	var maskA, maskB []uint64
	if withMask {
		maskA, maskB = getZeroWords(groups*words), getZeroWords(groups*words)
		if d := p.comp0(maskA, maskB); d != nil {
			for g := range groups {
				for w := range words {
					d[g*words+w] = rangeBits(0, k, w)
				}
			}
		}
	}
	for span := 1; m > 1; span *= 2 {
		pairs, odd := m/2, m%2
		// Differences left - right of every pair, laid out [outer, pairs, inner].
		n := outer * pairs * inner
		da, db, sa, sb := getWords(n), getWords(n), getWords(n), getWords(n)
		ring.PairDiffsTo(da, ca, outer, m, inner)
		ring.PairDiffsTo(db, cb, outer, m, inner)
		if err := p.msbBitsTo(op, sa, sb, da, db); err != nil { // [left < right]: right wins
			return nil, nil, nil, nil, err
		}
		ring.NegTo(da, da)
		ring.NegTo(db, db)
		var bt batch
		za, zb := getWords(n), getWords(n)
		st := p.bitMulSend(&bt, za, zb, sa, sb, da, db, nil)
		var and andStep
		var ya, yb []uint64
		if withMask {
			ya, yb = p.maskUpdate(sa, sb, outer, inner, k, m, span, words)
			and = p.andSendInto(&bt, getWords(len(maskA)), maskA, maskB, ya, yb)
		}
		if err := p.exchange(op, &bt); err != nil {
			return nil, nil, nil, nil, err
		}
		st.finish(p, &bt)
		next := pairs + odd
		na, nb := getWords(outer*next*inner), getWords(outer*next*inner)
		ring.PairWinnersTo(na, ca, za, outer, m, inner)
		ring.PairWinnersTo(nb, cb, zb, outer, m, inner)
		putWords(da, db, sa, sb, za, zb)
		if owned {
			putWords(ca, cb)
		}
		ca, cb, m, owned = na, nb, next, true
		if withMask {
			za, zb := and.finish(&bt)
			putWords(maskA, ya, yb)
			maskA = za
			copy(maskB, zb) // the received words go back to the pool
		}
		bt.release()
	}
	ma, mb = append([]uint64(nil), ca...), append([]uint64(nil), cb...)
	if owned {
		putWords(ca, cb)
	}
	if !withMask {
		return ma, mb, nil, nil, nil
	}
	defer putWords(maskA, maskB)
	hotA, hotB = make([]uint64, outer*k*inner), make([]uint64, outer*k*inner)
	for o := range outer {
		for i := range inner {
			g := (o*inner + i) * words
			for pos := range k {
				j := (o*k+pos)*inner + i
				hotA[j] = maskA[g+pos/64] >> (pos % 64) & 1
				hotB[j] = maskB[g+pos/64] >> (pos % 64) & 1
			}
		}
	}
	return ma, mb, hotA, hotB, nil
}

// rangeBits returns the bits of word w (positions 64w .. 64w+63) that lie in [lo, hi).
func rangeBits(lo, hi, w int) uint64 {
	lo, hi = max(lo-64*w, 0), min(hi-64*w, 64)
	if lo >= hi {
		return 0
	}
	return (^uint64(0) >> (64 - (hi - lo))) << lo
}

// maskUpdate returns the components of the word that the winner masks are ANDed with at one
// level of maxTree: for pair t with right-wins bit c, ¬c on the left candidate's positions, c on
// the right one's, and 1 elsewhere: base ⊕ c·(left ∪ right), where the public base has ones
// except on right positions.
func (p *Party) maskUpdate(sa, sb []uint64, outer, inner, k, m, span, words int) (ya, yb []uint64) {
	pairs := m / 2
	groups := outer * inner
	ya, yb = getZeroWords(groups*words), getZeroWords(groups*words)
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
	if d := p.comp0(ya, yb); d != nil {
		for g := range groups {
			copy(d[g*words:(g+1)*words], base)
		}
	}
	for o := range outer {
		for i := range inner {
			g := (o*inner + i) * words
			for _, f := range flips {
				c := (o*pairs+f.t)*inner + i
				ya[g+f.w] ^= -(sa[c] & 1) & f.bits
				yb[g+f.w] ^= -(sb[c] & 1) & f.bits
			}
		}
	}
	return ya, yb
}

// maxOf runs maxPairs or maxTree, whichever the size calls for.
func (p *Party) maxOf(op string, xa, xb []uint64, outer, k, inner int, wantMax, withMask bool) (ma, mb, hotA, hotB []uint64, err error) {
	if p.useAllPairsPlain(outer*inner, k) {
		return p.maxPairs(op, xa, xb, outer, k, inner, wantMax, withMask)
	}
	return p.maxTree(op, xa, xb, outer, k, inner, withMask)
}

// Max returns the maximum of x along axis (the axis is dropped), whatever the other
// dimensions: a tree of comparisons, 8·⌈log2 k⌉ rounds for an axis of size k; or, when the
// whole maximum takes at most 8192 comparisons of pairs (allPairsPlainMax), all pairs at once,
// 8 + ⌈log2(k-1)⌉ rounds (12 instead of 32 for k = 10).
func (p *Party) Max(x *Shared, axis int) (*Shared, error) {
	outer, k, inner, ax, err := axisSplit("max", x.shape, axis)
	if err != nil {
		return nil, err
	}
	ma, mb, _, _, err := p.maxOf("max", x.a, x.b, outer, k, inner, true, false)
	if err != nil {
		return nil, err
	}
	return &Shared{shape: dropAxis(x.shape, ax), a: ma, b: mb}, nil
}

// MaxWithMask returns the maximum of x along axis (dropped) and the one-hot mask of the first
// maximum along that axis, shaped like x (bit 0 of a boolean sharing). Same rounds as
// [Party.Max]: the masks are updated in the rounds of the bit products.
func (p *Party) MaxWithMask(x *Shared, axis int) (*Shared, *BoolShared, error) {
	outer, k, inner, ax, err := axisSplit("max", x.shape, axis)
	if err != nil {
		return nil, nil, err
	}
	ma, mb, ha, hb, err := p.maxOf("max", x.a, x.b, outer, k, inner, true, true)
	if err != nil {
		return nil, nil, err
	}
	return &Shared{shape: dropAxis(x.shape, ax), a: ma, b: mb},
		&BoolShared{shape: append([]int(nil), x.shape...), a: ha, b: hb}, nil
}

// ArgMax returns the index of the first maximum of x along axis (dropped), as fixed-point
// integers: the one-hot mask of [Party.MaxWithMask] weighted by the positions, one round more
// than [Party.Max] with a tree, as many with all pairs (whose maximum is not needed).
func (p *Party) ArgMax(x *Shared, axis int) (*Shared, error) {
	outer, k, inner, ax, err := axisSplit("argmax", x.shape, axis)
	if err != nil {
		return nil, err
	}
	_, _, ha, hb, err := p.maxOf("argmax", x.a, x.b, outer, k, inner, false, true)
	if err != nil {
		return nil, err
	}
	pos := make([]uint64, len(ha))
	for o := range outer {
		for j := range k {
			for i := range inner {
				pos[(o*k+j)*inner+i] = uint64(j) * p.enc.One()
			}
		}
	}
	var bt batch
	za, zb := getWords(len(ha)), getWords(len(ha))
	defer putWords(za, zb)
	st := p.bitMulSend(&bt, za, zb, ha, hb, nil, nil, pos)
	if err := p.exchange("argmax", &bt); err != nil {
		return nil, err
	}
	st.finish(p, &bt)
	bt.release()
	out := newShared(dropAxis(x.shape, ax), outer*inner)
	ring.SumAxisTo(out.a, za, outer, k, inner)
	ring.SumAxisTo(out.b, zb, outer, k, inner)
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
		return nil, fmt.Errorf("aby3: %s: input %v, geometry wants [%d %d %d %d]: %w", op, shape, g.N, g.H, g.W, g.C, ring.ErrShape)
	}
	one := g
	one.N, one.C = 1, 1
	img, err := ring.FromData(make([]uint64, g.H*g.W), 1, g.H, g.W, 1)
	if err != nil {
		return nil, fmt.Errorf("aby3: %s: %w", op, err)
	}
	for i := range img.Data {
		img.Data[i] = 1
	}
	ind, err := ring.Im2Col(img, one)
	if err != nil {
		return nil, fmt.Errorf("aby3: %s: %w", op, err)
	}
	k := g.KH * g.KW
	for r := range g.OutH * g.OutW {
		var any uint64
		for j := range k {
			any |= ind.Data[r*k+j]
		}
		if any == 0 {
			return nil, fmt.Errorf("aby3: %s: geometry %+v has a window entirely in the padding: %w", op, g, ring.ErrShape)
		}
	}
	if _, err := ring.NumElements([]int{g.N, g.OutH, g.OutW, g.KH, g.KW, g.C}); err != nil {
		return nil, fmt.Errorf("aby3: %s: %w", op, err)
	}
	return ind.Data, nil
}

// MaxPool2D takes the maximum of each channel of x [N, H, W, C] over the windows of g and
// returns it [N, OutH, OutW, C], with the route of the gradient for [Party.MaxPool2DBackward]:
// the outcomes of the window's comparisons as ring integers 0 and 1 (see poolTree). Padding
// positions never win; the first maximum of a window wins ties. A tree of comparisons over
// the KH·KW positions of every window at once, ⌈log2(KH·KW)⌉ levels of ten rounds each
// (20 for 2×2): seven for the sign bits, two to inject them into the arithmetic sharing and
// one for the ring products that select the winners. Per comparison the three parties send
// about 17 words together (10 for the sign bit, 4 for the injection, 3 for the product),
// against 22 and a boolean one-hot mask when the selection is a bit product, and the
// backward pass costs 3 words per comparison instead of 12 per window position. Inputs must
// stay below 2^(62-f) in magnitude (see the comparisons).
func (p *Party) MaxPool2D(x *Shared, g ring.ConvGeom) (out, route *Shared, err error) {
	ind, err := poolWindows("maxpool", x.shape, g)
	if err != nil {
		return nil, nil, err
	}
	rows, cols, k := g.Rows(), g.Cols(), g.KH*g.KW
	xa, xb := getWords(rows*cols), getWords(rows*cols)
	defer putWords(xa, xb)
	ring.Im2ColTo(xa, x.a, g)
	ring.Im2ColTo(xb, x.b, g)
	if d := p.comp0(xa, xb); d != nil {
		per := g.OutH * g.OutW
		for r := range rows {
			w := ind[(r%per)*k : (r%per+1)*k]
			for j, in := range w {
				if in == 0 {
					seg := d[r*cols+j*g.C : r*cols+(j+1)*g.C]
					for c := range seg {
						seg[c] = padValue
					}
				}
			}
		}
	}
	ma, mb, ra, rb, err := p.poolTree("maxpool", xa, xb, rows, k, g.C)
	if err != nil {
		return nil, nil, err
	}
	return &Shared{shape: []int{g.N, g.OutH, g.OutW, g.C}, a: ma, b: mb},
		&Shared{shape: []int{len(ra)}, a: ra, b: rb}, nil
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

// poolTree computes the maximum along the middle axis of data laid out [outer, k, inner] by
// the tree of maxTree (candidates 2t and 2t+1 of a level compared, the right one kept only
// when strictly greater, an odd last one waiting), selecting the winners with ring products
// of the injected comparison bits: c·(right - left) added to left. It returns the maxima and
// the route: every comparison's bit c = [left < right] as a ring integer, level by level,
// each level laid out [outer, pairs, inner]: (k-1)·outer·inner values in all.
func (p *Party) poolTree(op string, xa, xb []uint64, outer, k, inner int) (ma, mb, ra, rb []uint64, err error) {
	ra, rb = make([]uint64, 0, outer*(k-1)*inner), make([]uint64, 0, outer*(k-1)*inner)
	ca, cb := xa, xb // the candidates; pooled (owned) after the first level
	owned := false
	for _, m := range poolLevels(k) {
		pairs, odd := m/2, m%2
		n := outer * pairs * inner
		// Differences left - right of every pair, laid out [outer, pairs, inner].
		da, db, sa, sb := getWords(n), getWords(n), getWords(n), getWords(n)
		ring.PairDiffsTo(da, ca, outer, m, inner)
		ring.PairDiffsTo(db, cb, outer, m, inner)
		if err := p.msbBitsTo(op, sa, sb, da, db); err != nil { // [left < right]: right wins
			return nil, nil, nil, nil, err
		}
		c, err := p.injectBits(op, sa, sb, []int{n})
		putWords(sa, sb)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		ring.NegTo(da, da)
		ring.NegTo(db, db)
		z, err := p.reshare(op, p.mulLocal(c, &Shared{shape: c.shape, a: da, b: db}), c.shape)
		putWords(da, db)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		ra, rb = append(ra, c.a...), append(rb, c.b...)
		next := pairs + odd
		na, nb := getWords(outer*next*inner), getWords(outer*next*inner)
		ring.PairWinnersTo(na, ca, z.a, outer, m, inner)
		ring.PairWinnersTo(nb, cb, z.b, outer, m, inner)
		if owned {
			putWords(ca, cb)
		}
		ca, cb, owned = na, nb, true
	}
	ma, mb = append([]uint64(nil), ca...), append([]uint64(nil), cb...)
	if owned {
		putWords(ca, cb)
	}
	return ma, mb, ra, rb, nil
}

// MaxPool2DBackward routes dy [N, OutH, OutW, C] down the route (from [Party.MaxPool2D] with
// the same geometry) to the winning positions and returns the gradient of the pooling's input
// [N, H, W, C], adding the contributions of overlapping windows. From the top of the tree,
// every comparison's gradient g goes right as c·g (a ring product) and left as g - c·g: one
// round per level (two for 2×2), every party sending one ring element per comparison. Exact.
func (p *Party) MaxPool2DBackward(dy, route *Shared, g ring.ConvGeom) (*Shared, error) {
	if !ring.SameShape(dy.shape, []int{g.N, g.OutH, g.OutW, g.C}) {
		return nil, fmt.Errorf("aby3: maxpool backward: gradient %v, geometry wants [%d %d %d %d]: %w", dy.shape, g.N, g.OutH, g.OutW, g.C, ring.ErrShape)
	}
	rows, k, inner := g.Rows(), g.KH*g.KW, g.C
	if !ring.SameShape(route.shape, []int{rows * (k - 1) * inner}) {
		return nil, fmt.Errorf("aby3: maxpool backward: route %v, geometry wants [%d]: %w", route.shape, rows*(k-1)*inner, ring.ErrShape)
	}
	levels := poolLevels(k)
	offs := make([]int, len(levels)+1) // where each level's bits start in the route
	for i, m := range levels {
		offs[i+1] = offs[i] + rows*(m/2)*inner
	}
	ga, gb := dy.a, dy.b // the gradients of the candidates after the current level
	for i := len(levels) - 1; i >= 0; i-- {
		m := levels[i]
		pairs, odd := m/2, m%2
		next := pairs + odd
		n := rows * pairs * inner
		wa, wb := getWords(n), getWords(n)
		for o := range rows {
			copy(wa[o*pairs*inner:(o+1)*pairs*inner], ga[o*next*inner:(o*next+pairs)*inner])
			copy(wb[o*pairs*inner:(o+1)*pairs*inner], gb[o*next*inner:(o*next+pairs)*inner])
		}
		c := &Shared{shape: []int{n}, a: route.a[offs[i]:offs[i+1]], b: route.b[offs[i]:offs[i+1]]}
		z, err := p.reshare("maxpool backward", p.mulLocal(c, &Shared{shape: []int{n}, a: wa, b: wb}), c.shape)
		if err != nil {
			return nil, err
		}
		na, nb := make([]uint64, rows*m*inner), make([]uint64, rows*m*inner)
		for o := range rows {
			for t := range pairs {
				w := (o*pairs + t) * inner
				l := (o*m + 2*t) * inner
				r := l + inner
				ring.SubTo(na[l:l+inner], wa[w:w+inner], z.a[w:w+inner])
				ring.SubTo(nb[l:l+inner], wb[w:w+inner], z.b[w:w+inner])
				copy(na[r:r+inner], z.a[w:w+inner])
				copy(nb[r:r+inner], z.b[w:w+inner])
			}
			if odd == 1 {
				src := (o*next + pairs) * inner
				dst := (o*m + m - 1) * inner
				copy(na[dst:dst+inner], ga[src:src+inner])
				copy(nb[dst:dst+inner], gb[src:src+inner])
			}
		}
		putWords(wa, wb)
		ga, gb = na, nb
	}
	out := newShared([]int{g.N, g.H, g.W, g.C}, g.N*g.H*g.W*g.C)
	ring.Col2ImTo(out.a, ga, g)
	ring.Col2ImTo(out.b, gb, g)
	return out, nil
}

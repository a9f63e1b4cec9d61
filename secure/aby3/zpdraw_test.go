package aby3

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure/prg"
)

// drawAll runs a sampler on a fresh stream from seed: one fill (or fillNonZero) per length,
// then a few single bytes, which show where the stream was left.
func drawAll(seed prg.Seed, lens []int, nonZero, vector bool) [][]byte {
	old := zpVector
	zpVector = vector
	defer func() { zpVector = old }()
	z := newZpSampler(prg.New(seed))
	defer z.release()
	var out [][]byte
	for _, n := range lens {
		dst := make([]byte, n)
		if nonZero {
			z.fillNonZero(dst)
		} else {
			z.fill(dst)
		}
		out = append(out, dst, []byte{z.next(), z.next(), z.next()})
	}
	return out
}

// ramp returns lo, lo+1, ..., hi.
func ramp(lo, hi int) []int {
	var v []int
	for n := lo; n <= hi; n++ {
		v = append(v, n)
	}
	return v
}

// The vector sampler takes the same bytes of the stream as the byte-by-byte one, so the two
// parties that share a stream draw the same values whichever path each takes: every value
// and the position the stream is left at agree, for lengths around the 64-byte blocks and
// the 4,096-byte buffer.
func TestZpSamplerVectorMatchesScalar(t *testing.T) {
	if !hasZpCompress {
		t.Skip("zpCompress needs AVX512-VBMI2")
	}
	for _, lens := range [][]int{
		{1}, {49}, {50}, {51}, {63}, {64}, {65}, {127}, {128}, {129},
		{3200}, {3300}, {4096}, {5000}, {20000},
		{70, 1, 2000, 63, 5000, 64, 9},
		ramp(1, 200),
		// Lengths near a block's accepted count (about 50 of 64 bytes), many times over: some
		// block then fills dst exactly, where the stream must stop after its last value.
		slices.Repeat(ramp(40, 60), 20),
	} {
		for _, nonZero := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d-fills-from-%d/nonzero=%v", len(lens), lens[0], nonZero), func(t *testing.T) {
				seed := prg.Seed{byte(len(lens)), byte(lens[0]), byte(lens[0] >> 8)}
				require.Equal(t, drawAll(seed, lens, nonZero, false), drawAll(seed, lens, nonZero, true))
			})
		}
	}
}

// The sampler's values are uniform on [0, 67), or [1, 67): over 670,000 draws each residue
// comes up 10,000 times on average, with a standard deviation of about 99 (binomial: the
// square root of n·p·(1-p)); a bound of 5 deviations fails no correct run of this fixed seed,
// and fails a sampler that took every byte (residues below 55 would come up 4/3 as often) or
// reduced modulo 66 or 68.
func TestZpSamplerUniform(t *testing.T) {
	for _, nonZero := range []bool{false, true} {
		for _, vector := range []bool{false, true} {
			if vector && !hasZpCompress {
				continue
			}
			t.Run(fmt.Sprintf("nonzero=%v/vector=%v", nonZero, vector), func(t *testing.T) {
				lo, k := 0, fewMod
				if nonZero {
					lo, k = 1, fewMod-1
				}
				n := 10000 * k
				vals := drawAll(prg.Seed{42}, []int{n}, nonZero, vector)[0]
				counts := make([]int, fewMod)
				for _, v := range vals {
					require.Less(t, int(v), fewMod)
					require.GreaterOrEqual(t, int(v), lo)
					counts[v]++
				}
				p := 1 / float64(k)
				sd := math.Sqrt(float64(n) * p * (1 - p))
				for r := lo; r < fewMod; r++ {
					require.InDelta(t, 10000, counts[r], 5*sd, "residue %d", r)
				}
			})
		}
	}
}

// BenchmarkZpSampler draws the masks of 256 three-round sign bits (64 per value).
func BenchmarkZpSampler(b *testing.B) {
	for _, vector := range []bool{false, true} {
		if vector && !hasZpCompress {
			continue
		}
		b.Run(fmt.Sprintf("vector=%v", vector), func(b *testing.B) {
			old := zpVector
			zpVector = vector
			defer func() { zpVector = old }()
			z := newZpSampler(prg.New(prg.Seed{1}))
			defer z.release()
			dst := make([]byte, 64*256)
			b.SetBytes(int64(len(dst)))
			for b.Loop() {
				z.fill(dst)
			}
		})
	}
}

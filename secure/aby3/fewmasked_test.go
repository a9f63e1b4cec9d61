package aby3

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// fewMaskedCase draws the inputs of one value's masked terms as the protocol makes them:
// shares and masks in [0, 67), multipliers in [1, 67), any public bits, rotation and
// direction, on either party.
func fewMaskedCase(rng *rand.Rand) (sh, si, mi []byte, pub uint64, flipped bool, r uint, c int32) {
	sh, si, mi = make([]byte, 63), make([]byte, 64), make([]byte, 64)
	for j := range sh {
		sh[j] = byte(rng.IntN(fewMod))
	}
	for j := range si {
		si[j], mi[j] = byte(1+rng.IntN(fewMod-1)), byte(rng.IntN(fewMod))
	}
	pub = rng.Uint64()
	switch rng.IntN(4) { // the ends of the range too
	case 0:
		pub = 0
	case 1:
		pub = 1 << 63
	}
	return sh, si, mi, pub, rng.IntN(2) == 1, uint(rng.IntN(64)), int32(rng.IntN(2))
}

// The vector form of the masked terms writes the same 64 bytes as fewMasked on random values,
// shares at the ends of [0, 67), every rotation and both directions.
func TestFewMasked64MatchesScalar(t *testing.T) {
	if !hasFewMasked64 {
		t.Skip("fewMasked64 needs AVX512-VBMI")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 20000 {
		sh, si, mi, pub, flipped, r, c := fewMaskedCase(rng)
		if i%5 == 0 { // the largest terms: every share and mask at 66
			for j := range sh {
				sh[j] = fewMod - 1
			}
			for j := range si {
				si[j], mi[j] = fewMod-1, fewMod-1
			}
		}
		want, got := make([]byte, 64), make([]byte, 64)
		fewMasked(want, sh, si, mi, pub, flipped, r, c)
		var neg uint16
		if flipped {
			neg = 0xffff
		}
		fewMasked64(&got[0], &sh[0], &si[0], &mi[0], pub, neg, uint16(c), uint8(r))
		require.Equal(t, want, got, "case %d: pub %#x flipped %v r %d c %d", i, pub, flipped, r, c)
	}
}

// BenchmarkFewMasked times one value's 64 masked terms, in Go and in vector registers.
func BenchmarkFewMasked(b *testing.B) {
	sh, si, mi, pub, flipped, r, c := fewMaskedCase(rand.New(rand.NewPCG(1, 1)))
	o := make([]byte, 64)
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			fewMasked(o, sh, si, mi, pub, flipped, r, c)
		}
	})
	if hasFewMasked64 {
		b.Run("vector", func(b *testing.B) {
			for b.Loop() {
				fewMasked64(&o[0], &sh[0], &si[0], &mi[0], pub, 0, uint16(c), uint8(r))
			}
		})
	}
}

// The vector zero test finds a zero sum wherever it is (0 or 67 modulo 67) and none where
// every sum is non-zero, across the 64 positions.
func TestFewHasZero64(t *testing.T) {
	if !hasFewMasked64 {
		t.Skip("fewHasZero64 needs AVX-512")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	a, b := make([]byte, 64), make([]byte, 64)
	fresh := func() { // every sum in [1, 67) or [68, 133)
		for j := range a {
			a[j], b[j] = byte(rng.IntN(fewMod)), byte(rng.IntN(fewMod))
			for s := int(a[j]) + int(b[j]); s == 0 || s == fewMod; s = int(a[j]) + int(b[j]) {
				b[j] = (b[j] + 1) % fewMod
			}
		}
	}
	for pos := range 64 {
		for _, sum := range []int{0, fewMod} {
			fresh()
			require.False(t, fewHasZero64(&a[0], &b[0]))
			a[pos] = byte(rng.IntN(fewMod))
			if sum == 0 {
				a[pos] = 0
			}
			b[pos] = byte(sum - int(a[pos]))
			if sum == fewMod && a[pos] == 0 {
				a[pos], b[pos] = 1, fewMod-1
			}
			require.True(t, fewHasZero64(&a[0], &b[0]), "zero sum %d at %d", sum, pos)
		}
	}
}

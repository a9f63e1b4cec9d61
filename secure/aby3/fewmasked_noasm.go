//go:build !amd64 || purego

package aby3

// hasFewMasked64 is false where the assembly is not built.
const hasFewMasked64 = false

// fewMasked64 is never called when hasFewMasked64 is false.
func fewMasked64(o, sh, si, mi *byte, pub uint64, neg, c uint16, r uint8) {
	panic("aby3: fewMasked64 not built")
}

// fewHasZero64 is never called when hasFewMasked64 is false.
func fewHasZero64(a, b *byte) bool {
	panic("aby3: fewHasZero64 not built")
}

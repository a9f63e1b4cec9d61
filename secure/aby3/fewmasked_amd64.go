//go:build amd64 && !purego

package aby3

import "golang.org/x/sys/cpu"

// hasFewMasked64 reports whether fewMasked64 can run: word arithmetic and permutations
// (AVX512-BW), byte permutations (AVX512-VBMI).
var hasFewMasked64 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VBMI

// fewMasked64 is fewMasked for 64 positions (w = 64) in vector registers: o, si and mi hold
// 64 bytes, sh 63; neg is all ones when the comparison is flipped, else 0; c is 0 or 1; r is
// below 64. It writes the same bytes as fewMasked.
//
//go:noescape
func fewMasked64(o, sh, si, mi *byte, pub uint64, neg, c uint16, r uint8)

// fewHasZero64 reports whether a[j] + b[j] is 0 or 67 for some j < 64, for a and b of 64
// bytes in [0, 67): party 0's test of the two masked messages of one value.
//
//go:noescape
func fewHasZero64(a, b *byte) bool

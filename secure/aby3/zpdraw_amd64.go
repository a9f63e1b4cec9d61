//go:build amd64 && !purego

package aby3

import "golang.org/x/sys/cpu"

// hasZpCompress reports whether zpCompress can run: VPCOMPRESSB is AVX512-VBMI2, the byte
// compares and masked stores AVX512-BW, the store mask BMI2's BZHI.
var hasZpCompress = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VBMI2 &&
	cpu.X86.HasBMI2 && cpu.X86.HasPOPCNT

// zpCompress runs the rejection sampling of zpSampler.draw on whole 64-byte blocks of src:
// the bytes v of a block below limit, each reduced to v mod m + add (v < 3m), go to dst in
// order. It stops before the first block that would fill dst (or more), so that the scalar
// loop takes the last values byte by byte and the stream is consumed exactly as there, and
// before fewer than 64 bytes remain; it returns the bytes written and the bytes of src read.
//
//go:noescape
func zpCompress(dst, src []byte, limit, m, add byte) (written, consumed int)

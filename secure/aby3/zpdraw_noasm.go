//go:build !amd64 || purego

package aby3

// hasZpCompress is false where the assembly is not built.
const hasZpCompress = false

// zpCompress is never called when hasZpCompress is false.
func zpCompress(dst, src []byte, limit, m, add byte) (written, consumed int) {
	panic("aby3: zpCompress not built")
}

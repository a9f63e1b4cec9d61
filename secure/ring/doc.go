// Package ring implements tensors over the ring Z_2^64: uint64 values with wrap-around
// arithmetic. It knows nothing of secrets or parties; it is the fast integer math the
// protocols are built on.
//
// A [Tensor] is a shape and a flat row-major []uint64. Free kernels work on slices and take the
// destination first (AddTo(dst, a, b)); they do not allocate. Elementwise kernels allow dst to
// alias any operand exactly (the same slice), never a shifted view of it. Matrix products
// (MatMulTo, MatMulAddTo) forbid dst from aliasing an operand.
//
// Tensor methods and functions that take shapes check them and return errors; the slice
// kernels trust their caller and panic on mismatched lengths as the built-in copy would not,
// so they are for use inside the engine.
package ring

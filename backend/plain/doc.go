// Package plain is the float64 engine of [github.com/gotfe/gotfe/backend]: every
// operation computes in the clear on one machine, as a single party that plays all three. It
// is what models train on when nothing is secret, the reference the secure engine is checked
// against, and the fast path of tests.
//
// Tensors ([Tensor]) are a shape and a row-major []float64. They are immutable: operations
// never write into an operand and always return a fresh tensor, so handles can be kept and
// shared freely (a result may share memory with an operand only for Reshape, where neither
// can change). Matrix products use gonum's BLAS (blas64.Gemm) and are the hot path of dense
// and convolutional layers; convolutions are im2col followed by a matrix product, as on the
// secure engine.
//
// A [Backend] holds no state besides its name, so it is safe for concurrent use. [Runner] runs
// a program on one Backend, the plain counterpart of the secure engine's three-party runners.
package plain

// Package backend defines the tensor interface the layers, losses and optimizers of gotfe run
// on. It is owned by its consumers: [github.com/gotfe/gotfe/layers],
// [github.com/gotfe/gotfe/losses] and [github.com/gotfe/gotfe/optimizers] are written once
// against [Backend], and two engines implement it: the float64 engine in
// [github.com/gotfe/gotfe/backend/plain] and a secure engine over three-party replicated
// secret sharing.
//
// # Tensors
//
// A [Tensor] is an opaque handle with a shape. A plain tensor holds float64 values; a secure
// tensor holds one party's shares. Tensors are immutable: no operation modifies its operands,
// so a handle can be kept (for a backward pass, or as a snapshot of weights) for as long as it
// is needed, and results may share memory with operands only where neither can change. Shapes
// are row-major; image tensors are NHWC ([batch, height, width, channels]). A scalar has shape
// [] and one element. Tensors of one backend instance must not be passed to another.
//
// # Operations
//
// Every operation returns an error rather than panicking: a shape that does not fit, a tensor
// of another backend, or (on the secure engine) a failed exchange with a peer. Elementwise
// binary operations ([Backend.Add], [Backend.Sub], [Backend.Mul], [Backend.Maximum]) take
// operands of identical shape; broadcasting is explicit ([Backend.AddBias],
// [Backend.BroadcastTo]). Axes may be negative, counting from the last (-1).
//
// # SPMD and the boundary
//
// In a secure computation each party runs the same program with its own Backend instance, and
// every party must call the same operations in the same order with the same public arguments
// (shapes, scalars, seeds, axes). Data crosses the boundary only through [Backend.Input] (an
// owner's values become a tensor every party holds a share of) and [Backend.Reveal] (a tensor
// is opened to one party or to all). Everything else a caller passes is public: scalars,
// shapes, seeds, and the values of [Backend.Const]. [Backend.Party] tells a program which
// party it runs; [Owns] tells whether that party holds an owner's data.
//
// # Randomness
//
// Weight initialisation ([Backend.RandomUniform]) and dropout masks ([Backend.DropoutMask])
// take public seeds so that every party (and the plain engine) draws the same values. The
// reference values are [UniformValues] and [DropoutValues]; a backend that returns them makes
// its results comparable with the plain engine's, operation by operation.
package backend

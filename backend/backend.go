package backend

// Tensor is an opaque handle to a tensor of one backend: float64 values on the plain engine,
// this party's shares on the secure engine. Tensors are immutable.
type Tensor interface {
	// Shape returns the dimensions of the tensor. The caller must not modify the slice.
	Shape() []int
}

// Backend is the set of tensor operations layers, losses and optimizers run on. See the package
// documentation for the conventions every method follows (immutability, errors, SPMD).
//
// Masks returned by [Backend.ReLU] and [Backend.MaxPool2D] are tensors in the backend's own
// representation (on the secure engine they may be boolean shares); they are only passed back
// to the operations that accept them.
type Backend interface {
	// Name identifies the engine, e.g. "plain" or "aby3".
	Name() string
	// Party returns the index of the party this instance runs (0, 1 or 2), or -1 for a backend
	// that plays every party at once, such as the plain engine.
	Party() int

	// Input makes a tensor of the given shape from an owner's data. On the secure engine the
	// owner party secret-shares data and the other parties pass nil data with the same shape;
	// the plain engine copies data and ignores owner. len(data) must equal the number of
	// elements of shape wherever data is required.
	Input(data []float64, shape []int, owner int) (Tensor, error)
	// Reveal opens t to party to, or to every party when to is -1. The recipients get the
	// values (a new slice, row-major); the other parties get nil and no error.
	Reveal(t Tensor, to int) ([]float64, error)
	// Const makes a tensor from public values every party knows (data is copied).
	Const(data []float64, shape []int) (Tensor, error)
	// Fill makes a tensor whose elements all equal the public value v.
	Fill(shape []int, v float64) (Tensor, error)
	// Zeros makes a tensor of zeros.
	Zeros(shape []int) (Tensor, error)
	// RandomUniform makes a tensor of values uniform in [low, high) determined by the public
	// seed. The plain engine returns UniformValues(n, low, high, seed); a secure engine may
	// return shares of those values, or of values drawn from its shared randomness.
	RandomUniform(shape []int, low, high float64, seed uint64) (Tensor, error)
	// DropoutMask makes a mask whose elements are 0 with probability rate and 1/(1-rate)
	// otherwise, determined by the public seed (the reference is DropoutValues). 0 <= rate < 1.
	DropoutMask(shape []int, rate float64, seed uint64) (Tensor, error)

	// Reshape returns x with a new shape of as many elements. One dimension may be -1, meaning
	// whatever makes the sizes agree.
	Reshape(x Tensor, shape []int) (Tensor, error)
	// Transpose permutes the axes of x: axis i of the result is axis perm[i] of x. A nil perm
	// reverses the axes.
	Transpose(x Tensor, perm []int) (Tensor, error)
	// BroadcastTo repeats x to the given shape by the NumPy rule: shapes are aligned on their
	// last axes and each axis of x must equal the target's or be 1.
	BroadcastTo(x Tensor, shape []int) (Tensor, error)

	// Add returns a + b (same shapes).
	Add(a, b Tensor) (Tensor, error)
	// Sub returns a - b (same shapes).
	Sub(a, b Tensor) (Tensor, error)
	// Mul returns the elementwise product a * b (same shapes).
	Mul(a, b Tensor) (Tensor, error)
	// AddBias returns x + bias broadcast over all but the last axis; bias has shape
	// [x.Shape()[last]].
	AddBias(x, bias Tensor) (Tensor, error)
	// Neg returns -x.
	Neg(x Tensor) (Tensor, error)
	// Scale returns s * x for a public s.
	Scale(x Tensor, s float64) (Tensor, error)
	// AddScalar returns x + s for a public s.
	AddScalar(x Tensor, s float64) (Tensor, error)
	// Sum adds the elements of x along axis. The axis is dropped unless keepDims, which keeps
	// it with size 1.
	Sum(x Tensor, axis int, keepDims bool) (Tensor, error)
	// SumAll adds every element of x into a scalar (shape []).
	SumAll(x Tensor) (Tensor, error)
	// Mean is Sum divided by the size of the axis.
	Mean(x Tensor, axis int, keepDims bool) (Tensor, error)
	// MatMul returns op(a)·op(b), where op transposes the last two axes when the flag is set:
	// a·b, aᵀ·b, a·bᵀ or aᵀ·bᵀ. Operands are matrices (rank 2), or rank-3 stacks of matrices with
	// the same leading batch dimension multiplied pairwise.
	MatMul(a, b Tensor, transA, transB bool) (Tensor, error)

	// Im2Col unfolds the image patches of x [N, H, W, C] under window w into the rows of a
	// matrix [N*OH*OW, KH*KW*C]: row (n, oh, ow) holds the window at output position (oh, ow)
	// of image n, ordered (kh, kw, c) so that it multiplies a kernel [KH, KW, C, F] reshaped to
	// [KH*KW*C, F]. Padding positions are zeros.
	Im2Col(x Tensor, w Window) (Tensor, error)
	// Col2Im is the adjoint of Im2Col: it adds each element of cols [N*OH*OW, KH*KW*C] back into
	// the position of the input it was read from and returns a tensor of inShape
	// [N, H, W, C]. Contributions to padding positions are dropped.
	Col2Im(cols Tensor, w Window, inShape []int) (Tensor, error)
	// MaxPool2D takes the maximum of each channel of x [N, H, W, C] over each window and
	// returns it [N, OH, OW, C] with a mask of where the maxima were (first on ties), for
	// MaxPool2DBackward. Padding positions never win.
	MaxPool2D(x Tensor, w Window) (out, argmax Tensor, err error)
	// MaxPool2DBackward routes dy [N, OH, OW, C] back to the positions argmax records and
	// returns the gradient [N, H, W, C] (inShape) of the pooling's input.
	MaxPool2DBackward(dy, argmax Tensor, w Window, inShape []int) (Tensor, error)
	// AvgPool2D averages each channel of x [N, H, W, C] over each window, counting only
	// positions inside the image (as TensorFlow's "same" padding does).
	AvgPool2D(x Tensor, w Window) (Tensor, error)
	// AvgPool2DBackward is the gradient of AvgPool2D: it spreads dy [N, OH, OW, C] evenly over
	// each window's in-image positions and returns a tensor of inShape [N, H, W, C].
	AvgPool2DBackward(dy Tensor, w Window, inShape []int) (Tensor, error)

	// ReLU returns max(x, 0) and the derivative mask [x > 0], kept for MulMask in the backward
	// pass (the secure engine computes the comparison once).
	ReLU(x Tensor) (out, mask Tensor, err error)
	// MulMask returns x where the mask of ReLU is set and 0 elsewhere (same shapes).
	MulMask(x, mask Tensor) (Tensor, error)
	// Maximum returns the elementwise maximum of a and b (same shapes).
	Maximum(a, b Tensor) (Tensor, error)
	// Clip limits every element of x to [lo, hi] (public bounds, lo <= hi).
	Clip(x Tensor, lo, hi float64) (Tensor, error)
	// Sigmoid returns 1/(1+exp(-x)).
	Sigmoid(x Tensor) (Tensor, error)
	// Tanh returns tanh(x).
	Tanh(x Tensor) (Tensor, error)
	// Softmax returns exp(x)/sum(exp(x)) along the last axis.
	Softmax(x Tensor) (Tensor, error)
	// Exp returns e^x.
	Exp(x Tensor) (Tensor, error)
	// Log returns the natural logarithm of x, for x > 0.
	Log(x Tensor) (Tensor, error)
	// Reciprocal returns 1/x, for x != 0 (the secure engine approximates it for x > 0).
	Reciprocal(x Tensor) (Tensor, error)
	// InvSqrt returns 1/sqrt(x), for x > 0.
	InvSqrt(x Tensor) (Tensor, error)
	// ArgMaxMask returns a tensor shaped like x holding 1 at the first maximum of every row
	// along the last axis and 0 elsewhere.
	ArgMaxMask(x Tensor) (Tensor, error)
	// ArgMax returns the index of the first maximum of every row of x along the last axis,
	// revealed to party to (-1: every party); other parties get nil and no error.
	ArgMax(x Tensor, to int) ([]int, error)
}

// ShareCodec is implemented by backends whose tensors are secret-shared, so that each party
// can save and load its own shares (checkpoints that never reveal the weights). Data written
// by one party is only meaningful to the same party of the same computation.
type ShareCodec interface {
	// AppendShare appends this party's share of t to dst and returns the extended slice.
	AppendShare(dst []byte, t Tensor) ([]byte, error)
	// ReadShare decodes a share of a tensor of the given shape from the front of data and
	// returns it with the bytes it did not consume.
	ReadShare(data []byte, shape []int) (Tensor, []byte, error)
}

// Owns reports whether the party b runs is the owner of some data, that is whether a program
// running on b should pass the owner's data to Input. A backend that plays every party
// (Party() < 0) owns everything.
func Owns(b Backend, owner int) bool {
	p := b.Party()
	return p < 0 || p == owner
}

// Variable is a weight of one model replica on one backend: its current value and the gradient
// the last backward pass computed for it. Layers read Value and write Grad; optimizers read
// Grad and replace Value.
type Variable struct {
	Name      string // e.g. "dense/kernel"
	Value     Tensor
	Grad      Tensor // nil until a backward pass computes it
	Trainable bool   // false for statistics such as a batch normalisation's moving mean
}

// Param is a public parameter of a step of a computation (a sample count, a batch size, the
// digest of an architecture) that every party must hold with the same value.
type Param struct {
	Name  string
	Value string
}

// Stepper is implemented by the backends of multi-party engines. Step runs fn as one step of
// the computation (a Fit epoch, a Predict, a save): the parties first check that they all run
// the same step with the same public parameters, and a party whose preparation failed
// (failed != nil) says so, so that the others fail at once with its reason; after fn, the
// parties confirm to each other that it succeeded everywhere. Step returns an error on every
// party when any party failed or disagreed, so that no party keeps a result the others could
// not finish. Engines that play every party at once (the plain engine) need no Stepper.
type Stepper interface {
	Step(what string, params []Param, failed error, fn func() error) error
}

// PublicRandom is implemented by the backends of multi-party engines: PublicUint64 returns a
// value drawn from randomness the parties share, the same on every party and unknown outside
// the computation (it names a save of the parties' shares, say).
type PublicRandom interface {
	PublicUint64() uint64
}

// InputLimiter is implemented by engines whose arithmetic has a limited range (fixed point):
// InputLimit is the largest magnitude of data (features and targets) they take, so that the
// products and gradients of training stay within range.
type InputLimiter interface {
	InputLimit() float64
}

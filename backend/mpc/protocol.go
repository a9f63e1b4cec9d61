package mpc

import (
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/approx"
	"github.com/gotfe/gotfe/secure/fixed"
	"github.com/gotfe/gotfe/secure/ring"
	"github.com/gotfe/gotfe/secure/session"
)

// Sharing is what the backend reads from a protocol's secret tensors: their shape and number
// of elements.
type Sharing interface {
	Shape() []int
	Len() int
}

// Protocol is what the secure backend needs from a protocol, generic in the protocol's three
// kinds of secret tensors: S, an arithmetic sharing of fixed-point values (or raw ring
// elements where a method says so, such as max-pooling's route of ring integers 0 and 1); B, a
// boolean sharing of secret bits (the masks of ReLU and maxima); U, a product before its
// truncation. Both [github.com/gotfe/gotfe/secure/aby3]
// (*aby3.Party) and [github.com/gotfe/gotfe/secure/pond] (*pond.Party) implement it; their
// packages document each method's cost and error.
//
// Every method may communicate; all parties call the same methods in the same order with the
// same public arguments. No method modifies its operands.
type Protocol[S, B, U Sharing] interface {
	// The party and its session ([session.Session]).
	ID() secure.PartyID
	Name() string
	Encoding() fixed.Encoding
	Stats() session.Stats
	Begin(op string, shape []int)
	Agree(what string, params []session.Param, failed error) error
	NotifyFailure(what string, err error)
	BroadcastBytes(data []byte, from secure.PartyID) ([]byte, error)
	PublicRandom(dst []uint64)

	// Sharing, opening and saving.
	Share(owner secure.PartyID, values []float64, shape []int) (S, error)
	Reveal(x S, to secure.PartyID) ([]float64, error)
	Public(c []float64, shape []int) (S, error)
	AppendShare(dst []byte, x S) []byte
	ReadShare(data []byte, shape []int) (S, []byte, error)

	// Local linear operations.
	Reshape(x S, shape ...int) (S, error)
	Permute(x S, perm ...int) (S, error)
	MapLinear(x S, f func(*ring.Tensor) (*ring.Tensor, error)) (S, error)
	Concat(axis int, xs ...S) (S, error)
	Slice(x S, axis, start, end int) (S, error)
	Add(x, y S) (S, error)
	Sub(x, y S) (S, error)
	Neg(x S) S
	AddBias(x, bias S) (S, error)
	AddPublic(x S, c []float64) (S, error)
	MulPublicRing(x S, c uint64) S
	Sum(x S, axis int) (S, error)

	// Products.
	Mul(x, y S) (S, error)
	MulRing(x, y S) (S, error)
	MulPublic(x S, c float64) (S, error)
	MulPublicTensor(x S, c []float64) (S, error)
	Mean(x S, axis int) (S, error)

	// Products before their truncation.
	MatMulUnreduced(x, y S) (U, error)
	Lift(x S) U
	ReshapeUnreduced(u U, shape ...int) (U, error)
	ConcatUnreduced(axis int, us ...U) (U, error)
	MapLinearUnreduced(u U, f func(*ring.Tensor) (*ring.Tensor, error)) (U, error)
	ScaleUnreduced(u U, k int64) U
	AddBiasUnreduced(u U, bias S) (U, error)
	Reduce(u U, c float64) (S, error)
	ReduceReLU(u U, arith bool) (z, y S, maskB B, maskA S, err error)

	// Exact comparisons.
	ReLU(x S) (S, B, error)
	ReLUArith(x S) (y, mask S, err error)
	MulMask(x S, mask B) (S, error)
	Maximum(x, y S) (S, error)
	Clip(x S, lo, hi float64) (S, error)
	ClipWithin(x S, lo, hi, xlo, xhi float64) (S, error)
	MaxPool2D(x S, g ring.ConvGeom) (out, route S, err error)
	MaxPool2DBackward(dy, route S, g ring.ConvGeom) (S, error)
	MaxWithMask(x S, axis int) (S, B, error)
	BitToFixed(b B) (S, error)
	ArgMax(x S, axis int) (S, error)

	// Approximations ([github.com/gotfe/gotfe/secure/approx]).
	Sigmoid(x S) (S, error)
	Tanh(x S) (S, error)
	Softmax(x S) (S, error)
	Exp(x S) (S, error)
	Log(x S) (S, error)
	LogWith(x S, cfg approx.LogConfig) (S, error)
	Reciprocal(x S) (S, error)
	ReciprocalWith(x S, cfg approx.NewtonConfig) (S, error)
	InvSqrt(x S) (S, error)
	InvSqrtWith(x S, cfg approx.NewtonConfig) (S, error)
}

// Package approx approximates the nonlinear functions of machine learning on secret-shared
// fixed-point values: sigmoid, tanh, exp, log, reciprocal, inverse square root and softmax.
//
// The algorithms are written once against [Ops], the few operations they need from a protocol
// (additions, linear combinations with public coefficients, batched products, and exact
// comparisons with public thresholds), and [RowOps] for the row reductions of [Softmax]. A
// protocol satisfies them with an adapter over its own tensor type; the aby3 package does,
// and exposes the results as methods of its Party. The package holds no secrets and does no
// communication of its own.
//
// # Method
//
// Every function first brings its input into a bounded interval with exact comparisons
// (clamping, and for exp, reciprocal, inverse square root and log a range reduction by the
// interval or power of 4 the input falls in), so that every intermediate value stays small:
// large intermediate values make the protocols' truncations fail (see the aby3 package). It
// then evaluates a polynomial interpolating the function at Chebyshev nodes (in the Chebyshev
// basis for sigmoid, tanh, exp and log, whose terms stay in [-1, 1]), or runs Newton-Raphson
// steps from a polynomial or piecewise-linear first guess. Products that do not depend on each
// other share their rounds ([Ops.MulMany]), so the number of rounds depends on the degree and
// the number of steps, never on the size of the tensors; a linear combination with fractional
// coefficients that feeds a product is formed exactly with integer coefficients scaled by 2^s
// and rounded by that product (its shift grows by s), so that it costs no round of its own. A caller that knows bounds on the input (a clipped
// probability before [Log]) passes them in the configuration: the clamps they make redundant
// are left out, and the comparisons run on narrower values ([Ops.CompareIn]).
//
// # Errors
//
// Round counts stated for aby3 are for tensors below 2048 elements; from there the aby3
// package's comparisons take two rounds more for fewer bytes.
//
// Each function states, in its documentation, its input range, its error over that range and
// what it returns outside it (saturation: the value at the nearest end of the range); tests
// check every bound on a simulated fixed-point engine with the protocols' rounding and, for
// aby3, end to end. With the defaults and f = 16 fractional bits:
//
//	function      range                      error
//	Sigmoid       all x (clamped to ±8)      < 1e-2 absolute (6.3e-3 + rounding)
//	Tanh          all x (clamped to ±4)      < 1e-2 absolute (6.0e-3 + rounding)
//	Exp           [-3, 4]                    < 1e-3 relative
//	              [-11.8, 4]                 < 1e-3 relative + 2·2^-16
//	Reciprocal    [2^-8, 32]                 < 1e-3 relative
//	InvSqrt       [2^-8, 2^10]               < 1e-3 relative
//	Log           [2^-16, 2^16]              < 2e-4 absolute
//	Softmax       any logits                 < 2e-3 per probability
//
// The relative bounds stop where the result becomes a few hundred units in the last place:
// a fixed-point result cannot be more precise than its last place. Errors are measured
// against the function of the encoded input.
package approx

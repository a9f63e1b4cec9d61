// Package mpc is the secure backend of the Keras surface: it implements
// [github.com/gotfe/gotfe/keras/backend.Backend] over three-party replicated secret sharing
// ([github.com/gotfe/gotfe/secure/aby3]). Each party runs the same model program with its own
// [Backend]; a [Tensor] holds that party's shares.
//
// Linear operations (additions, reshapes, transposes, sums, im2col) are local. Products cost
// two rounds (resharing with fused truncation), comparisons and approximations the rounds
// their aby3 functions document. Public values (constants, seeds, scalars) are the same on
// every party; data enters only through [Backend.Input] and leaves only through
// [Backend.Reveal].
//
// A [LocalRunner] runs the three parties of a computation as goroutines of this process and
// keeps them (and their shares) from one Run to the next, so a model trained by Fit can
// Predict and Evaluate on the same shares. A [PartyRunner] runs one party of a distributed
// computation.
package mpc

// Package mpc is the secure backend of the Keras surface: it implements
// [github.com/gotfe/gotfe/backend.Backend] over a secret-sharing protocol, chosen by name
// ([NewBackend], Config.Params.Protocol): three-party replicated sharing
// ([github.com/gotfe/gotfe/secure/aby3], the default) or two-party additive sharing with a
// crypto producer ([github.com/gotfe/gotfe/secure/pond]). Both implement [Protocol], the
// operations the backend needs, defined here by its one consumer. Each party runs the same
// model program with its own [Backend]; a tensor holds that party's shares.
//
// Linear operations (additions, reshapes, transposes, sums, im2col) are local. Products,
// comparisons and approximations cost the rounds their protocol documents. Public values
// (constants, seeds, scalars) are the same on every party; data enters only through
// [Backend].Input and leaves only through [Backend].Reveal.
//
// The backend fuses what the layer-by-layer interface splits, without changing a result
// beyond the stated fixed-point errors:
//
//   - A matrix product stays pending, with its operands, until an operation needs its shares:
//     a following AddBias and ReLU share its truncation ([Protocol].ReduceReLU), and a real
//     Scale (the learning rate on the optimizer's joined gradients) is applied to the smaller
//     operands or folded into the one truncation.
//   - Clip and Softmax give their results public bounds, with which a following Clip or Log
//     compares on narrower lanes and leaves out redundant clamps.
//   - Large ReLUs keep an arithmetic mask, so that MulMask is a ring product.
//   - Concat and Split let Fit compute the loss and metrics of several steps at once and the
//     optimizers update all variables in one pass.
//
// A [LocalRunner] runs the three parties of a computation as goroutines of this process and
// keeps them (and their shares) from one Run to the next, so a model trained by Fit can
// Predict and Evaluate on the same shares. A [PartyRunner] runs one party of a distributed
// computation.
package mpc

// Package optimizers holds the Keras optimizers of gotfe: SGD (with momentum and Nesterov
// momentum) and Adam (with the AMSGrad variant), written against the tensor interface of
// [github.com/gotfe/gotfe/keras/backend].
//
// An [Optimizer] is a spec (its hyperparameters). A model builds one [Updater] per backend it
// trains on, with [Optimizer.Build]; the updater holds the slots (momenta, moment estimates)
// of that backend's replica of the weights and applies one step per call to Update, reading
// each trainable variable's Grad and replacing its Value. Learning rates and the other
// hyperparameters are public; the weights, gradients and slots are whatever the backend holds
// (secret shares on the secure engine). Bias corrections depend only on the step count, so
// they are public scalars.
//
// Updates follow Keras 3, except that Adam divides by sqrt(v̂ + ε²) instead of sqrt(v̂) + ε: one
// inverse square root rather than a square root and a reciprocal, which on the secure engine
// is one approximation instead of two. The two agree at v̂ = 0 and for v̂ ≫ ε² and differ by at
// most a factor √2 in between. On a fixed-point engine ε² must be representable: with f
// fractional bits, choose ε >= 2^(-f/2) (about 4e-3 for f = 16) rather than Keras's 1e-7.
package optimizers

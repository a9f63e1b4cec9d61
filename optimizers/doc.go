// Package optimizers holds the Keras optimizers of gotfe: SGD (with momentum and Nesterov
// momentum) and Adam (with the AMSGrad variant), written against the tensor interface of
// [github.com/gotfe/gotfe/backend].
//
// An [Optimizer] is a spec (its hyperparameters). A model builds one [Updater] per backend it
// trains on, with [Optimizer.Build]; the updater holds the slots (momenta, moment estimates)
// of that backend's replica of the weights and applies one step per call to Update, reading
// each trainable variable's Grad and replacing its Value. Learning rates and the other
// hyperparameters are public; the weights, gradients and slots are whatever the backend holds
// (secret shares on the secure engine). Bias corrections depend only on the step count, so
// they are public scalars. On a backend that can concatenate tensors and split them back (the
// secure engine), an updater keeps its slots as one flat tensor and applies each step to the
// concatenation of all the gradients: the same elementwise arithmetic, with the communication
// rounds of a step paid once per update rather than once per variable.
//
// Updates follow Keras 3, except that Adam divides by sqrt(v̂ + ε²) instead of sqrt(v̂) + ε: one
// inverse square root rather than a square root and a reciprocal, which on the secure engine
// is one approximation instead of two. The two agree at v̂ = 0 and for v̂ ≫ ε² and differ by at
// most a factor √2 in between. Adam keeps its second moment scaled by 2^12 (gradients are
// multiplied by 2^6, exactly, before they are squared), so that on a 16-bit fixed-point engine
// the squares of small gradients keep about 8 significant bits; Keras's ε = 1e-7 then works on
// both engines (ε² vanishes in fixed point, and the secure inverse square root saturates at
// 2^8 for second moments below its range, which only shortens steps of weights whose
// gradients stay below about 6e-5).
package optimizers

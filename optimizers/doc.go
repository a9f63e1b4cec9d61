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
// Updates follow Keras 3, except that Adam divides by sqrt(v̂ + ε̂²) instead of sqrt(v̂) + ε̂
// (ε̂ = ε/sqrt(1-β2^t), Keras's ε added to sqrt(v) before the bias correction): one inverse
// square root rather than a square root and a reciprocal, which on the secure engine is one
// approximation instead of two. The two agree at v̂ = 0 and for v̂ ≫ ε̂² and differ by at most
// a factor √2 in between.
//
// # Adam in fixed point
//
// Adam keeps its moments bias-corrected (m̂ = m/(1-β1^t), v̂ = v/(1-β2^t), updated as
// m̂ += (1-β1)/(1-β1^t)·(g - m̂)), so that the first step sees g and g² at full size rather
// than (1-β2)·g², and scaled: gradients are multiplied by S = 2^10, exactly, before they
// enter the moments, which hold S·m̂ and S²·v̂. On a 16-bit fixed-point engine the square of
// the smallest nonzero gradient, 2^-16, is then 16 units in the last place, and a gradient of
// 10 gives 2^26.6. The inverse square root covers [2^-16, 2^28] (gradients up to 16; beyond,
// it saturates and steps grow with the gradient; the products wrap around from 32) and returns
// 2^s/sqrt(x), so that its result keeps ten significant bits where it is small; the learning
// rate multiplies it as lr·2^(16-s), near 1, and the product with S·m̂ is scaled back by the
// exact 2^-16. With Keras's defaults, secure and plain Adam then agree within a few percent of
// a step for gradients from about 1.5e-4 (the moments keep at least 390 units in the last
// place) and within a bound derived from the fixed-point resolution below (the agreement
// tests of the secure backend); gradients below 2^-17 are 0 in 16-bit fixed point.
package optimizers

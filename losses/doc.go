// Package losses holds the Keras losses of gotfe, written against the tensor interface of
// [github.com/gotfe/gotfe/backend] so that they run on the plain and the secure engine.
//
// Every loss is reduced as Keras's default "sum_over_batch_size": the per-sample losses are
// averaged over the batch (and, for losses defined per element, over the elements of a
// sample). The categorical cross-entropies of probabilities first divide the predictions by
// their sum along the last axis, as Keras and TF.js do.
//
// # Saturation
//
// Probabilities are clipped to [ε, 1-ε] before a logarithm or a division, with ε = 2^-16
// ([Epsilon]) on both engines: Keras clips at 1e-7, which 16-bit fixed point cannot represent
// (its smallest positive value is 2^-16 ≈ 1.5e-5), so one rule for both engines takes the
// secure engine's last place. A sample whose true class has probability below 2^-16 thus costs
// at most 16·ln 2 ≈ 11.09 (Keras: up to 16.1), and the non-fused gradients use the clipped
// values (the clip passes the gradient through): -y/clip(p), at most 2^16 in magnitude
// before the average (Keras: 1e7). Above 2^-16 the engines and Keras agree, the secure one
// within its fixed-point bounds (the logarithm's 2e-4, the reciprocal's 1e-3 relative). Fused
// gradients ((p - y)/n, below) need no clip.
//
// # Fused gradients
//
// When a model's last layer ends with softmax and the loss is categorical cross-entropy, or
// with sigmoid and the loss is binary cross-entropy, the gradient with respect to the
// activation's input is simply (p - y) divided by the number of terms averaged.
// [Loss.BackwardLogits] returns that gradient, which the model hands to the last layer in place
// of differentiating the activation; this is exact and, on the secure engine, avoids a
// division by secret probabilities. With FromLogits(true) the model outputs logits and the
// loss applies the softmax or sigmoid itself; its Backward is then the same closed form.
//
// # Targets
//
// The targets a user gives are plain values known to their owner. [Loss.TargetSize] says how
// many a sample has (one class index per sample for the sparse loss, one value per output
// otherwise) and [Loss.EncodeTargets] turns them into the dense layout the loss computes on,
// one-hot encoding class indices on the owner's side before they are secret-shared.
package losses

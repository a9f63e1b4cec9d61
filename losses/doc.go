// Package losses holds the Keras losses of gotfe, written against the tensor interface of
// [github.com/gotfe/gotfe/backend] so that they run on the plain and the secure engine.
//
// Every loss is reduced as Keras's default "sum_over_batch_size": the per-sample losses are
// averaged over the batch (and, for losses defined per element, over the elements of a
// sample). Probabilities are clipped to [1e-7, 1-1e-7] before a logarithm, as Keras does.
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

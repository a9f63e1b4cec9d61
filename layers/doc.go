// Package layers holds the Keras layers of gotfe, written once against the tensor interface of
// [github.com/gotfe/gotfe/backend] so that they run unchanged on the plain float64 engine
// and on the secure engine.
//
// # Specs and instances
//
// A [Layer] is a spec: its configuration and nothing else, the value a user puts in a model
// (layers.Dense(128, layers.Activation("relu"))). A model builds one [Instance] of each layer
// per backend it runs on, with [Layer.Build]; in a secure computation each of the three
// parties builds its own instances over its own shares, so specs never hold tensors. An
// instance runs the forward pass, keeps what its backward pass needs, and on Backward writes
// the gradients of its weights into the Grad fields of the [backend.Variable] values it was
// built with.
//
// Shapes given to and returned by specs exclude the batch dimension, as Keras prints them
// after "None"; tensors at run time carry it first. Images are NHWC.
//
// # Options
//
// Optional arguments are functional options of one type, [Option], shared by every layer:
// layers.Conv2D(32, 3, layers.Strides(2), layers.Padding("same")) (a kernel size, stride or
// pool size is one int for a square window, or two for height and width). An option a
// layer does not take, an unknown activation or initializer name, or a bad size makes the
// layer invalid; the error (naming the layer) comes back from the first method that needs the
// configuration, typically when the model is assembled. Constructors never panic.
//
// [Activation] is both a layer and an option: in a model's layer list it is an activation
// layer, given to Dense, Conv2D or DepthwiseConv2D it sets the layer's activation.
//
// # Costs and errors of the activations on the secure engine
//
// The activations are written once, from the engine's operations, so they run on both
// engines; on the secure engine their cost and accuracy are those of the operations they use
// (errors at 16 fractional bits; ulp = 2^-16; "exact" means within a few ulp):
//
//   - relu, relu6, leaky_relu, hard_sigmoid, LeakyReLU: one or two comparisons (ReLU), exact.
//     PReLU: one comparison and one product, exact.
//   - elu, selu, ELU: a comparison and an exponential of min(x, 0): within 1e-3·α (selu:
//     1.76e-3) of the exact values, derivative alike.
//   - softplus: a comparison, an exponential and a logarithm (ln(1 + e^-|x|) + relu(x)): within
//     7e-4; its derivative is a sigmoid (1e-2).
//   - softsign: a comparison and a reciprocal of 1 + |x| (inputs up to 2^12 - 1): within 1e-3,
//     derivative 2e-3.
//   - exponential: e^x for x in [-11.8, 4] (clamped beyond): relative error 1e-3.
//   - sigmoid and tanh: 1e-2 everywhere. swish (x·σ(x)): 1e-2·|x|; its derivative
//     1e-2·(1 + 2|x|).
//   - gelu, in Keras's tanh form x·σ(1.5958·(x + 0.044715·x³)) on both engines (within 5e-4 of
//     the exact x·Φ(x), Keras's default): the output within 1e-2·|x|; the derivative within
//     1e-2·(1 + |x·u'|) with u' = 1.5958·(1 + 0.134·x²), about 6e-2 for |x| ≤ 2 and 0.25 for
//     |x| ≤ 3, but growing as x³ beyond: train with gelu on the secure engine only where
//     pre-activations stay within ±3 (normalise the inputs, or prefer relu or swish).
//   - softmax: 2e-3 per probability.
//
// # Which layers are expensive on the secure engine
//
// Linear maps are cheap: additions, reshapes, Flatten, im2col and AveragePooling2D are local,
// and a product (Dense, Conv2D) costs 2 rounds and 36 bytes per output element (the three
// parties together), whatever its fan-in. Comparisons are expensive: ReLU, the ReLU family,
// clipping and MaxPooling2D turn shares into bits and run an adder, about 10 rounds and 135
// bytes per element, and max-pooling compares three times per 2x2 window. On the activation
// maps of a convolution (26×26×8 per image for Conv2D(8, 3) on MNIST) comparisons dominate a
// training step. A plain ReLU directly followed by MaxPooling2D already runs after the
// pooling ([Arrange]: a quarter of the ReLU's comparisons for 2x2 windows, the same values);
// a strided convolution or average pooling instead of max-pooling removes the pooling's
// comparisons too. The approximations (sigmoid, tanh, exp, log, reciprocal) cost 16 to 30
// rounds, softmax 29 to 63 (more rows, more rounds). Normalization and
// Rescaling as a model's first layers cost nothing (the data owner applies them). The README's
// "What costs what" tables give the measured rounds and bytes per layer and per training
// step.
//
// # Saving
//
// Every layer's configuration is a JSON-encodable struct (DenseConfig, Conv2DConfig, ...)
// returned by [Layer.Config]; [FromConfig] rebuilds a layer from its class name and that JSON.
package layers

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
// layers.Conv2D(32, [2]int{3, 3}, layers.Strides(2, 2), layers.Padding("same")). An option a
// layer does not take, an unknown activation or initializer name, or a bad size makes the
// layer invalid; the error (naming the layer) comes back from the first method that needs the
// configuration, typically when the model is assembled. Constructors never panic.
//
// [Activation] is both a layer and an option: in a model's layer list it is an activation
// layer, given to Dense, Conv2D or DepthwiseConv2D it sets the layer's activation.
//
// # Saving
//
// Every layer's configuration is a JSON-encodable struct (DenseConfig, Conv2DConfig, ...)
// returned by [Layer.Config]; [FromConfig] rebuilds a layer from its class name and that JSON.
package layers

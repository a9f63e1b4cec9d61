// Package models builds, by name, the standard MNIST networks that private machine learning
// papers and TF Encrypted's benchmark use, so that examples and benchmarks train the same
// models:
//
//   - "a": Flatten, Dense 128, ReLU, Dense 128, ReLU, Dense 10 (SecureML's network A)
//   - "b": Conv2D 16 5x5 valid, MaxPool 2, ReLU, Conv2D 16 5x5 valid, MaxPool 2, ReLU,
//     Flatten, Dense 100, ReLU, Dense 10
//   - "c": Conv2D 20 5x5 valid, MaxPool 2, ReLU, Conv2D 50 5x5 valid, MaxPool 2, ReLU,
//     Flatten, Dense 500, ReLU, Dense 10
//   - "d": Conv2D 5 5x5 stride 2 same, ReLU, Flatten, Dense 100, ReLU, Dense 10
//   - "lr": logistic regression (Dense 1, sigmoid) for small (0-4) against large (5-9) digits
//
// The ten-class networks end in a softmax and train with categorical cross-entropy; "lr"
// trains with binary cross-entropy on the labels of [datasets.SmallVsLarge].
package models

import (
	"fmt"
	"strings"

	"github.com/gotfe/gotfe/datasets"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/nd"
	"github.com/gotfe/gotfe/optimizers"
)

// Names lists the networks New knows.
var Names = []string{"a", "b", "c", "d", "lr"}

// New returns the named network, not yet compiled.
func New(name string) (*keras.Sequential, error) {
	relu := func() layers.Layer { return layers.ReLU() }
	pool := func() layers.Layer { return layers.MaxPooling2D(layers.PoolSize(2, 2)) }
	switch strings.ToLower(name) {
	case "a":
		return keras.NewSequential(
			layers.Input(datasets.ImageSize),
			layers.Dense(128), relu(),
			layers.Dense(128), relu(),
			layers.Dense(10, layers.Activation("softmax")),
		)
	case "b":
		return keras.NewSequential(
			layers.Input(28, 28, 1),
			layers.Conv2D(16, [2]int{5, 5}), pool(), relu(),
			layers.Conv2D(16, [2]int{5, 5}), pool(), relu(),
			layers.Flatten(),
			layers.Dense(100), relu(),
			layers.Dense(10, layers.Activation("softmax")),
		)
	case "c":
		return keras.NewSequential(
			layers.Input(28, 28, 1),
			layers.Conv2D(20, [2]int{5, 5}), pool(), relu(),
			layers.Conv2D(50, [2]int{5, 5}), pool(), relu(),
			layers.Flatten(),
			layers.Dense(500), relu(),
			layers.Dense(10, layers.Activation("softmax")),
		)
	case "d":
		return keras.NewSequential(
			layers.Input(28, 28, 1),
			layers.Conv2D(5, [2]int{5, 5}, layers.Strides(2, 2), layers.Padding("same")), relu(),
			layers.Flatten(),
			layers.Dense(100), relu(),
			layers.Dense(10, layers.Activation("softmax")),
		)
	case "lr":
		return keras.NewSequential(
			layers.Input(datasets.ImageSize),
			layers.Dense(1, layers.Activation("sigmoid")),
		)
	}
	return nil, fmt.Errorf("models: unknown network %q (want one of %v)", name, Names)
}

// Loss returns the loss the named network trains with.
func Loss(name string) losses.Loss {
	if strings.ToLower(name) == "lr" {
		return losses.BinaryCrossentropy()
	}
	return losses.CategoricalCrossentropy()
}

// Optimizer returns the named optimizer ("sgd", "adam" or "amsgrad") with learning rate lr; a
// zero lr means the default of that optimizer for these networks (0.2 for SGD, 0.001 for the
// others).
func Optimizer(name string, lr float64) (optimizers.Optimizer, error) {
	switch strings.ToLower(name) {
	case "sgd":
		if lr == 0 {
			lr = 0.2
		}
		return optimizers.SGD(lr), nil
	case "adam":
		if lr == 0 {
			lr = 0.001
		}
		return optimizers.Adam(lr), nil
	case "amsgrad":
		if lr == 0 {
			lr = 0.001
		}
		return optimizers.Adam(lr, optimizers.AMSGrad(true)), nil
	}
	return nil, fmt.Errorf("models: unknown optimizer %q (want sgd, adam or amsgrad)", name)
}

// Targets returns the training targets of the named network for labels: one-hot rows
// (shape [n, 10]) for the ten-class networks, 0/1 (shape [n]) for "lr".
func Targets(name string, labels []int) (*nd.Array, error) {
	if strings.ToLower(name) == "lr" {
		return nd.New(datasets.SmallVsLarge(labels), len(labels)), nil
	}
	y, err := datasets.OneHot(labels, datasets.NumClasses)
	if err != nil {
		return nil, err
	}
	return nd.New(y, len(labels), datasets.NumClasses), nil
}

// Images returns n flat MNIST images (row-major, [n, 784]) in the input shape of the named
// network: [n, 784] for "a" and "lr", [n, 28, 28, 1] for the convolutional ones.
func Images(name string, x []float64) *nd.Array {
	n := len(x) / datasets.ImageSize
	switch strings.ToLower(name) {
	case "a", "lr":
		return nd.New(x, n, datasets.ImageSize)
	}
	return nd.New(x, datasets.NHWCShape(n)...)
}

// inputShape returns images x [n, 28, 28, 1] in the input shape of the named network (a view).
func inputShape(name string, x *nd.Array) *nd.Array {
	switch strings.ToLower(name) {
	case "a", "lr":
		return x.Reshape(-1, datasets.ImageSize)
	}
	return x
}

// Data returns the training and test images and targets of d for the named network (see
// Images and Targets). The images keep d's pixel bytes ([datasets.MNIST.Train]): Fit,
// Evaluate and Predict read them a batch at a time.
func Data(name string, d *datasets.MNIST) (x, y, xt, yt *nd.Array, err error) {
	if y, err = Targets(name, d.TrainY); err != nil {
		return nil, nil, nil, nil, err
	}
	if yt, err = Targets(name, d.TestY); err != nil {
		return nil, nil, nil, nil, err
	}
	x, _ = d.Train()
	xt, _ = d.Test()
	return inputShape(name, x), y, inputShape(name, xt), yt, nil
}

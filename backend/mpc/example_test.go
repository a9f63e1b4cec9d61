package mpc_test

import (
	"fmt"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/optimizers"
	"github.com/gotfe/gotfe/secure/aby3"
)

// A Keras model trained on secret shares: the same program as on the plain engine, with a
// secure runner (three parties in this process, in-memory links) set on the model.
func ExampleLocalRunner() {
	// y = 1 when x0 > x1, for four samples owned by party 0.
	x := []float64{0.9, 0.1, 0.2, 0.8, 0.7, 0.3, 0.1, 0.6}
	y := []float64{1, 0, 1, 0}
	model, err := keras.NewSequential(layers.Input(2), layers.Dense(1, layers.Activation("sigmoid")))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := model.Compile(optimizers.SGD(1), losses.BinaryCrossentropy(), keras.Metrics("binary_accuracy")); err != nil {
		fmt.Println(err)
		return
	}
	runner := mpc.NewLocalRunner(aby3.Config{}, nil)
	defer runner.Close()
	if err := model.SetRunner(runner); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := model.Fit(x, y, keras.Epochs(30), keras.BatchSize(4), keras.Verbose(0)); err != nil {
		fmt.Println(err)
		return
	}
	classes, err := model.Predict(x, keras.Verbose(0))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range classes {
		fmt.Print(p > 0.5, " ")
	}
	fmt.Println()
	// Output: true false true false
}

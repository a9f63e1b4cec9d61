package mpc_test

import (
	"fmt"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/nd"
	"github.com/gotfe/gotfe/optimizers"
)

// A Keras model trained on secret shares: the same program as on the plain engine, with a
// secure runner (three parties in this process, in-memory links) set on the model.
func ExampleLocal() {
	// y = 1 when x0 > x1, for four samples owned by party 0.
	x := nd.Rows([][]float64{{0.9, 0.1}, {0.2, 0.8}, {0.7, 0.3}, {0.1, 0.6}})
	y := nd.New([]float64{1, 0, 1, 0}, 4)
	model, err := keras.NewSequential(layers.Input(2), layers.Dense(1, layers.Activation("sigmoid")))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := model.Compile(optimizers.SGD(1), keras.Loss("binary_crossentropy"), keras.Metrics("binary_accuracy")); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("before:", model.Engine())
	runner := mpc.Local()
	defer runner.Close()
	if err := model.SetRunner(runner); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("after:", model.Engine())
	if _, err := model.Fit(x, y, keras.Epochs(30), keras.BatchSize(4), keras.Verbose(0)); err != nil {
		fmt.Println(err)
		return
	}
	p, err := model.Predict(x, keras.Verbose(0))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range p.Data() {
		fmt.Print(v > 0.5, " ")
	}
	fmt.Println()
	// Output:
	// before: plain (float64, in the clear: nothing is secret-shared)
	// after: secure (aby3, 16 fractional bits): 3 parties in this process, in-memory links
	// true false true false
}

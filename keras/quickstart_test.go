package keras_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/datasets"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/optimizers"
)

// The README's quick start: define a model, compile it, train it on secret shares, evaluate
// it, predict with it and save it. TestReadmeQuickStart keeps the README's code identical to
// this function's body.
func Example_quickStart() {
	check := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	mnist, err := datasets.LoadMNIST("") // the files of the GoMNIST module
	check(err)
	x, y := mnist.Train() // nd.Array images [60000, 28, 28, 1] and labels [60000]
	xTest, yTest := mnist.Test()

	model, err := keras.NewSequential(
		layers.Input(28, 28, 1),
		layers.Flatten(),
		layers.Dense(64, layers.Activation("relu")),
		layers.Dense(10, layers.Activation("softmax")),
	)
	check(err)
	check(model.Compile(optimizers.SGD(0.1), keras.Loss("sparse_categorical_crossentropy"), keras.Metrics("accuracy")))

	runner := mpc.Local() // three parties in this process: training on secret shares
	defer runner.Close()
	check(model.SetRunner(runner))
	_, err = model.Fit(x.Slice(0, 4096), y.Slice(0, 4096), keras.Epochs(2), keras.BatchSize(64), keras.Verbose(0))
	check(err)

	logs, err := model.Evaluate(xTest.Slice(0, 1000), yTest.Slice(0, 1000), keras.Verbose(0))
	check(err)
	fmt.Println("test accuracy above 80%:", logs["accuracy"] > 0.8)
	p, err := model.Predict(xTest.Slice(0, 3), keras.Verbose(0))
	check(err)
	fmt.Println("predictions:", p) // revealed to the data owner only
	check(model.Save(filepath.Join(os.TempDir(), "mnist.gotfe")))
	// Output:
	// test accuracy above 80%: true
	// predictions: nd.Array(3, 10)
}

package keras_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/gotfe/gotfe/datasets"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/nd"
	"github.com/gotfe/gotfe/optimizers"
)

// points returns n points of the unit square (shape [n, 2]) labelled 1 when above the
// diagonal (shape [n]).
func points(n int, seed uint64) (x, y *nd.Array) {
	r := rand.New(rand.NewPCG(seed, 0))
	var xv, yv []float64
	for i := 0; i < n; i++ {
		a, b := r.Float64(), r.Float64()
		xv = append(xv, a, b)
		if b > a {
			yv = append(yv, 1)
		} else {
			yv = append(yv, 0)
		}
	}
	return nd.New(xv, n, 2), nd.New(yv, n)
}

// The main path: define a model, compile it, fit it, evaluate it and predict with it.
func ExampleSequential_Fit() {
	x, y := points(512, 1)
	xTest, yTest := points(128, 2)

	model, err := keras.NewSequential(
		layers.Input(2),
		layers.Dense(16, layers.Activation("relu")),
		layers.Dense(1, layers.Activation("sigmoid")),
	)
	if err != nil {
		log.Fatal(err)
	}
	err = model.Compile(optimizers.Adam(0.05), losses.BinaryCrossentropy(), keras.Metrics("accuracy"))
	if err != nil {
		log.Fatal(err)
	}
	history, err := model.Fit(x, y, keras.Epochs(10), keras.BatchSize(32),
		keras.ValidationData(xTest, yTest), keras.Verbose(0))
	if err != nil {
		log.Fatal(err)
	}
	loss := history.History["loss"]
	fmt.Println("logged:", history.Keys())
	fmt.Println("loss fell:", loss[len(loss)-1] < loss[0])

	logs, err := model.Evaluate(xTest, yTest, keras.Verbose(0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("test accuracy above 0.95:", logs["accuracy"] > 0.95)

	p, err := model.Predict(nd.Rows([][]float64{{0.2, 0.9}, {0.9, 0.2}}), keras.Verbose(0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("predictions:", p)
	fmt.Printf("above the diagonal: %v, below: %v\n", p.At(0, 0) > 0.5, p.At(1, 0) < 0.5)
	// Output:
	// logged: [loss accuracy val_loss val_accuracy]
	// loss fell: true
	// test accuracy above 0.95: true
	// predictions: nd.Array(2, 1)
	// above the diagonal: true, below: true
}

func ExampleSequential_Summary() {
	model, err := keras.NewSequential(
		layers.Input(28, 28, 1),
		layers.Conv2D(8, [2]int{3, 3}, layers.Activation("relu")),
		layers.MaxPooling2D(),
		layers.Flatten(),
		layers.Dense(10, layers.Activation("softmax")),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := model.Summary(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Model: "sequential"
	// ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
	// ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
	// ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
	// │ conv2d (Conv2D)                 │ (None, 26, 26, 8)      │            80 │
	// ├─────────────────────────────────┼────────────────────────┼───────────────┤
	// │ max_pooling2d (MaxPooling2D)    │ (None, 13, 13, 8)      │             0 │
	// ├─────────────────────────────────┼────────────────────────┼───────────────┤
	// │ flatten (Flatten)               │ (None, 1352)           │             0 │
	// ├─────────────────────────────────┼────────────────────────┼───────────────┤
	// │ dense (Dense)                   │ (None, 10)             │        13,530 │
	// └─────────────────────────────────┴────────────────────────┴───────────────┘
	//  Total params: 13,610 (106.33 KB)
	//  Trainable params: 13,610 (106.33 KB)
	//  Non-trainable params: 0 (0.00 B)
	//  Engine: plain (float64, in the clear: nothing is secret-shared)
}

// Saving writes the architecture, the compile configuration and the weights atomically;
// loading gives back a model that predicts the same.
func ExampleLoad() {
	x, y := points(256, 3)
	model, err := keras.NewSequential(layers.Input(2), layers.Dense(4, layers.Activation("tanh")), layers.Dense(1))
	if err != nil {
		log.Fatal(err)
	}
	if err := model.Compile(optimizers.SGD(0.1, optimizers.Momentum(0.9)), losses.MeanSquaredError()); err != nil {
		log.Fatal(err)
	}
	if _, err := model.Fit(x, y, keras.Epochs(2), keras.Verbose(0)); err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "gotfe-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.gotfe")
	if err := model.Save(path); err != nil {
		log.Fatal(err)
	}
	loaded, err := keras.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	p1, err := model.Predict(x, keras.Verbose(0))
	if err != nil {
		log.Fatal(err)
	}
	p2, err := loaded.Predict(x, keras.Verbose(0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same predictions:", slices.Equal(p1.Data(), p2.Data()))
	fmt.Println("loss:", loaded.Loss().Name(), "optimizer:", loaded.Optimizer().Name())
	// Output:
	// same predictions: true
	// loss: mean_squared_error optimizer: SGD
}

// Stop when the validation loss stops improving and keep the best weights.
func ExampleEarlyStopping() {
	x, y := points(256, 4)
	model, err := keras.NewSequential(layers.Input(2), layers.Dense(8, layers.Activation("relu")),
		layers.Dense(1, layers.Activation("sigmoid")))
	if err != nil {
		log.Fatal(err)
	}
	if err := model.Compile(optimizers.Adam(0.05), losses.BinaryCrossentropy()); err != nil {
		log.Fatal(err)
	}
	stop := keras.EarlyStopping(keras.Monitor("val_loss"), keras.Patience(3), keras.RestoreBestWeights(true))
	h, err := model.Fit(x, y, keras.Epochs(200), keras.ValidationSplit(0.25), keras.Callbacks(stop), keras.Verbose(0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stopped early:", len(h.Epoch) < 200)
	// Output:
	// stopped early: true
}

// Training the MLP of the MNIST benchmark on the plain engine, here on the first 2000
// training images for three epochs (the whole set takes about 2 s an epoch on two cores and
// reaches 97% test accuracy after 10 epochs). A secure runner would be set with SetRunner
// before Fit; nothing else changes.
func Example_mnist() {
	d, err := datasets.LoadMNIST("")
	if err != nil {
		log.Fatal(err)
	}
	if d, err = d.Subset(2000, 1000); err != nil {
		log.Fatal(err)
	}
	x, y := d.Train() // images [2000, 28, 28, 1], labels [2000]
	xTest, yTest := d.Test()
	model, err := keras.NewSequential(
		layers.Input(28, 28, 1),
		layers.Flatten(),
		layers.Dense(128, layers.Activation("relu")),
		layers.Dense(128, layers.Activation("relu")),
		layers.Dense(10, layers.Activation("softmax")),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := model.Compile(optimizers.SGD(0.1), losses.SparseCategoricalCrossentropy(), keras.Metrics("accuracy")); err != nil {
		log.Fatal(err)
	}
	if _, err := model.Fit(x, y, keras.Epochs(3), keras.BatchSize(32), keras.Verbose(0)); err != nil {
		log.Fatal(err)
	}
	logs, err := model.Evaluate(xTest, yTest, keras.Verbose(0))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("test accuracy: %.2f\n", logs["accuracy"])
	// Output:
	// test accuracy: 0.85
}

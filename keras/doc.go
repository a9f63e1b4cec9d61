// Package keras is the Keras surface of gotfe: a [Sequential] model of
// [github.com/gotfe/gotfe/layers] compiled with an optimizer and a loss, trained with Fit,
// checked with Evaluate, used with Predict, printed with Summary and saved with Save.
//
//	model, err := keras.NewSequential(
//		layers.Input(784),
//		layers.Dense(128, layers.Activation("relu")),
//		layers.Dense(10, layers.Activation("softmax")),
//	)
//	err = model.Compile(optimizers.SGD(0.1), losses.CategoricalCrossentropy(), keras.Metrics("accuracy"))
//	history, err := model.Fit(x, y, keras.Epochs(5), keras.BatchSize(128), keras.ValidationData(xv, yv))
//
// Data are flat row-major []float64: n samples of the model's input shape one after another,
// and targets in the layout the loss takes (one-hot rows, or class indices for the sparse
// loss). Optional arguments are functional options of one type, [Option], validated by the
// call they are given to. Errors are returned, never panics: a wrong data length, labels that
// do not fit the outputs, Fit before Compile, an unknown activation, loss or metric name.
//
// # Runners and replicas
//
// A model runs its programs (a training epoch, an evaluation, a prediction) through a
// [Runner]. The default runner is the plain float64 engine, which calls the program once. A
// secure runner calls it on each of the three parties of a computation, concurrently, each
// with its own [backend.Backend]; a distributed runner calls it once, for the party its process
// runs. This is SPMD execution: every party runs the same program, on its own shares.
//
// The model's layers are therefore specs, and the model builds one replica of its weights and
// layer instances per backend, inside the program, the first time it meets that backend. A
// runner must hand the same backend values to every Run (a party keeps its shares), so a model
// trained by Fit predicts and evaluates on the same replicas. Initial weights come from the
// layers' initializers with public seeds derived from the model's seed ([Sequential.SetSeed]),
// so every party starts from the same values; weights loaded or set in the clear are input by
// the model's owner (party 0 unless [Sequential.SetOwner] says otherwise).
//
// Data are read only by the party that owns them ([DataOwner], party 0 by default): the other
// parties pass nil to Input with the same public shapes. The sample count, batch size, epochs
// and the shuffling seed are public, so every party walks the same batches. Only what is
// revealed to everyone leaves a computation: the loss and metric sums of each epoch, shown in
// the progress line and kept in the [History], on which callbacks such as [EarlyStopping]
// decide, so that all parties decide alike. Predictions are revealed to the data owner only.
// [Verbose] and [Output] change what a process prints, never what the parties exchange: the
// running loss a terminal shows during an epoch on the plain engine appears only at the end of
// the epoch on a secure runner. Since nothing but the epoch's sums is needed there, a backend
// that can join tensors (the secure engine) computes the loss and metrics of up to 8192
// samples of consecutive steps together, so that their communication rounds are paid once per
// group of steps rather than once per step.
//
// After training the weights stay on the replicas (secret-shared on a secure runner).
// [Sequential.GetWeights] and [Sequential.Save] reveal them to the model owner on request (free
// on the plain engine); [Sequential.SaveShares] lets every party write its own shares instead.
//
// # Files
//
// Save writes gotfe's own format: a header, the JSON architecture (with the compile
// configuration), the weights as little-endian float64, and a CRC-32. Files are written to a
// temporary name in the same directory, synced and renamed, so a reader sees the old file or
// the new one, never half of one.
package keras

// Package keras is the Keras surface of gotfe: a [Sequential] model of
// [github.com/gotfe/gotfe/layers] compiled with an optimizer and a loss, trained with Fit,
// checked with Evaluate, used with Predict, printed with Summary and saved with Save.
//
//	mnist, err := datasets.LoadMNIST("")
//	x, y := mnist.Train() // nd.Array images [60000, 28, 28, 1] and labels [60000]
//	model, err := keras.NewSequential(
//		layers.Input(28, 28, 1),
//		layers.Flatten(),
//		layers.Dense(128, layers.Activation("relu")),
//		layers.Dense(10, layers.Activation("softmax")),
//	)
//	err = model.Compile(keras.Optimizer("adam"), keras.Loss("sparse_categorical_crossentropy"), keras.Metrics("accuracy"))
//	runner := mpc.Local() // github.com/gotfe/gotfe/backend/mpc: three parties, secret shares
//	defer runner.Close()
//	err = model.SetRunner(runner) // without it, the model trains in the clear
//	history, err := model.Fit(x, y, keras.Epochs(5), keras.BatchSize(128), keras.ValidationSplit(0.1))
//	logs, err := model.Evaluate(xTest, yTest)
//	p, err := model.Predict(xTest) // an nd.Array [n, 10], revealed to the data owner only
//	err = model.Save("mnist.gotfe")
//
// Summary's last line and [Sequential.Engine] say which engine the model runs on. Optimizers,
// losses and metrics also go by the names Keras's compile takes ([Optimizer], [Loss],
// [Metrics]), with Keras's default hyperparameters.
//
// # Data
//
// Samples and targets are arrays that carry their shape ([Data]: an [nd.Array], or a gonum
// matrix through [nd.Matrix]), the first axis counting samples as in Keras. Samples must have
// the model's input shape ([n, 28, 28, 1] for layers.Input(28, 28, 1)); an array of another
// shape is an error naming both shapes, never silently read as other samples. Targets take the
// layout of the loss: class indices of shape [n] for the sparse categorical cross-entropy (the
// labels datasets return), one-hot rows [n, classes] for the categorical one ([nd.OneHot]),
// values in [0, 1] of the output's shape for the binary one ([n] for one output), values of the
// output's shape for mean squared error. Targets that do not fit are errors that name the loss
// to use or the encoding to apply. Predict returns an [nd.Array] of shape [n, outputs...].
// Samples that implement [Rows], as [nd.Array] does, are read a batch at a time as the batches
// are taken, so that compact data (the byte pixels of datasets.MNIST, [nd.Indexed]) stay
// compact; the model's preprocessing layers then apply to each batch.
//
// Optional arguments are functional options of one type, [Option], validated by the call they
// are given to. Errors are returned, never panics: a wrong data shape, labels that do not fit
// the outputs, Fit before Compile, an unknown activation, loss or metric name.
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
// # Integrity of a distributed run
//
// Every call that runs on the parties (Fit's epochs, Evaluate, Predict, GetWeights and Save,
// SaveShares, LoadShares) starts with an agreement: the parties exchange the call's public
// parameters and compare them (one round). They are the digest of the architecture (layer
// types, shapes, activations and options) and of the compile configuration, the model's owner
// and seed, where its weights come from and whether the parties already hold them, and the
// call's own: sample counts, batch size, epochs, the shuffling seed, the data owner, and for
// LoadShares the save each party's file belongs to. A mismatch is an error on every party at
// once, naming the parameter and both values ("Fit: the parties disagree on batch size: P1 has
// 64, this party has 32"). A party whose preparation failed (its data has the wrong length, its
// share file is missing) takes part with its error, so that the others fail with its reason
// ("P0 failed: ...") instead of waiting for it. After the call, the parties confirm that it
// succeeded everywhere (one more round), so that no party keeps a result that another could
// not finish.
//
// Within a call, every message carries the sender's position in the program (see the
// secure/session package): a party that skipped, repeated or reordered an operation fails at the next message,
// on both ends, with an error naming both operations, and the others learn of it from its
// failure notice or from the cause its links were closed with. Decisions that change what a
// party sends are taken from state all parties share: whether GetWeights must reveal the
// weights depends on where they came from (set by the owner, trained, loaded), never on
// whether this process holds them.
//
// # Range of the secure engine
//
// The secure engine computes in fixed point with f fractional bits (16 by default) in the ring
// of 64-bit integers: values are multiples of 2^-f and a product is exact while its magnitude
// stays below 2^(62-2f) (2^30 at f = 16). Training multiplies inputs by weights and gradients,
// and Adam keeps the squares of gradients scaled by 2^10 below 2^28, so the data a model is fed
// must stay well inside that range: features and targets of magnitude at most 2^(20-f), 16 at
// f = 16 (the engine's [backend.InputLimiter]). The owner's data are checked before any is
// shared, and a value beyond the limit is an error that says which sample and feature and asks
// to scale the features. Weights, activations and gradients should stay below 16 too (they do
// for networks trained on scaled data); an activation beyond 2^15 or a gradient far beyond 16
// wraps around the ring or saturates Adam. A [layers.Normalization] adapted to the data, or a
// [layers.Rescaling], as the model's first layers scale the features inside the model: the
// data owner applies them before sharing, and the range applies to the scaled values. Features
// of a few hundred are the typical case:
// with them, first-layer gradients reach hundreds, the square in Adam's second moment exceeds
// the ring's exact range and wraps, and a weight jumps to millions (measured: -5.5e6 after a
// few steps on features around 700), so training stalls where plaintext learns. A larger
// precision (f = 20) makes every value 16 times finer and the range 16 times smaller (inputs
// up to 1); a smaller one (f = 12) the opposite (inputs up to 256) at the cost of resolution
// (2^-12 = 2.4e-4).
//
// # Files
//
// Save writes gotfe's own format: a header, the JSON architecture (with the compile
// configuration), the weights as little-endian float64, and a CRC-32. Files are written to a
// temporary name in the same directory, synced and renamed, so a reader sees the old file or
// the new one, never half of one. A model file also keeps the training state: the optimizer's
// step count and state (SGD's velocity, Adam's moments), the layers' counters (Dropout's
// training passes) and the epochs completed, so that Load followed by Fit from the next epoch
// trains exactly as if training had not stopped.
//
// SaveShares makes every party write its own shares of the weights and of the optimizer's
// state, with the same public training state and a save identifier drawn from randomness the
// parties share: the three files of one save carry the same identifier. LoadShares checks
// across the parties that their files come from one save, so that files of different saves
// (a crash between two parties' checkpoint writes) are an error on every party naming each
// file's save and epoch, never a model made of mismatched shares.
package keras

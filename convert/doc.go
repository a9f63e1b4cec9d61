// Package convert imports models trained in the clear into gotfe: a TF.js layers model
// (model.json and its .bin shards), a Keras 3 .keras archive, a legacy Keras 2 .h5 file, an
// ONNX model (as PyTorch exports it) or gotfe's own format becomes a [keras.Sequential] with
// its weights, ready to run on the plain engine or, after SetRunner, on secret shares.
//
// [Load] is the one entry point; [Detect] tells the format of a file from its content and
// extension. [ReadTFJS] and [ReadONNX] convert from bytes (their fuzz targets' entry points).
//
// Readers of untrusted files: the ONNX and TF.js readers check every length and count against
// the bytes that remain before allocating (each has a fuzz target); HDF5 files are read with
// github.com/scigolib/hdf5, whose panics on corrupt files become errors. A malformed file, an
// unsupported layer, op, argument or activation, a missing or short weight shard, or a weight
// whose shape disagrees with the configuration is an error naming the file's part at fault.
//
// Layout: gotfe computes on NHWC images (batch, height, width, channels), as Keras does. An
// ONNX model's NCHW graph is converted to NHWC: the imported model takes images as
// [H, W, C], convolution kernels are transposed, and the rows of the first Gemm after a
// Flatten are permuted so that the flattened features meet the same weights.
//
// The package sits above keras (keras knows nothing of foreign formats).
package convert

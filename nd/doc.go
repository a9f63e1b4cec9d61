// Package nd holds [Array], the n-dimensional array of float64 values with its shape that the
// Keras surface takes and returns: samples and targets for Fit, Evaluate and Predict, the
// images and labels of [github.com/gotfe/gotfe/datasets], and Predict's outputs. The first
// axis counts samples, as in Keras: 100 MNIST images are an Array of shape [100, 28, 28, 1]
// (or [100, 784]), their labels an Array of shape [100].
//
// An Array is built from a flat row-major slice and its shape ([New]), from rows ([Rows]),
// from integer labels ([Labels]), from a gonum matrix ([Matrix], which copies it), or from
// one byte per element indexing a table of values ([Indexed]: 8-bit pixels at an eighth of the
// memory, read as float64 a batch at a time through [Array.GatherTo]). A
// constructor given values that do not fit the shape never panics: it returns an invalid
// Array whose [Array.Err] (and the first call that uses it, such as Fit) reports the problem.
//
// Arrays share the slice they are built from (New, Labels copy nothing they do not need to)
// and are not modified by the calls that read them; [Array.Reshape] is a view of the same
// values.
package nd

package datasets

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/gotfe/gotfe/nd"
)

// MNIST holds the MNIST training and test sets. Images are kept as their pixel bytes, flat
// row-major [n, 784] ([FlatShape]; [NHWCShape] views the same memory as [n, 28, 28, 1]), one
// byte a pixel: the pixel values in [0, 1] are b/255 ([MNIST.Train] and [MNIST.Test] read them
// so, a batch at a time; [MNIST.TrainX] and [MNIST.TestX] all at once). Labels are digits 0..9,
// one per image.
type MNIST struct {
	TrainPixels []byte // training images, [len(TrainY), 784], pixel bytes 0..255
	TrainY      []int  // training labels
	TestPixels  []byte // test images, [len(TestY), 784], pixel bytes 0..255
	TestY       []int  // test labels
	Dir         string // directory the files were read from
}

// TrainX returns the training images as float64 pixels in [0, 1], flat [n, 784], in a new
// slice (eight bytes a pixel: 376 MB for the 60000 images; [MNIST.Train] keeps one).
func (m *MNIST) TrainX() []float64 { return scalePixels(m.TrainPixels) }

// TestX returns the test images as [MNIST.TrainX] does.
func (m *MNIST) TestX() []float64 { return scalePixels(m.TestPixels) }

// NumTrain returns the number of training images.
func (m *MNIST) NumTrain() int { return len(m.TrainY) }

// NumTest returns the number of test images.
func (m *MNIST) NumTest() int { return len(m.TestY) }

// LoadMNIST reads the four MNIST files from dir, or, when dir is empty, from the first place
// [FindMNIST] finds them (see the package documentation for the search order). The standard
// files give 60000 training and 10000 test images. Every file is validated; a missing,
// corrupt, truncated or mismatched file is an error naming the file.
func LoadMNIST(dir string) (*MNIST, error) {
	dir, err := FindMNIST(dir)
	if err != nil {
		return nil, err
	}
	m := &MNIST{Dir: dir}
	var (
		wg       sync.WaitGroup
		errs     [4]error
		nTr, nTe int
	)
	wg.Go(func() {
		errs[0] = readGz(dir, TrainImagesFile, func(r io.Reader) (err error) {
			m.TrainPixels, nTr, err = ReadPixels(r)
			return err
		})
	})
	wg.Go(func() {
		errs[1] = readGz(dir, TrainLabelsFile, func(r io.Reader) (err error) {
			m.TrainY, err = ReadLabels(r)
			return err
		})
	})
	wg.Go(func() {
		errs[2] = readGz(dir, TestImagesFile, func(r io.Reader) (err error) {
			m.TestPixels, nTe, err = ReadPixels(r)
			return err
		})
	})
	wg.Go(func() {
		errs[3] = readGz(dir, TestLabelsFile, func(r io.Reader) (err error) {
			m.TestY, err = ReadLabels(r)
			return err
		})
	})
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if nTr != len(m.TrainY) {
		return nil, fmt.Errorf("datasets: mnist: %s: %w: %d images but %d labels in %s",
			filepath.Join(dir, TrainImagesFile), ErrFormat, nTr, len(m.TrainY), TrainLabelsFile)
	}
	if nTe != len(m.TestY) {
		return nil, fmt.Errorf("datasets: mnist: %s: %w: %d images but %d labels in %s",
			filepath.Join(dir, TestImagesFile), ErrFormat, nTe, len(m.TestY), TestLabelsFile)
	}
	return m, nil
}

// readGz opens dir/name as a gzip stream and parses it with parse, wrapping any error with
// the file's path.
func readGz(dir, name string, parse func(io.Reader) error) error {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("datasets: mnist: %w", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("datasets: mnist: %s: not a gzip file: %w", path, err)
	}
	if err := parse(z); err != nil {
		return fmt.Errorf("datasets: mnist: %s: %w", path, err)
	}
	return nil
}

// Subset returns the first nTrain training and first nTest test examples. The result shares
// memory with m (its slices are capped so that appending to them copies); use [Gather] with a
// [Permutation] for a random subset. Counts outside [0, available] are an error.
func (m *MNIST) Subset(nTrain, nTest int) (*MNIST, error) {
	if nTrain < 0 || nTrain > m.NumTrain() {
		return nil, fmt.Errorf("datasets: mnist subset: %d training examples requested, have %d", nTrain, m.NumTrain())
	}
	if nTest < 0 || nTest > m.NumTest() {
		return nil, fmt.Errorf("datasets: mnist subset: %d test examples requested, have %d", nTest, m.NumTest())
	}
	if len(m.TrainPixels) != m.NumTrain()*ImageSize || len(m.TestPixels) != m.NumTest()*ImageSize {
		return nil, fmt.Errorf("datasets: mnist subset: image and label lengths disagree (%d, %d train; %d, %d test)",
			len(m.TrainPixels), m.NumTrain(), len(m.TestPixels), m.NumTest())
	}
	return &MNIST{
		TrainPixels: m.TrainPixels[: nTrain*ImageSize : nTrain*ImageSize],
		TrainY:      m.TrainY[:nTrain:nTrain],
		TestPixels:  m.TestPixels[: nTest*ImageSize : nTest*ImageSize],
		TestY:       m.TestY[:nTest:nTest],
		Dir:         m.Dir,
	}, nil
}

// Train returns the training images as an array of shape [n, 28, 28, 1] (NHWC, pixels in
// [0, 1]; x.Reshape(-1, 784) for models that take flat rows) and their labels as an array of
// shape [n] of class indices 0..9, as Keras's mnist.load_data (with the channel axis) gives
// them. The images share m's pixel bytes ([nd.Indexed]): Fit, Evaluate and Predict read them
// as float64 a batch at a time.
func (m *MNIST) Train() (x, y *nd.Array) {
	return nd.Indexed(m.TrainPixels, pixelScale[:], len(m.TrainY), ImageRows, ImageCols, ImageChannels), nd.Labels(m.TrainY)
}

// Test returns the test images and labels as [MNIST.Train] does.
func (m *MNIST) Test() (x, y *nd.Array) {
	return nd.Indexed(m.TestPixels, pixelScale[:], len(m.TestY), ImageRows, ImageCols, ImageChannels), nd.Labels(m.TestY)
}

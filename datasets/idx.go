package datasets

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// MNIST image geometry and label range.
const (
	ImageRows     = 28                    // pixel rows per image
	ImageCols     = 28                    // pixel columns per image
	ImageChannels = 1                     // channels per pixel (grey levels)
	ImageSize     = ImageRows * ImageCols // values per flat image: 784
	NumClasses    = 10                    // distinct labels, the digits 0..9
)

const (
	imageMagic = 0x00000803 // IDX: unsigned bytes, 3 dimensions (2051)
	labelMagic = 0x00000801 // IDX: unsigned bytes, 1 dimension (2049)
	maxChunk   = 1 << 26    // bytes read (and allocated) at a time
)

// ErrFormat is wrapped by every error that reports malformed IDX data: a bad magic number,
// unexpected dimensions, a truncated body, trailing bytes, an out-of-range label, or images
// and labels that disagree in number.
var ErrFormat = errors.New("malformed IDX data")

// pixelScale maps a byte to its value in [0, 1].
var pixelScale = func() (t [256]float64) {
	for i := range t {
		t[i] = float64(i) / 255
	}
	return t
}()

// FlatShape returns the shape [n, 784] of n flat MNIST images.
func FlatShape(n int) []int { return []int{n, ImageSize} }

// NHWCShape returns the shape [n, 28, 28, 1] of n MNIST images read as a batch of 28×28
// single-channel images in NHWC order. It describes the same memory as [FlatShape]: a flat
// row-major [n, 784] slice is already laid out as [n, 28, 28, 1], so viewing costs no copy.
func NHWCShape(n int) []int { return []int{n, ImageRows, ImageCols, ImageChannels} }

// ReadImages reads an uncompressed IDX image stream (magic 2051, dimensions n×28×28) to its
// end and returns the n images as a flat row-major [n, 784] slice with each pixel byte b
// scaled to b/255. Memory grows with the bytes actually read, not with the count the header
// claims. Malformed data (see [ErrFormat]) and read errors are returned, wrapped. It is
// [ReadPixels] with the pixels scaled, at eight bytes a pixel.
func ReadImages(r io.Reader) (x []float64, n int, err error) {
	px, n, err := ReadPixels(r)
	if err != nil {
		return nil, 0, err
	}
	return scalePixels(px), n, nil
}

// ReadPixels reads an uncompressed IDX image stream as [ReadImages] does and returns the n
// images as their pixel bytes 0..255, flat row-major [n, 784], one byte a pixel.
func ReadPixels(r io.Reader) (px []byte, n int, err error) {
	var hdr [16]byte
	if err := readFull(r, hdr[:], "image header"); err != nil {
		return nil, 0, err
	}
	if m := binary.BigEndian.Uint32(hdr[0:]); m != imageMagic {
		return nil, 0, fmt.Errorf("%w: image magic number %#08x, want %#08x (%d)", ErrFormat, m, imageMagic, imageMagic)
	}
	count := binary.BigEndian.Uint32(hdr[4:])
	rows, cols := binary.BigEndian.Uint32(hdr[8:]), binary.BigEndian.Uint32(hdr[12:])
	if rows != ImageRows || cols != ImageCols {
		return nil, 0, fmt.Errorf("%w: images are %d×%d, want %d×%d", ErrFormat, rows, cols, ImageRows, ImageCols)
	}
	body, err := readBody(r, int64(count)*ImageSize, fmt.Sprintf("image data (%d images)", count))
	if err != nil {
		return nil, 0, err
	}
	if err := expectEOF(r, "image data"); err != nil {
		return nil, 0, err
	}
	return body, int(count), nil
}

// scalePixels returns the values b/255 of pixel bytes.
func scalePixels(px []byte) []float64 {
	x := make([]float64, len(px))
	for i, b := range px {
		x[i] = pixelScale[b]
	}
	return x
}

// ReadLabels reads an uncompressed IDX label stream (magic 2049) to its end and returns the
// labels, each checked to be in 0..9. Malformed data (see [ErrFormat]) and read errors are
// returned, wrapped.
func ReadLabels(r io.Reader) ([]int, error) {
	var hdr [8]byte
	if err := readFull(r, hdr[:], "label header"); err != nil {
		return nil, err
	}
	if m := binary.BigEndian.Uint32(hdr[0:]); m != labelMagic {
		return nil, fmt.Errorf("%w: label magic number %#08x, want %#08x (%d)", ErrFormat, m, labelMagic, labelMagic)
	}
	count := binary.BigEndian.Uint32(hdr[4:])
	body, err := readBody(r, int64(count), fmt.Sprintf("label data (%d labels)", count))
	if err != nil {
		return nil, err
	}
	if err := expectEOF(r, "label data"); err != nil {
		return nil, err
	}
	y := make([]int, len(body))
	for i, b := range body {
		if b >= NumClasses {
			return nil, fmt.Errorf("%w: label %d at index %d, want 0..%d", ErrFormat, b, i, NumClasses-1)
		}
		y[i] = int(b)
	}
	return y, nil
}

// readFull fills buf from r; running out of data is a truncation, reported as ErrFormat.
func readFull(r io.Reader, buf []byte, what string) error {
	_, err := io.ReadFull(r, buf)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s truncated", ErrFormat, what)
	default:
		return fmt.Errorf("reading %s: %w", what, err)
	}
}

// readBody reads exactly need bytes from r, allocating at most maxChunk bytes ahead of the
// data actually read, so a corrupt header cannot make it allocate a huge buffer up front.
func readBody(r io.Reader, need int64, what string) ([]byte, error) {
	if need > math.MaxInt {
		return nil, fmt.Errorf("%w: %s too large for this platform", ErrFormat, what)
	}
	buf := make([]byte, 0, min(need, maxChunk))
	for int64(len(buf)) < need {
		k := int(min(need-int64(len(buf)), maxChunk))
		buf = slices.Grow(buf, k)
		if err := readFull(r, buf[len(buf):len(buf)+k], what); err != nil {
			return nil, err
		}
		buf = buf[:len(buf)+k]
	}
	return buf, nil
}

// expectEOF checks that r holds nothing more. Reading to the end also lets a gzip reader
// verify its checksum, whose failure is returned here.
func expectEOF(r io.Reader, what string) error {
	var b [1]byte
	n, err := io.ReadFull(r, b[:])
	switch {
	case n > 0:
		return fmt.Errorf("%w: trailing bytes after %s", ErrFormat, what)
	case errors.Is(err, io.EOF):
		return nil
	default:
		return fmt.Errorf("reading past %s: %w", what, err)
	}
}

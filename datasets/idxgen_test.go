package datasets

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// idxImages returns an uncompressed IDX image file of n rows×cols images whose pixel j of
// image i is pix(i, j).
func idxImages(magic uint32, n, rows, cols int, pix func(i, j int) byte) []byte {
	var b bytes.Buffer
	for _, v := range []uint32{magic, uint32(n), uint32(rows), uint32(cols)} {
		_ = binary.Write(&b, binary.BigEndian, v)
	}
	for i := range n {
		for j := range rows * cols {
			b.WriteByte(pix(i, j))
		}
	}
	return b.Bytes()
}

// idxLabels returns an uncompressed IDX label file holding labels.
func idxLabels(magic uint32, labels []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, magic)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(labels)))
	b.Write(labels)
	return b.Bytes()
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

// testPixel is the pixel pattern of hand-made sets: image i, pixel j.
func testPixel(i, j int) byte { return byte(i*31 + j) }

// testLabels returns n labels cycling through 0..9 from start.
func testLabels(n, start int) []byte {
	l := make([]byte, n)
	for i := range l {
		l[i] = byte((start + i) % NumClasses)
	}
	return l
}

// handMadeFiles returns the gzip contents of a valid small MNIST set with nTrain training and
// nTest test examples, keyed by file name.
func handMadeFiles(t testing.TB, nTrain, nTest int) map[string][]byte {
	return map[string][]byte{
		TrainImagesFile: gz(t, idxImages(imageMagic, nTrain, ImageRows, ImageCols, testPixel)),
		TrainLabelsFile: gz(t, idxLabels(labelMagic, testLabels(nTrain, 0))),
		TestImagesFile:  gz(t, idxImages(imageMagic, nTest, ImageRows, ImageCols, testPixel)),
		TestLabelsFile:  gz(t, idxLabels(labelMagic, testLabels(nTest, 3))),
	}
}

func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
}

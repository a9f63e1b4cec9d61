package datasets

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadMNISTHandMade(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, handMadeFiles(t, 7, 4))
	m, err := LoadMNIST(dir)
	require.NoError(t, err)
	assert.Equal(t, dir, m.Dir)
	require.Equal(t, 7, m.NumTrain())
	require.Equal(t, 4, m.NumTest())
	require.Len(t, m.TrainPixels, 7*ImageSize)
	require.Len(t, m.TestPixels, 4*ImageSize)
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6}, m.TrainY)
	assert.Equal(t, []int{3, 4, 5, 6}, m.TestY)
	assert.Equal(t, testPixel(6, 783), m.TrainPixels[6*ImageSize+783])
	assert.Equal(t, float64(testPixel(6, 783))/255, m.TrainX()[6*ImageSize+783])
	assert.Equal(t, float64(testPixel(2, 5))/255, m.TestX()[2*ImageSize+5])

	// The arrays of Train and Test read the same values as TrainX and TestX, and gather a
	// batch of them.
	x, y := m.Train()
	assert.Equal(t, []int{7, ImageRows, ImageCols, ImageChannels}, x.Shape())
	assert.Equal(t, m.TrainX(), x.Data())
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6}, mustInts(t, y))
	xt, _ := m.Test()
	assert.Equal(t, m.TestX(), xt.Data())
	batch := make([]float64, 2*ImageSize)
	require.NoError(t, x.GatherTo(batch, []int{6, 2}))
	assert.Equal(t, m.TrainX()[6*ImageSize:7*ImageSize], batch[:ImageSize])
	assert.Equal(t, m.TrainX()[2*ImageSize:3*ImageSize], batch[ImageSize:])
}

func mustInts(t *testing.T, a interface{ Ints() ([]int, error) }) []int {
	t.Helper()
	v, err := a.Ints()
	require.NoError(t, err)
	return v
}

func TestLoadMNISTBadFiles(t *testing.T) {
	valid := handMadeFiles(t, 5, 3)
	trainImages := idxImages(imageMagic, 5, ImageRows, ImageCols, testPixel)
	corrupt := bytes.Clone(valid[TrainLabelsFile])
	corrupt[len(corrupt)-8] ^= 0xff // CRC-32 of the gzip trailer
	var multi bytes.Buffer
	multi.Write(valid[TestLabelsFile])
	multi.WriteString("junk after the gzip member")

	tests := []struct {
		name     string
		file     string // file replaced
		data     []byte // its new content; nil removes it
		wantErr  []string
		isFormat bool
	}{
		{"bad image magic", TrainImagesFile, gz(t, idxImages(labelMagic, 5, ImageRows, ImageCols, testPixel)),
			[]string{TrainImagesFile, "magic number 0x00000801, want 0x00000803 (2051)"}, true},
		{"bad label magic", TestLabelsFile, gz(t, idxLabels(imageMagic, testLabels(3, 0))),
			[]string{TestLabelsFile, "(2049)"}, true},
		{"truncated images", TrainImagesFile, gz(t, trainImages[:len(trainImages)-100]),
			[]string{TrainImagesFile, "image data (5 images) truncated"}, true},
		{"trailing bytes", TestImagesFile, gz(t, append(idxImages(imageMagic, 3, ImageRows, ImageCols, testPixel), 1, 2)),
			[]string{TestImagesFile, "trailing bytes"}, true},
		{"wrong image size", TestImagesFile, gz(t, idxImages(imageMagic, 3, 32, 32, testPixel)),
			[]string{TestImagesFile, "32×32"}, true},
		{"train count mismatch", TrainLabelsFile, gz(t, idxLabels(labelMagic, testLabels(6, 0))),
			[]string{TrainImagesFile, "5 images but 6 labels"}, true},
		{"test count mismatch", TestImagesFile, gz(t, idxImages(imageMagic, 2, ImageRows, ImageCols, testPixel)),
			[]string{TestImagesFile, "2 images but 3 labels"}, true},
		{"label out of range", TrainLabelsFile, gz(t, idxLabels(labelMagic, []byte{1, 2, 3, 4, 200})),
			[]string{TrainLabelsFile, "label 200 at index 4"}, true},
		{"not gzip", TrainLabelsFile, idxLabels(labelMagic, testLabels(5, 0)),
			[]string{TrainLabelsFile, "not a gzip file", gzip.ErrHeader.Error()}, false},
		{"empty file", TestImagesFile, []byte{},
			[]string{TestImagesFile, "not a gzip file"}, false},
		{"truncated gzip", TrainImagesFile, valid[TrainImagesFile][:len(valid[TrainImagesFile])/2],
			[]string{TrainImagesFile, "truncated"}, true},
		{"gzip checksum", TrainLabelsFile, corrupt,
			[]string{TrainLabelsFile, gzip.ErrChecksum.Error()}, false},
		{"junk after gzip", TestLabelsFile, multi.Bytes(),
			[]string{TestLabelsFile, gzip.ErrHeader.Error()}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, valid)
			writeFiles(t, dir, map[string][]byte{tc.file: tc.data})
			m, err := LoadMNIST(dir)
			require.Error(t, err)
			assert.Nil(t, m)
			for _, s := range tc.wantErr {
				assert.Contains(t, err.Error(), s)
			}
			assert.Equal(t, tc.isFormat, errors.Is(err, ErrFormat), "errors.Is(err, ErrFormat): %v", err)
		})
	}
}

func TestLoadMNISTMissingFile(t *testing.T) {
	dir := t.TempDir()
	files := handMadeFiles(t, 2, 2)
	delete(files, TestLabelsFile)
	writeFiles(t, dir, files)
	_, err := LoadMNIST(dir)
	var nf *NotFoundError
	require.ErrorAs(t, err, &nf)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "missing "+TestLabelsFile)
}

func TestLoadMNISTFromEnv(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	writeFiles(t, dir, handMadeFiles(t, 3, 2))
	t.Setenv(DataEnv, dir)
	m, err := LoadMNIST("")
	require.NoError(t, err)
	assert.Equal(t, dir, m.Dir)
	assert.Equal(t, 3, m.NumTrain())
}

func TestSubset(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, handMadeFiles(t, 6, 4))
	m, err := LoadMNIST(dir)
	require.NoError(t, err)
	tests := []struct {
		name          string
		nTrain, nTest int
		wantErr       bool
	}{
		{"some", 3, 2, false},
		{"all", 6, 4, false},
		{"none", 0, 0, false},
		{"too many train", 7, 1, true},
		{"too many test", 1, 5, true},
		{"negative", -1, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := m.Subset(tc.nTrain, tc.nTest)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.nTrain, s.NumTrain())
			assert.Equal(t, tc.nTest, s.NumTest())
			assert.Equal(t, m.TrainPixels[:tc.nTrain*ImageSize], s.TrainPixels)
			assert.Equal(t, m.TrainY[:tc.nTrain], s.TrainY)
			assert.Equal(t, m.TestPixels[:tc.nTest*ImageSize], s.TestPixels)
			assert.Equal(t, m.TestY[:tc.nTest], s.TestY)
			// Appending to a subset must not overwrite the rest of m.
			before := slices.Clone(m.TrainY)
			_ = append(s.TrainY, 9)
			assert.Equal(t, before, m.TrainY)
		})
	}
	_, err = (&MNIST{TrainPixels: make([]byte, 10), TrainY: []int{1}}).Subset(1, 0)
	assert.Error(t, err, "inconsistent lengths are an error, not a panic")
}

// realMNIST loads the real files once for all tests that need them.
var realMNIST = sync.OnceValues(func() (*MNIST, error) { return LoadMNIST("") })

func TestLoadMNISTReal(t *testing.T) {
	t.Setenv(DataEnv, "")
	m, err := realMNIST()
	require.NoError(t, err)
	require.Equal(t, 60000, m.NumTrain())
	require.Equal(t, 10000, m.NumTest())
	require.Len(t, m.TrainPixels, 60000*ImageSize)
	require.Len(t, m.TestPixels, 10000*ImageSize)
	assert.Equal(t, []int{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}, m.TrainY[:10])
	assert.Equal(t, []int{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}, m.TestY[:10])

	// Class counts of the standard MNIST files.
	wantTrain := [NumClasses]int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	wantTest := [NumClasses]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	var gotTrain, gotTest [NumClasses]int
	for _, l := range m.TrainY {
		gotTrain[l]++
	}
	for _, l := range m.TestY {
		gotTest[l]++
	}
	assert.Equal(t, wantTrain, gotTrain)
	assert.Equal(t, wantTest, gotTest)

	for name, x := range map[string][]float64{"train": m.TrainX(), "test": m.TestX()} {
		lo, hi, sum := x[0], x[0], 0.0
		for _, v := range x {
			lo, hi, sum = min(lo, v), max(hi, v), sum+v
		}
		assert.Equal(t, 0.0, lo, name)
		assert.Equal(t, 1.0, hi, name)
		// MNIST digits cover about 13% of the image on average.
		mean := sum / float64(len(x))
		assert.InDelta(t, 0.13, mean, 0.01, name)
	}
	// Image 0 of the training set is a 5: its border is blank and its middle is not.
	img := m.TrainX()[:ImageSize]
	assert.Equal(t, 0.0, img[0])
	assert.Equal(t, 0.0, img[ImageSize-1])
	var ink float64
	for r := 10; r < 18; r++ {
		for c := 10; c < 18; c++ {
			ink += img[r*ImageCols+c]
		}
	}
	assert.Greater(t, ink, 5.0)
}

func BenchmarkLoadMNIST(b *testing.B) {
	dir, err := FindMNIST("")
	if err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadMNIST(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadImages(b *testing.B) {
	data := idxImages(imageMagic, 1000, ImageRows, ImageCols, testPixel)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ReadImages(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

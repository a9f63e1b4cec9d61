package datasets

import (
	"bytes"
	"errors"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadImages(t *testing.T) {
	valid := idxImages(imageMagic, 3, ImageRows, ImageCols, testPixel)
	tests := []struct {
		name    string
		data    []byte
		wantN   int
		wantErr string // substring; "" means success
	}{
		{"valid", valid, 3, ""},
		{"no images", idxImages(imageMagic, 0, ImageRows, ImageCols, testPixel), 0, ""},
		{"empty", nil, 0, "image header truncated"},
		{"short header", valid[:10], 0, "image header truncated"},
		{"label magic", idxImages(labelMagic, 3, ImageRows, ImageCols, testPixel), 0, "magic number"},
		{"bad dimensions", idxImages(imageMagic, 3, 27, 28, testPixel), 0, "27×28"},
		{"truncated body", valid[:len(valid)-1], 0, "truncated"},
		{"trailing byte", append(bytes.Clone(valid), 0), 0, "trailing bytes"},
		{"huge count", func() []byte {
			b := bytes.Clone(valid)
			b[4], b[5], b[6], b[7] = 0xff, 0xff, 0xff, 0xff
			return b
		}(), 0, "truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, n, err := ReadImages(bytes.NewReader(tc.data))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrFormat)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantN, n)
			require.Len(t, x, n*ImageSize)
			for i := range n {
				for j := range ImageSize {
					require.Equal(t, float64(testPixel(i, j))/255, x[i*ImageSize+j], "image %d pixel %d", i, j)
				}
			}
		})
	}
}

func TestReadImagesPixelScale(t *testing.T) {
	data := idxImages(imageMagic, 1, ImageRows, ImageCols, func(_, j int) byte { return byte(j) })
	x, _, err := ReadImages(bytes.NewReader(data))
	require.NoError(t, err)
	assert.Equal(t, 0.0, x[0])
	assert.Equal(t, 1.0, x[255])
	assert.InDelta(t, 128.0/255, x[128], 0)

	// ReadPixels returns the bytes themselves, which ReadImages scales.
	px, n, err := ReadPixels(bytes.NewReader(data))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.Len(t, px, ImageSize)
	for j, b := range px {
		assert.Equal(t, byte(j), b)
		assert.Equal(t, float64(b)/255, x[j])
	}
	_, _, err = ReadPixels(bytes.NewReader(data[:len(data)-1]))
	assert.ErrorIs(t, err, ErrFormat)
}

func TestReadLabels(t *testing.T) {
	valid := idxLabels(labelMagic, []byte{5, 0, 4, 1, 9})
	tests := []struct {
		name    string
		data    []byte
		want    []int
		wantErr string
	}{
		{"valid", valid, []int{5, 0, 4, 1, 9}, ""},
		{"no labels", idxLabels(labelMagic, nil), []int{}, ""},
		{"short header", valid[:6], nil, "label header truncated"},
		{"image magic", idxLabels(imageMagic, []byte{1}), nil, "magic number"},
		{"label out of range", idxLabels(labelMagic, []byte{1, 10}), nil, "label 10 at index 1"},
		{"truncated body", valid[:len(valid)-2], nil, "truncated"},
		{"trailing byte", append(bytes.Clone(valid), 3), nil, "trailing bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y, err := ReadLabels(bytes.NewReader(tc.data))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrFormat)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, y)
		})
	}
}

func TestReadPropagatesReadErrors(t *testing.T) {
	boom := errors.New("boom")
	data := idxImages(imageMagic, 2, ImageRows, ImageCols, testPixel)
	_, _, err := ReadImages(iotest.OneByteReader(&failAfter{r: bytes.NewReader(data), n: 100, err: boom}))
	require.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, ErrFormat)
	_, err = ReadLabels(&failAfter{r: bytes.NewReader(idxLabels(labelMagic, []byte{1, 2})), n: 9, err: boom})
	require.ErrorIs(t, err, boom)
}

// failAfter returns err once n bytes have been read from r.
type failAfter struct {
	r   *bytes.Reader
	n   int
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	p = p[:min(len(p), f.n)]
	k, err := f.r.Read(p)
	f.n -= k
	return k, err
}

func FuzzReadImages(f *testing.F) {
	f.Add(idxImages(imageMagic, 1, ImageRows, ImageCols, testPixel))
	f.Add(idxImages(imageMagic, 2, ImageRows, ImageCols, testPixel)[:100])
	f.Add(idxImages(labelMagic, 0, 1, 1, testPixel))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, n, err := ReadImages(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(x) != n*ImageSize || len(data) != 16+n*ImageSize {
			t.Fatalf("n = %d, len(x) = %d from %d bytes", n, len(x), len(data))
		}
		for _, v := range x {
			if v < 0 || v > 1 {
				t.Fatalf("pixel %v out of [0, 1]", v)
			}
		}
	})
}

func FuzzReadLabels(f *testing.F) {
	f.Add(idxLabels(labelMagic, []byte{5, 0, 4}))
	f.Add(idxLabels(labelMagic, []byte{5, 0, 4})[:9])
	f.Add(idxLabels(labelMagic, []byte{11}))
	f.Fuzz(func(t *testing.T, data []byte) {
		y, err := ReadLabels(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(data) != 8+len(y) {
			t.Fatalf("%d labels from %d bytes", len(y), len(data))
		}
		for _, l := range y {
			if l < 0 || l >= NumClasses {
				t.Fatalf("label %d", l)
			}
		}
	})
}

package backend_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
)

func TestPadImages(t *testing.T) {
	// One image of 2x3 pixels of 2 channels, holding 1 to 12 in order.
	src := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	shape := []int{1, 2, 3, 2}
	cases := []struct {
		name  string
		pads  [4]int
		want  []int
		shape []int
	}{
		{"none", [4]int{}, src, shape},
		{"top left", [4]int{1, 0, 1, 0}, []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 10, 11, 12}, []int{1, 3, 4, 2}},
		{"bottom right", [4]int{0, 1, 0, 1}, []int{1, 2, 3, 4, 5, 6, 0, 0, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []int{1, 3, 4, 2}},
		{"crop", [4]int{-1, 0, 0, -2}, []int{7, 8}, []int{1, 1, 1, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, s, err := backend.PadImages(src, shape, c.pads)
			require.NoError(t, err)
			require.Equal(t, c.shape, s)
			require.Equal(t, c.want, got)
			// Cropping the padding back gives the image.
			back, s2, err := backend.PadImages(got, s, [4]int{-c.pads[0], -c.pads[1], -c.pads[2], -c.pads[3]})
			if c.name != "crop" {
				require.NoError(t, err)
				require.Equal(t, shape, s2)
				require.Equal(t, src, back)
			}
		})
	}
	_, _, err := backend.PadImages(src, shape, [4]int{-2, 0, 0, 0})
	require.ErrorContains(t, err, "leave nothing")
	_, _, err = backend.PadImages(src, []int{2, 3, 2}, [4]int{})
	require.ErrorContains(t, err, "not [N, H, W, C]")
}

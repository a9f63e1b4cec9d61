package serving

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every message survives a round trip through a frame.
func TestFrameRoundTrip(t *testing.T) {
	var b bytes.Buffer
	in := request{Kind: kindPredict, ID: make([]byte, idBytes), Rows: 2, TimeoutMs: 5, Shares: appendWords(nil, []uint64{1, 2, 3, 1 << 63})}
	n, err := writeFrame(&b, &in)
	require.NoError(t, err)
	require.Equal(t, b.Len(), n)
	var out request
	m, err := readFrame(&b, maxFrameDefault, &out)
	require.NoError(t, err)
	require.Equal(t, n, m)
	in.Shares = nil
	require.Equal(t, in, out)
	b.Reset()
	enc, err := encodeRequest(&request{Kind: kindPredict, Shares: appendWords(nil, []uint64{7, 1 << 63})})
	require.NoError(t, err)
	require.Equal(t, appendWords(nil, []uint64{7, 1 << 63}), enc[len(enc)-16:])
	require.Equal(t, []byte{0, 0, 0, 16}, enc[len(enc)-20:len(enc)-16])

	b.Reset()
	r := response{Party: 2, Info: &ModelInfo{InputShape: []int{28, 28, 1}, OutputShape: []int{10}, Output: OutputClass, FracBits: 16, Model: "ab", MaxRows: 4}}
	_, err = writeFrame(&b, &r)
	require.NoError(t, err)
	var r2 response
	_, err = readFrame(&b, maxFrameDefault, &r2)
	require.NoError(t, err)
	require.Equal(t, r, r2)

	_, err = readFrame(bytes.NewReader([]byte{0, 0, 1, 0}), 255, &r2)
	require.ErrorIs(t, err, errFrameTooLarge)
}

// FuzzReadFrame: a party reads whatever a client sends without panicking, and never beyond
// its bound.
func FuzzReadFrame(f *testing.F) {
	var b bytes.Buffer
	_, _ = writeFrame(&b, &request{Kind: kindPredict, ID: make([]byte, idBytes), Rows: 1})
	f.Add(b.Bytes())
	f.Add([]byte{0, 0, 0, 1, 0xc1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var req request
		n, err := readFrame(bytes.NewReader(data), 1<<16, &req)
		if n > len(data) || (err == nil && n > 4+1<<16) {
			t.Fatalf("read %d of %d bytes", n, len(data))
		}
	})
}

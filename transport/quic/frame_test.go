package quic

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"
)

var headerLengths = []uint64{0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000, math.MaxUint64}

func TestHeaderRoundTrip(t *testing.T) {
	for _, kind := range []byte{kindData, kindHello, kindWelcome, 0x7f} {
		for _, n := range headerLengths {
			h := appendHeader(nil, kind, n)
			require.LessOrEqual(t, len(h), maxHeaderLen)
			k, m, err := readHeader(bufio.NewReader(bytes.NewReader(h)))
			require.NoError(t, err)
			assert.Equal(t, kind, k)
			assert.Equal(t, n, m)
		}
	}
}

// The header is msgpack: a msgpack library reads what appendHeader writes, and readHeader
// reads what the library writes.
func TestHeaderIsMsgpack(t *testing.T) {
	for _, n := range headerLengths {
		var got []uint64
		require.NoError(t, msgpack.Unmarshal(appendHeader(nil, kindHello, n), &got))
		assert.Equal(t, []uint64{kindHello, n}, got)

		b, err := msgpack.Marshal([]uint64{kindData, n})
		require.NoError(t, err)
		k, m, err := readHeader(bufio.NewReader(bytes.NewReader(b)))
		require.NoError(t, err)
		assert.Equal(t, byte(kindData), k)
		assert.Equal(t, n, m)
	}
}

func TestReadFrameErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		want  string
		frame bool // a *FrameError, as opposed to an I/O error
	}{
		{"not an array", []byte{0x93, 0, 0}, "header starts with 0x93", true},
		{"kind not a uint", []byte{0x92, 0xc3, 0}, "kind code 0xc3", true},
		{"unknown kind", []byte{0x92, 0xcc, 0x80, 0}, "unknown frame kind 128", true},
		{"length a string", []byte{0x92, 0, 0xa1, 'x'}, "length code 0xa1", true},
		{"length negative", []byte{0x92, 0, 0xff}, "length code 0xff", true},
		{"wrong kind", []byte{0x92, kindHello, 0}, "frame kind 1, want 0", true},
		{"too long", []byte{0x92, 0, 0xcd, 0x01, 0x00}, "frame of 256 bytes exceeds the maximum of 255", true},
		{"huge", []byte{0x92, 0, 0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0}, "exceeds the maximum", true},
		{"cut in the header", []byte{0x92, 0}, io.ErrUnexpectedEOF.Error(), false},
		{"cut in the length", []byte{0x92, 0, 0xce, 0}, io.ErrUnexpectedEOF.Error(), false},
		{"cut in the payload", []byte{0x92, 0, 3, 'a'}, io.ErrUnexpectedEOF.Error(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readFrame(bufio.NewReader(bytes.NewReader(tt.in)), kindData, 255)
			require.ErrorContains(t, err, tt.want)
			var fe *FrameError
			assert.Equal(t, tt.frame, errors.As(err, &fe))
		})
	}
	_, err := readFrame(bufio.NewReader(bytes.NewReader(nil)), kindData, 255)
	assert.ErrorIs(t, err, io.EOF, "a clean end before a frame is io.EOF")
}

func TestReadFrameSequence(t *testing.T) {
	var buf []byte
	payloads := [][]byte{{}, []byte("a"), bytes.Repeat([]byte{7}, 300), bytes.Repeat([]byte{9}, 70000)}
	for _, p := range payloads {
		buf = appendHeader(buf, kindData, uint64(len(p)))
		buf = append(buf, p...)
	}
	r := bufio.NewReaderSize(bytes.NewReader(buf), 16)
	for _, p := range payloads {
		got, err := readFrame(r, kindData, 1<<20)
		require.NoError(t, err)
		assert.Equal(t, p, got)
	}
	_, err := readFrame(r, kindData, 1<<20)
	assert.ErrorIs(t, err, io.EOF)
}

// FuzzFrameDecoder feeds arbitrary bytes to the frame decoder, frame after frame: it must
// never panic nor return a payload above the maximum, its errors are format errors or a cut
// input, and every header it accepts is one a msgpack library reads as [0, payload length].
func FuzzFrameDecoder(f *testing.F) {
	const max = 1 << 12
	for _, n := range []uint64{0, 1, 0x80, 300, max, max + 1} {
		f.Add(append(appendHeader(nil, kindData, n), bytes.Repeat([]byte{0xab}, int(min(n, 64)))...))
	}
	f.Add([]byte{0x92, 0, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := bytes.NewReader(data)
		r := bufio.NewReader(src)
		start := 0
		for {
			p, err := readFrame(r, kindData, max)
			if err != nil {
				var fe *FrameError
				if !errors.As(err, &fe) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("unexpected error %T: %v", err, err)
				}
				return
			}
			if len(p) > max {
				t.Fatalf("payload of %d bytes above the maximum %d", len(p), max)
			}
			end := len(data) - src.Len() - r.Buffered()
			if !bytes.Equal(data[end-len(p):end], p) {
				t.Fatalf("payload differs from the input")
			}
			var hdr []uint64
			if err := msgpack.Unmarshal(data[start:end-len(p)], &hdr); err != nil {
				t.Fatalf("accepted header % x is not msgpack: %v", data[start:end-len(p)], err)
			}
			if len(hdr) != 2 || hdr[0] != kindData || hdr[1] != uint64(len(p)) {
				t.Fatalf("header decodes to %v with msgpack; frame of kind %d, %d bytes", hdr, kindData, len(p))
			}
			start = end
		}
	})
}

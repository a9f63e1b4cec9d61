package quic

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gotfe/gotfe/transport"
)

// A frame is a header followed by the raw payload bytes. The header is a msgpack array of two
// unsigned integers, [kind, length]:
//
//	0x92 kind length
//
// kind and length are msgpack unsigned integers (a positive fixint 0x00-0x7f, or 0xcc, 0xcd,
// 0xce or 0xcf followed by 1, 2, 4 or 8 big-endian bytes); kind is below 128. The encoder
// writes the shortest forms, so a header it writes is 3 to 11 bytes; the decoder takes any
// form, so a header is at most 19 bytes. The header is encoded and
// decoded by hand rather than by a msgpack library: it is one allocation-free branch per byte
// on a path taken once per message, and any msgpack decoder reads it (a test checks both ways).
//
// The payload is not encoded at all: bulk tensors travel as the little-endian bytes the engine
// produced.

// Frame kinds.
const (
	kindData    = 0 // application payload
	kindHello   = 1 // dialer -> listener: msgpack hello (first frame of a link)
	kindWelcome = 2 // listener -> dialer: msgpack welcome (link accepted)
)

// maxHeaderLen is the longest header the encoder writes.
const maxHeaderLen = 11

// maxControlLen bounds hello and welcome frames, whatever MaxFrame says.
const maxControlLen = 1 << 10

// msgpack codes used by the header.
const (
	mpFixArray2 = 0x92
	mpUint8     = 0xcc
	mpUint16    = 0xcd
	mpUint32    = 0xce
	mpUint64    = 0xcf
)

// FrameError reports a frame that breaks the format: a malformed header, an unknown or
// unexpected kind, or a length above the receiver's maximum. It ends the link.
type FrameError struct {
	Reason string
}

// Error says what is wrong with the frame.
func (e *FrameError) Error() string { return "bad frame: " + e.Reason }

// appendHeader appends the header of a frame of the given kind and payload length to dst.
func appendHeader(dst []byte, kind byte, n uint64) []byte {
	dst = append(dst, mpFixArray2, kind)
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xff:
		return append(dst, mpUint8, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, mpUint16), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(dst, mpUint32), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, mpUint64), n)
	}
}

// readHeader reads one frame header from r. It returns io.EOF only when r ends cleanly before
// the first byte of a header; a header cut short is io.ErrUnexpectedEOF.
func readHeader(r *bufio.Reader) (kind byte, n uint64, err error) {
	b, err := r.ReadByte()
	if err != nil {
		return 0, 0, err
	}
	if b != mpFixArray2 {
		return 0, 0, &FrameError{Reason: fmt.Sprintf("header starts with 0x%02x, want 0x%02x (msgpack array of 2)", b, mpFixArray2)}
	}
	k, err := readUint(r, "kind")
	if err != nil {
		return 0, 0, err
	}
	if k >= 0x80 {
		return 0, 0, &FrameError{Reason: fmt.Sprintf("unknown frame kind %d", k)}
	}
	n, err = readUint(r, "length")
	return byte(k), n, err
}

// readUint reads a msgpack unsigned integer in any of its forms.
func readUint(r *bufio.Reader, what string) (uint64, error) {
	c, err := r.ReadByte()
	if err != nil {
		return 0, unexpected(err)
	}
	var width int
	switch {
	case c < 0x80:
		return uint64(c), nil
	case c == mpUint8:
		width = 1
	case c == mpUint16:
		width = 2
	case c == mpUint32:
		width = 4
	case c == mpUint64:
		width = 8
	default:
		return 0, &FrameError{Reason: fmt.Sprintf("%s code 0x%02x is not a msgpack unsigned integer", what, c)}
	}
	var buf [8]byte
	if _, err := io.ReadFull(r, buf[8-width:]); err != nil {
		return 0, unexpected(err)
	}
	return binary.BigEndian.Uint64(buf[:]), nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readFrameHeader reads the header of one frame of the wanted kind whose payload is at most
// max bytes, and returns the payload's length. A clean end of r before a frame is io.EOF.
func readFrameHeader(r *bufio.Reader, want byte, max uint64) (uint64, error) {
	kind, n, err := readHeader(r)
	if err != nil {
		return 0, err
	}
	if kind != want {
		return 0, &FrameError{Reason: fmt.Sprintf("frame kind %d, want %d", kind, want)}
	}
	if n > max {
		return 0, &FrameError{Reason: fmt.Sprintf("frame of %d bytes exceeds the maximum of %d", n, max)}
	}
	return n, nil
}

// readFrame reads one frame of the wanted kind whose payload is at most max bytes. The payload
// is a fresh slice owned by the caller, allocated as its bytes arrive (see
// [transport.ReadPayload]) rather than at the length the header announces. A clean end of r
// before a frame is io.EOF.
func readFrame(r *bufio.Reader, want byte, max uint64) ([]byte, error) {
	n, err := readFrameHeader(r, want, max)
	if err != nil {
		return nil, err
	}
	return transport.ReadPayload(r, n)
}

// Package prg provides the engine's cryptographic pseudo-random generators: AES-128 in counter
// mode (crypto/aes, which uses AES-NI where the CPU has it) expanding a 16-byte seed into a
// stream of uint64 values.
//
// Two parties that hold the same seed draw the same stream, which the protocols use for
// correlated randomness (zero-sharings, shared masks) without communication. A Stream is not
// safe for concurrent use.
package prg

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"unsafe"
)

// SeedSize is the length of a seed in bytes.
const SeedSize = 16

// Seed keys a Stream.
type Seed [SeedSize]byte

// NewSeed draws a fresh seed from r, or from crypto/rand when r is nil.
func NewSeed(r io.Reader) (Seed, error) {
	if r == nil {
		r = rand.Reader
	}
	var s Seed
	if _, err := io.ReadFull(r, s[:]); err != nil {
		return s, fmt.Errorf("prg: seed: %w", err)
	}
	return s, nil
}

// bufBytes is the keystream chunk size; large enough to amortise the cipher call.
const bufBytes = 8 << 10

// Stream is an AES-CTR keystream read as little-endian uint64 values.
type Stream struct {
	ctr  cipher.Stream
	buf  []byte
	zero []byte
	pos  int
}

// New returns the stream keyed by seed, starting at counter zero.
func New(seed Seed) *Stream {
	block, err := aes.NewCipher(seed[:])
	if err != nil { // unreachable: the key length is fixed
		panic(err)
	}
	var iv [aes.BlockSize]byte
	return &Stream{
		ctr:  cipher.NewCTR(block, iv[:]),
		buf:  make([]byte, bufBytes),
		zero: make([]byte, bufBytes),
		pos:  bufBytes,
	}
}

// Expand overwrites dst with the first len(dst) values of the stream keyed by seed, as
// New(seed).Fill(dst) does, without the stream's buffers: for a one-off expansion, such as a
// client's input share that travels as its seed.
func Expand(seed Seed, dst []uint64) {
	if !nativeLittleEndian {
		New(seed).Fill(dst)
		return
	}
	block, err := aes.NewCipher(seed[:])
	if err != nil { // unreachable: the key length is fixed
		panic(err)
	}
	var iv [aes.BlockSize]byte
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), 8*len(dst))
	clear(b)
	cipher.NewCTR(block, iv[:]).XORKeyStream(b, b)
}

// Uint64 returns the next value of the stream.
func (s *Stream) Uint64() uint64 {
	if s.pos == len(s.buf) {
		s.ctr.XORKeyStream(s.buf, s.zero)
		s.pos = 0
	}
	v := binary.LittleEndian.Uint64(s.buf[s.pos:])
	s.pos += 8
	return v
}

// Fill overwrites dst with the next len(dst) values of the stream. On little-endian machines
// the keystream is written straight into dst's memory.
func (s *Stream) Fill(dst []uint64) {
	i := 0
	// Drain what the buffer still holds.
	for i < len(dst) && s.pos < len(s.buf) {
		dst[i] = binary.LittleEndian.Uint64(s.buf[s.pos:])
		s.pos += 8
		i++
	}
	if i == len(dst) {
		return
	}
	if nativeLittleEndian {
		rest := unsafe.Slice((*byte)(unsafe.Pointer(&dst[i])), 8*(len(dst)-i))
		for len(rest) > 0 {
			n := min(len(rest), len(s.zero))
			s.ctr.XORKeyStream(rest[:n], s.zero[:n])
			rest = rest[n:]
		}
		return
	}
	for ; i < len(dst); i++ {
		dst[i] = s.Uint64()
	}
}

// nativeLittleEndian is true on little-endian machines.
var nativeLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Seed derives a fresh seed from the stream, for keying a sub-stream.
func (s *Stream) Seed() Seed {
	var out Seed
	binary.LittleEndian.PutUint64(out[:8], s.Uint64())
	binary.LittleEndian.PutUint64(out[8:], s.Uint64())
	return out
}

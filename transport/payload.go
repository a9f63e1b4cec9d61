package transport

import (
	"errors"
	"io"
)

// payloadChunk is the first allocation of ReadPayload for a long payload: 1 MiB.
const payloadChunk = 1 << 20

// ReadPayload reads a payload of n bytes announced by a frame header and returns it in a
// fresh slice. Memory follows the bytes that actually arrive, not the announced length: a
// payload of up to 1 MiB is read into one allocation of n bytes; a longer one starts with
// 1 MiB and grows (doubling, and to exactly n for the last step) only once what it holds has
// been filled. A peer that announces n bytes and sends k makes the reader hold at most
// max(1 MiB, 2k) bytes (and allocate under 1 MiB + 4k in all), whatever n; a payload that
// arrives in full is allocated about 2n bytes in all (at most 2.4n), of which under 1.4n
// are copied once more on the way.
//
// The caller bounds n before calling. A payload cut short is io.ErrUnexpectedEOF.
func ReadPayload(r io.Reader, n uint64) ([]byte, error) {
	if n <= payloadChunk {
		p := make([]byte, n)
		if _, err := io.ReadFull(r, p); err != nil {
			return nil, unexpected(err)
		}
		return p, nil
	}
	p := make([]byte, 0, payloadChunk)
	for {
		m, err := io.ReadFull(r, p[len(p):cap(p)])
		p = p[:len(p)+m]
		if err != nil {
			return nil, unexpected(err)
		}
		if uint64(len(p)) == n {
			return p, nil
		}
		// Full but short of n: grow. Jump straight to n when doubling would leave less than
		// half a step to go, so that the last copy is not followed by another.
		next := 2 * uint64(cap(p))
		if next+next/2 >= n {
			next = n
		}
		q := make([]byte, len(p), next)
		copy(q, p)
		p = q
	}
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

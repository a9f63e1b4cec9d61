package aby3

import (
	"encoding/binary"
	"fmt"

	"github.com/gotfe/gotfe/secure/ring"
)

// MapLinear applies a ring-linear function f to x (local; see the function [MapLinear]).
func (p *Party) MapLinear(x *Shared, f func(*ring.Tensor) (*ring.Tensor, error)) (*Shared, error) {
	return MapLinear(x, f)
}

// ReshapeUnreduced returns u with a new shape (see the function [ReshapeUnreduced]).
func (p *Party) ReshapeUnreduced(u *Unreduced, shape ...int) (*Unreduced, error) {
	return ReshapeUnreduced(u, shape...)
}

// MapLinearUnreduced applies a ring-linear function f to u (see the function
// [MapLinearUnreduced]).
func (p *Party) MapLinearUnreduced(u *Unreduced, f func(*ring.Tensor) (*ring.Tensor, error)) (*Unreduced, error) {
	return MapLinearUnreduced(u, f)
}

// ConcatUnreduced joins values along axis (see the function [ConcatUnreduced]).
func (p *Party) ConcatUnreduced(axis int, us ...*Unreduced) (*Unreduced, error) {
	return ConcatUnreduced(axis, us...)
}

// ScaleUnreduced returns k·u for a public integer k (see the function [ScaleUnreduced]).
func (p *Party) ScaleUnreduced(u *Unreduced, k int64) *Unreduced { return ScaleUnreduced(u, k) }

// AppendShare appends the party's two components of x (little-endian uint64s, x_i then
// x_{i+1}) to dst: 16 bytes per element, meaningful only to the same party index.
func (p *Party) AppendShare(dst []byte, x *Shared) []byte {
	for _, part := range [][]uint64{x.a, x.b} {
		for _, v := range part {
			dst = binary.LittleEndian.AppendUint64(dst, v)
		}
	}
	return dst
}

// ReadShare decodes a share of the given shape written by [Party.AppendShare] from the front
// of data and returns it with the bytes it did not consume.
func (p *Party) ReadShare(data []byte, shape []int) (*Shared, []byte, error) {
	n, err := ring.NumElements(shape)
	if err != nil {
		return nil, nil, fmt.Errorf("aby3: read share: %w", err)
	}
	if len(data) < 16*n {
		return nil, nil, fmt.Errorf("aby3: read share: %d bytes left, a share of shape %v needs %d", len(data), shape, 16*n)
	}
	xi, xn := make([]uint64, n), make([]uint64, n)
	for i := range xi {
		xi[i] = binary.LittleEndian.Uint64(data[8*i:])
		xn[i] = binary.LittleEndian.Uint64(data[8*(n+i):])
	}
	s, err := NewShared(shape, xi, xn)
	if err != nil {
		return nil, nil, err
	}
	return s, data[16*n:], nil
}

package mpc

import (
	"encoding/binary"
	"fmt"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/secure/aby3"
)

var _ backend.ShareCodec = (*Backend)(nil)

// AppendShare appends this party's two share components of t (little-endian uint64s, x_i
// then x_{i+1}) to dst. The bytes are meaningful only to the same party index.
func (b *Backend) AppendShare(dst []byte, t backend.Tensor) ([]byte, error) {
	b.p.Begin("AppendShare", nil)
	s, err := b.get("AppendShare", t)
	if err != nil {
		return nil, err
	}
	xi, xn := s.Components()
	for _, part := range [][]uint64{xi, xn} {
		for _, v := range part {
			dst = binary.LittleEndian.AppendUint64(dst, v)
		}
	}
	return dst, nil
}

// ReadShare decodes a share of the given shape written by AppendShare from the front of data.
func (b *Backend) ReadShare(data []byte, shape []int) (backend.Tensor, []byte, error) {
	b.p.Begin("ReadShare", shape)
	n, err := backend.NumElements(shape)
	if err != nil {
		return nil, nil, fmt.Errorf("aby3: ReadShare: %w", err)
	}
	if len(data) < 16*n {
		return nil, nil, fmt.Errorf("aby3: ReadShare: %d bytes left, a share of shape %v needs %d", len(data), shape, 16*n)
	}
	xi, xn := make([]uint64, n), make([]uint64, n)
	for i := range xi {
		xi[i] = binary.LittleEndian.Uint64(data[8*i:])
		xn[i] = binary.LittleEndian.Uint64(data[8*(n+i):])
	}
	s, err := aby3.NewShared(shape, xi, xn)
	if err != nil {
		return nil, nil, err
	}
	return &Tensor{s: s}, data[16*n:], nil
}

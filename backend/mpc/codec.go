package mpc

import (
	"fmt"

	"github.com/gotfe/gotfe/backend"
)

var _ backend.ShareCodec = (*Backend)(nil)

// AppendShare appends this party's share of t to dst, in its protocol's layout
// ([Protocol].AppendShare). The bytes are meaningful only to the same party index.
func (b *engine[S, B, U]) AppendShare(dst []byte, t backend.Tensor) ([]byte, error) {
	b.p.Begin("AppendShare", nil)
	s, err := b.get("AppendShare", t)
	if err != nil {
		return nil, err
	}
	return b.p.AppendShare(dst, s), nil
}

// ReadShare decodes a share of the given shape written by AppendShare from the front of data.
func (b *engine[S, B, U]) ReadShare(data []byte, shape []int) (backend.Tensor, []byte, error) {
	b.p.Begin("ReadShare", shape)
	if _, err := backend.NumElements(shape); err != nil {
		return nil, nil, fmt.Errorf("%s: ReadShare: %w", b.p.Name(), err)
	}
	s, rest, err := b.p.ReadShare(data, shape)
	if err != nil {
		return nil, nil, err
	}
	return &tensor[S, U]{s: s}, rest, nil
}

package mpc

import (
	"context"

	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
)

type closer interface{ Close() error }

// MemNetworks links a local session over the in-memory transport.
func MemNetworks(ctx context.Context) ([]secure.Network, func(), error) {
	nets := launch.MemNetworks()
	return nets, func() {
		for _, n := range nets {
			if c, ok := n.(closer); ok {
				_ = c.Close()
			}
		}
	}, nil
}

// QUICNetworks links a local session over QUIC with mutual TLS on loopback, with certificates
// made for this session only.
func QUICNetworks(ctx context.Context) ([]secure.Network, func(), error) {
	eps, closeAll, err := launch.LocalQUICNetworks(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	nets := make([]secure.Network, len(eps))
	for i, e := range eps {
		nets[i] = e
	}
	return nets, closeAll, nil
}

package mpc

import (
	"context"
	"fmt"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/pond"
	"github.com/gotfe/gotfe/secure/session"
)

// Config configures a party of the secure backend (see [session.Config]): its
// Params.Protocol names the protocol, "aby3" (the default) or "pond". The zero value is
// valid.
type Config = session.Config

// Protocols returns the names of the protocols [NewBackend] runs, the default first.
func Protocols() []string { return []string{aby3.ProtocolName, pond.ProtocolName} }

var (
	_ Protocol[*aby3.Shared, *aby3.BoolShared, *aby3.Unreduced] = (*aby3.Party)(nil)
	_ Protocol[*pond.Shared, *pond.BoolShared, *pond.Unreduced] = (*pond.Party)(nil)
)

// NewBackend runs the set-up handshake of party id of the protocol cfg.Params.Protocol names
// (empty: aby3) with its two peers over net and returns the party's backend. The parties
// check that they run the same protocol with the same parameters: a party of another
// protocol is an error on every party.
func NewBackend(ctx context.Context, id secure.PartyID, net secure.Network, cfg Config) (*Backend, error) {
	switch cfg.Params.Protocol {
	case "", aby3.ProtocolName:
		p, err := aby3.NewParty(ctx, id, net, cfg)
		if err != nil {
			return nil, err
		}
		return New(p), nil
	case pond.ProtocolName:
		p, err := pond.NewParty(ctx, id, net, cfg)
		if err != nil {
			return nil, err
		}
		return New(p), nil
	}
	return nil, fmt.Errorf("mpc: unknown protocol %q (want one of %v)", cfg.Params.Protocol, Protocols())
}

package launch

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/gotfe/gotfe/deploy"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/transport/quic"
)

// LocalQUICNetworks links three parties of this process over real QUIC sockets on loopback:
// ephemeral UDP ports on 127.0.0.1, and a CA and party certificates made in memory for this
// run only. tune, if not nil, adjusts each party's configuration before linking (a packet
// delay, a frame limit). The returned function closes the three endpoints.
func LocalQUICNetworks(ctx context.Context, tune func(*quic.Config)) ([secure.NumParties]*quic.Endpoint, func(), error) {
	var eps [secure.NumParties]*quic.Endpoint
	pki, err := deploy.NewPKI([secure.NumParties]string{"127.0.0.1", "127.0.0.1", "127.0.0.1"}, 0)
	if err != nil {
		return eps, nil, fmt.Errorf("launch: %w", err)
	}
	var (
		conns [secure.NumParties]net.PacketConn
		addrs [secure.NumParties]string
	)
	for i := range conns {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			for _, c := range conns[:i] {
				_ = c.Close()
			}
			return eps, nil, fmt.Errorf("launch: %w", err)
		}
		conns[i], addrs[i] = c, c.LocalAddr().String()
	}
	var (
		errs [secure.NumParties]error
		wg   sync.WaitGroup
	)
	for i := range eps {
		cfg := pki.Config(i, addrs)
		cfg.Conn = conns[i]
		if tune != nil {
			tune(&cfg)
		}
		wg.Go(func() { eps[i], errs[i] = quic.Dial(ctx, cfg) })
	}
	wg.Wait()
	closeAll := func() {
		var wg sync.WaitGroup
		for _, e := range eps {
			if e != nil {
				wg.Go(func() { _ = e.Close() })
			}
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil {
			closeAll()
			return [secure.NumParties]*quic.Endpoint{}, nil, fmt.Errorf("launch: party %d: %w", i, err)
		}
	}
	return eps, closeAll, nil
}

// LocalQUIC runs fn on three parties in this process linked over QUIC on loopback (see
// LocalQUICNetworks), the links a distributed run has, minus the network.
func LocalQUIC(ctx context.Context, fn PartyFunc) error {
	eps, closeAll, err := LocalQUICNetworks(ctx, nil)
	if err != nil {
		return err
	}
	defer closeAll()
	nets := make([]secure.Network, len(eps))
	for i, e := range eps {
		nets[i] = e
	}
	return Run(ctx, nets, fn)
}

// QUICParty runs fn as party id of a distributed computation: it links to the two other
// parties listed in the parties file at partiesPath (see package deploy; keyPath is this
// party's key file, empty for party<id>.key beside it) and runs fn. When fn succeeds, the
// links are closed in order, waiting briefly so that the last messages reach the peers; when
// fn fails (or panics), they are aborted with its error as the cause, so that the peers'
// errors quote it instead of reporting an orderly close. The other parties run the same
// program with their own index, in other processes or on other hosts.
func QUICParty(ctx context.Context, partiesPath string, id int, keyPath string, fn PartyFunc) (err error) {
	if err := secure.CheckParty(secure.PartyID(id)); err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	e, err := deploy.Endpoint(ctx, partiesPath, id, keyPath, nil)
	if err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("party %d: launch: panicked: %v", id, r)
		}
		if err != nil {
			_ = e.Abort(err)
		} else {
			_ = e.Close()
		}
	}()
	if err := fn(ctx, secure.PartyID(id), e); err != nil {
		return fmt.Errorf("party %d: %w", id, err)
	}
	return nil
}

// Package launch wires the three parties of a computation to their links and runs them: as
// goroutines of one process over the in-memory transport or over QUIC on loopback, or as one
// party of a distributed computation.
package launch

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/transport/mem"
)

// PartyFunc is the program one party runs: the same function runs on every party with its own
// index and links (SPMD).
type PartyFunc func(ctx context.Context, id secure.PartyID, net secure.Network) error

// closer is implemented by links that can be torn down to wake a blocked peer.
type closer interface{ Close() error }

// aborter is implemented by links that can tell the peers why they are torn down.
type aborter interface{ Abort(cause error) error }

// tearDown closes every link at once, telling peers the cause where the link can.
func tearDown(nets []secure.Network, cause error) {
	var wg sync.WaitGroup
	for _, n := range nets {
		switch l := n.(type) {
		case aborter:
			wg.Go(func() { _ = l.Abort(cause) })
		case closer:
			wg.Go(func() { _ = l.Close() })
		}
	}
	wg.Wait()
}

// Run runs fn on the three parties concurrently, party i over nets[i], and waits for all of
// them. When one party fails, the context of the others is cancelled and their links closed so
// that nobody waits forever; Run returns the first failure (with the party that raised it).
func Run(ctx context.Context, nets []secure.Network, fn PartyFunc) error {
	if len(nets) != secure.NumParties {
		return fmt.Errorf("launch: %d networks, want %d", len(nets), secure.NumParties)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(nets))
	var (
		wg       sync.WaitGroup
		firstErr error
		once     sync.Once
	)
	for i := range nets {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("launch: party %d panicked: %v", i, r)
				}
				if errs[i] != nil {
					once.Do(func() {
						firstErr = fmt.Errorf("party %d: %w", i, errs[i])
						cancel()
						tearDown(nets, firstErr)
					})
				}
			}()
			errs[i] = fn(ctx, secure.PartyID(i), nets[i])
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return errors.Join(errs...)
}

// MemNetworks returns the three endpoints of a fresh in-memory network as engine links.
func MemNetworks() []secure.Network {
	eps := mem.NewNetwork(secure.NumParties)
	nets := make([]secure.Network, len(eps))
	for i, e := range eps {
		nets[i] = e
	}
	return nets
}

// Local runs fn on three parties in this process over the in-memory transport.
func Local(ctx context.Context, fn PartyFunc) error {
	return Run(ctx, MemNetworks(), fn)
}

package mpc

import (
	"context"
	"fmt"
	"sync"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/session"
)

// Networks makes the three links of a local session (in-memory or QUIC on loopback) and a
// function that tears them down.
type Networks func(ctx context.Context) ([]secure.Network, func(), error)

// LocalRunner runs programs on three parties inside this process. The parties live from one
// Run to the next, so the shares a program leaves in a model (its weights) stay valid for the
// next program. When a Run fails, its links are torn down (so no party waits for a dead peer)
// and the next Run sets up a new session with the same backends: shares survive, since each
// party keeps its index.
type LocalRunner struct {
	cfg      Config
	networks Networks
	backends [secure.NumParties]*Backend

	mu      sync.Mutex
	session *localSession
}

type localSession struct {
	ctx    context.Context
	cancel context.CancelFunc
	stop   func()
	jobs   [secure.NumParties]chan func(backend.Backend) error
	done   [secure.NumParties]chan error
	wg     sync.WaitGroup
}

// NewLocalRunner returns a runner whose sessions use the links networks makes (nil: the
// in-memory transport) and parties configured by cfg, which run the protocol
// cfg.Params.Protocol names (see [NewBackend]).
func NewLocalRunner(cfg Config, networks Networks) *LocalRunner {
	if networks == nil {
		networks = MemNetworks
	}
	r := &LocalRunner{cfg: cfg, networks: networks}
	for i := range r.backends {
		r.backends[i] = &Backend{}
	}
	return r
}

// Backends returns the three parties' backends (for their counters).
func (r *LocalRunner) Backends() [secure.NumParties]*Backend { return r.backends }

// start sets up a session: links, the parties' handshake, and one goroutine per party.
func (r *LocalRunner) start() (*localSession, error) {
	ctx, cancel := context.WithCancel(context.Background())
	nets, stop, err := r.networks(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("mpc: session links: %w", err)
	}
	s := &localSession{ctx: ctx, cancel: cancel, stop: stop}
	errs := make(chan error, secure.NumParties)
	for i := range nets {
		s.jobs[i] = make(chan func(backend.Backend) error)
		s.done[i] = make(chan error, 1)
		s.wg.Add(1)
		go func(id secure.PartyID) {
			defer s.wg.Done()
			b, err := NewBackend(ctx, id, nets[id], r.cfg)
			errs <- err
			if err != nil {
				return
			}
			r.backends[id].ops = b.ops
			for job := range s.jobs[id] {
				s.done[id] <- runSafely(job, r.backends[id])
			}
		}(secure.PartyID(i))
	}
	var first error
	for range nets {
		if err := <-errs; err != nil && first == nil {
			first = err
			s.close()
		}
	}
	if first != nil {
		s.close()
		s.wg.Wait()
		return nil, first
	}
	return s, nil
}

// close tears the session's links down; parties blocked on a peer fail at once.
func (s *localSession) close() {
	s.cancel()
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

func runSafely(job func(backend.Backend) error, b *Backend) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("mpc: party %d: panic: %v", b.Party(), r)
		}
	}()
	return job(b)
}

// Run runs fn on the three parties concurrently and returns the first error. A failure ends
// the session (see [LocalRunner]).
func (r *LocalRunner) Run(fn func(b backend.Backend) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.session == nil {
		s, err := r.start()
		if err != nil {
			return err
		}
		r.session = s
	}
	s := r.session
	for i := range s.jobs {
		s.jobs[i] <- fn
	}
	var errs []error
	failed := false
	pending := []int{0, 1, 2}
	results := make(chan struct {
		id  int
		err error
	}, secure.NumParties)
	for _, id := range pending {
		go func(id int) {
			results <- struct {
				id  int
				err error
			}{id, <-s.done[id]}
		}(id)
	}
	for range pending {
		res := <-results
		if res.err != nil {
			if !failed {
				failed = true
				s.close()
			}
			errs = append(errs, fmt.Errorf("party %d: %w", res.id, res.err))
		}
	}
	if failed {
		r.shutdown()
		return errs[0]
	}
	return nil
}

// shutdown stops the session's goroutines; the next Run starts a new session.
func (r *LocalRunner) shutdown() {
	s := r.session
	if s == nil {
		return
	}
	s.close()
	for i := range s.jobs {
		close(s.jobs[i])
	}
	s.wg.Wait()
	r.session = nil
}

// Close ends the session.
func (r *LocalRunner) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shutdown()
	return nil
}

// Stats returns the three parties' communication counters of the current session.
func (r *LocalRunner) Stats() [secure.NumParties]session.Stats {
	var out [secure.NumParties]session.Stats
	for i, b := range r.backends {
		if b.ops != nil {
			out[i] = b.Stats()
		}
	}
	return out
}

// PartyRunner runs programs as one party of a distributed computation: Run calls fn once with
// this party's backend.
type PartyRunner struct {
	b *Backend
}

// NewPartyRunner returns the runner of party p, whichever its protocol.
func NewPartyRunner[S, B, U Sharing](p Protocol[S, B, U]) *PartyRunner {
	return &PartyRunner{b: New(p)}
}

// NewBackendRunner returns the runner of a party's backend (see [NewBackend]).
func NewBackendRunner(b *Backend) *PartyRunner { return &PartyRunner{b: b} }

// Run calls fn with the party's backend.
func (r *PartyRunner) Run(fn func(b backend.Backend) error) error { return runSafely(fn, r.b) }

// Backend returns the party's backend.
func (r *PartyRunner) Backend() *Backend { return r.b }

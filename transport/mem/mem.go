// Package mem links parties inside one process: each directed pair of parties has an
// unbounded in-order queue of messages. It is the transport of tests and of one-process runs.
//
// Send hands the payload slice over without copying (the sender gives up ownership, as the
// link interface requires), so a message costs no serialisation.
package mem

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gotfe/gotfe/transport"
)

// ErrClosed is returned by a link whose endpoint, or whose peer's endpoint, has been closed.
var ErrClosed = errors.New("mem: link closed")

// queue is an unbounded FIFO of messages from one party to another.
type queue struct {
	mu     sync.Mutex
	msgs   [][]byte
	ready  chan struct{} // signalled (capacity 1) when msgs becomes non-empty
	closed chan struct{}
	once   sync.Once
	cause  error // why the queue was closed: ErrClosed, or an abort's cause
}

func newQueue() *queue {
	return &queue{ready: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (q *queue) close(cause error) {
	q.once.Do(func() {
		q.cause = cause
		close(q.closed)
	})
}

func (q *queue) push(m []byte) error {
	select {
	case <-q.closed:
		return q.cause
	default:
	}
	q.mu.Lock()
	q.msgs = append(q.msgs, m)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return nil
}

func (q *queue) pop(ctx context.Context) ([]byte, error) {
	for {
		q.mu.Lock()
		if len(q.msgs) > 0 {
			m := q.msgs[0]
			q.msgs[0] = nil
			q.msgs = q.msgs[1:]
			if len(q.msgs) > 0 {
				select {
				case q.ready <- struct{}{}:
				default:
				}
			}
			q.mu.Unlock()
			return m, nil
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-q.closed:
			return nil, q.cause
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Endpoint is one party's end of an in-memory network.
type Endpoint struct {
	id       int
	out, in  []*queue // out[p]: messages to p; in[p]: messages from p
	counters transport.Counters
}

// NewNetwork links n parties and returns their endpoints; endpoint i belongs to party i.
func NewNetwork(n int) []*Endpoint {
	qs := make([][]*queue, n) // qs[from][to]
	for i := range qs {
		qs[i] = make([]*queue, n)
		for j := range qs[i] {
			if i != j {
				qs[i][j] = newQueue()
			}
		}
	}
	eps := make([]*Endpoint, n)
	for i := range eps {
		e := &Endpoint{id: i, out: make([]*queue, n), in: make([]*queue, n)}
		for j := 0; j < n; j++ {
			if i != j {
				e.out[j] = qs[i][j]
				e.in[j] = qs[j][i]
			}
		}
		eps[i] = e
	}
	return eps
}

// ID is the party index of this endpoint.
func (e *Endpoint) ID() int { return e.id }

func (e *Endpoint) check(peer int) error {
	if peer < 0 || peer >= len(e.out) || peer == e.id {
		return fmt.Errorf("mem: party %d has no link to party %d", e.id, peer)
	}
	return nil
}

// Send queues payload for peer. It never blocks; the payload must not be modified afterwards.
func (e *Endpoint) Send(ctx context.Context, peer int, payload []byte) error {
	if err := e.check(peer); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := e.out[peer].push(payload); err != nil {
		return fmt.Errorf("mem: send to party %d: %w", peer, err)
	}
	e.counters.AddSent(len(payload))
	return nil
}

// Recv returns the next message from peer, waiting until one arrives, the link closes, or ctx
// ends.
func (e *Endpoint) Recv(ctx context.Context, peer int) ([]byte, error) {
	if err := e.check(peer); err != nil {
		return nil, err
	}
	m, err := e.in[peer].pop(ctx)
	if err != nil {
		return nil, fmt.Errorf("mem: recv from party %d: %w", peer, err)
	}
	e.counters.AddReceived(len(m))
	return m, nil
}

// Stats returns this endpoint's traffic counters.
func (e *Endpoint) Stats() transport.Stats { return e.counters.Stats() }

// Close closes every link of this endpoint: peers waiting on it get ErrClosed.
func (e *Endpoint) Close() error {
	e.shut(ErrClosed)
	return nil
}

// Abort closes every link of this endpoint because of cause: peers waiting on it, or sending to
// it, get an error that quotes cause (wrapping ErrClosed).
func (e *Endpoint) Abort(cause error) error {
	e.shut(fmt.Errorf("party %d stopped: %v: %w", e.id, cause, ErrClosed))
	return nil
}

func (e *Endpoint) shut(cause error) {
	for j := range e.out {
		if j != e.id {
			e.out[j].close(cause)
			e.in[j].close(cause)
		}
	}
}

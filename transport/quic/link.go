package quic

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gotfe/gotfe/transport"
	quicgo "github.com/quic-go/quic-go"
)

// readBufferSize is the read buffer of a link. Headers and small messages are read from it;
// a payload larger than what is buffered is read straight into the message.
const readBufferSize = 64 << 10

// coalesceLimit is the largest payload copied next to its header so that both leave in one
// Write (and, when small, one packet); larger payloads are written after the header without
// a copy.
const coalesceLimit = 32 << 10

// aLongTimeAgo is a deadline in the past, to interrupt blocked stream calls.
var aLongTimeAgo = time.Unix(1, 0)

// link is the connection and stream to one peer. One goroutine reads frames into in; sends
// are serialised by wmu so that frames never interleave.
//
// The reader reserves a frame's bytes against the receive buffer (Config.RecvBuffer) once it
// knows the frame's length and before it reads the payload; Recv releases them. When a frame
// does not fit, the reader waits for Recv to release enough and reads nothing from the
// stream meanwhile, so that QUIC flow control holds the sender back.
type link struct {
	e      *Endpoint
	peer   int
	conn   *quicgo.Conn
	stream *quicgo.Stream
	br     *bufio.Reader
	in     chan []byte
	done   chan struct{} // closed when the reader stops; err then says why
	err    error

	qmu    sync.Mutex
	queued int           // payload bytes reserved: queued in in, or being read
	peak   int           // the largest queued has been
	stalls int           // how many times the reader waited for room
	space  chan struct{} // a token when Recv releases bytes; only the reader takes it

	wmu     sync.Mutex
	wbuf    []byte // header, and small payloads, of the frame being sent
	sendErr error  // set when a send failed: the stream can no longer be framed
}

func newLink(e *Endpoint, peer int, conn *quicgo.Conn, stream *quicgo.Stream) *link {
	return &link{
		e:      e,
		peer:   peer,
		conn:   conn,
		stream: stream,
		br:     bufio.NewReaderSize(stream, readBufferSize),
		in:     make(chan []byte, e.s.RecvQueue),
		done:   make(chan struct{}),
		space:  make(chan struct{}, 1),
		wbuf:   make([]byte, 0, maxHeaderLen+coalesceLimit),
	}
}

func (l *link) errorf(op, format string, args ...any) error {
	return &LinkError{Party: l.e.s.ID, Peer: l.peer, Op: op, Err: fmt.Errorf(format, args...)}
}

// reserve waits until a frame of n payload bytes fits in the receive buffer and counts it
// in. A frame always fits when nothing else is queued (n is at most MaxFrame, which is at
// most RecvBuffer). It returns false, reserving nothing, if the endpoint closes meanwhile.
func (l *link) reserve(n int) bool {
	for {
		l.qmu.Lock()
		if l.queued == 0 || l.queued+n <= l.e.s.RecvBuffer {
			l.queued += n
			l.peak = max(l.peak, l.queued)
			l.qmu.Unlock()
			return true
		}
		l.stalls++
		l.qmu.Unlock()
		select {
		case <-l.space:
		case <-l.e.closing:
			return false
		}
	}
}

// release counts n payload bytes out of the receive buffer and wakes the reader if it waits.
func (l *link) release(n int) {
	l.qmu.Lock()
	l.queued -= n
	l.qmu.Unlock()
	select {
	case l.space <- struct{}{}:
	default: // a token is already there
	}
}

// buffered returns the payload bytes received ahead of Recv (or being read), the most there
// have been, and how many times the reader has waited for room.
func (l *link) buffered() (queued, peak, stalls int) {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	return l.queued, l.peak, l.stalls
}

// readData reads the next data frame within the receive buffer. ok is false when the
// endpoint closed while the reader waited for room: the frame was then skipped.
func (l *link) readData(max uint64) (p []byte, ok bool, err error) {
	n, err := readFrameHeader(l.br, kindData, max)
	if err != nil {
		return nil, false, err
	}
	if !l.reserve(int(n)) {
		// Closing: nobody will read the frame; skip it.
		if _, err := l.br.Discard(int(n)); err != nil {
			return nil, false, unexpected(err)
		}
		return nil, false, nil
	}
	p, err = transport.ReadPayload(l.br, n)
	if err != nil {
		l.release(int(n))
		return nil, false, err
	}
	return p, true, nil
}

// readLoop reads data frames until the stream ends or breaks. A frame that breaks the format
// ends the connection, telling the peer why.
func (l *link) readLoop() {
	max := uint64(l.e.s.MaxFrame)
	for {
		p, ok, err := l.readData(max)
		if err != nil {
			var fe *FrameError
			if errors.As(err, &fe) {
				l.conn.CloseWithError(codeProtocol, fmt.Sprintf("party %d got a bad frame from party %d: %s", l.e.s.ID, l.peer, fe.Reason))
				l.err = fmt.Errorf("party %d sent a bad frame: %w", l.peer, err)
			} else {
				l.err = l.explain(err)
			}
			// Closed before the endpoint learns of the failure, so that a Recv on this link
			// reports this link's error rather than the endpoint's.
			close(l.done)
			if errors.Is(err, io.EOF) {
				// The peer closed its side: close ours too, as mem does, which also tells a
				// peer waiting in Close that everything it sent has been read.
				go l.finish(l.err)
			}
			l.e.fail(l.peer, l.err)
			return
		}
		if !ok {
			continue
		}
		select {
		case l.in <- p:
		case <-l.e.closing:
			// Closing: nobody will read it; keep reading to see the peer's end of stream.
			l.release(len(p))
		}
	}
}

// explain turns an error of the stream or connection into one that says what happened to
// the link.
func (l *link) explain(err error) error {
	var (
		ae  *quicgo.ApplicationError
		ito *quicgo.IdleTimeoutError
		sre *quicgo.StatelessResetError
	)
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("party %d closed the link: %w", l.peer, ErrClosed)
	case errors.As(err, &ae) && !ae.Remote:
		if ae.ErrorCode == codeClosed || isClosed(l.e.closing) {
			// This endpoint's Close or Abort.
			return ErrClosed
		}
		return fmt.Errorf("link ended by this party: %s", ae.ErrorMessage)
	case errors.As(err, &ae):
		if ae.ErrorCode == codeClosed {
			return fmt.Errorf("party %d closed the link: %w", l.peer, ErrClosed)
		}
		return fmt.Errorf("party %d ended the link: %s", l.peer, ae.ErrorMessage)
	case errors.As(err, &ito):
		return fmt.Errorf("link lost: nothing heard from party %d for %v (dead or unreachable): %w", l.peer, l.e.s.IdleTimeout, err)
	case errors.As(err, &sre):
		return fmt.Errorf("link lost: party %d restarted or dropped the connection: %w", l.peer, err)
	}
	if isClosed(l.e.closing) {
		return ErrClosed
	}
	return fmt.Errorf("link lost: %w", err)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// take hands a received payload to Recv, making room for the reader.
func (l *link) take(p []byte) []byte {
	l.release(len(p))
	return p
}

func (l *link) recv(ctx context.Context) ([]byte, error) {
	select {
	case p := <-l.in:
		return l.take(p), nil
	default:
	}
	select {
	case p := <-l.in:
		return l.take(p), nil
	case <-l.done:
		select {
		case p := <-l.in:
			return l.take(p), nil
		default:
		}
		return nil, l.err
	case <-l.e.closing:
		return nil, ErrClosed
	case <-l.e.lost:
		select {
		case <-l.done:
			return nil, l.err
		default:
		}
		return nil, l.e.lostErr
	case <-ctx.Done():
		return nil, fmt.Errorf("no message from party %d in time: %w", l.peer, ctx.Err())
	}
}

func (l *link) send(ctx context.Context, p []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-l.e.closing:
		return ErrClosed
	case <-l.done:
		return l.err
	case <-l.e.lost:
		return l.e.lostErr
	default:
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.sendErr != nil {
		return l.sendErr
	}
	var (
		stop  func() bool
		fired chan struct{}
	)
	if ctx.Done() != nil {
		fired = make(chan struct{})
		stop = context.AfterFunc(ctx, func() {
			_ = l.stream.SetWriteDeadline(aLongTimeAgo)
			close(fired)
		})
	}
	err := l.write(p)
	if stop != nil && !stop() {
		<-fired
		if err == nil {
			_ = l.stream.SetWriteDeadline(time.Time{})
		} else {
			err = fmt.Errorf("frame not sent in time: %w", ctx.Err())
		}
	}
	if err != nil {
		select {
		case <-l.done:
			// The link had already ended: say why.
			err = l.err
		default:
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				err = l.explain(err)
			}
		}
		l.sendErr = err
		l.e.fail(l.peer, err)
		l.conn.CloseWithError(codeAbandon, fmt.Sprintf("party %d abandoned a frame half-sent: %v", l.e.s.ID, err))
		return err
	}
	return nil
}

// write writes one data frame.
func (l *link) write(p []byte) error {
	b := appendHeader(l.wbuf[:0], kindData, uint64(len(p)))
	if len(p) <= coalesceLimit {
		_, err := l.stream.Write(append(b, p...))
		return err
	}
	if _, err := l.stream.Write(b); err != nil {
		return err
	}
	_, err := l.stream.Write(p)
	return err
}

// finish ends this side of the stream after the frame being sent, if any; later sends fail
// with why.
func (l *link) finish(why error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.sendErr == nil {
		l.sendErr = why
		_ = l.stream.Close()
	}
}

// shutdown finishes this side of the stream and waits up to Linger for the peer's end of
// stream, which a live peer sends back as soon as it has read everything (whether or not it
// is closing too); then it closes the connection.
func (l *link) shutdown() {
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		l.finish(ErrClosed)
	}()
	t := time.NewTimer(l.e.s.Linger)
	defer t.Stop()
	select {
	case <-l.done:
	case <-t.C:
	}
	l.conn.CloseWithError(codeClosed, "closed")
	<-finished
}

package quic

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by a link that was closed in an orderly way, by this endpoint's Close
// or by the peer's.
var ErrClosed = errors.New("link closed")

// RefusedError says why a connection was refused while linking: its certificate is not a
// pinned party certificate of the deployment CA, its stated index is not the one of its
// certificate, or the link it asks for is not expected. The refused peer is sent nothing but
// the refusal.
type RefusedError struct {
	Party  int    // the refusing party
	Peer   int    // the party the peer claimed or was identified as, -1 if unknown
	Remote string // the peer's address, if known
	Reason string
}

// Error says who refused the link and why.
func (e *RefusedError) Error() string {
	who := "a peer"
	if e.Peer >= 0 {
		who = fmt.Sprintf("a peer claiming party %d", e.Peer)
	}
	if e.Remote != "" {
		who += " at " + e.Remote
	}
	return fmt.Sprintf("party %d refused %s: %s", e.Party, who, e.Reason)
}

// LinkError is the error of an operation on the link between this party and a peer.
type LinkError struct {
	Party int    // this endpoint's party
	Peer  int    // the other end of the link
	Op    string // "send", "recv" or "dial"
	Err   error
}

// Error names the link, the operation and the cause.
func (e *LinkError) Error() string {
	prep := map[string]string{"send": "send to", "recv": "recv from", "dial": "link with"}[e.Op]
	if prep == "" {
		prep = e.Op
	}
	return fmt.Sprintf("quic: party %d: %s party %d: %v", e.Party, prep, e.Peer, e.Err)
}

// Unwrap returns the cause.
func (e *LinkError) Unwrap() error { return e.Err }

// Application error codes sent when this side ends a connection.
const (
	codeClosed   = 0x0 // orderly close
	codeRefused  = 0x1 // the connection was refused while linking
	codeProtocol = 0x2 // the peer broke the frame format
	codeAbandon  = 0x3 // this side gave up: a send failed half-way, or the party stopped on an error
)

// Package quic links the three parties of a computation over QUIC (quic-go): one connection
// per pair of parties, TLS 1.3 with mutual authentication against pinned party certificates,
// and ordered messages framed on one bidirectional stream per connection.
//
// # Linking
//
// [Dial] takes a [Config]: this party's index, the three parties' addresses and pinned
// certificates, its own key pair and the deployment CA. Each party listens on its own UDP
// address; the party with the lower index dials the higher one. TLS checks both certificates
// against the CA, and each side checks that the peer's certificate is, byte for byte, the one
// listed for that party (each certificate names its party in a "gotfe://party/i" URI SAN).
// The dialer then states its index in a hello; the listener refuses it unless it is the index
// of the certificate presented. A refused peer gets a [*RefusedError] and nothing else.
//
// # Frames
//
// A message is one frame: a msgpack header [kind, length] of 3 to 11 bytes followed by the
// payload bytes as they are (bulk tensors are little-endian uint64s produced by the engine;
// they are never encoded element by element). A frame longer than [Config].MaxFrame, or a
// header that is not well formed, is a [*FrameError] that ends the link on both sides.
//
// # Memory
//
// What a peer can make this party hold is bounded in bytes, per link: at most
// [Config].RecvBuffer bytes of payloads received ahead of Recv (64 MiB by default), counting
// the frame being read; once the next frame would not fit, the link reads nothing more from
// the stream until Recv makes room, so QUIC's flow control holds the sender back, and QUIC
// itself buffers at most its flow-control window (32 MiB) meanwhile. A payload is allocated
// as its bytes arrive, not at the length its header announces.
//
// # Sockets
//
// quic-go sends runs of datagrams in one segmented write (GSO). On Linux an endpoint also
// turns on UDP receive offload (GRO), so that the kernel hands such a run over as one buffer,
// which the endpoint splits back into datagrams for quic-go: most of the per-datagram work of
// the receive path goes. A shaped endpoint (PacketDelay, PacketRate) leaves its socket as it
// is, so every datagram passes the shaper on its own. Links whose peers are all on loopback
// start at full-size packets rather than waiting for path MTU discovery.
//
// # Semantics
//
// An [*Endpoint] behaves as transport/mem's: messages to one peer arrive in order; Send takes
// ownership of the payload; Recv returns a payload owned by the caller and honours its
// context's deadline; Stats counts payload bytes and messages. A dead peer is noticed after
// [Config].IdleTimeout without packets (keep-alives flow meanwhile), an orderly Close by the
// peer after its queued messages have been read. A link that fails other than by an orderly
// close fails the whole endpoint (a three-party computation cannot go on without one of its
// links), and [Endpoint.Abort] (or Close after such a failure) tells the remaining peer the
// cause, so every surviving party ends with an error naming what went wrong. Link errors are
// [*LinkError]s wrapping the cause, [ErrClosed] for orderly ends.
package quic

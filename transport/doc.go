// Package transport holds what the party-to-party links share: per-link traffic counters, and
// [ReadPayload], which reads a frame's payload as its bytes arrive rather than trusting the
// length its header announces.
//
// Implementations live in sub-packages: [github.com/gotfe/gotfe/transport/mem] links parties
// inside one process; [github.com/gotfe/gotfe/transport/quic] links processes and hosts over
// QUIC with mutual TLS. Both satisfy the engine's link interface (secure.Network) with
// standard types only and import nothing else of the project.
package transport

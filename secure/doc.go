// Package secure holds what every protocol of the engine shares: party identities, the small
// link interface the protocols need ([Network]), and engine parameters ([Params]).
//
// The protocols themselves live in sub-packages: [github.com/gotfe/gotfe/secure/aby3]
// (2-out-of-3 replicated sharing) and [github.com/gotfe/gotfe/secure/pond] (two-party
// additive sharing with a crypto producer), both on [github.com/gotfe/gotfe/secure/session]
// (set-up, checked messages, agreement) and on the kernels in
// [github.com/gotfe/gotfe/secure/ring], [github.com/gotfe/gotfe/secure/fixed] and
// [github.com/gotfe/gotfe/secure/prg]. Transports (in-memory, QUIC) implement [Network]
// without importing this package: the interface uses only standard types.
package secure

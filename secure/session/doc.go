// Package session is the layer every protocol of the engine talks through: the set-up
// handshake between the three parties, their pairwise and common PRG seeds, messages that
// carry the sender's position in the program, and the agreement steps that check the parties'
// public parameters. The protocols ([github.com/gotfe/gotfe/secure/aby3] and
// [github.com/gotfe/gotfe/secure/pond]) each hold a [Session] and build their operations on
// its Send and Recv; the secure backend reaches it through their Begin, Agree, NotifyFailure
// and BroadcastBytes.
//
// # Set-up
//
// [New] exchanges a hello with both peers: the parties check that they run the same protocol,
// with the same precision and session name, and derive their seeds. Party i draws the seed it
// shares with party i+1 and sends it over the (authenticated) link, so every pair of parties
// holds one seed ([Session.Pair]); the seed of all three hashes a contribution from each
// ([Session.PublicRandom]).
//
// # Integrity
//
// Every message a party sends ends with a trailer that says where in the program the sender
// was: the number of operations it had begun ([Session.Begin]), a running hash of their names
// and shapes, the name of the current operation and the protocol step that sent the message.
// The receiver compares the trailer with its own position before it reads the payload. All
// parties run the same program, so the two always agree; a party that skipped, repeated or
// reordered an operation (or whose program took another branch) is caught at the next message
// it exchanges, and both ends fail with a [DesyncError] naming both positions instead of
// reading one operation's shares as another's. A receive that waits longer than
// Config.StallProbe sends the peer a probe with its position, so that two parties waiting for
// each other after a desynchronisation find out at once. Payloads larger than 8 MiB travel as
// several messages, each with its trailer.
//
// # Traffic dealt ahead
//
// A party that deals correlated randomness (pond's crypto producer) sends it with
// [Session.SendAhead], without waiting for anything from its receivers, and so runs ahead of
// the online phase. Its receivers read it with [Session.RecvAhead]. That traffic is counted
// apart from the online traffic ([Stats].DealerMessages, DealerBytes) and bounded: a dealer
// stays at most 64 MiB ahead of each receiver, which returns a small credit message for every
// 16 MiB it has read (credits never carry a position and are skipped by every other receive).
// Credits are counted with the dealt traffic.
//
// # Costs
//
// [Stats] counts rounds, messages and bytes sent, trailers included. A round is one step of
// communication of a protocol; all parties count the same rounds whether or not they send in
// that step. The dealer's messages are off the critical path and count no round.
package session

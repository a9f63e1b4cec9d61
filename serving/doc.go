// Package serving answers private predictions of clients outside the three parties: a
// [Server] is one serving party, a [Client] the program of someone who wants a prediction.
//
// # Roles
//
// Party 0 owns the model: it loads it (any file package convert reads) and, at the start of
// every session with the other two parties, sends them the architecture (public) and
// secret-shares the weights (2-out-of-3 replicated sharing, package aby3). Parties 1 and 2
// never see a weight. A client connects to the three parties over QUIC with mutual TLS: it
// pins the parties' certificates (from the deployment CA, as the parties pin each other's) and
// presents a certificate of its own from the deployment's client CA (deploy.ClientCA); a
// client without one is refused during the handshake.
//
// # A prediction
//
// The client encodes its rows in fixed point and splits each value as x = x0 + x1 + x2 (mod
// 2^64), x0 and x1 the AES-CTR streams of two fresh seeds ([aby3.SplitSeeded]); it sends party
// i the pair (x_i, x_{i+1}) and nothing else, x0 and x1 as their 16-byte seeds and x2 in full:
// party 0 receives two seeds, parties 1 and 2 a seed and x2, a third of the bytes of the full
// pairs. The parties run the model on the sharing and each returns
// one value per output, its component plus its share of a fresh sharing of zero
// ([aby3.Party.OutputShare]); the client adds the three and decodes.
//
// # What is revealed, to whom
//
// No single party learns anything about a client's input or output: party i holds x_i and
// x_{i+1}, uniformly random and independent of x (x_{i+2} never reaches it, nor its seed), every message
// between the parties is masked by the protocol, and the output shares go to the client only.
// Any two of the three output shares are uniform and independent of the output, so a party
// that saw another's share would still learn nothing. Nothing the client reconstructs is sent
// back to a party. The tests check this on the parties' transcripts.
//
// What the client learns depends on the output mode party 0 chose ([Config].Output):
//
//   - OutputProbabilities (the default for a model that ends with a softmax over one axis):
//     the logits, shifted by a random amount common to each row that no party knows
//     ([aby3.Party.RandomShared]; uniform over the ring, so the shifted values are uniform
//     too). The client learns the differences of a row's logits, which are exactly what its
//     softmax probabilities determine: it computes them exactly, with no secure softmax (the
//     slowest part of a secure prediction, and an approximation). It learns nothing more than
//     the probabilities, at the precision of the logits before their last truncation: the
//     parties send the last product's terms (twice the model's fractional bits), which saves
//     that truncation's round.
//   - OutputClass: the index of each row's largest output (the argmax, computed on shares),
//     and nothing else.
//   - OutputValues (the default otherwise): the model's outputs, its final activation
//     applied on shares (sigmoid, tanh and softmax within the secure engine's stated errors).
//
// Every mode reveals the model's input and output shapes and an architecture digest to the
// client ([ModelInfo]). The parties learn public facts only: that a client (named by its
// certificate) sent a request of so many rows at such a time, its random request ID, and how
// long it took. The threat model is the engine's: semi-honest parties, at most one of which
// is corrupt (two parties together can reconstruct everything).
//
// # Ordering and batching
//
// Party 0 orders the requests: it proposes a batch of the requests it received, in arrival
// order, up to MaxBatchRows rows (requests that queued while the previous batch ran, plus,
// with a BatchWindow, those that arrive shortly after the first: dynamic batching). Parties 1
// and 2 look for the proposed requests among theirs (waiting at most ArrivalWait for late
// ones), and the three exchange which ones they hold, with a digest of the proposal they
// received: the batch is the requests all three hold, the same set on every party, agreed
// before any share of it is used. A request that did not reach all three (its client died
// half-way) fails on every party with an error naming the party that lacked it; the others
// are computed. Every message carries the sender's position in the program (package aby3),
// so parties that took different branches fail at the next message instead of mixing
// requests. When idle, party 0 sends an empty proposal every Heartbeat, so that a dead peer
// is noticed and no wait reaches the engine's timeout.
//
// # Failures
//
// A malformed request, one of the wrong shape, a duplicate ID or an expired deadline is
// answered with an error by the party that finds it, and costs the others nothing. A failure
// of the secure computation (a party died, stalled or desynchronised) ends the session on
// every party: the requests of the batch and those queued fail at once with the cause, new
// requests are told that the party is not serving ([ErrUnavailable]; clients retry for up to
// ClientConfig.WaitReady), and the parties set up a new session (fresh links, fresh shares of
// the weights) as soon as the three are back. A party that is killed outright is noticed by
// the others within the links' idle timeout (3 s) and by clients within theirs (6 s).
//
// # Operations
//
// Each party logs (log/slog) every request with its ID, client, rows and latency, every
// error with its cause, and the sessions; never data or shares. [Metrics] counts requests by
// outcome, errors by reason, latencies, rows per batch, batch durations, bytes and rounds
// between the parties and bytes to and from clients, in the Prometheus text format.
// [Server.Shutdown] stops taking requests, finishes those in flight, and returns.
package serving

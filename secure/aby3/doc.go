// Package aby3 implements 2-out-of-3 replicated secret sharing over Z_2^64 for three
// semi-honest parties with an honest majority, as in ABY3 (Mohassel and Rindal, CCS 2018).
//
// # Sharing
//
// A secret x is split as x = x0 + x1 + x2 (mod 2^64); party i holds the pair (x_i, x_{i+1}),
// so any two parties can reconstruct and any single party sees values that are uniformly
// random and independent of x. Linear operations (add, subtract, negate, multiply by a public
// integer, transpose, reshape, sum) are local.
//
// # Multiplication
//
// Products use the replicated cross terms t_i = x_i·y_i + x_i·y_{i+1} + x_{i+1}·y_i plus a
// zero-sharing α_i = F(k_{i,i+1}) - F(k_{i-1,i}) drawn from the pairwise AES-CTR PRGs
// ([github.com/gotfe/gotfe/secure/prg]), so t_0 + t_1 + t_2 = x·y and each t_i alone is
// uniform. [Party.MulRing] and [Party.MatMulRing] reshare with one message to the previous
// party: one round, one ring element sent per output element by every party.
//
// # Fixed point and truncation
//
// Fixed-point values carry f fractional bits ([github.com/gotfe/gotfe/secure/fixed]); a product
// carries 2f and is truncated by f. [Party.Mul] and [Party.MatMul] fuse the truncation into the
// resharing (ABY3's share truncation Π_trunc1, three-party form): party 1 sends t_1 to party 0
// and party 2 sends t_2 to party 1 (round 1); party 0 truncates A = t_0 + t_1, parties 1 and 2
// truncate B = t_2, and party 0 sends its truncated half, masked by a value r drawn from the PRG
// it shares with party 1, to party 2 (round 2). [Party.Trunc] truncates an existing sharing in
// one round.
//
// Truncating the two halves separately goes wrong when their sum wraps around the ring, which
// for a value below 2^l happens with probability about 2^(l-64) over the randomness of the
// shares and then puts an error of 2^(64-d) in the result: at f = 16, an activation of 1 off
// by 2^32. Over the millions of products of a training run that is bound to happen, so the
// engine corrects the wrap exactly instead: after party 0 adds 2^62, the wrap bit is the OR of
// the two halves' top bits, and the product of those two bits (known to party 0 and to
// parties 1 and 2 respectively) comes from two three-party oblivious transfers in the same
// round (see finishTrunc in trunc.go). The cost is d-bit lanes (16 bits at f = 16): per output
// element a fixed-point product sends 16 bytes from party 0 and 10 from each of the others,
// against 8 for a ring product.
//
// Error: for every |z| < 2^62 the result differs from z/2^d by less than one unit in the last
// place (|error| < 2^-f as a real number) and is unbiased. There is no failure probability.
//
// A product can also be kept before its truncation ([Unreduced], from [Party.MatMulUnreduced]):
// linear maps apply to its terms locally, and [Party.Reduce] folds a public factor into its one
// truncation, so that a gradient scaled by a learning rate is rounded once.
//
// # Boolean sharing, comparisons and approximations
//
// [BoolShared] holds XOR sharings of 64-bit words with the same replication. [Party.And] is the
// boolean form of the product (one round, with an XOR zero-sharing), so a bit-sliced circuit
// over whole tensors costs its AND depth in rounds, whatever the tensors' size.
// [Party.A2B], [Party.MSB] and [Party.B2A] convert between the sharings with parallel-prefix
// adders (ABY3 §5.3; seven, seven and nine rounds); [Party.MulBit] multiplies an arithmetic
// value by a secret bit in one round (bit injection by three-party OT, ABY3 §5.4).
// Comparisons are sign bits of differences, exact on the encodings: a comparison and the use
// of its result cost eight rounds ([Party.ReLU], [Party.Maximum], [Party.Clip]); a maximum
// over k elements 8·⌈log2 k⌉ with a tree ([Party.Max]), or 8 + ⌈log2(k-1)⌉ comparing all
// pairs at once, which [Party.Max] does for small maxima. Max-pooling ([Party.MaxPool2D])
// injects each level's bits and selects with ring products, 10·⌈log2 k⌉ rounds for fewer
// bytes in both passes. Differences known to
// be small have their sign read from their residues modulo 2^32, 2^16 or 2^8
// ([Party.MSBWithin]): fewer adder levels and several values per word. Comparisons with public
// thresholds ([Party.Clip] and those behind the approximations) trade rounds for bytes from
// 2048 elements: their results are injected in two rounds with four words per bit, and a ramp
// max(x - t, 0) is then a ring product, so such a batch takes two rounds more for large
// tensors. Sigmoid, tanh, exp, log, reciprocal, inverse square root and softmax come from
// [github.com/gotfe/gotfe/secure/approx], each with a stated input range, error, and
// saturation outside the range. Operations return new tensors; masks returned for a backward
// pass ([Party.ReLU]) are boolean sharings to be passed back unchanged, or for
// [Party.ReLUArith] and [Party.ReduceReLU] an arithmetic sharing of 0 and 1 that a ring
// product applies; [Party.MaxPool2D]'s route holds its comparisons' bits as ring integers.
//
// # Costs
//
// Every operation counts its communication on the party ([Party.Stats]): rounds, messages and
// bytes sent. A round is one step of communication of the protocol; all parties count the same
// rounds whether or not they send in that step.
//
// # How the tests guard privacy
//
// A party's view is what it holds and receives: its share components and every message after
// set-up. The tests record each party's view through a wrapper of its link, over runs of
// Share, Mul, truncation, comparisons (LessThan, MSB), conversions (bit injection, A2B), an
// approximation (Sigmoid), ArgMax and Reveal, on very different secrets (all zeros, large
// values of both signs, random values), and check that:
//
//   - every part of the view (each message, each component) is uniform on the bits it ranges
//     over (bit frequencies and a chi-square of its top byte), with the same statistics for
//     every secret; the only exception, the zero component of a fresh input sharing, is the
//     same for every secret (TestViewIsUniform, TestFreshShareZeroComponent);
//   - every pair of parts of equal length combines, by sum, difference and xor, into values
//     that are uniform for every secret or identical for every secret (copies of one random
//     value): no two parts combine into a secret, as v - r and r would if an owner also sent
//     its mask to the next party (TestViewPairsRevealNothing);
//   - the messages and bytes each party receives in Share, Reveal to one party, Mul,
//     comparisons, conversions, approximations and ArgMax are pinned, do not depend on the
//     secrets, and match what the peers counted as sent: an extra message (a leaked mask) or a
//     larger one fails, and a party that is not a reveal's recipient receives nothing at all
//     (TestViewTrafficPinned, TestRevealToOneReachesOnlyTheRecipient).
package aby3

// Package pond implements two-party additive secret sharing over Z_2^64 with a third party
// that deals correlated randomness, after Pond in TF Encrypted (Dahl et al., 2018) and
// SecureML (Mohassel and Zhang, S&P 2017): parties 0 and 1 hold the shares, party 2 is the
// crypto producer. Semi-honest, with no two parties colluding.
//
// # Sharing
//
// A secret x is split as x = x_0 + x_1 (mod 2^64); party 0 holds x_0, party 1 holds x_1, and
// each share alone is uniformly random. The producer holds no share: its [Shared] values carry
// only their shapes, so that it runs the same program as the others. Linear operations (add,
// subtract, negate, multiply by a public integer, transpose, reshape, sum, im2col) are local.
// A party that owns an input masks it with a stream it shares with the other holder, who
// takes the mask as its share: inputs of parties 0 and 1 cost no message.
//
// # Products
//
// Products are Beaver's: for X·Y the producer deals a triple A, B, C = A·B (a matrix triple
// for a matrix product, of the shapes of X, Y and X·Y). Party 0 draws its A_0, B_0, C_0 and
// party 1 its A_1, B_1 from the AES-CTR streams ([github.com/gotfe/gotfe/secure/prg]) each
// shares with the producer, which draws both and sends only C_1 = A·B - C_0 to party 1: one
// message of the size of the product. Parties 0 and 1 open E = X - A and F = Y - B to each
// other in one round and compute Z_i = C_i + E·B_i + A_i·F (+ E·F on party 0).
//
// The producer sends what it deals as soon as it reaches the operation and waits for nothing
// from the others ([github.com/gotfe/gotfe/secure/session.Session.SendAhead]): it runs ahead
// of the online phase, dealing the next layer's triples while parties 0 and 1 compute, bounded
// by 64 MiB of dealt traffic that party 1 has not yet read. Its traffic is counted apart
// ([Stats].DealerMessages, DealerBytes, DealerTime) and costs no round.
//
// # Truncation
//
// A fixed-point product carries 2f fractional bits and is truncated by f. SecureML's local
// truncation (each party shifts its own share) goes wrong when the two shares wrap around the
// ring, which for a product below 2^l before truncation happens with probability about
// 2^(l-64) per element, and then puts an error of 2^(64-2f) in the result (2^32 at f = 16).
// At f = 16 activations and gradients of magnitude 1 to 16 (2^32 to 2^36 before truncation)
// fail with probability 2^-32 to 2^-28 each, and network A's five epochs of MNIST (2345 steps
// of batch 128, about 2·10^5 truncated elements a step, half of them the first layer's weight
// gradient) truncate about 5·10^8 elements: between a tenth of an element and a few elements
// of the run would be off by 2^32, which wrecks a training run when it hits a weight. That is
// not negligible, so the truncation here
// is exact with the producer's help instead ([Party.Trunc]): party 0 adds 2^62 to its share,
// each party shifts its share, and the wrap-around of the two shifted halves, the OR of their
// top bits, is corrected with one product of two private bits, for which the producer deals a
// random bit to each party and an additive sharing of their product: one round in which each
// party sends one bit per element, and d bits per element dealt (rounded to 16, 32 or 64).
//
// Error: for every |z| < 2^62 the result differs from z/2^d by at most one unit in the last
// place (|error| ≤ 2^-f as a real number), with a mean of 2^-d units. There is no failure
// probability. [Party.Mul] and [Party.MatMul] are a Beaver round and a truncation round: two
// rounds; [Party.MatMulUnreduced] keeps the product before its truncation, and
// [Party.Reduce] truncates it once, folding a public factor in.
//
// # Comparisons, conversions and approximations
//
// Comparisons are exact, with the producer's correlations. The sign bit of x = x_0 + x_1 is the
// top bit of a sum of two private words: their generate word g = x_0 ∧ x_1 is an AND of
// private inputs (the producer deals a random word to each and an XOR sharing of their AND: one
// round, one word each way), and the carry into bit 63 comes from a parallel-prefix tree of
// six levels of AND gates on dealt boolean triples, packing 2^k elements per word at level k:
// seven rounds ([Party.MSB]). A secret bit b (an XOR sharing) multiplies an arithmetic x with a
// random bit r the producer deals in both sharings (r = r_0 ⊕ r_1 = ρ_0 + ρ_1) and a sharing of
// r·A for a Beaver mask A of x: the parties open c = b ⊕ r and x - A in one round, and b·x and
// the arithmetic bit [b] are local ([Party.MulBit], [Party.BitToArith]). So ReLU, its mask,
// maxima, max-pooling and argmax are exact: a comparison and the use of its result cost eight
// rounds, a maximum over k elements 8·⌈log2 k⌉, as in aby3 (whose max-pooling takes two rounds
// more per level for fewer bytes). Max-pooling keeps its comparisons' arithmetic bits, which
// route the gradient back with ring products. Sigmoid, tanh, exp, log,
// reciprocal, inverse square root and softmax come from [github.com/gotfe/gotfe/secure/approx],
// unchanged, each with its stated input range and error.
//
// # Costs
//
// Every operation counts its communication on the party ([Party.Stats]): rounds, messages and
// bytes sent online (between parties 0 and 1, and openings to the producer), and the
// producer's dealt traffic apart. All parties count the same rounds. Per element, parties 0
// and 1 each send: a product, two words (the masked operands; for a matrix product m·k + k·n
// words in all, against m·n for aby3's resharing) and the producer deals one; a truncation,
// one bit, with d bits dealt; a sign bit, about 5 words, with about 3 dealt; a bit product,
// one bit and one word, with two words dealt.
package pond

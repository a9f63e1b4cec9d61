package secure

import (
	"fmt"
	"time"
)

// Params configures the engine. The zero value is valid and means the defaults.
type Params struct {
	// Protocol names the protocol: "aby3" or "pond". Empty means the protocol a party is
	// made by, and for the engines that choose one by name, DefaultProtocol.
	Protocol string
	// FracBits is the number of fractional bits of the fixed-point encoding; 0 means 16.
	FracBits int
	// FastCompareMax is the largest number of values whose signs the aby3 protocol extracts in
	// three rounds at once, with a comparison that sends about 2.4 times the bytes of its
	// seven-round adder and costs about 1.4 times its computation; larger batches of
	// comparisons take the adder. Every comparison (ReLU, max, max-pooling, the thresholds of
	// the approximations) reduces to sign bits. A negative value always takes the adder. 0
	// lets the parties choose at set-up from the round trip their links have measured
	// ([RoundTripper], the largest of the three parties'): [AutoFastCompareMax]. Fewer rounds
	// pay where the link's latency bounds a step, not its bandwidth or the parties'
	// processors: on a wide-area link (40 ms round trips, 352 Mbit/s) three-round comparisons
	// take about 30% of the rounds of a training step of network A away and 15% of its time.
	FastCompareMax int
}

// DefaultFastCompareMax is the FastCompareMax chosen for fast links: on loopback QUIC links,
// three parties sharing two cores, four rounds cost about as much as 256 values' extra bytes
// and computation (128 values: 0.35 ms against 0.39 ms on the adder; 512: 1.04 ms against
// 0.91 ms, measured before the three-round comparison's masks and terms took vector
// registers, which made it cheaper in computation, not in bytes).
const DefaultFastCompareMax = 256

// SlowLinkRTT is the round trip from which AutoFastCompareMax counts a link as slow.
const SlowLinkRTT = 2 * time.Millisecond

// AutoFastCompareMax returns the FastCompareMax the parties choose for links whose round trip
// is rtt (the largest of the parties' measurements; 0 when unknown): DefaultFastCompareMax
// below SlowLinkRTT, else as many values as four round trips cost in their extra bytes and
// work. A value's three-round sign bit sends about 111 bytes more than the adder's (2.5 µs
// at 352 Mbit/s, TF Encrypted's wide-area bandwidth) and took about 1 µs more of the
// parties' processors when this was set (about 0.2 µs since its masks and terms take vector
// registers, so the limit errs towards the adder): n values pay for themselves while
// n·3.5 µs < 4·rtt, about 46,000 values at 40 ms. Network A's comparisons (at most 16,384 at once) then all take three
// rounds; the poolings of a convolutional network (hundreds of thousands) keep the adder,
// whose bytes would cost more than its rounds.
func AutoFastCompareMax(rtt time.Duration) int {
	if rtt < SlowLinkRTT {
		return DefaultFastCompareMax
	}
	const perValue = 3500 * time.Nanosecond
	n := int64(4 * rtt / perValue)
	return int(min(max(n, DefaultFastCompareMax), 1<<24))
}

// DefaultFracBits is the fixed-point precision used when Params.FracBits is zero.
const DefaultFracBits = 16

// DefaultProtocol is the protocol engines that choose one by name run when Params.Protocol
// is empty.
const DefaultProtocol = "aby3"

// Validate fills in defaults and checks the parameters. A FastCompareMax of 0 stays 0: the
// parties choose it at set-up.
func (p Params) Validate() (Params, error) {
	if p.FracBits == 0 {
		p.FracBits = DefaultFracBits
	}
	if p.FracBits < 1 || p.FracBits > 30 {
		return p, fmt.Errorf("secure: FracBits %d out of range [1, 30]", p.FracBits)
	}
	return p, nil
}

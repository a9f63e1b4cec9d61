package secure

import "fmt"

// Params configures the engine. The zero value is valid and means the defaults.
type Params struct {
	// Protocol names the protocol: "aby3" or "pond". Empty means the protocol a party is
	// made by, and for the engines that choose one by name, DefaultProtocol.
	Protocol string
	// FracBits is the number of fractional bits of the fixed-point encoding; 0 means 16.
	FracBits int
	// FastCompareMax is the largest number of values whose signs the aby3 protocol extracts in
	// three rounds at once, with a comparison that sends about 2.4 times the bytes of its
	// seven-round adder and costs about ten times its computation; larger batches of
	// comparisons take the adder. Every comparison (ReLU, max, max-pooling, the thresholds of
	// the approximations) reduces to sign bits. 0 means DefaultFastCompareMax; a negative value
	// always takes the adder. Fewer rounds pay where the link's latency bounds a step, not its
	// bandwidth or the parties' processors: on a wide-area link (40 ms round trips, 352
	// Mbit/s) a limit of a million takes about 30% of the rounds of a training step of network
	// A away and 15% of its time.
	FastCompareMax int
}

// DefaultFastCompareMax is the FastCompareMax used when Params.FastCompareMax is zero: on
// loopback QUIC links, three parties sharing two cores, four rounds cost about as much as 256
// values' extra bytes and computation (128 values: 0.35 ms against 0.39 ms on the adder; 512:
// 1.04 ms against 0.91 ms).
const DefaultFastCompareMax = 256

// DefaultFracBits is the fixed-point precision used when Params.FracBits is zero.
const DefaultFracBits = 16

// DefaultProtocol is the protocol engines that choose one by name run when Params.Protocol
// is empty.
const DefaultProtocol = "aby3"

// Validate fills in defaults and checks the parameters.
func (p Params) Validate() (Params, error) {
	if p.FracBits == 0 {
		p.FracBits = DefaultFracBits
	}
	if p.FastCompareMax == 0 {
		p.FastCompareMax = DefaultFastCompareMax
	}
	if p.FracBits < 1 || p.FracBits > 30 {
		return p, fmt.Errorf("secure: FracBits %d out of range [1, 30]", p.FracBits)
	}
	return p, nil
}

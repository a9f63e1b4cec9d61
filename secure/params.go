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
	// seven-round adder; larger batches of comparisons take the adder. Every comparison (ReLU,
	// max, max-pooling, the thresholds of the approximations) reduces to sign bits. 0 means
	// DefaultFastCompareMax; a negative value always takes the adder. Fewer rounds pay where
	// the link's latency, not its bandwidth, bounds a step: small batches, and wide-area links
	// (at 40 ms round-trip time and 352 Mbit/s, any size).
	FastCompareMax int
}

// DefaultFastCompareMax is the FastCompareMax used when Params.FastCompareMax is zero: on a
// loopback or LAN link four rounds cost about as much as 2,048 values' extra bytes.
const DefaultFastCompareMax = 2048

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

package secure

import "fmt"

// Params configures the engine. The zero value is valid and means the defaults.
type Params struct {
	// Protocol names the protocol: "aby3" or "pond". Empty means the protocol a party is
	// made by, and for the engines that choose one by name, DefaultProtocol.
	Protocol string
	// FracBits is the number of fractional bits of the fixed-point encoding; 0 means 16.
	FracBits int
}

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
	if p.FracBits < 1 || p.FracBits > 30 {
		return p, fmt.Errorf("secure: FracBits %d out of range [1, 30]", p.FracBits)
	}
	return p, nil
}

package secure

import "fmt"

// Params configures the engine. The zero value is valid and means the defaults.
type Params struct {
	// FracBits is the number of fractional bits of the fixed-point encoding; 0 means 16.
	FracBits int
}

// DefaultFracBits is the fixed-point precision used when Params.FracBits is zero.
const DefaultFracBits = 16

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

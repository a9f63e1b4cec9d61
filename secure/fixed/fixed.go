// Package fixed encodes real numbers as fixed-point elements of Z_2^64: x is stored as the
// two's-complement integer round(x·2^f), where f is the number of fractional bits.
//
// Encoding rounds to nearest (ties away from zero) and so has an absolute error of at most
// 2^-(f+1). NaN, ±Inf and values whose encoding does not fit in a signed 64-bit integer are
// errors. Products of two encodings carry 2f fractional bits and must be truncated by f bits
// (the protocols do that); to keep products in range, inputs should stay well below
// 2^((63-2f)/2) in magnitude (2^15 for f = 16).
package fixed

import (
	"errors"
	"fmt"
	"math"
)

// ErrNotFinite is wrapped by errors for NaN and infinite inputs.
var ErrNotFinite = errors.New("not a finite number")

// ErrRange is wrapped by errors for values too large for the ring.
var ErrRange = errors.New("out of fixed-point range")

// Encoding converts between float64 and the ring with FracBits fractional bits.
type Encoding struct {
	FracBits int
}

// New returns the encoding with f fractional bits (1 <= f <= 62).
func New(f int) (Encoding, error) {
	if f < 1 || f > 62 {
		return Encoding{}, fmt.Errorf("fixed: %d fractional bits out of range [1, 62]", f)
	}
	return Encoding{FracBits: f}, nil
}

// Scale is 2^f as a float64.
func (e Encoding) Scale() float64 { return math.Ldexp(1, e.FracBits) }

// One is the encoding of 1.
func (e Encoding) One() uint64 { return 1 << e.FracBits }

// Ulp is the value of the least significant bit, 2^-f.
func (e Encoding) Ulp() float64 { return math.Ldexp(1, -e.FracBits) }

// MaxAbs is the largest magnitude that encodes without error: 2^(63-f).
func (e Encoding) MaxAbs() float64 { return math.Ldexp(1, 63-e.FracBits) }

// Encode returns round(x·2^f) as a ring element.
func (e Encoding) Encode(x float64) (uint64, error) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("fixed: encode %v: %w", x, ErrNotFinite)
	}
	v := math.Round(math.Ldexp(x, e.FracBits))
	if v >= 0x1p63 || v < -0x1p63 {
		return 0, fmt.Errorf("fixed: encode %g with %d fractional bits: %w", x, e.FracBits, ErrRange)
	}
	return uint64(int64(v)), nil
}

// EncodeTo encodes src into dst (same length); on error it reports the first bad index.
func (e Encoding) EncodeTo(dst []uint64, src []float64) error {
	if len(dst) != len(src) {
		return fmt.Errorf("fixed: encode %d values into %d slots", len(src), len(dst))
	}
	scale := e.Scale()
	for i, x := range src {
		v := math.Round(x * scale)
		if !(v < 0x1p63 && v >= -0x1p63) { // also catches NaN
			if _, err := e.Encode(x); err != nil {
				return fmt.Errorf("fixed: element %d: %w", i, err)
			}
		}
		dst[i] = uint64(int64(v))
	}
	return nil
}

// EncodeSlice returns the encodings of src.
func (e Encoding) EncodeSlice(src []float64) ([]uint64, error) {
	dst := make([]uint64, len(src))
	if err := e.EncodeTo(dst, src); err != nil {
		return nil, err
	}
	return dst, nil
}

// Decode returns the real number a ring element encodes (read as a signed integer).
func (e Encoding) Decode(v uint64) float64 {
	return math.Ldexp(float64(int64(v)), -e.FracBits)
}

// DecodeTo decodes src into dst (same length).
func (e Encoding) DecodeTo(dst []float64, src []uint64) {
	inv := e.Ulp()
	for i, v := range src {
		dst[i] = float64(int64(v)) * inv
	}
}

// DecodeSlice returns the decodings of src.
func (e Encoding) DecodeSlice(src []uint64) []float64 {
	dst := make([]float64, len(src))
	e.DecodeTo(dst, src)
	return dst
}

package mpc

import (
	"math"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/secure/approx"
)

// Sigmoid approximates 1/(1+e^-x): error below 1e-2 everywhere; inputs beyond ±8 saturate.
// The approximation overshoots [0, 1] by up to about 2e-3 near saturation, so its result is
// clamped to [0, 1] with exact comparisons (on 32-bit lanes, the approximation being within
// [-1, 2]): a probability, which a logarithm can take. The result carries the bounds [0, 1].
func (b *engine[S, B, U]) Sigmoid(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Sigmoid", b.shape(x))
	s, err := b.get("Sigmoid", x)
	if err != nil {
		return nil, err
	}
	y, err := b.p.Sigmoid(s)
	if err != nil {
		return nil, err
	}
	if y, err = b.p.ClipWithin(y, 0, 1, softmaxBounds[0], softmaxBounds[1]); err != nil {
		return nil, err
	}
	return &tensor[S, U]{s: y, bounds: &[2]float64{0, 1}}, nil
}

// Tanh approximates tanh(x): error below 1e-2 everywhere; inputs beyond ±4 saturate.
func (b *engine[S, B, U]) Tanh(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Tanh", b.shape(x))
	s, err := b.get("Tanh", x)
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.Tanh(s))
}

// softmaxBounds bound the probabilities of Softmax far beyond its error (2e-3): they only
// narrow the lanes of later comparisons (the losses' Clip), which hold any value below 2^15.
var softmaxBounds = [2]float64{-1, 2}

// Softmax approximates softmax along the last axis: error below 2e-3 per probability. The
// result carries the bounds [-1, 2].
func (b *engine[S, B, U]) Softmax(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Softmax", b.shape(x))
	s, err := b.get("Softmax", x)
	if err != nil {
		return nil, err
	}
	y, err := b.p.Softmax(s)
	if err != nil {
		return nil, err
	}
	bd := softmaxBounds
	return &tensor[S, U]{s: y, bounds: &bd}, nil
}

// Exp approximates e^x for x clamped to [-(f+1)·ln 2, 4].
func (b *engine[S, B, U]) Exp(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Exp", b.shape(x))
	s, err := b.get("Exp", x)
	if err != nil {
		return nil, err
	}
	return b.wrap(b.p.Exp(s))
}

// Log approximates ln x for x clamped to [2^-16, 2^16] (absolute error below 2e-4), the
// losses' clip at 2^-16 being its lower end. On a clipped tensor (the losses' probabilities) Log uses the clip's bounds: comparisons on narrower values, and none for
// the powers of 4 above the upper bound (for probabilities: 17 rounds instead of 18, and about
// half the bytes).
func (b *engine[S, B, U]) Log(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Log", b.shape(x))
	s, err := b.get("Log", x)
	if err != nil {
		return nil, err
	}
	if bd := x.(*tensor[S, U]).bounds; bd != nil {
		return b.wrap(b.p.LogWith(s, approx.LogConfig{InputMin: bd[0], InputMax: bd[1]}))
	}
	return b.wrap(b.p.Log(s))
}

// Reciprocal approximates 1/x for x clamped to [2^-8, 2^12] (positive inputs only). On a
// clipped tensor with positive bounds (the losses' probabilities, clipped to [2^-16, 1]) the
// range is the clip's: x is not clamped further, and the comparisons run on narrower values.
func (b *engine[S, B, U]) Reciprocal(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("Reciprocal", b.shape(x))
	s, err := b.get("Reciprocal", x)
	if err != nil {
		return nil, err
	}
	if bd := x.(*tensor[S, U]).bounds; bd != nil && bd[0] > 0 && bd[1] <= 0x1p12 {
		lo := math.Max(bd[0], math.Ldexp(1, -b.p.Encoding().FracBits))
		hi := math.Max(bd[1], 2*lo)
		return b.wrap(b.p.ReciprocalWith(s, approx.NewtonConfig{Min: lo, Max: hi, InputMin: bd[0], InputMax: bd[1]}))
	}
	return b.wrap(b.p.Reciprocal(s))
}

// InvSqrt approximates 1/sqrt(x) for x clamped to [2^-f, 2^12] (f the fractional bits):
// relative error below 1e-3 against the encoded input. The range reaches down to the last
// place rather than to [github.com/gotfe/gotfe/secure/aby3.Party.InvSqrt]'s default 2^-8, because its users add a small
// constant before the root: batch normalisation's variance + ε (1e-3 by default) falls below
// 2^-8 whenever the variance is small, where a clamp at 2^-8 would cap the result at 16
// instead of up to 2^(f/2) (Adam uses [Backend.InvSqrtShifted]). Its users apply it to every
// weight or every feature, so it trades rounds for bytes: powers of 16 instead of 4, compared
// on 32-bit lanes after a first batch of comparisons that clamps ([approx.NewtonConfig] Radix
// 16, Staged): 32 rounds and about 40% fewer bytes than with the defaults.
func (b *engine[S, B, U]) InvSqrt(x backend.Tensor) (backend.Tensor, error) {
	b.p.Begin("InvSqrt", b.shape(x))
	s, err := b.get("InvSqrt", x)
	if err != nil {
		return nil, err
	}
	cfg := approx.NewtonConfig{Min: math.Ldexp(1, -b.p.Encoding().FracBits), Radix: 16, Staged: true}
	return b.wrap(b.p.InvSqrtWith(s, cfg))
}

// InvSqrtShifted approximates 2^shift/sqrt(x) for x clamped to [2^-f, max], with max up to
// 2^(f+14) and shift in [0, 14]: as [Backend.InvSqrt] (relative error below 1e-3 against the
// encoded input), with the result's last place at 2^-(f+shift) of 1/sqrt(x), so that it
// keeps its significant bits where x is large. The optimizers use it for Adam's second
// moments, whose range exceeds what 2^-f resolves at both ends.
func (b *engine[S, B, U]) InvSqrtShifted(x backend.Tensor, max float64, shift int) (backend.Tensor, error) {
	b.p.Begin("InvSqrtShifted", b.shape(x))
	s, err := b.get("InvSqrtShifted", x)
	if err != nil {
		return nil, err
	}
	cfg := approx.NewtonConfig{Min: math.Ldexp(1, -b.p.Encoding().FracBits), Max: max, Radix: 16, Staged: true, Shift: shift}
	return b.wrap(b.p.InvSqrtWith(s, cfg))
}

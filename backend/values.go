package backend

import "math/rand/v2"

// seedStream is the second word of the PCG state every reference generator uses.
const seedStream = 0x9e3779b97f4a7c15

// UniformValues returns n values uniform in [low, high) drawn from a PCG generator seeded with
// seed: the reference values of [Backend.RandomUniform].
func UniformValues(n int, low, high float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, seedStream))
	out := make([]float64, max(n, 0))
	for i := range out {
		out[i] = low + (high-low)*r.Float64()
	}
	return out
}

// DropoutValues returns n mask values, each 0 with probability rate and 1/(1-rate) otherwise,
// drawn from a PCG generator seeded with seed: the reference values of
// [Backend.DropoutMask]. It requires 0 <= rate < 1.
func DropoutValues(n int, rate float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, seedStream^1))
	keep := 1 / (1 - rate)
	out := make([]float64, max(n, 0))
	for i := range out {
		if r.Float64() >= rate {
			out[i] = keep
		}
	}
	return out
}

// DeriveSeed mixes a base seed with further words (a layer index, a step counter) into a new
// seed, so that every party derives the same seeds from the same public inputs.
func DeriveSeed(base uint64, words ...uint64) uint64 {
	h := splitmix(base)
	for _, w := range words {
		h = splitmix(h ^ splitmix(w+0x632be59bd9b4e019))
	}
	return h
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

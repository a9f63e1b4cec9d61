package mpc_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gotfe/gotfe/layers"

	"github.com/gotfe/gotfe/backend/mpc"
)

// Bounds of the activations built from the engine's operations (layers/activation.go), for
// inputs x uniform in [-s, s) and output gradients |dy| ≤ 1, each encoded to ulp/2. A product
// truncates once (one ulp); a public non-integer scale is one ulp plus 2^-20 of the value;
// comparisons, sums and integer scales are exact on the encodings.
const (
	// 1 - σ(8): the sigmoid's error where its input saturates, far below its 1e-2 elsewhere.
	sigmoidTail = 3.36e-4
	seluLambda  = 1.0507009873554805
	seluAlpha   = 1.6732632423543772
)

// geluXDU is max |x·c·(1 + 3·0.044715·x²)| over |x| ≤ s, c = 2·sqrt(2/π): the factor of the
// sigmoid's error in gelu's derivative.
func geluXDU(s float64) float64 {
	c := 2 * math.Sqrt(2/math.Pi)
	return s * c * (1 + 3*0.044715*s*s)
}

// activationCases are the activations beyond ReLU, sigmoid, tanh and softmax, with the
// bounds derived from the documented errors of the engine's approximations:
//
//   - leaky_relu = 0.2x + 0.8·relu(x) (and LeakyReLU): two scalings, 3 ulp and the encoding.
//   - elu = relu(x) + α(e^min(x,0) - 1): the exponential's relative 1e-3 of e^min(x,0) ≤ 1,
//     plus 2 ulp over its range, times α; the derivative α·e^x where x ≤ 0 and exactly 1
//     elsewhere carries the same error. selu scales both by λ = 1.0507 (α = 1.6733).
//   - gelu = x·σ(u), u = c(x + 0.044715x³): the sigmoid's 1e-2 times |x| (u's own rounding,
//     about 15 ulp, moves σ by a quarter of it); the derivative σ(u) + x·σ(u)(1-σ(u))·u' errs by
//     1e-2·(1 + 1.01·max|x·u'|).
//   - swish = x·σ(x): 1e-2·|x|; its derivative σ + y(1 - σ) errs by 1e-2 + 2·|x|·1e-2.
//   - softplus = relu(x) + ln(1 + e^-|x|): the logarithm's 2e-4 plus the exponential's 1e-3
//     of e^-|x| divided by 1 + e^-|x| (at most 1/2); the derivative is σ(x): 1e-2.
//   - softsign = x·r, r = 1/(1 + |x|): the reciprocal's relative 1e-3 of r, times |x|·r < 1; the
//     derivative r² errs by twice that.
//   - hard_sigmoid = relu6(x + 3)/6: exact comparisons and one scaling.
//   - exponential = e^x on [-2, 2): relative 1e-3, at most e²·1e-3 absolute.
//   - PReLU = relu(x) + α·min(x, 0): one product; α's gradient sums a product per row.
func activationCases() []layerCase {
	u := ulp
	const d = sigmoidErr
	sw := 4.0 // swish and elu inputs in [-4, 4)
	return []layerCase{
		{name: "leaky_relu", layer: layers.Activation("leaky_relu"), in: []int{2, 5}, batch: 3, scale: 4,
			tol: layerTol{y: 4 * u, dx: 4 * u}},
		{name: "LeakyReLU layer", layer: layers.LeakyReLU(layers.NegativeSlope(0.1)), in: []int{7}, batch: 3, scale: 4,
			tol: layerTol{y: 4 * u, dx: 4 * u}},
		{name: "elu", layer: layers.Activation("elu"), in: []int{2, 5}, batch: 3, scale: sw,
			tol: layerTol{y: expRel + 6*u, dx: expRel + 6*u}},
		{name: "ELU layer", layer: layers.ELU(layers.Alpha(0.7)), in: []int{7}, batch: 3, scale: sw,
			tol: layerTol{y: 0.7*expRel + 6*u, dx: 0.7*expRel + 6*u}},
		{name: "selu", layer: layers.Activation("selu"), in: []int{2, 5}, batch: 3, scale: sw,
			tol: layerTol{y: seluLambda*seluAlpha*expRel + 12*u, dx: seluLambda*seluAlpha*expRel + 12*u}},
		{name: "gelu", layer: layers.Activation("gelu"), in: []int{2, 5}, batch: 3, scale: 2,
			tol: layerTol{y: 2*(d+4*u) + 2*u, dx: d*(1+(1+d)*geluXDU(2)) + 20*u}},
		// Beyond the sigmoid's radius (|u| > 8, |x| > 3.1) its value is the polynomial's at the
		// radius, within 1e-2 of 1 or 0: the output still errs by 1e-2·|x|, but σ(1-σ) errs by
		// 1e-2 where it should vanish, times x·u', which grows as x³: the secure derivative is
		// accurate for |x| ≤ 3 only (layers' documentation says so).
		{name: "gelu wide", layer: layers.Activation("gelu"), in: []int{2, 5}, batch: 3, scale: 8,
			tol: layerTol{y: 8*(d+4*u) + 2*u, dx: d*(1+(1+d)*geluXDU(8)) + 40*u}},
		{name: "swish", layer: layers.Activation("swish"), in: []int{2, 5}, batch: 3, scale: sw,
			tol: layerTol{y: sw*d + 2*u, dx: d + 2*sw*d + 6*u}},
		{name: "softplus", layer: layers.Activation("softplus"), in: []int{2, 5}, batch: 3, scale: 4,
			tol: layerTol{y: logErr + expRel/2 + 4*u, dx: d + 2*u}},
		{name: "softsign", layer: layers.Activation("softsign"), in: []int{2, 5}, batch: 3, scale: 4,
			tol: layerTol{y: recipRel + 3*u, dx: 2*recipRel + 3*u}},
		// The scaling by 1/6 of values up to 6: one ulp for its truncation, up to one more for
		// the encoding of 1/6, and the input's ulp/2 divided by 6.
		{name: "hard_sigmoid", layer: layers.Activation("hard_sigmoid"), in: []int{2, 5}, batch: 3, scale: 5,
			tol: layerTol{y: 3 * u, dx: 3 * u}},
		{name: "exponential", layer: layers.Activation("exponential"), in: []int{2, 5}, batch: 3, scale: 2,
			tol: layerTol{y: math.Exp(2)*(expRel+u/2) + 2*u, dx: math.Exp(2)*(expRel+u/2) + 3*u}},
		{name: "PReLU", layer: layers.PReLU(), in: []int{2, 3}, batch: 3, scale: 4,
			tol: layerTol{y: 5 * u, dx: 3 * u, dw: 3 * (4.0/2 + 1.5) * u}},
		{name: "PReLU shared", layer: layers.PReLU(layers.SharedAxes(1)), in: []int{2, 3}, batch: 3, scale: 4,
			tol: layerTol{y: 5 * u, dx: 3 * u, dw: 6 * (4.0/2 + 1.5) * u}},
		// Normalization inside a model (as its first layer the owner applies it in the clear):
		// (x - mean)·inv with mean in [-1, 1], inv ≤ 2 and |x - mean| ≤ 2, each encoded to
		// ulp/2: 2·ulp/2 + 2·ulp/2 (mean and inv) plus the product's ulp; dy·inv alike.
		{name: "Normalization", layer: layers.Normalization(layers.Mean(0.5, -1, 0.25), layers.Variance(0.25, 4, 1)),
			in: []int{2, 3}, batch: 3, tol: layerTol{y: 4 * u, dx: 3 * u}},
		// One public scaling and an offset: the input's ulp/2 scaled, the scaling's ulp.
		{name: "Rescaling", layer: layers.Rescaling(0.5, layers.Offset(0.25)), in: []int{5}, batch: 3, scale: 4,
			tol: layerTol{y: 2 * u, dx: 2 * u}},
		{name: "dense swish", layer: layers.Dense(3, layers.Activation("swish")), in: []int{4}, batch: 2,
			tol: denseActTol(4, 3, 2, 4*d, 9*d)},
	}
}

// denseActTol is denseTol for an activation whose output errs by y and derivative factor by
// dz, given its input's error lin(fanIn).
func denseActTol(fanIn, units, rows int, y, dz float64) layerTol {
	return layerTol{y: y + lin(fanIn), dx: float64(units)*dz + lin(units), dw: float64(rows)*dz + lin(rows)}
}

// typicalActErr caps the errors seen (about three times those measured) of the activations
// whose worst-case bounds, from the approximations' documented errors, are far above them, so
// that a tenfold regression of the approximations fails.
var typicalActErr = map[string]float64{
	"elu": 1e-4, "ELU layer": 1e-4, "selu": 2e-4, "softplus": 1.5e-2, "softsign": 1.5e-4,
	"exponential": 3e-4, "dense swish": 1e-2, "PReLU": 1e-4, "PReLU shared": 1e-4,
}

func TestActivationsAgree(t *testing.T) {
	runner := mpc.NewLocalRunner(mpc.Config{}, nil)
	defer runner.Close()
	for ci, c := range activationCases() {
		t.Run(c.name, func(t *testing.T) {
			errs := runLayerCase(t, runner, c, uint64(100+ci))
			if cap, ok := typicalActErr[c.name]; ok {
				for k, e := range errs {
					assert.LessOrEqual(t, e, cap, "%s: typical error of %s", c.name, k)
				}
			}
		})
	}
}

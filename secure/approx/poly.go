package approx

import (
	"math"
)

// chebFit returns the coefficients c_0..c_d of the interpolant of g at the d+1 Chebyshev
// nodes of [-1, 1], in the Chebyshev basis: g(u) ≈ Σ c_k·T_k(u). Interpolation at these nodes
// is within a small factor (below 4 for d ≤ 20) of the best uniform approximation of degree d.
func chebFit(g func(float64) float64, d int) []float64 {
	n := d + 1
	c := make([]float64, n)
	for k := range n {
		s := 0.0
		for j := range n {
			th := math.Pi * (float64(j) + 0.5) / float64(n)
			s += g(math.Cos(th)) * math.Cos(float64(k)*th)
		}
		c[k] = 2 * s / float64(n)
	}
	c[0] /= 2
	return c
}

// chebToMonomial converts coefficients in the Chebyshev basis of u to the monomial basis of u.
func chebToMonomial(c []float64) []float64 {
	n := len(c)
	mono := make([]float64, n)
	prev, cur := make([]float64, n), make([]float64, n) // T_{k-1}, T_k in monomials
	prev[0] = 1
	mono[0] = c[0]
	if n == 1 {
		return mono
	}
	cur[1] = 1
	mono[1] += c[1]
	for k := 2; k < n; k++ {
		next := make([]float64, n)
		for i := 0; i+1 < n; i++ {
			next[i+1] += 2 * cur[i]
		}
		for i := range next {
			next[i] -= prev[i]
		}
		for i := range mono {
			mono[i] += c[k] * next[i]
		}
		prev, cur = cur, next
	}
	return mono
}

// compose returns the monomial coefficients in t of p(α·t + β), where p has monomial
// coefficients c.
func compose(c []float64, alpha, beta float64) []float64 {
	n := len(c)
	out := make([]float64, n)
	pow := make([]float64, n) // (αt+β)^k
	pow[0] = 1
	for k := range n {
		for i := range out {
			out[i] += c[k] * pow[i]
		}
		next := make([]float64, n)
		for i := range pow {
			if i+1 < n {
				next[i+1] += alpha * pow[i]
			}
			next[i] += beta * pow[i]
		}
		pow = next
	}
	return out
}

// evalMonomial evaluates Σ c_k t^k in float64 (Horner).
func evalMonomial(c []float64, t float64) float64 {
	s := 0.0
	for i := len(c) - 1; i >= 0; i-- {
		s = s*t + c[i]
	}
	return s
}

// step is one product of a plan: term k from terms m and n (k = m + n, m ≥ n ≥ 1).
type step struct{ k, m, n int }

// productPlan returns, level by level, the products that build the terms of the indices in
// want (each ≥ 1) from term 1: term k is formed from terms ⌈k/2⌉ and ⌊k/2⌋, so term k is ready
// after ⌈log2 k⌉ levels and all of them after ⌈log2 max(want)⌉.
func productPlan(want []int) [][]step {
	level := map[int]int{1: 0}
	var need func(k int) int
	need = func(k int) int {
		if l, ok := level[k]; ok {
			return l
		}
		m, n := (k+1)/2, k/2
		l := max(need(m), need(n)) + 1
		level[k] = l
		return l
	}
	depth := 0
	for _, k := range want {
		depth = max(depth, need(k))
	}
	plan := make([][]step, depth)
	for k, l := range level {
		if l > 0 {
			plan[l-1] = append(plan[l-1], step{k, (k + 1) / 2, k / 2})
		}
	}
	for _, lv := range plan { // deterministic order: every party must issue the same calls
		for i := 1; i < len(lv); i++ {
			for j := i; j > 0 && lv[j].k < lv[j-1].k; j-- {
				lv[j], lv[j-1] = lv[j-1], lv[j]
			}
		}
	}
	return plan
}

// powers returns t^k·2^e for the indices k in want (and the intermediate ones), given
// t1 = t·2^e, the scaled representation of t with e extra fractional bits: the product of two
// scaled terms is rescaled by the shift e. Index 1 maps to t1.
func powers[T any](o Ops[T], t1 T, want []int, e int) (map[int]T, error) {
	terms := map[int]T{1: t1}
	for _, lv := range productPlan(want) {
		xs, ys := make([]T, len(lv)), make([]T, len(lv))
		for i, s := range lv {
			xs[i], ys[i] = terms[s.m], terms[s.n]
		}
		prods, err := o.MulMany(xs, ys, e)
		if err != nil {
			return nil, err
		}
		for i, s := range lv {
			terms[s.k] = prods[i]
		}
	}
	return terms, nil
}

// chebyshev returns T_k(u) for the indices k in want (and the intermediate ones), from u with
// |u| ≤ 1: T_{m+n} = 2·T_m·T_n - T_{m-n}, with T_0 = 1. Every T_k stays in [-1, 1], so the
// rounding errors stay small, unlike monomials whose coefficients grow with the degree.
func chebyshev[T any](o Ops[T], u T, want []int) (map[int]T, error) {
	return chebyshevScaled(o, u, want, 0)
}

// chebyshevScaled is chebyshev on the representation with e extra fractional bits: u1 = u·2^e
// and the terms come back as T_k(u)·2^e.
func chebyshevScaled[T any](o Ops[T], u T, want []int, e int) (map[int]T, error) {
	terms := map[int]T{1: u}
	for _, lv := range productPlan(want) {
		xs, ys := make([]T, len(lv)), make([]T, len(lv))
		for i, s := range lv {
			xs[i], ys[i] = terms[s.m], terms[s.n]
		}
		prods, err := o.MulMany(xs, ys, e)
		if err != nil {
			return nil, err
		}
		for i, s := range lv {
			var t T
			if s.m == s.n { // 2·T_m² - 1
				t, err = o.LinComb(-math.Ldexp(1, e), []float64{2}, []T{prods[i]})
			} else { // 2·T_m·T_n - T_1 (m - n = 1)
				t, err = o.LinComb(0, []float64{2, -1}, []T{prods[i], u})
			}
			if err != nil {
				return nil, err
			}
			terms[s.k] = t
		}
	}
	return terms, nil
}

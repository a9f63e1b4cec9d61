package mpc_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/pond"
	"github.com/gotfe/gotfe/secure/ring"
)

// protocolCase is one operation of the protocol interface, run on every protocol with the
// same inputs: its result must agree with a float64 reference on the encoded inputs within
// tol, every party must count the rounds the protocol's documentation states, and no party
// may receive, during the operation, anything but uniformly random words whatever the inputs.
type protocolCase[S, B, U mpc.Sharing] struct {
	name   string
	shapes [][]int
	lo, hi float64 // inputs uniform in [lo, hi), with lo and 0 among them when in range
	op     func(p mpc.Protocol[S, B, U], in []S) (S, error)
	want   func(in [][]float64) []float64
	tol    float64
	rounds map[string]int64 // rounds of the operation, by protocol
}

// elementwise returns the reference that applies f to the inputs element by element.
func elementwise(f func(v []float64) float64) func(in [][]float64) []float64 {
	return func(in [][]float64) []float64 {
		out := make([]float64, len(in[0]))
		v := make([]float64, len(in))
		for i := range out {
			for j := range in {
				v[j] = in[j][i]
			}
			out[i] = f(v)
		}
		return out
	}
}

// matmulRef returns x·y for x m×k and y k×n (row-major), stacked bs times.
func matmulRef(bs, m, k, n int) func(in [][]float64) []float64 {
	return func(in [][]float64) []float64 {
		out := make([]float64, bs*m*n)
		for b := range bs {
			for i := range m {
				for j := range n {
					var s float64
					for l := range k {
						s += in[0][b*m*k+i*k+l] * in[1][b*k*n+l*n+j]
					}
					out[b*m*n+i*n+j] = s
				}
			}
		}
		return out
	}
}

// col2imRef adds every entry of the patch matrix cols back onto the pixel of g's input it
// covers (entries over padding are dropped).
func col2imRef(g ring.ConvGeom, cols []float64) []float64 {
	out := make([]float64, g.N*g.H*g.W*g.C)
	row := 0
	for n := range g.N {
		for oh := range g.OutH {
			for ow := range g.OutW {
				for kh := range g.KH {
					for kw := range g.KW {
						h, w := oh*g.StrideH+kh-g.PadTop, ow*g.StrideW+kw-g.PadLeft
						if h < 0 || h >= g.H || w < 0 || w >= g.W {
							continue
						}
						for c := range g.C {
							out[((n*g.H+h)*g.W+w)*g.C+c] += cols[row*g.Cols()+(kh*g.KW+kw)*g.C+c]
						}
					}
				}
				row++
			}
		}
	}
	return out
}

// rowsRef applies f to every row of length k.
func rowsRef(k int, f func(row []float64) []float64) func(in [][]float64) []float64 {
	return func(in [][]float64) []float64 {
		var out []float64
		for r := 0; r < len(in[0]); r += k {
			out = append(out, f(in[0][r:r+k])...)
		}
		return out
	}
}

// protocolCases is the table every protocol runs. Tolerances (f = 16, ulp = 2^-16) are
// against the exact function of the encoded inputs:
//   - local operations are exact;
//   - a truncated product errs by less than one ulp, a product with a public real c rounded to
//     the encoding by one ulp plus |x|·2^-17 more (c's own rounding);
//   - comparisons and selections are exact;
//   - the approximations err by their documented bounds (secure/approx).
//
// Rounds are those the protocols document (aby3 and pond package documentation); aby3's
// comparisons with public thresholds take two rounds more, for fewer bytes, from 2048
// elements (clip, and the approximations' comparisons on 4096 elements here).
func protocolCases[S, B, U mpc.Sharing]() []protocolCase[S, B, U] {
	type P = mpc.Protocol[S, B, U]
	both := func(aby3Rounds, pondRounds int64) map[string]int64 {
		return map[string]int64{"aby3": aby3Rounds, "pond": pondRounds}
	}
	reduce := func(p P, x, y S, c float64) (S, error) {
		u, err := p.MatMulUnreduced(x, y)
		if err != nil {
			var zero S
			return zero, err
		}
		return p.Reduce(u, c)
	}
	relu := func(v []float64) float64 { return math.Max(v[0], 0) }
	return []protocolCase[S, B, U]{
		{"add", [][]int{{64, 64}, {64, 64}}, -1000, 1000, func(p P, in []S) (S, error) { return p.Add(in[0], in[1]) },
			elementwise(func(v []float64) float64 { return v[0] + v[1] }), 0, both(0, 0)},
		{"sub", [][]int{{64, 64}, {64, 64}}, -1000, 1000, func(p P, in []S) (S, error) { return p.Sub(in[0], in[1]) },
			elementwise(func(v []float64) float64 { return v[0] - v[1] }), 0, both(0, 0)},
		{"mul", [][]int{{64, 64}, {64, 64}}, -100, 100, func(p P, in []S) (S, error) { return p.Mul(in[0], in[1]) },
			elementwise(func(v []float64) float64 { return v[0] * v[1] }), ulp, both(2, 2)},
		// A product of raw ring values, revealed as fixed point: x·y·2^f exactly.
		{"mulring", [][]int{{64, 64}, {64, 64}}, -100, 100, func(p P, in []S) (S, error) { return p.MulRing(in[0], in[1]) },
			elementwise(func(v []float64) float64 { return v[0] * v[1] / ulp }), 0, both(1, 1)},
		{"matmul", [][]int{{48, 70}, {70, 30}}, -2, 2, func(p P, in []S) (S, error) { return reduce(p, in[0], in[1], 1) },
			matmulRef(1, 48, 70, 30), ulp, both(2, 2)},
		{"matmul stack", [][]int{{3, 20, 9}, {3, 9, 11}}, -2, 2, func(p P, in []S) (S, error) { return reduce(p, in[0], in[1], 1) },
			matmulRef(3, 20, 9, 11), ulp, both(2, 2)},
		// Reduce with c = 0.37, rounded to 24248·2^-16: the one truncation drops 2f bits.
		{"matmul scaled", [][]int{{48, 70}, {70, 30}}, -2, 2, func(p P, in []S) (S, error) { return reduce(p, in[0], in[1], 0.37) },
			func(in [][]float64) []float64 {
				out := matmulRef(1, 48, 70, 30)(in)
				for i := range out {
					out[i] *= math.Round(0.37/ulp) * ulp
				}
				return out
			}, ulp, both(2, 2)},
		// A product's terms folded by col2im (3x3 windows, stride 1, same padding: up to nine
		// products per pixel) and truncated once: below one ulp, where truncating the nine
		// products first errs by up to nine.
		{"col2im unreduced", [][]int{{2 * 6 * 5, 4}, {4, 27}}, -2, 2, func(p P, in []S) (S, error) {
			g, err := ring.NewConvGeom(2, 6, 5, 3, 3, 3, 1, 1, true)
			if err != nil {
				return *new(S), err
			}
			u, err := p.MatMulUnreduced(in[0], in[1])
			if err != nil {
				return *new(S), err
			}
			if u, err = p.MapLinearUnreduced(u, func(t *ring.Tensor) (*ring.Tensor, error) { return ring.Col2Im(t, g) }); err != nil {
				return *new(S), err
			}
			return p.Reduce(u, 1)
		}, func(in [][]float64) []float64 {
			g, _ := ring.NewConvGeom(2, 6, 5, 3, 3, 3, 1, 1, true)
			return col2imRef(g, matmulRef(1, 60, 4, 27)(in))
		}, ulp, both(2, 2)},
		{"mul public", [][]int{{4096}}, -1000, 1000, func(p P, in []S) (S, error) { return p.MulPublic(in[0], -0.3) },
			elementwise(func(v []float64) float64 { return v[0] * math.Round(-0.3/ulp) * ulp }), ulp, both(1, 1)},
		{"mean", [][]int{{64, 50}}, -100, 100, func(p P, in []S) (S, error) { return p.Mean(in[0], 1) },
			rowsRef(50, func(row []float64) []float64 {
				var s float64
				for _, v := range row {
					s += v
				}
				return []float64{s * math.Round(1.0/50/ulp) * ulp}
			}), ulp, both(1, 1)},
		{"relu", [][]int{{64, 64}}, -100, 100, func(p P, in []S) (S, error) {
			y, _, err := p.ReLU(in[0])
			return y, err
		}, elementwise(relu), 0, both(8, 8)},
		{"relu mask", [][]int{{64, 64}, {64, 64}}, -100, 100, func(p P, in []S) (S, error) {
			_, m, err := p.ReLU(in[0])
			if err != nil {
				return *new(S), err
			}
			return p.MulMask(in[1], m)
		}, elementwise(func(v []float64) float64 {
			if v[0] > 0 {
				return v[1]
			}
			return 0
		}), 0, both(9, 9)},
		{"relu arith", [][]int{{64, 64}}, -100, 100, func(p P, in []S) (S, error) {
			_, m, err := p.ReLUArith(in[0])
			return m, err // the ring integers 0 and 1
		}, elementwise(func(v []float64) float64 {
			if v[0] > 0 {
				return ulp
			}
			return 0
		}), 0, both(10, 8)},
		{"reduce relu", [][]int{{48, 70}, {70, 30}}, -2, 2, func(p P, in []S) (S, error) {
			u, err := p.MatMulUnreduced(in[0], in[1])
			if err != nil {
				return *new(S), err
			}
			_, y, _, _, err := p.ReduceReLU(u, false)
			return y, err
		}, func(in [][]float64) []float64 {
			out := matmulRef(1, 48, 70, 30)(in)
			for i := range out {
				out[i] = math.Max(out[i], 0)
			}
			return out
		}, ulp, both(9, 9)},
		{"maximum", [][]int{{64, 64}, {64, 64}}, -1000, 1000, func(p P, in []S) (S, error) { return p.Maximum(in[0], in[1]) },
			elementwise(func(v []float64) float64 { return math.Max(v[0], v[1]) }), 0, both(8, 8)},
		{"clip", [][]int{{64, 64}}, -100, 100, func(p P, in []S) (S, error) { return p.Clip(in[0], -20, 35.5) },
			elementwise(func(v []float64) float64 { return math.Min(math.Max(v[0], -20), 35.5) }), 0, both(10, 8)},
		{"max mask", [][]int{{50, 10}}, -100, 100, func(p P, in []S) (S, error) {
			_, m, err := p.MaxWithMask(in[0], 1)
			if err != nil {
				return *new(S), err
			}
			return p.BitToFixed(m)
		}, rowsRef(10, func(row []float64) []float64 {
			out := make([]float64, len(row))
			out[slices.Index(row, slices.Max(row))] = 1
			return out
		}), 0, both(13, 33)}, // aby3: all 2250 pairs at once (7 + 4 AND rounds + 2); pond: a tree
		{"argmax", [][]int{{50, 10}}, -100, 100, func(p P, in []S) (S, error) { return p.ArgMax(in[0], 1) },
			rowsRef(10, func(row []float64) []float64 { return []float64{float64(slices.Index(row, slices.Max(row)))} }),
			0, both(12, 33)},
		{"maxpool", [][]int{{4, 6, 6, 3}}, -100, 100, func(p P, in []S) (S, error) {
			g, err := ring.NewConvGeom(4, 6, 6, 3, 2, 2, 2, 2, false)
			if err != nil {
				return *new(S), err
			}
			y, _, err := p.MaxPool2D(in[0], g)
			return y, err
		}, func(in [][]float64) []float64 {
			x := in[0]
			var out []float64
			for b := range 4 {
				for i := 0; i < 6; i += 2 {
					for j := 0; j < 6; j += 2 {
						for c := range 3 {
							at := func(di, dj int) float64 { return x[((b*6+i+di)*6+j+dj)*3+c] }
							out = append(out, math.Max(math.Max(at(0, 0), at(0, 1)), math.Max(at(1, 0), at(1, 1))))
						}
					}
				}
			}
			return out
		}, 0, both(20, 16)},
		// The gradient goes to the first maximum of every window, exactly (the route's bits
		// are ring integers 0 and 1).
		{"maxpool backward", [][]int{{4, 6, 6, 3}, {4, 3, 3, 3}}, -100, 100, func(p P, in []S) (S, error) {
			g, err := ring.NewConvGeom(4, 6, 6, 3, 2, 2, 2, 2, false)
			if err != nil {
				return *new(S), err
			}
			_, route, err := p.MaxPool2D(in[0], g)
			if err != nil {
				return *new(S), err
			}
			return p.MaxPool2DBackward(in[1], route, g)
		}, func(in [][]float64) []float64 {
			x, dy := in[0], in[1]
			out := make([]float64, len(x))
			for b := range 4 {
				for i := 0; i < 6; i += 2 {
					for j := 0; j < 6; j += 2 {
						for c := range 3 {
							best := -1
							for _, d := range [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}} {
								at := ((b*6+i+d[0])*6+j+d[1])*3 + c
								if best < 0 || x[at] > x[best] {
									best = at
								}
							}
							out[best] += dy[((b*3+i/2)*3+j/2)*3+c]
						}
					}
				}
			}
			return out
		}, 0, both(22, 18)},
		{"sigmoid", [][]int{{64, 64}}, -10, 10, func(p P, in []S) (S, error) { return p.Sigmoid(in[0]) },
			elementwise(func(v []float64) float64 { return 1 / (1 + math.Exp(-v[0])) }), sigmoidErr, both(20, 18)},
		{"tanh", [][]int{{64, 64}}, -5, 5, func(p P, in []S) (S, error) { return p.Tanh(in[0]) },
			elementwise(func(v []float64) float64 { return math.Tanh(v[0]) }), tanhErr, both(20, 18)},
		// Relative 1e-3 on [-3, 3]: at most e^3·1e-3 absolute.
		{"exp", [][]int{{64, 64}}, -3, 3, func(p P, in []S) (S, error) { return p.Exp(in[0]) },
			elementwise(func(v []float64) float64 { return math.Exp(v[0]) }), math.Exp(3) * expRel, both(18, 16)},
		{"log", [][]int{{64, 64}}, 0.1, 16, func(p P, in []S) (S, error) { return p.Log(in[0]) },
			elementwise(func(v []float64) float64 { return math.Log(v[0]) }), logErr, both(20, 18)},
		// Relative 1e-3 on [0.5, 8]: at most 2e-3 absolute.
		{"reciprocal", [][]int{{64, 64}}, 0.5, 8, func(p P, in []S) (S, error) { return p.Reciprocal(in[0]) },
			elementwise(func(v []float64) float64 { return 1 / v[0] }), 2 * recipRel, both(24, 22)},
		{"invsqrt", [][]int{{64, 64}}, 0.5, 8, func(p P, in []S) (S, error) { return p.InvSqrt(in[0]) },
			elementwise(func(v []float64) float64 { return 1 / math.Sqrt(v[0]) }), 1.5 * invSqrtRel, both(24, 22)},
		{"softmax", [][]int{{128, 10}}, -10, 10, func(p P, in []S) (S, error) { return p.Softmax(in[0]) },
			rowsRef(10, func(row []float64) []float64 {
				m := slices.Max(row)
				out := make([]float64, len(row))
				var s float64
				for i, v := range row {
					out[i] = math.Exp(v - m)
					s += out[i]
				}
				for i := range out {
					out[i] /= s
				}
				return out
			}), softmaxErr, both(43, 64)}, // aby3: the maximum from all 5760 pairs (12 rounds, not 32)
	}
}

// protocolInputs returns the inputs of a case, encoded and decoded (the values the protocol
// computes on): uniform in [lo, hi), with the two ends' nearest values and zero when in range.
func protocolInputs(r *rand.Rand, shapes [][]int, lo, hi float64) [][]float64 {
	in := make([][]float64, len(shapes))
	for i, s := range shapes {
		n := 1
		for _, d := range s {
			n *= d
		}
		v := make([]float64, n)
		for j := range v {
			switch {
			case j%101 == 7:
				v[j] = lo
			case j%103 == 11 && lo <= 0 && hi > 0:
				v[j] = 0
			default:
				v[j] = lo + (hi-lo)*r.Float64()
			}
			v[j] = math.Round(v[j]/ulp) * ulp
		}
		in[i] = v
	}
	return in
}

// newPartyFunc makes a party of a protocol.
type newPartyFunc[P any] func(context.Context, secure.PartyID, secure.Network, mpc.Config) (P, error)

// recorder keeps a copy of every message a party receives.
type recorder struct {
	secure.Network
	mu   sync.Mutex
	recv [][]byte
}

func (r *recorder) Recv(ctx context.Context, peer int) ([]byte, error) {
	b, err := r.Network.Recv(ctx, peer)
	if err == nil {
		r.mu.Lock()
		r.recv = append(r.recv, append([]byte(nil), b...))
		r.mu.Unlock()
	}
	return b, err
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.recv)
}

// caseRun is what one run of a case observed.
type caseRun struct {
	got    [3][]float64
	rounds [3]int64
	view   [3][][]uint64 // the payloads each party received during the operation
}

// runCase runs c on three parties of a protocol over the in-memory links, recording what each
// party receives during the operation itself.
func runCase[P mpc.Protocol[S, B, U], S, B, U mpc.Sharing](t *testing.T, newParty newPartyFunc[P], params secure.Params, c protocolCase[S, B, U], in [][]float64) caseRun {
	t.Helper()
	nets := launch.MemNetworks()
	recs := make([]*recorder, 3)
	for i := range nets {
		recs[i] = &recorder{Network: nets[i]}
		nets[i] = recs[i]
	}
	var res caseRun
	var marks [3][2]int
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := launch.Run(ctx, nets, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		var p mpc.Protocol[S, B, U]
		p, err := newParty(ctx, id, net, mpc.Config{Params: params})
		if err != nil {
			return err
		}
		xs := make([]S, len(in))
		for i, v := range in {
			var data []float64
			if id == 0 {
				data = v
			}
			if xs[i], err = p.Share(0, data, c.shapes[i]); err != nil {
				return err
			}
		}
		// Everything before the operation has arrived once all parties agree on it.
		if err := p.Agree("operation", nil, nil); err != nil {
			return err
		}
		marks[id][0] = recs[id].count()
		before := p.Stats()
		y, err := c.op(p, xs)
		if err != nil {
			return err
		}
		res.rounds[id] = p.Stats().Sub(before).Rounds
		if err := p.Agree("done", nil, nil); err != nil {
			return err
		}
		marks[id][1] = recs[id].count() - 2 // the two agreement messages of "done"
		res.got[id], err = p.Reveal(y, -1)
		return err
	})
	require.NoError(t, err)
	for id := range res.view {
		for _, m := range recs[id].recv[marks[id][0]:marks[id][1]] {
			payload := m[:len(m)-aby3.MessageOverhead]
			if len(payload) == 0 {
				continue // a control message (a credit or a probe)
			}
			v, err := secure.BytesToUint64s(append([]byte(nil), payload...), len(payload)/8)
			require.NoError(t, err)
			res.view[id] = append(res.view[id], v)
		}
	}
	return res
}

// bitBias returns the largest deviation, in standard deviations, of the frequency of any bit
// position of v from 1/2.
func bitBias(v []uint64) float64 {
	var ones [64]int
	for _, x := range v {
		for b := range 64 {
			ones[b] += int(x >> b & 1)
		}
	}
	n := float64(len(v))
	worst := 0.0
	for _, c := range ones {
		worst = math.Max(worst, math.Abs(float64(c)-n/2)/math.Sqrt(n/4))
	}
	return worst
}

// testProtocol runs the table on one protocol.
//
// The rounds and the uniform views are those of the comparisons on the adder (aby3's
// Params.FastCompareMax negative); with the three-round comparisons (few set) the table checks
// the results only: their messages are uniform values modulo 67, checked with their rounds and
// bytes in secure/aby3.
func testProtocol[P mpc.Protocol[S, B, U], S, B, U mpc.Sharing](t *testing.T, name string, newParty newPartyFunc[P], few bool) {
	params := secure.Params{FastCompareMax: -1}
	if few {
		params.FastCompareMax = 1 << 30
	}
	for ci, c := range protocolCases[S, B, U]() {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(ci), 77))
			in := protocolInputs(r, c.shapes, c.lo, c.hi)
			run := runCase(t, newParty, params, c, in)
			want := c.want(in)
			for id := range run.got {
				require.Len(t, run.got[id], len(want), "party %d", id)
				for i, w := range want {
					require.InDelta(t, w, run.got[id][i], c.tol, "party %d element %d", id, i)
				}
				if !few {
					assert.Equal(t, c.rounds[name], run.rounds[id], "party %d: rounds", id)
				}
			}
			if few {
				return
			}
			// The view: every word a party receives during the operation is uniform, for
			// these inputs and for all-zero inputs alike (6 standard deviations: a uniform
			// message exceeds it with probability below 1e-7 per bit position).
			zeros := make([][]float64, len(in))
			for i := range in {
				zeros[i] = make([]float64, len(in[i]))
			}
			zrun := runCase(t, newParty, params, c, zeros)
			for id := range run.view {
				require.Equal(t, len(run.view[id]), len(zrun.view[id]), "party %d receives as many messages for any input", id)
				for k, m := range run.view[id] {
					require.Equal(t, len(m), len(zrun.view[id][k]), "party %d message %d", id, k)
					assert.Less(t, bitBias(m), 6.0, "party %d message %d (%d words)", id, k, len(m))
					assert.Less(t, bitBias(zrun.view[id][k]), 6.0, "party %d message %d, zero inputs", id, k)
				}
			}
		})
	}
}

// One table of operations, two protocols: each agrees with float64, counts the rounds it
// documents and shows its parties only uniform messages.
func TestProtocolTable(t *testing.T) {
	t.Run("aby3", func(t *testing.T) { testProtocol(t, "aby3", aby3.NewParty, false) })
	t.Run("aby3 three-round comparisons", func(t *testing.T) { testProtocol(t, "aby3", aby3.NewParty, true) })
	t.Run("pond", func(t *testing.T) { testProtocol(t, "pond", pond.NewParty, false) })
}

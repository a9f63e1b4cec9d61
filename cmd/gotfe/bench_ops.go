package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/pond"
	"github.com/gotfe/gotfe/secure/ring"
	"github.com/gotfe/gotfe/secure/session"
)

// shareInput shares n values uniform in [-scale, scale) from party 0.
func shareInput[S, B, U mpc.Sharing](p mpc.Protocol[S, B, U], seed uint64, shape []int, scale float64) (S, error) {
	n, err := ring.NumElements(shape)
	if err != nil {
		var zero S
		return zero, err
	}
	r := rand.New(rand.NewPCG(seed, 1))
	return p.Share(0, randFloats(r, n, scale), shape)
}

// unarySecure is a benchmark of a secure function of one input of the given shape, beside
// the float64 function over the same number of elements.
func unarySecure[S, B, U mpc.Sharing](name string, shape []int, scale float64, f func(p mpc.Protocol[S, B, U], x S) error, plain func(v float64) float64) secureOp[S, B, U] {
	return secureOp[S, B, U]{
		name: name,
		setup: func(p mpc.Protocol[S, B, U]) (func() error, error) {
			x, err := shareInput(p, 11, shape, scale)
			if err != nil {
				return nil, err
			}
			return func() error { return f(p, x) }, nil
		},
		plaintext: func() func() {
			n, _ := ring.NumElements(shape)
			r := rand.New(rand.NewPCG(11, 1))
			in, out := randFloats(r, n, scale), make([]float64, n)
			return func() {
				for i, v := range in {
					out[i] = plain(v)
				}
			}
		},
	}
}

func init() {
	register("bench ops", "bench ops [--protocol aby3|pond] [--json] [--runs N] [--transport mem|quic] [--rtt D --bandwidth R] [--fast-compare-max N]: ring and secure kernels, with plaintext ratios", benchOps)
}

// secureOp is a benchmark of one secure operation: setup prepares its inputs on a party and
// returns the step that is timed.
type secureOp[S, B, U mpc.Sharing] struct {
	name      string
	setup     func(p mpc.Protocol[S, B, U]) (func() error, error)
	plaintext func() func() // returns the plaintext step of the same shape, or nil
}

// opsEnv is where the secure kernels run: the parties' links and engine parameters.
type opsEnv struct {
	transport string // "mem" (default) or "quic"
	wan       wanFlags
	params    secure.Params
}

// networks returns the three parties' links.
func (e opsEnv) networks(ctx context.Context) ([]secure.Network, func(), error) {
	if e.transport != "quic" {
		return launch.MemNetworks(), func() {}, nil
	}
	return e.wan.networks()(ctx)
}

func benchOps(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench ops", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	runs := fs.Int("runs", 7, "timed runs per benchmark (the median is reported)")
	protocol := fs.String("protocol", secure.DefaultProtocol, "secure protocol: "+strings.Join(mpc.Protocols(), " or "))
	var env opsEnv
	fs.StringVar(&env.transport, "transport", "mem", "links of the three local parties: mem or quic")
	fs.IntVar(&env.params.FastCompareMax, "fast-compare-max", 0, "aby3: compare at most this many values at once in three rounds instead of seven (0: chosen at set-up from the links' round trip, 256 below 2 ms; negative: never)")
	env.wan.register(fs)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if !slices.Contains(mpc.Protocols(), *protocol) {
		return fmt.Errorf("%w: --protocol %q", errUsage, *protocol)
	}
	if env.transport != "quic" && env.transport != "mem" {
		return fmt.Errorf("%w: --transport %q", errUsage, env.transport)
	}
	if err := env.wan.check(env.transport); err != nil {
		return err
	}
	out := os.Stdout
	for _, d := range [][3]int{{128, 784, 128}, {1024, 1024, 1024}} {
		r, err := benchRingMatMul(d[0], d[1], d[2], *runs)
		if err != nil {
			return err
		}
		if err := printResult(out, *asJSON, r); err != nil {
			return err
		}
	}
	emit := func(r benchResult) error { return printResult(out, *asJSON, r) }
	if *protocol == pond.ProtocolName {
		return runSecureOps(ctx, env, pond.NewParty, *runs, emit)
	}
	return runSecureOps(ctx, env, aby3.NewParty, *runs, emit)
}

// runSecureOps runs the secure benchmarks on parties made by newParty.
func runSecureOps[P mpc.Protocol[S, B, U], S, B, U mpc.Sharing](ctx context.Context, env opsEnv, newParty func(context.Context, secure.PartyID, secure.Network, mpc.Config) (P, error), runs int, emit func(benchResult) error) error {
	for _, op := range secureOps[S, B, U]() {
		r, err := benchSecure(ctx, env, op, newParty, runs)
		if err != nil {
			return fmt.Errorf("%s: %w", op.name, err)
		}
		if err := emit(r); err != nil {
			return err
		}
	}
	return nil
}

func randRing(r *rand.Rand, n int) []uint64 {
	v := make([]uint64, n)
	for i := range v {
		v[i] = r.Uint64()
	}
	return v
}

func randFloats(r *rand.Rand, n int, scale float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = (2*r.Float64() - 1) * scale
	}
	return v
}

// gonumMatMul returns a step computing an m×k · k×n float64 product with gonum.
func gonumMatMul(m, k, n int) func() {
	r := rand.New(rand.NewPCG(1, 2))
	a := mat.NewDense(m, k, randFloats(r, m*k, 1))
	b := mat.NewDense(k, n, randFloats(r, k*n, 1))
	c := mat.NewDense(m, n, nil)
	return func() { c.Mul(a, b) }
}

func benchRingMatMul(m, k, n, runs int) (benchResult, error) {
	r := rand.New(rand.NewPCG(3, 4))
	a, b, c := randRing(r, m*k), randRing(r, k*n), make([]uint64, m*n)
	ring.MatMulTo(c, a, b, m, k, n) // warm up
	sec, _ := timeRuns(runs, func() error { ring.MatMulTo(c, a, b, m, k, n); return nil })
	plain := gonumMatMul(m, k, n)
	plain()
	psec, _ := timeRuns(runs, func() error { plain(); return nil })
	macs := float64(m) * float64(k) * float64(n)
	return benchResult{
		"name": fmt.Sprintf("ring_matmul_%dx%dx%d", m, k, n), "seconds": sec, "bytes_sent": 0, "rounds": 0,
		"plaintext_seconds": psec, "ratio": sec / psec, "gmac_per_s": macs / sec / 1e9,
	}, nil
}

func secureOps[S, B, U mpc.Sharing]() []secureOp[S, B, U] {
	return []secureOp[S, B, U]{
		{
			name: "secure_matmul_128x784x128",
			setup: func(p mpc.Protocol[S, B, U]) (func() error, error) {
				r := rand.New(rand.NewPCG(5, 6))
				x, err := p.Share(0, randFloats(r, 128*784, 1), []int{128, 784})
				if err != nil {
					return nil, err
				}
				w, err := p.Share(1, randFloats(r, 784*128, 0.1), []int{784, 128})
				if err != nil {
					return nil, err
				}
				zx, err := p.Public([]float64{0}, []int{128, 784})
				if err != nil {
					return nil, err
				}
				zw, err := p.Public([]float64{0}, []int{784, 128})
				if err != nil {
					return nil, err
				}
				return func() error {
					// Fresh sharings of the same values every run, as a training step's
					// products have: pond would not open operands it opened before.
					fx, err := p.Add(x, zx)
					if err != nil {
						return err
					}
					fw, err := p.Add(w, zw)
					if err != nil {
						return err
					}
					u, err := p.MatMulUnreduced(fx, fw)
					if err != nil {
						return err
					}
					_, err = p.Reduce(u, 1)
					return err
				}, nil
			},
			plaintext: func() func() { return gonumMatMul(128, 784, 128) },
		},
		{
			name: "secure_mul_100000",
			setup: func(p mpc.Protocol[S, B, U]) (func() error, error) {
				r := rand.New(rand.NewPCG(7, 8))
				x, err := p.Share(0, randFloats(r, 100000, 10), []int{100000})
				if err != nil {
					return nil, err
				}
				y, err := p.Share(1, randFloats(r, 100000, 10), []int{100000})
				if err != nil {
					return nil, err
				}
				return func() error { _, err := p.Mul(x, y); return err }, nil
			},
			plaintext: func() func() {
				r := rand.New(rand.NewPCG(7, 8))
				a, b, c := randFloats(r, 100000, 10), randFloats(r, 100000, 10), make([]float64, 100000)
				return func() {
					for i := range c {
						c[i] = a[i] * b[i]
					}
				}
			},
		},
		unarySecure("secure_relu_16384", []int{16384}, 10, func(p mpc.Protocol[S, B, U], x S) error {
			_, _, err := p.ReLU(x)
			return err
		}, func(v float64) float64 { return math.Max(v, 0) }),
		unarySecure("secure_sigmoid_16384", []int{16384}, 8, func(p mpc.Protocol[S, B, U], x S) error {
			_, err := p.Sigmoid(x)
			return err
		}, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }),
		unarySecure("secure_softmax_128x10", []int{128, 10}, 10, func(p mpc.Protocol[S, B, U], x S) error {
			_, err := p.Softmax(x)
			return err
		}, math.Exp),
		unarySecure("secure_exp_16384", []int{16384}, 3, func(p mpc.Protocol[S, B, U], x S) error {
			_, err := p.Exp(x)
			return err
		}, math.Exp),
		unarySecure("secure_reciprocal_16384", []int{16384}, 30, func(p mpc.Protocol[S, B, U], x S) error {
			x, err := p.AddPublic(x, []float64{31})
			if err != nil {
				return err
			}
			_, err = p.Reciprocal(x)
			return err
		}, func(v float64) float64 { return 1 / (v + 31) }),
		maxPoolOp[S, B, U](128, 24, 24, 16),
	}
}

// benchSecure runs op on three parties in this process over the in-memory transport: one
// warm-up step, then runs timed steps. Every step starts together on the three parties (a
// barrier) and its time is the slowest party's.
func benchSecure[P mpc.Protocol[S, B, U], S, B, U mpc.Sharing](ctx context.Context, env opsEnv, op secureOp[S, B, U], newParty func(context.Context, secure.PartyID, secure.Network, mpc.Config) (P, error), runs int) (benchResult, error) {
	var (
		mu        sync.Mutex
		durations = make([][]time.Duration, 3)
		costs     [3]session.Stats
		protocol  string
	)
	barrier := newBarrier(3)
	nets, closeAll, err := env.networks(ctx)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	err = launch.Run(ctx, nets, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		p, err := newParty(ctx, id, net, mpc.Config{Params: env.params})
		if err != nil {
			return err
		}
		protocol = p.Name()
		if err != nil {
			return err
		}
		step, err := op.setup(p)
		if err != nil {
			return err
		}
		if err := step(); err != nil {
			return err
		}
		for i := 0; i < runs; i++ {
			barrier.wait()
			before := p.Stats()
			start := time.Now()
			if err := step(); err != nil {
				return err
			}
			d := time.Since(start)
			mu.Lock()
			durations[id] = append(durations[id], d)
			costs[id] = p.Stats().Sub(before)
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slowest := make([]time.Duration, runs)
	for i := range slowest {
		for id := range durations {
			slowest[i] = max(slowest[i], durations[id][i])
		}
	}
	var bytes int64
	perParty := make([]int64, 3)
	for id, c := range costs {
		bytes += c.BytesSent + c.DealerBytes
		perParty[id] = c.BytesSent + c.DealerBytes
	}
	sec := median(slowest)
	res := benchResult{
		"name": op.name, "protocol": protocol, "seconds": sec, "bytes_sent": bytes, "bytes_sent_per_party": perParty,
		"rounds": costs[0].Rounds, "transport": cmp.Or(env.transport, "mem"),
	}.with(env.wan.fields())
	addProducer(res, statsSum(costs), sec)
	if op.plaintext != nil {
		plain := op.plaintext()
		plain()
		psec, _ := timeRuns(runs, func() error { plain(); return nil })
		res["plaintext_seconds"] = psec
		res["ratio"] = res["seconds"].(float64) / psec
	}
	return res, nil
}

// barrier lets n goroutines start each step together.
type barrier struct {
	mu    sync.Mutex
	cond  *sync.Cond
	n     int
	count int
	gen   int
}

func newBarrier(n int) *barrier {
	b := &barrier{n: n}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *barrier) wait() {
	b.mu.Lock()
	defer b.mu.Unlock()
	gen := b.gen
	b.count++
	if b.count == b.n {
		b.count = 0
		b.gen++
		b.cond.Broadcast()
		return
	}
	for gen == b.gen {
		b.cond.Wait()
	}
}

// maxPoolOp benchmarks 2x2 max-pooling with stride 2 over n images of h×w×c, beside the same
// pooling in float64.
func maxPoolOp[S, B, U mpc.Sharing](n, h, w, c int) secureOp[S, B, U] {
	shape := []int{n, h, w, c}
	return secureOp[S, B, U]{
		name: fmt.Sprintf("secure_maxpool_%dx%dx%dx%d_2x2", n, h, w, c),
		setup: func(p mpc.Protocol[S, B, U]) (func() error, error) {
			x, err := shareInput(p, 13, shape, 10)
			if err != nil {
				return nil, err
			}
			g, err := ring.NewConvGeom(n, h, w, c, 2, 2, 2, 2, false)
			if err != nil {
				return nil, err
			}
			return func() error { _, _, err := p.MaxPool2D(x, g); return err }, nil
		},
		plaintext: func() func() {
			r := rand.New(rand.NewPCG(13, 1))
			in := randFloats(r, n*h*w*c, 10)
			out := make([]float64, n*(h/2)*(w/2)*c)
			return func() {
				o := 0
				for b := 0; b < n; b++ {
					for i := 0; i+1 < h; i += 2 {
						for j := 0; j+1 < w; j += 2 {
							for k := 0; k < c; k++ {
								at := func(di, dj int) float64 { return in[((b*h+i+di)*w+j+dj)*c+k] }
								out[o] = math.Max(math.Max(at(0, 0), at(0, 1)), math.Max(at(1, 0), at(1, 1)))
								o++
							}
						}
					}
				}
			}
		},
	}
}

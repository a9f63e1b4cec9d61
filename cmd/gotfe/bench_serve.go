package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/gotfe/gotfe/datasets"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/models"
	"github.com/gotfe/gotfe/serving"
)

const benchServeUsage = "bench serve [--json] [--models a,d,linear] [--requests N] [--clients 8] [--duration D] [--batch-window D] [--cpuprofile FILE] [--allocprofile FILE]: private prediction as a service, client to client over QUIC on loopback"

func init() {
	register("bench serve", benchServeUsage, benchServe)
}

// benchServe measures private predictions from a client outside the three parties: one
// prediction at a time (latency), then several clients at once (throughput), for each
// network. The parties and the clients run in this process, linked over QUIC with mutual TLS
// on loopback.
func benchServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench serve", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	names := fs.String("models", "a,d", "networks of package models, comma-separated, or linear (one 784x10 product, no activation: what serving itself costs)")
	requests := fs.Int("requests", 300, "sequential predictions timed for the latency")
	clients := fs.Int("clients", 8, "concurrent clients for the throughput")
	duration := fs.Duration("duration", 3*time.Second, "how long the concurrent clients run")
	window := fs.Duration("batch-window", 0, "party 0's batching window")
	fastCmp := fs.Int("fast-compare-max", 0, "compare at most this many values at once in three rounds instead of seven (0: chosen at set-up from the links' round trip, 256 below 2 ms; negative: never)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	allocs := fs.String("allocprofile", "", "write a profile of the whole run's allocations to this file (go tool pprof -sample_index=alloc_space reads it)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *requests < 1 || *clients < 1 || *duration <= 0 {
		return fmt.Errorf("%w: --requests, --clients and --duration must be positive", errUsage)
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for _, name := range strings.Split(*names, ",") {
		if err := benchServeModel(ctx, strings.TrimSpace(name), *requests, *clients, *duration, *window, *fastCmp, *asJSON); err != nil {
			return fmt.Errorf("network %s: %w", name, err)
		}
	}
	if *allocs != "" {
		f, err := os.Create(*allocs)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	return nil
}

// linearModel is the reference of the serving benchmark: one product of an MNIST image with
// a 784×10 matrix, no activation. Its prediction is the least a served model can cost: the
// client's shares, the batch agreement, one reshare and truncation, the output shares.
func linearModel() (*keras.Sequential, error) {
	return keras.NewSequential(layers.Input(datasets.ImageSize), layers.Dense(10))
}

func benchServeModel(ctx context.Context, name string, requests, clients int, duration, window time.Duration, fastCmp int, asJSON bool) error {
	newModel := models.New
	if name == "linear" {
		newModel = func(string) (*keras.Sequential, error) { return linearModel() }
	}
	m, err := newModel(name)
	if err != nil {
		return err
	}
	metrics := [3]*serving.Metrics{{}, {}, {}}
	l, err := serving.StartLocal(ctx, m, serving.LocalOptions{Tune: func(c *serving.Config) {
		c.Metrics = metrics[c.Party]
		c.BatchWindow = window
		c.Engine.Params.FastCompareMax = fastCmp
	}})
	if err != nil {
		return err
	}
	defer l.Close()
	size := 1
	for _, d := range m.InputShape() {
		size *= d
	}
	r := rand.New(rand.NewPCG(1, 2))
	input := func() []float64 {
		x := make([]float64, size)
		for i := range x {
			x[i] = r.Float64()
		}
		return x
	}
	snapshot := func() (s serving.MetricsSnapshot) {
		for _, mt := range metrics {
			v := mt.Snapshot()
			s.PeerBytes += v.PeerBytes
			s.PeerMessages += v.PeerMessages
			s.ClientIn += v.ClientIn
			s.ClientOut += v.ClientOut
			s.Requests += v.Requests
			s.Errors += v.Errors
		}
		v := metrics[0].Snapshot()
		s.Batches, s.BatchRows, s.Rounds = v.Batches, v.BatchRows, v.Rounds
		return s
	}

	// One prediction at a time.
	c, err := l.NewClient("bench")
	if err != nil {
		return err
	}
	defer c.Close()
	x := input()
	for range 20 { // warm up: links, pools
		if _, err := c.Predict(ctx, x); err != nil {
			return err
		}
	}
	// cpuPer adds cpu_seconds, the processor time of the whole process (parties and
	// clients) per prediction since cpu0, where the system says.
	cpuPer := func(r benchResult, cpu0 time.Duration, n float64) benchResult {
		if cpu, ok := processCPU(); ok {
			r["cpu_seconds"] = (cpu - cpu0).Seconds() / n
		}
		return r
	}
	before := snapshot()
	cpu0, _ := processCPU()
	lat := make([]time.Duration, 0, requests)
	for range requests {
		start := time.Now()
		if _, err := c.Predict(ctx, x); err != nil {
			return err
		}
		lat = append(lat, time.Since(start))
	}
	after := snapshot()
	n := float64(requests)
	if err := printResult(os.Stdout, asJSON, cpuPer(benchResult{
		"name":         "serve_" + name + "_predict_1",
		"seconds":      median(lat),
		"p99_seconds":  quantile(lat, 0.99),
		"bytes_sent":   float64(after.PeerBytes-before.PeerBytes) / n,
		"messages":     float64(after.PeerMessages-before.PeerMessages) / n,
		"client_bytes": float64(after.ClientIn+after.ClientOut-before.ClientIn-before.ClientOut) / n,
		"rounds":       float64(after.Rounds-before.Rounds) / float64(max(after.Batches-before.Batches, 1)),
	}, cpu0, n)); err != nil {
		return err
	}

	// Concurrent clients, each with its own inputs, one prediction after the other.
	var (
		mu    sync.Mutex
		all   []time.Duration
		first error
		wg    sync.WaitGroup
	)
	cs := make([]*serving.Client, clients)
	xs := make([][]float64, clients)
	for k := range cs {
		if cs[k], err = l.NewClient(fmt.Sprintf("bench%d", k)); err != nil {
			return err
		}
		defer cs[k].Close()
		if _, err := cs[k].Predict(ctx, x); err != nil {
			return err
		}
		xs[k] = input()
	}
	before = snapshot()
	cpu0, _ = processCPU()
	start := time.Now()
	stop := start.Add(duration)
	for k := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(stop) {
				t := time.Now()
				if _, err := cs[k].Predict(ctx, xs[k]); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return first
	}
	after = snapshot()
	n = float64(len(all))
	batches := float64(max(after.Batches-before.Batches, 1))
	return printResult(os.Stdout, asJSON, cpuPer(benchResult{
		"name":              fmt.Sprintf("serve_%s_throughput_%d", name, clients),
		"seconds":           median(all),
		"p99_seconds":       quantile(all, 0.99),
		"bytes_sent":        float64(after.PeerBytes-before.PeerBytes) / n,
		"messages":          float64(after.PeerMessages-before.PeerMessages) / n,
		"client_bytes":      float64(after.ClientIn+after.ClientOut-before.ClientIn-before.ClientOut) / n,
		"rounds":            float64(after.Rounds-before.Rounds) / batches,
		"rows_per_batch":    float64(after.BatchRows-before.BatchRows) / batches,
		"predictions_per_s": n / elapsed.Seconds(),
	}, cpu0, n))
}

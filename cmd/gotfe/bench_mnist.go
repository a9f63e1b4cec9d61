package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/datasets"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/models"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/session"
)

func init() {
	register("bench mnist", "bench mnist [--protocol aby3|pond] [--model a|b|c|d|lr] [--optimizer sgd|amsgrad|adam] [--json] [--plot FILE.png] [--transport mem|quic] [--iterations N] [--epochs E]: private training and prediction on MNIST", benchMNIST)
}

// mnistBench is the configuration of one run of the suite.
type mnistBench struct {
	model, optimizer, transport, plotPath, data string
	memProfile, cpuProfile                      string
	protocol                                    string
	iterations, runs, epochs, trainN, testN     int
	fastCompareMax                              int
	lr                                          float64
	asJSON, profileOps                          bool
	wan                                         wanFlags
}

func benchMNIST(ctx context.Context, args []string) error {
	var c mnistBench
	fs := flag.NewFlagSet("bench mnist", flag.ContinueOnError)
	fs.StringVar(&c.model, "model", "a", "network: a, b, c, d or lr")
	fs.StringVar(&c.optimizer, "optimizer", "sgd", "optimizer: sgd, adam or amsgrad")
	fs.Float64Var(&c.lr, "lr", 0, "learning rate (0: the optimizer's default for these networks)")
	fs.StringVar(&c.transport, "transport", "quic", "links of the three local parties: quic or mem")
	fs.StringVar(&c.protocol, "protocol", secure.DefaultProtocol, "secure protocol: "+strings.Join(mpc.Protocols(), " or "))
	fs.IntVar(&c.iterations, "iterations", 20, "training iterations (batches of 128) per timed run")
	fs.IntVar(&c.runs, "runs", 3, "timed runs (the median is reported)")
	fs.IntVar(&c.epochs, "epochs", 0, "epochs of private training before measuring accuracy (0: only the timed iterations)")
	fs.IntVar(&c.trainN, "train-samples", 0, "training images for the accuracy run (0: all)")
	fs.IntVar(&c.testN, "test-samples", 0, "test images (0: all)")
	fs.StringVar(&c.data, "data", "", "directory of the MNIST files")
	fs.StringVar(&c.plotPath, "plot", "", "write a PNG of loss and accuracy per epoch")
	fs.BoolVar(&c.asJSON, "json", false, "print one JSON object per line")
	fs.IntVar(&c.fastCompareMax, "fast-compare-max", 0, "aby3: compare at most this many values at once in three rounds instead of seven, for about 2.4 times the bytes (0: chosen at set-up from the links' round trip, 256 below 2 ms; negative: never)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed training iterations to this file (go tool pprof reads it)")
	fs.StringVar(&c.memProfile, "memprofile", "", "write the heap profile of the moment the live heap was largest to this file (go tool pprof reads it)")
	fs.BoolVar(&c.profileOps, "profile-ops", false, "also print the rounds and bytes of each operation of a training iteration (to stderr)")
	c.wan.register(fs)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if !slices.Contains(mpc.Protocols(), c.protocol) {
		return fmt.Errorf("%w: --protocol %q", errUsage, c.protocol)
	}
	if c.transport != "quic" && c.transport != "mem" {
		return fmt.Errorf("%w: --transport %q", errUsage, c.transport)
	}
	if err := c.wan.check(c.transport); err != nil {
		return err
	}
	prof := startPeakProfiler(c.memProfile)
	err := c.run(ctx, os.Stdout)
	if perr := prof.finish(); err == nil {
		err = perr
	}
	return err
}

const benchBatch = 128

func (c *mnistBench) newModel() (*keras.Sequential, string, error) {
	m, err := models.New(c.model)
	if err != nil {
		return nil, "", err
	}
	opt, err := models.Optimizer(c.optimizer, c.lr)
	if err != nil {
		return nil, "", err
	}
	metric := "accuracy"
	if c.model == "lr" {
		metric = "binary_accuracy"
	}
	return m, metric, m.Compile(opt, models.Loss(c.model), keras.Metrics(metric))
}

func (c *mnistBench) runner() *mpc.LocalRunner {
	nets := mpc.MemNetworks
	if c.transport == "quic" {
		nets = mpc.QUICNetworks
		if c.wan.shaped() {
			nets = c.wan.networks()
		}
	}
	return mpc.NewLocalRunner(mpc.Config{Params: secure.Params{Protocol: c.protocol, FastCompareMax: c.fastCompareMax}, ProfileOps: c.profileOps}, nets)
}

// statsSum adds the three parties' counters (rounds are the same on every party).
func statsSum(s [3]session.Stats) session.Stats {
	var t session.Stats
	for _, x := range s {
		t.BytesSent += x.BytesSent
		t.Messages += x.Messages
		t.DealerBytes += x.DealerBytes
		t.DealerMessages += x.DealerMessages
		t.DealerTime += x.DealerTime
	}
	t.Rounds = s[0].Rounds
	if s[0].Ops != nil {
		t.Ops = map[string]session.OpCost{}
		for i, x := range s {
			for k, v := range x.Ops {
				w := t.Ops[k]
				w.Bytes += v.Bytes
				if i == 0 {
					w.Calls, w.Rounds = v.Calls, v.Rounds
				}
				t.Ops[k] = w
			}
		}
	}
	return t
}

// printOps writes the per-operation costs of ops, divided by iters, most bytes first.
func printOps(w io.Writer, ops map[string]session.OpCost, iters int64) {
	names := make([]string, 0, len(ops))
	for k := range ops {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int { return int(ops[b].Bytes - ops[a].Bytes) })
	fmt.Fprintf(w, "%-24s %8s %8s %12s\n", "operation (per iteration)", "calls", "rounds", "bytes")
	for _, k := range names {
		v := ops[k]
		fmt.Fprintf(w, "%-24s %8.1f %8.1f %12d\n", k, float64(v.Calls)/float64(iters), float64(v.Rounds)/float64(iters), v.Bytes/iters)
	}
}

// addProducer adds to r what the crypto producer of a protocol that has one (pond) costs, from
// the parties' summed counters s over seconds of the measured work, divided by per: the bytes
// it dealt (with the credits that pace them) and their share of all bytes sent, and the time it
// spent dealing and its share of the time. bytes_sent counts every byte, the dealt ones
// included. Protocols without a producer report zeros.
func addProducer(r benchResult, s session.Stats, seconds float64, per ...int64) {
	div := int64(1)
	if len(per) > 0 {
		div = per[0]
	}
	total := s.BytesSent + s.DealerBytes
	share, tshare := 0.0, 0.0
	if total > 0 {
		share = float64(s.DealerBytes) / float64(total)
	}
	psec := s.DealerTime.Seconds() / float64(div)
	if seconds > 0 {
		tshare = psec / seconds
	}
	r["producer_bytes"] = s.DealerBytes / div
	r["producer_bytes_share"] = share
	r["producer_seconds"] = psec
	r["producer_time_share"] = tshare
}

func (c *mnistBench) run(ctx context.Context, out io.Writer) error {
	d, err := datasets.LoadMNIST(c.data)
	if err != nil {
		return err
	}
	n := c.iterations * benchBatch
	if n > d.NumTrain() {
		return fmt.Errorf("%w: --iterations %d needs more than %d images", errUsage, c.iterations, d.NumTrain())
	}
	xAll, yAll, xt, yt, err := models.Data(c.model, d)
	if err != nil {
		return err
	}
	x, ys := xAll.Slice(0, n), yAll.Slice(0, n)
	fit := func(m *keras.Sequential) error {
		_, err := m.Fit(x, ys, keras.Epochs(1), keras.BatchSize(benchBatch), keras.Verbose(0), keras.Shuffle(false))
		return err
	}

	// Private training iterations.
	model, metric, err := c.newModel()
	if err != nil {
		return err
	}
	r := c.runner()
	defer r.Close()
	if err := model.SetRunner(r); err != nil {
		return err
	}
	if err := fit(model); err != nil { // warm-up: set-up, replicas, first session
		return err
	}
	var per []time.Duration
	var cost session.Stats
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	for i := 0; i < c.runs; i++ {
		before := statsSum(r.Stats())
		start := time.Now()
		if err := fit(model); err != nil {
			return err
		}
		per = append(per, time.Since(start)/time.Duration(c.iterations))
		cost = statsSum(r.Stats()).Sub(before)
	}
	if c.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	sec := median(per)

	// The same iterations on the plain engine.
	plainModel, _, err := c.newModel()
	if err != nil {
		return err
	}
	if err := fit(plainModel); err != nil {
		return err
	}
	var plainPer []time.Duration
	for i := 0; i < c.runs; i++ {
		start := time.Now()
		if err := fit(plainModel); err != nil {
			return err
		}
		plainPer = append(plainPer, time.Since(start)/time.Duration(c.iterations))
	}
	psec := median(plainPer)
	iters := int64(c.iterations)
	train := c.wan.fields().with(benchResult{
		"name": "mnist_train_iteration", "protocol": c.protocol, "model": c.model, "optimizer": c.optimizer, "transport": c.transport,
		"batch": benchBatch, "seconds": sec, "epoch_seconds": sec * float64((d.NumTrain()+benchBatch-1)/benchBatch),
		"bytes_sent": (cost.BytesSent + cost.DealerBytes) / iters, "rounds": cost.Rounds / iters,
		"plaintext_seconds": psec, "ratio": sec / psec,
	})
	addProducer(train, cost, sec, iters)
	if c.profileOps {
		printOps(os.Stderr, cost.Ops, iters)
	}
	if err := printResult(out, c.asJSON, train); err != nil {
		return err
	}

	// Private prediction latency.
	for _, bs := range []int{1, 128} {
		xs := xt.Slice(0, bs)
		if _, err := model.Predict(xs, keras.BatchSize(bs), keras.Verbose(0)); err != nil {
			return err
		}
		var lat []time.Duration
		var pc session.Stats
		for i := 0; i < max(c.runs, 5); i++ {
			before := statsSum(r.Stats())
			start := time.Now()
			if _, err := model.Predict(xs, keras.BatchSize(bs), keras.Verbose(0)); err != nil {
				return err
			}
			lat = append(lat, time.Since(start))
			pc = statsSum(r.Stats()).Sub(before)
		}
		pred := c.wan.fields().with(benchResult{
			"name": fmt.Sprintf("mnist_predict_%d", bs), "protocol": c.protocol, "model": c.model, "transport": c.transport,
			"seconds": median(lat), "bytes_sent": pc.BytesSent + pc.DealerBytes, "rounds": pc.Rounds,
		})
		addProducer(pred, pc, median(lat))
		if err := printResult(out, c.asJSON, pred); err != nil {
			return err
		}
	}

	// Accuracy: the model trained so far, or a fresh one trained for --epochs.
	trained := (c.runs + 1) * c.iterations
	var hist *keras.History
	if c.epochs > 0 {
		trainN := c.trainN
		if trainN == 0 {
			trainN = d.NumTrain()
		}
		if model, metric, err = c.newModel(); err != nil {
			return err
		}
		if err := model.SetRunner(r); err != nil {
			return err
		}
		verbose := 2
		if c.asJSON {
			verbose = 0
		}
		hist, err = model.Fit(xAll.Slice(0, trainN), yAll.Slice(0, trainN),
			keras.Epochs(c.epochs), keras.BatchSize(benchBatch), keras.Verbose(verbose), keras.Output(os.Stderr),
			keras.ValidationData(xt, yt))
		if err != nil {
			return err
		}
		trained = c.epochs * ((trainN + benchBatch - 1) / benchBatch)
	}
	testN := c.testN
	if testN == 0 {
		testN = d.NumTest()
	}
	// The test images go through the model in batches of the training batch's size: the
	// parties' memory grows with the batch (a convolutional network's patches and comparison
	// bits), and a larger batch saves rounds, not bytes.
	logs, err := model.Evaluate(xt.Slice(0, testN), yt.Slice(0, testN), keras.BatchSize(benchBatch), keras.Verbose(0))
	if err != nil {
		return err
	}
	if err := printResult(out, c.asJSON, benchResult{
		"name": "mnist_accuracy", "model": c.model, "optimizer": c.optimizer, "accuracy": logs[metric],
		"loss": logs["loss"], "iterations": trained, "epochs": c.epochs, "test_samples": testN,
	}.with(peakRSS())); err != nil {
		return err
	}
	if c.plotPath != "" {
		if hist == nil {
			return fmt.Errorf("%w: --plot needs --epochs", errUsage)
		}
		return plotHistory(c.plotPath, hist, metric)
	}
	return nil
}

// plotHistory draws loss and accuracy per epoch (training and validation).
func plotHistory(path string, h *keras.History, metric string) error {
	p := plot.New()
	p.Title.Text = "Private training on MNIST"
	p.X.Label.Text = "epoch"
	var args []any
	for _, k := range []string{"loss", "val_loss", metric, "val_" + metric} {
		v := h.History[k]
		if len(v) == 0 {
			continue
		}
		pts := make(plotter.XYs, len(v))
		for i := range v {
			pts[i].X, pts[i].Y = float64(h.Epoch[i]+1), v[i]
		}
		args = append(args, k, pts)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return err
	}
	return p.Save(6*vg.Inch, 4*vg.Inch, path)
}

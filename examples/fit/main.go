// Command fit trains a network on MNIST privately: the training images and labels are
// secret-shared by their owner (party 0) to three parties that train together on shares
// (ABY3 replicated sharing, or with --protocol pond two-party sharing with a crypto producer),
// so that no party sees the data or the weights. At the end the trained model is revealed to
// its owner, saved, and its test accuracy printed.
//
// By default the three parties run in this process, linked by QUIC with mutual TLS on
// loopback:
//
//	go run ./examples/fit
//
// Flags choose the protocol (--protocol aby3|pond), the network (--model a|b|c|d|lr), the
// optimizer, epochs, batch size, a subset of the data, --plain to train the same model in the
// clear for comparison, and --config/--party to run as one party of a distributed computation
// (see `gotfe certs`).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/datasets"
	"github.com/gotfe/gotfe/deploy"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/models"
	"github.com/gotfe/gotfe/nd"
	"github.com/gotfe/gotfe/secure"
)

// options are the example's flags.
type options struct {
	model, optimizer string
	lr               float64
	epochs, batch    int
	trainN, testN    int
	data, out        string
	plain            bool
	verbose          int
	seed             uint64
	cpuProfile       string
	parties          mpc.Flags
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("fit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.model, "model", "a", "network: a, b, c, d or lr (see package models)")
	fs.StringVar(&o.optimizer, "optimizer", "sgd", "optimizer: sgd, adam or amsgrad")
	fs.Float64Var(&o.lr, "lr", 0, "learning rate (0: 0.2 for sgd, 0.001 for adam and amsgrad)")
	fs.IntVar(&o.epochs, "epochs", 3, "epochs")
	fs.IntVar(&o.batch, "batch-size", 128, "batch size")
	fs.IntVar(&o.trainN, "train-samples", 0, "train on the first N images (0: all 60000)")
	fs.IntVar(&o.testN, "test-samples", 0, "test on the first N images (0: all 10000)")
	fs.StringVar(&o.data, "data", "", "directory of the MNIST .gz files (default: $GOTFE_DATA, then the GoMNIST module)")
	fs.StringVar(&o.out, "out", "mnist.gotfe", "where the owner saves the trained model (empty: do not save)")
	fs.BoolVar(&o.plain, "plain", false, "train in the clear on the plain float64 engine")
	fs.IntVar(&o.verbose, "verbose", 1, "0 silent, 1 progress, 2 one line per epoch")
	fs.Uint64Var(&o.seed, "seed", keras.DefaultSeed, "seed of the initial weights and the shuffling")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the training to this file")
	o.parties.Register(fs, "quic")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	if err := o.parties.Validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// result is what a run reports.
type result struct {
	TestAccuracy float64
	TestLoss     float64
	History      *keras.History
	Elapsed      time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (_ *result, runErr error) {
	o, err := parse(args, stderr)
	if err != nil {
		return nil, err
	}
	const owner = 0
	isOwner := !o.parties.Distributed() || o.parties.Party == owner
	var x, y, xt, yt *nd.Array
	trainN, testN := o.trainN, o.testN
	if isOwner {
		d, err := datasets.LoadMNIST(o.data)
		if err != nil {
			return nil, err
		}
		if trainN == 0 {
			trainN = d.NumTrain()
		}
		if testN == 0 {
			testN = d.NumTest()
		}
		if d, err = d.Subset(trainN, testN); err != nil {
			return nil, err
		}
		if x, y, xt, yt, err = models.Data(o.model, d); err != nil {
			return nil, err
		}
	} else {
		if trainN == 0 {
			trainN = 60000
		}
		if testN == 0 {
			testN = 10000
		}
	}

	model, err := models.New(o.model)
	if err != nil {
		return nil, err
	}
	model.SetSeed(o.seed)
	opt, err := models.Optimizer(o.optimizer, o.lr)
	if err != nil {
		return nil, err
	}
	metric := "accuracy"
	if o.model == "lr" {
		metric = "binary_accuracy"
	}
	if err := model.Compile(opt, models.Loss(o.model), keras.Metrics(metric)); err != nil {
		return nil, err
	}
	engine := "plain float64 engine"
	if !o.plain {
		var runner keras.Runner
		if o.parties.Distributed() {
			ep, err := deploy.Endpoint(ctx, o.parties.Config, o.parties.Party, o.parties.Key, nil)
			if err != nil {
				return nil, err
			}
			// However this party's run ends, the peers learn how: an orderly close after a
			// success; after a failure, an abort that quotes it, so that their errors name
			// this party's cause rather than a closed link.
			defer func() {
				if runErr != nil {
					_ = ep.Abort(runErr)
				} else {
					_ = ep.Close()
				}
			}()
			b, err := mpc.NewBackend(ctx, secure.PartyID(o.parties.Party), ep, o.parties.EngineConfig())
			if err != nil {
				return nil, err
			}
			runner = mpc.NewBackendRunner(b)
			engine = fmt.Sprintf("party %d of %s (%s)", o.parties.Party, o.parties.Config, b.Name())
		} else {
			r, err := o.parties.Runner(ctx)
			if err != nil {
				return nil, err
			}
			defer r.Close()
			runner = r
			engine = fmt.Sprintf("three parties in this process over %s (%s)", o.parties.Transport, o.parties.Protocol)
		}
		if err := model.SetRunner(runner); err != nil {
			return nil, err
		}
	}
	if o.verbose > 0 {
		fmt.Fprintf(stdout, "Training network %s with %s on %d MNIST images (%s), batch %d, %d epochs\n",
			o.model, o.optimizer, trainN, engine, o.batch, o.epochs)
		if err := model.Summary(stdout); err != nil {
			return nil, err
		}
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	hist, err := model.Fit(x, y, keras.Epochs(o.epochs), keras.BatchSize(o.batch), keras.NumSamples(trainN),
		keras.Verbose(o.verbose), keras.Output(stdout))
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	logs, err := model.Evaluate(xt, yt, keras.BatchSize(o.batch), keras.NumSamples(testN), keras.Verbose(0))
	if err != nil {
		return nil, err
	}
	res := &result{TestAccuracy: logs[metric], TestLoss: logs["loss"], History: hist, Elapsed: elapsed}
	if o.verbose > 0 {
		fmt.Fprintf(stdout, "Trained in %v. Test accuracy: %.4f (loss %.4f) on %d images\n",
			elapsed.Round(time.Millisecond), res.TestAccuracy, res.TestLoss, testN)
	}
	if o.out != "" {
		if err := model.Save(o.out); err != nil {
			return nil, err
		}
		if isOwner && o.verbose > 0 {
			fmt.Fprintf(stdout, "Model saved to %s\n", o.out)
		}
	}
	return res, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "fit:", err)
		os.Exit(1)
	}
}

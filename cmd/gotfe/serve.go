package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gotfe/gotfe/convert"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/serving"
)

const serveUsage = "serve --config parties.json --party N [--model FILE] [--output probabilities|class|outputs] [--metrics ADDR]: one party serving private predictions until SIGINT or SIGTERM"

func init() {
	register("serve", serveUsage, func(ctx context.Context, args []string) error { return serve(ctx, args, nil) })
}

// serve runs one serving party until ctx ends, then lets the requests in flight finish.
// started, if not nil, receives the server once it is listening (for tests).
func serve(ctx context.Context, args []string, started func(*serving.Server, net.Addr)) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	config := fs.String("config", "", "parties.json of the deployment")
	party := fs.Int("party", -1, "this party's index: 0 (the model owner), 1 or 2")
	key := fs.String("key", "", "this party's key file (default party<N>.key beside parties.json)")
	model := fs.String("model", "", "party 0: the model file (TF.js model.json, .keras, .h5, .onnx or gotfe)")
	format := fs.String("format", "auto", "model file format: auto, tfjs, keras, h5, onnx or gotfe")
	output := fs.String("output", "", "party 0: what a prediction reveals to the client: probabilities (a softmax head; default for classifiers), class or outputs")
	metrics := fs.String("metrics", "", "serve Prometheus metrics over HTTP at this address (host:port)")
	maxBatch := fs.Int("max-batch", serving.DefaultMaxBatchRows, "party 0: most rows in one secure computation (and in one request)")
	window := fs.Duration("batch-window", 0, "party 0: how long to wait for more requests to batch with one that reaches an idle party")
	arrival := fs.Duration("arrival-wait", serving.DefaultArrivalWait, "how long to wait for a request party 0 scheduled to arrive here too")
	timeout := fs.Duration("timeout", serving.DefaultEngineTimeout, "longest wait for another party's message")
	fracBits := fs.Int("frac-bits", 0, "fixed-point fractional bits (0: 16); the three parties must agree")
	fastCmp := fs.Int("fast-compare-max", 0, "compare at most this many values at once in three rounds instead of seven, for about 2.4 times the bytes (0: chosen at set-up from the links' round trip, 256 below 2 ms; negative: never); the three parties must agree")
	drain := fs.Duration("drain", 30*time.Second, "on SIGINT or SIGTERM, how long to let the requests in flight finish")
	logFormat := fs.String("log-format", "text", "log format on standard error: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected arguments %v", errUsage, fs.Args())
	case *config == "":
		return fmt.Errorf("%w: --config is required", errUsage)
	case !secure.PartyID(*party).Valid():
		return fmt.Errorf("%w: --party %d: want 0, 1 or 2", errUsage, *party)
	case *party == 0 && *model == "":
		return fmt.Errorf("%w: party 0 serves the model: --model is required", errUsage)
	case *party != 0 && (*model != "" || *output != ""):
		return fmt.Errorf("%w: only party 0 reads --model and chooses --output; the others receive the architecture", errUsage)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("%w: --log-level: %v", errUsage, err)
	}
	var handler slog.Handler
	switch strings.ToLower(*logFormat) {
	case "text":
		handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	case "json":
		handler = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	default:
		return fmt.Errorf("%w: --log-format %q: want text or json", errUsage, *logFormat)
	}
	logger := slog.New(handler)

	cfg, err := serving.PartyConfig(*config, *party, *key)
	if err != nil {
		return err
	}
	if *party == 0 {
		f, err := convert.ParseFormat(*format)
		if err != nil {
			return err
		}
		if cfg.Model, err = convert.Load(*model, f); err != nil {
			return err
		}
		cfg.Output = *output
	}
	cfg.MaxBatchRows, cfg.BatchWindow, cfg.ArrivalWait = *maxBatch, *window, *arrival
	cfg.Engine.Timeout = *timeout
	cfg.Engine.Params.FracBits = *fracBits
	cfg.Engine.Params.FastCompareMax = *fastCmp
	cfg.Logger = logger
	cfg.Metrics = &serving.Metrics{}
	s, err := serving.NewServer(cfg)
	if err != nil {
		return err
	}
	if *metrics != "" {
		ln, err := net.Listen("tcp", *metrics)
		if err != nil {
			return fmt.Errorf("--metrics: %w", err)
		}
		srv := &http.Server{Handler: cfg.Metrics.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		logger.Info("metrics", "addr", ln.Addr().String())
	}
	if started != nil {
		started(s, s.Addr())
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background()) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	logger.Info("stopping: finishing the requests in flight", "drain", *drain)
	sctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return <-done
}

package mpc

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/deploy"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/transport/quic"
)

// Runner is a runner of the secure backend that holds resources (links, goroutines) until
// Close.
type Runner interface {
	Run(fn func(b backend.Backend) error) error
	Close() error
}

// Flags are the command-line flags every gotfe program that computes shares: with --config
// and --party it runs as that party of a distributed computation; with neither it runs all
// three parties in this process.
type Flags struct {
	Config    string        // path of parties.json; empty: three local parties
	Party     int           // this party's index with Config
	Key       string        // this party's key file; empty: party<i>.key beside parties.json
	Transport string        // local runs: "quic" (loopback sockets) or "mem"
	Protocol  string        // "aby3" or "pond"; empty: aby3
	FracBits  int           // fixed-point fractional bits; 0: the engine's default
	FastCmp   int           // aby3's Params.FastCompareMax; 0: chosen at set-up
	Session   string        // session name all parties must agree on
	Timeout   time.Duration // bound on every wait for a peer
}

// Register adds the flags to fs with the given default local transport.
func (f *Flags) Register(fs *flag.FlagSet, defaultTransport string) {
	fs.StringVar(&f.Config, "config", "", "parties.json of a distributed run (with --party)")
	fs.IntVar(&f.Party, "party", -1, "this process's party index (0, 1 or 2) in a distributed run")
	fs.StringVar(&f.Key, "key", "", "this party's key file (default party<N>.key beside parties.json)")
	fs.StringVar(&f.Transport, "transport", defaultTransport, "links of a local run: quic (loopback) or mem")
	fs.StringVar(&f.Protocol, "protocol", secure.DefaultProtocol, "secure protocol: "+strings.Join(Protocols(), " or "))
	fs.IntVar(&f.FracBits, "frac-bits", 0, "fixed-point fractional bits (0: 16)")
	fs.IntVar(&f.FastCmp, "fast-compare-max", 0, "aby3: compare at most this many values at once in three rounds instead of seven (0: chosen at set-up from the links' round trip, 256 below 2 ms; negative: never); the parties must agree")
	fs.StringVar(&f.Session, "session", "", "session name the parties agree on")
	fs.DurationVar(&f.Timeout, "timeout", 2*time.Minute, "longest wait for a peer's message")
}

// Distributed reports whether the flags name one party of a distributed run.
func (f *Flags) Distributed() bool { return f.Config != "" }

// Validate checks the combination of flags.
func (f *Flags) Validate() error {
	if (f.Config == "") != (f.Party < 0) {
		return fmt.Errorf("--config and --party go together")
	}
	if f.Config != "" && !secure.PartyID(f.Party).Valid() {
		return fmt.Errorf("--party %d: want 0, 1 or 2", f.Party)
	}
	if f.Protocol != "" && !slices.Contains(Protocols(), f.Protocol) {
		return fmt.Errorf("--protocol %q: want %s", f.Protocol, strings.Join(Protocols(), " or "))
	}
	if f.Config == "" && f.Transport != "quic" && f.Transport != "mem" {
		return fmt.Errorf("--transport %q: want quic or mem", f.Transport)
	}
	return nil
}

// EngineConfig is the party configuration the flags describe.
func (f *Flags) EngineConfig() Config {
	return Config{Params: secure.Params{Protocol: f.Protocol, FracBits: f.FracBits, FastCompareMax: f.FastCmp}, Session: f.Session, Timeout: f.Timeout}
}

// Runner returns the runner the flags describe: one party linked to its peers over QUIC as
// parties.json says, or three local parties over the chosen transport. ctx bounds the set-up
// of a distributed party and its whole life.
func (f *Flags) Runner(ctx context.Context) (Runner, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	cfg := f.EngineConfig()
	if !f.Distributed() {
		nets := MemNetworks
		if f.Transport == "quic" {
			nets = QUICNetworks
		}
		return NewLocalRunner(cfg, nets), nil
	}
	ep, err := deploy.Endpoint(ctx, f.Config, f.Party, f.Key, nil)
	if err != nil {
		return nil, err
	}
	b, err := NewBackend(ctx, secure.PartyID(f.Party), ep, cfg)
	if err != nil {
		_ = ep.Close()
		return nil, err
	}
	return &closingPartyRunner{PartyRunner: &PartyRunner{b: b}, ep: ep}, nil
}

type closingPartyRunner struct {
	*PartyRunner
	ep     *quic.Endpoint
	failed error // the last failure of a Run
}

// Run runs fn and remembers a failure, so that Close passes its cause on to the peers.
func (r *closingPartyRunner) Run(fn func(b backend.Backend) error) error {
	err := r.PartyRunner.Run(fn)
	if err != nil {
		r.failed = err
	}
	return err
}

// Close ends the links: in order after a successful run, or by aborting them with the cause of
// the last failure, so that the peers' errors say why this party stopped.
func (r *closingPartyRunner) Close() error {
	if r.failed != nil {
		return r.ep.Abort(r.failed)
	}
	return r.ep.Close()
}

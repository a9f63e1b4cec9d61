package mpc

import (
	"fmt"
	"reflect"

	"github.com/gotfe/gotfe/secure/aby3"
)

// Local returns a secure runner with the engine's defaults (ABY3, 16 fractional bits): three
// parties as goroutines of this process, linked in memory. It is the one call that takes a
// Keras model from the plain engine to secret shares:
//
//	runner := mpc.Local()
//	defer runner.Close()
//	err := model.SetRunner(runner)
//
// [LocalQUIC] links the parties over QUIC on loopback instead; [NewLocalRunner] takes a
// protocol configuration.
func Local() *LocalRunner { return NewLocalRunner(aby3.Config{}, nil) }

// LocalQUIC is [Local] with the parties linked by QUIC with mutual TLS on loopback, as three
// hosts would be (certificates made for the session).
func LocalQUIC() *LocalRunner { return NewLocalRunner(aby3.Config{}, QUICNetworks) }

// Engine describes what the runner computes on, as a model's Summary shows it: the protocol,
// the precision and the links.
func (r *LocalRunner) Engine() string {
	links := "custom links"
	switch reflect.ValueOf(r.networks).Pointer() {
	case reflect.ValueOf(MemNetworks).Pointer():
		links = "in-memory links"
	case reflect.ValueOf(QUICNetworks).Pointer():
		links = "QUIC links on loopback"
	}
	proto := r.cfg.Params.Protocol
	if proto == "" {
		proto = aby3.ProtocolName
	}
	return fmt.Sprintf("secure (%s, %d fractional bits): 3 parties in this process, %s", proto, fracBits(r.cfg), links)
}

// Engine describes what the runner computes on: one party of a distributed secure
// computation.
func (r *PartyRunner) Engine() string {
	return fmt.Sprintf("secure (%s, %d fractional bits): party %d of 3, distributed", r.b.Name(),
		r.b.fracBits(), r.b.Party())
}

func fracBits(cfg aby3.Config) int {
	p, err := cfg.Params.Validate()
	if err != nil {
		return cfg.Params.FracBits
	}
	return p.FracBits
}

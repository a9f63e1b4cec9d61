package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/gotfe/gotfe/deploy"
	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/transport/quic"
	"github.com/gotfe/gotfe/transport/tcptls"
)

func init() {
	register("bench transport",
		"bench transport [--json] [--runs N] [--size BYTES] [--msgs N] [--pings N]: QUIC and TCP+TLS links on loopback, bulk throughput and round-trip time\n"+
			"  bench transport --party N --parties FILE [--key FILE] [--rounds R] [--elems E] [--delay D] [--bandwidth RATE] [--json]: one party of a fixed three-party computation over QUIC (for multi-host or network-namespace runs)",
		benchTransport)
}

// link is the one-peer view both transports give the benchmarks.
type link struct {
	send func(ctx context.Context, p []byte) error
	recv func(ctx context.Context) ([]byte, error)
}

func benchTransport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench transport", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	runs := fs.Int("runs", 5, "timed bulk runs per transport (the median is reported)")
	size := fs.Int("size", 1<<20, "bytes per bulk message")
	msgs := fs.Int("msgs", 128, "messages per bulk run")
	pings := fs.Int("pings", 2000, "round trips timed per transport")
	party := fs.Int("party", -1, "run as this party of a fixed computation (with --parties)")
	parties := fs.String("parties", "", "parties.json of the deployment (with --party)")
	key := fs.String("key", "", "this party's key file (default party<N>.key beside parties.json)")
	rounds := fs.Int("rounds", 50, "rounds of the fixed computation (with --party)")
	elems := fs.Int("elems", 1024, "uint64 ring elements per message of the fixed computation")
	delay := fs.Duration("delay", 0, "hold each outgoing datagram this long (emulated latency)")
	bandwidth := fs.String("bandwidth", "", "limit each party's outgoing datagrams to this rate, as tc writes it (emulated bandwidth, e.g. 200mbit)")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 || *runs < 1 || *size < 0 || *msgs < 1 || *pings < 1 || *rounds < 1 || *elems < 0 {
		return fmt.Errorf("%w: bad arguments", errUsage)
	}
	var rate float64
	if *bandwidth != "" {
		r, err := parseRate(*bandwidth)
		if err != nil {
			return fmt.Errorf("%w: --bandwidth: %v", errUsage, err)
		}
		rate = r
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if *party >= 0 || *parties != "" {
		if *party < 0 || *parties == "" {
			return fmt.Errorf("%w: --party and --parties go together", errUsage)
		}
		return transportParty(ctx, *asJSON, *parties, *party, *key, *rounds, *elems, *delay, rate)
	}

	eps, closeQUIC, err := launch.LocalQUICNetworks(ctx, func(c *quic.Config) { c.PacketDelay, c.PacketRate = *delay, rate })
	if err != nil {
		return err
	}
	defer closeQUIC()
	ta, tb, err := tcptls.Pair(ctx, 0)
	if err != nil {
		return err
	}
	defer ta.Close()
	defer tb.Close()
	links := []struct {
		name string
		a, b link
	}{
		{"quic",
			link{func(ctx context.Context, p []byte) error { return eps[0].Send(ctx, 1, p) }, func(ctx context.Context) ([]byte, error) { return eps[0].Recv(ctx, 1) }},
			link{func(ctx context.Context, p []byte) error { return eps[1].Send(ctx, 0, p) }, func(ctx context.Context) ([]byte, error) { return eps[1].Recv(ctx, 0) }}},
		{"tcp_tls", link{ta.Send, ta.Recv}, link{tb.Send, tb.Recv}},
	}

	// Bulk: runs alternate between the transports so that both see the same machine load.
	bulk := make([][]time.Duration, len(links))
	msg := make([]byte, *size)
	for r := -1; r < *runs; r++ { // run -1 warms up
		for i, l := range links {
			d, err := bulkRun(ctx, l.a, l.b, msg, *msgs)
			if err != nil {
				return fmt.Errorf("%s bulk: %w", l.name, err)
			}
			if r >= 0 {
				bulk[i] = append(bulk[i], d)
			}
		}
	}
	total := int64(*size) * int64(*msgs)
	for i, l := range links {
		s := median(bulk[i])
		if err := printResult(os.Stdout, *asJSON, benchResult{
			"name": l.name + "_throughput", "mb_per_s": float64(total) / s / 1e6, "seconds": s,
			"bytes_sent": total, "rounds": 1, "message_bytes": *size, "messages": *msgs,
		}); err != nil {
			return err
		}
	}

	// Round trips of one ring element, in alternating blocks.
	rtt := make([][]time.Duration, len(links))
	const blocks = 4
	for blk := -1; blk < blocks; blk++ {
		for i, l := range links {
			n := *pings / blocks
			if blk < 0 {
				n = min(200, *pings) // warm-up
			}
			ds, err := pingPong(ctx, l.a, l.b, n)
			if err != nil {
				return fmt.Errorf("%s round trip: %w", l.name, err)
			}
			if blk >= 0 {
				rtt[i] = append(rtt[i], ds...)
			}
		}
	}
	for i, l := range links {
		if err := printResult(os.Stdout, *asJSON, benchResult{
			"name": l.name + "_rtt", "seconds": median(rtt[i]), "p90_seconds": quantile(rtt[i], 0.9),
			"bytes_sent": 16, "rounds": 2, "message_bytes": 8, "messages": len(rtt[i]),
		}); err != nil {
			return err
		}
	}
	return nil
}

// bulkRun sends n copies of msg from a to b and returns the time until b has them all.
func bulkRun(ctx context.Context, a, b link, msg []byte, n int) (time.Duration, error) {
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		for range n {
			p, err := b.recv(ctx)
			if err != nil {
				done <- err
				return
			}
			if len(p) != len(msg) {
				done <- fmt.Errorf("got %d bytes, want %d", len(p), len(msg))
				return
			}
		}
		done <- nil
	}()
	for range n {
		// Send takes ownership of its payload; msg is never modified, and both transports
		// have copied it by the time Send returns, so it can be sent again.
		if err := a.send(ctx, msg); err != nil {
			return 0, err
		}
	}
	if err := <-done; err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// pingPong times n round trips of an 8-byte message from a to b and back.
func pingPong(ctx context.Context, a, b link, n int) ([]time.Duration, error) {
	echo := make(chan error, 1)
	go func() {
		for range n {
			p, err := b.recv(ctx)
			if err == nil {
				err = b.send(ctx, p)
			}
			if err != nil {
				echo <- err
				return
			}
		}
		echo <- nil
	}()
	ds := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if err := a.send(ctx, make([]byte, 8)); err != nil {
			return nil, err
		}
		if _, err := a.recv(ctx); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(start))
	}
	return ds, <-echo
}

// quantile returns the q-quantile of the durations, in seconds.
func quantile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))].Seconds()
}

// partyVector is party id's message of round r in the fixed computation: elems pseudo-random
// ring elements any party can recompute, so that each checks what it receives.
func partyVector(id, r, elems int) []uint64 {
	rng := rand.New(rand.NewPCG(uint64(id)+1, uint64(r)))
	x := make([]uint64, elems)
	for i := range x {
		x[i] = rng.Uint64()
	}
	return x
}

func encodeLE(x []uint64) []byte {
	b := make([]byte, 0, 8*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// transportParty runs one party of the fixed computation: each round every party sends its
// vector to the next party and checks the one it receives from the previous party; at the
// end the parties exchange the sums of what they sent, so that all three print the same
// digest.
func transportParty(ctx context.Context, asJSON bool, parties string, id int, keyPath string, rounds, elems int, delay time.Duration, rate float64) error {
	e, err := deploy.Endpoint(ctx, parties, id, keyPath, func(c *quic.Config) { c.PacketDelay, c.PacketRate = delay, rate })
	if err != nil {
		return err
	}
	defer e.Close()
	next, prev := (id+1)%quic.NumParties, (id+quic.NumParties-1)%quic.NumParties
	// A barrier, so that the clock starts when all three are linked, not when this one is.
	for _, p := range []int{next, prev} {
		if err := e.Send(ctx, p, nil); err != nil {
			return err
		}
	}
	for _, p := range []int{next, prev} {
		if _, err := e.Recv(ctx, p); err != nil {
			return err
		}
	}
	var sent uint64
	start := time.Now()
	for r := range rounds {
		x := partyVector(id, r, elems)
		for _, v := range x {
			sent += v
		}
		if err := e.Send(ctx, next, encodeLE(x)); err != nil {
			return fmt.Errorf("round %d: %w", r, err)
		}
		got, err := e.Recv(ctx, prev)
		if err != nil {
			return fmt.Errorf("round %d: %w", r, err)
		}
		want := encodeLE(partyVector(prev, r, elems))
		if string(got) != string(want) {
			return fmt.Errorf("round %d: party %d's message is wrong (%d bytes, want %d)", r, prev, len(got), len(want))
		}
	}
	elapsed := time.Since(start)
	// Agree on the digest: everyone learns everyone's sum.
	var sums [quic.NumParties]uint64
	sums[id] = sent
	for _, p := range []int{next, prev} {
		if err := e.Send(ctx, p, binary.LittleEndian.AppendUint64(nil, sent)); err != nil {
			return err
		}
	}
	for _, p := range []int{next, prev} {
		b, err := e.Recv(ctx, p)
		if err != nil {
			return err
		}
		if len(b) != 8 {
			return errors.New("bad sum message")
		}
		sums[p] = binary.LittleEndian.Uint64(b)
	}
	digest := sums[0]*0x9e3779b97f4a7c15 ^ sums[1]*0xc2b2ae3d27d4eb4f ^ sums[2]
	st := e.Stats()
	return printResult(os.Stdout, asJSON, benchResult{
		"name": "transport_party", "party": id, "rounds": rounds, "elems": elems,
		"delay_seconds": delay.Seconds(), "seconds": elapsed.Seconds(), "seconds_per_round": elapsed.Seconds() / float64(rounds),
		"bytes_sent": st.BytesSent, "digest": fmt.Sprintf("%016x", digest), "verified": true,
	})
}

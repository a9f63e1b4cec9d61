package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/transport/quic"
)

// wanFlags shape the three local parties' QUIC links like a wide area network: every party's
// outgoing datagrams wait half the round-trip time and leave at the bandwidth, behind a token
// bucket (see quic.Config.PacketDelay and PacketRate), as scripts/netns.sh does with tc for
// three processes in network namespaces.
type wanFlags struct {
	rtt       time.Duration
	bandwidth string
	rate      float64 // bytes per second, parsed from bandwidth
}

func (w *wanFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&w.rtt, "rtt", 0, "round-trip time between parties over QUIC, e.g. 40ms (each party delays its datagrams by half)")
	fs.StringVar(&w.bandwidth, "bandwidth", "", "each party's outgoing bandwidth over QUIC, as tc writes it: 352mbit, 1gbit, 10mbps (bytes)")
}

// check parses the bandwidth and validates the flags.
func (w *wanFlags) check(transport string) error {
	if w.rtt < 0 {
		return fmt.Errorf("%w: --rtt %v", errUsage, w.rtt)
	}
	if w.bandwidth != "" {
		r, err := parseRate(w.bandwidth)
		if err != nil {
			return fmt.Errorf("%w: --bandwidth: %v", errUsage, err)
		}
		w.rate = r
	}
	if w.shaped() && transport != "quic" {
		return fmt.Errorf("%w: --rtt and --bandwidth shape QUIC links (--transport quic)", errUsage)
	}
	return nil
}

func (w *wanFlags) shaped() bool { return w.rtt > 0 || w.rate > 0 }

// tune applies the shaping to a party's QUIC configuration.
func (w *wanFlags) tune(c *quic.Config) {
	c.PacketDelay = w.rtt / 2
	c.PacketRate = w.rate
}

// networks returns the links of a local session with the shaping applied.
func (w *wanFlags) networks() mpc.Networks {
	return func(ctx context.Context) ([]secure.Network, func(), error) {
		eps, closeAll, err := launch.LocalQUICNetworks(ctx, w.tune)
		if err != nil {
			return nil, nil, err
		}
		nets := make([]secure.Network, len(eps))
		for i, e := range eps {
			nets[i] = e
		}
		return nets, closeAll, nil
	}
}

// fields returns the JSON fields that record the shaping.
func (w *wanFlags) fields() benchResult {
	if !w.shaped() {
		return benchResult{}
	}
	return benchResult{"rtt_seconds": w.rtt.Seconds(), "bandwidth_bytes_per_s": w.rate}
}

// parseRate reads a rate in tc's units: bit, kbit, mbit, gbit (bits per second) and bps,
// kbps, mbps, gbps (bytes per second), with decimal prefixes; it returns bytes per second.
func parseRate(s string) (float64, error) {
	units := []struct {
		suffix string
		bytes  float64
	}{
		{"gbit", 1e9 / 8}, {"mbit", 1e6 / 8}, {"kbit", 1e3 / 8}, {"bit", 1.0 / 8},
		{"gbps", 1e9}, {"mbps", 1e6}, {"kbps", 1e3}, {"bps", 1},
	}
	l := strings.ToLower(strings.TrimSpace(s))
	for _, u := range units {
		if num, ok := strings.CutSuffix(l, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || !(v > 0) {
				return 0, fmt.Errorf("rate %q: want a positive number and a unit (e.g. 352mbit)", s)
			}
			return v * u.bytes, nil
		}
	}
	return 0, fmt.Errorf("rate %q: unknown unit (want bit, kbit, mbit, gbit, or bps, kbps, mbps, gbps for bytes)", s)
}

// with returns r with the fields of o added.
func (r benchResult) with(o benchResult) benchResult {
	for k, v := range o {
		r[k] = v
	}
	return r
}

// peakRSS returns the process's peak resident memory so far (VmHWM of /proc/self/status) as
// the field peak_rss_bytes, or no field where the system does not say.
func peakRSS() benchResult {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return benchResult{}
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return benchResult{"peak_rss_bytes": kb << 10}
				}
			}
		}
	}
	return benchResult{}
}

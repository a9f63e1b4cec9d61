package serving

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Metrics are a serving party's counters and histograms, written in the Prometheus text
// exposition format (version 0.0.4) by [Metrics.WriteTo] and served by [Metrics.Handler].
// They count requests, errors, batches, rows per batch, latencies, the bytes and rounds the
// party spends with its peers and the bytes it exchanges with clients: public quantities
// only. The zero value is ready to use; a Metrics is safe for concurrent use.
type Metrics struct {
	mu          sync.Mutex
	requests    map[string]uint64 // by outcome
	errors      map[string]uint64 // by reason
	latency     histogram         // seconds, accepted to answered
	batchRows   histogram         // rows per secure computation
	batchTime   histogram         // seconds per secure computation
	batches     uint64
	peerBytes   uint64
	peerRounds  uint64
	peerMsgs    uint64
	clientIn    uint64
	clientOut   uint64
	sessions    uint64
	up          bool
	startedOnce sync.Once
	started     time.Time
}

// Label values of requests_total and errors_total.
const (
	outcomeOK    = "ok"
	outcomeError = "error"
)

type histogram struct {
	bounds []float64
	counts []uint64 // per bucket (not cumulative); the last is +Inf
	sum    float64
	n      uint64
}

var (
	latencyBounds = []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10}
	rowsBounds    = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}
)

func (h *histogram) observe(v float64, bounds []float64) {
	if h.bounds == nil {
		h.bounds = bounds
		h.counts = make([]uint64, len(bounds)+1)
	}
	i := sort.SearchFloat64s(h.bounds, v)
	h.counts[i]++
	h.sum += v
	h.n++
}

func (m *Metrics) init() {
	m.startedOnce.Do(func() { m.started = time.Now() })
	if m.requests == nil {
		m.requests = map[string]uint64{}
		m.errors = map[string]uint64{}
	}
}

// request records an answered request: its outcome, its latency and, on error, a short
// reason (a fixed word, never data).
func (m *Metrics) request(d time.Duration, reason string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	if reason == "" {
		m.requests[outcomeOK]++
	} else {
		m.requests[outcomeError]++
		m.errors[reason]++
	}
	m.latency.observe(d.Seconds(), latencyBounds)
}

// batch records one secure computation: its rows, time, and the bytes, rounds and messages
// this party spent on it with its peers.
func (m *Metrics) batch(rows int, d time.Duration, bytes, rounds, messages int64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	m.batches++
	m.batchRows.observe(float64(rows), rowsBounds)
	m.batchTime.observe(d.Seconds(), latencyBounds)
	m.peerBytes += uint64(max(bytes, 0))
	m.peerRounds += uint64(max(rounds, 0))
	m.peerMsgs += uint64(max(messages, 0))
}

// client records bytes received from and sent to clients.
func (m *Metrics) client(in, out int) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.clientIn += uint64(max(in, 0))
	m.clientOut += uint64(max(out, 0))
	m.mu.Unlock()
}

// session records a session with the peers starting (up) or ending.
func (m *Metrics) session(up bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.init()
	if up {
		m.sessions++
	}
	m.up = up
	m.mu.Unlock()
}

// WriteTo writes the metrics in the Prometheus text exposition format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	m.mu.Lock()
	m.init()
	bw := bufio.NewWriter(w)
	cw := &countingWriter{w: bw}
	metric := func(name, typ, help string) {
		fmt.Fprintf(cw, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	labelled := func(name, label string, vals map[string]uint64, keys ...string) {
		for _, k := range keys {
			if _, ok := vals[k]; !ok {
				vals[k] = 0
			}
		}
		ks := make([]string, 0, len(vals))
		for k := range vals {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			fmt.Fprintf(cw, "%s{%s=%q} %d\n", name, label, k, vals[k])
		}
	}
	metric("gotfe_serving_requests_total", "counter", "Prediction requests answered, by outcome.")
	labelled("gotfe_serving_requests_total", "outcome", m.requests, outcomeOK, outcomeError)
	metric("gotfe_serving_errors_total", "counter", "Prediction requests answered with an error, by reason.")
	labelled("gotfe_serving_errors_total", "reason", m.errors)
	metric("gotfe_serving_request_duration_seconds", "histogram", "Time from a request's arrival to its answer.")
	writeHistogram(cw, "gotfe_serving_request_duration_seconds", &m.latency, latencyBounds)
	metric("gotfe_serving_batches_total", "counter", "Secure computations (batches of requests) run.")
	fmt.Fprintf(cw, "gotfe_serving_batches_total %d\n", m.batches)
	metric("gotfe_serving_batch_rows", "histogram", "Rows per secure computation.")
	writeHistogram(cw, "gotfe_serving_batch_rows", &m.batchRows, rowsBounds)
	metric("gotfe_serving_batch_duration_seconds", "histogram", "Time of a secure computation, agreement included.")
	writeHistogram(cw, "gotfe_serving_batch_duration_seconds", &m.batchTime, latencyBounds)
	metric("gotfe_serving_peer_bytes_sent_total", "counter", "Bytes this party sent to the other two for batches.")
	fmt.Fprintf(cw, "gotfe_serving_peer_bytes_sent_total %d\n", m.peerBytes)
	metric("gotfe_serving_rounds_total", "counter", "Communication rounds of the batches.")
	fmt.Fprintf(cw, "gotfe_serving_rounds_total %d\n", m.peerRounds)
	metric("gotfe_serving_peer_messages_sent_total", "counter", "Messages this party sent to the other two for batches.")
	fmt.Fprintf(cw, "gotfe_serving_peer_messages_sent_total %d\n", m.peerMsgs)
	metric("gotfe_serving_client_bytes_received_total", "counter", "Bytes received from clients.")
	fmt.Fprintf(cw, "gotfe_serving_client_bytes_received_total %d\n", m.clientIn)
	metric("gotfe_serving_client_bytes_sent_total", "counter", "Bytes sent to clients.")
	fmt.Fprintf(cw, "gotfe_serving_client_bytes_sent_total %d\n", m.clientOut)
	metric("gotfe_serving_sessions_total", "counter", "Sessions set up with the other two parties.")
	fmt.Fprintf(cw, "gotfe_serving_sessions_total %d\n", m.sessions)
	metric("gotfe_serving_up", "gauge", "1 while a session with the other two parties is up.")
	fmt.Fprintf(cw, "gotfe_serving_up %d\n", b2i(m.up))
	metric("gotfe_serving_uptime_seconds", "gauge", "Seconds since the party started.")
	fmt.Fprintf(cw, "gotfe_serving_uptime_seconds %s\n", formatFloat(time.Since(m.started).Seconds()))
	m.mu.Unlock()
	if err := bw.Flush(); err != nil && cw.err == nil {
		cw.err = err
	}
	return cw.n, cw.err
}

func writeHistogram(w io.Writer, name string, h *histogram, bounds []float64) {
	var cum uint64
	for i, b := range bounds {
		if h.counts != nil {
			cum += h.counts[i]
		}
		fmt.Fprintf(w, "%s_bucket{le=%q} %d\n", name, formatFloat(b), cum)
	}
	fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n", name, h.n)
	fmt.Fprintf(w, "%s_sum %s\n%s_count %d\n", name, formatFloat(h.sum), name, h.n)
}

func formatFloat(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// Handler serves the metrics over HTTP (GET /metrics, or any path).
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = m.WriteTo(w)
	})
}

// MetricsSnapshot is a reading of a party's counters.
type MetricsSnapshot struct {
	Requests, Errors    uint64 // requests answered, and of them with an error
	Batches, BatchRows  uint64 // secure computations and the rows they computed
	PeerBytes, Rounds   uint64 // bytes sent to the other parties and rounds, for batches
	PeerMessages        uint64 // messages sent to the other parties, for batches
	ClientIn, ClientOut uint64 // bytes received from and sent to clients
}

// Snapshot returns the counters so far.
func (m *Metrics) Snapshot() MetricsSnapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.init()
	return MetricsSnapshot{
		Requests: m.requests[outcomeOK] + m.requests[outcomeError], Errors: m.requests[outcomeError],
		Batches: m.batches, BatchRows: uint64(m.batchRows.sum),
		PeerBytes: m.peerBytes, Rounds: m.peerRounds, PeerMessages: m.peerMsgs, ClientIn: m.clientIn, ClientOut: m.clientOut,
	}
}

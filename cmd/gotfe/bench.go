package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// benchResult is one line of a benchmark suite's output: a name and its measurements
// (seconds, bytes_sent, rounds, plaintext_seconds, ratio, ...).
type benchResult map[string]any

// printResult writes r as one JSON object per line, or as an aligned human-readable line.
func printResult(w io.Writer, asJSON bool, r benchResult) error {
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	keys := make([]string, 0, len(r))
	for k := range r {
		if k != "name" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-32v", r["name"])
	for _, k := range keys {
		switch v := r[k].(type) {
		case float64:
			fmt.Fprintf(&sb, " %s=%.4g", k, v)
		default:
			fmt.Fprintf(&sb, " %s=%v", k, v)
		}
	}
	_, err := fmt.Fprintln(w, sb.String())
	return err
}

// median returns the median of the durations in seconds.
func median(d []time.Duration) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2].Seconds()
	}
	return (s[len(s)/2-1] + s[len(s)/2]).Seconds() / 2
}

// timeRuns runs fn n times and returns the median duration in seconds.
func timeRuns(n int, fn func() error) (float64, error) {
	d := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		d = append(d, time.Since(start))
	}
	return median(d), nil
}

package keras

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Logs maps logged quantities ("loss", "accuracy", "val_loss", ...) to their values for one
// epoch or evaluation.
type Logs map[string]float64

// String formats the logs in Keras's order: the loss, then the metrics, then their
// validation counterparts, each as " - name: value" without the leading separator.
func (l Logs) String() string {
	return strings.TrimPrefix(formatLogs(l, l.keys()), " - ")
}

// keys returns the names in Keras's order.
func (l Logs) keys() []string {
	ks := make([]string, 0, len(l))
	for k := range l {
		ks = append(ks, k)
	}
	rank := func(k string) int {
		r := 0
		if strings.HasPrefix(k, "val_") {
			r, k = 2, strings.TrimPrefix(k, "val_")
		}
		if k != "loss" {
			r++
		}
		return r
	}
	slices.SortStableFunc(ks, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return ks
}

// formatLogs writes " - name: value" for each key, values as Keras prints them.
func formatLogs(l Logs, keys []string) string {
	var sb strings.Builder
	for _, k := range keys {
		v, ok := l[k]
		if !ok {
			continue
		}
		fmt.Fprintf(&sb, " - %s: %s", k, formatValue(v))
	}
	return sb.String()
}

func formatValue(v float64) string {
	if a := math.Abs(v); a != 0 && a < 1e-3 {
		return fmt.Sprintf("%.4e", v)
	}
	return fmt.Sprintf("%.4f", v)
}

// History records what Fit logged, as Keras's History callback: History["loss"][i] is the
// loss of epoch Epoch[i].
type History struct {
	Epoch   []int                // the epochs run, from 0
	History map[string][]float64 // every logged quantity per epoch
	keys    []string
}

func newHistory() *History { return &History{History: make(map[string][]float64)} }

func (h *History) add(epoch int, logs Logs, keys []string) {
	h.Epoch = append(h.Epoch, epoch)
	for _, k := range keys {
		if !slices.Contains(h.keys, k) {
			h.keys = append(h.keys, k)
		}
		h.History[k] = append(h.History[k], logs[k])
	}
}

// Keys returns the logged quantities in Keras's order.
func (h *History) Keys() []string { return slices.Clone(h.keys) }

// Last returns the logs of the last epoch, or nil.
func (h *History) Last() Logs {
	if len(h.Epoch) == 0 {
		return nil
	}
	l := Logs{}
	for k, v := range h.History {
		l[k] = v[len(v)-1]
	}
	return l
}

package keras

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

// progress prints Keras's progress output: with verbose 1 a bar redrawn in place during an
// epoch and completed at its end, with verbose 2 one line per epoch:
//
//	469/469 - 2s - 4ms/step - loss: 0.3012 - accuracy: 0.9123 - val_loss: 0.1500
type progress struct {
	w       io.Writer
	verbose int
	dynamic bool // w is a terminal: the bar is redrawn in place during an epoch
	target  int
	start   time.Time
	last    time.Time // last redraw of the bar
	now     func() time.Time
}

const barWidth = 20

func newProgress(w io.Writer, verbose, target int, now func() time.Time) *progress {
	if now == nil {
		now = time.Now
	}
	t := now()
	return &progress{w: w, verbose: verbose, target: target, start: t, now: now, dynamic: isTerminal(w)}
}

// isTerminal reports whether w is a character device, where Keras redraws its bar.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// live reports whether the bar is redrawn during an epoch.
func (p *progress) live() bool { return p != nil && p.verbose == 1 && p.dynamic && p.w != nil }

// update redraws the bar after step steps (verbose 1 on a terminal only), at most every
// 50 ms.
func (p *progress) update(step int, logs Logs, keys []string) {
	if !p.live() {
		return
	}
	t := p.now()
	if step < p.target && t.Sub(p.last) < 50*time.Millisecond {
		return
	}
	p.last = t
	elapsed := t.Sub(p.start).Seconds()
	perStep := elapsed / float64(max(step, 1))
	eta := perStep * float64(p.target-step)
	fmt.Fprintf(p.w, "\r%s %s %s%s%s\x1b[K", p.count(step), p.bar(step), formatETA(eta), formatPerStep(perStep), formatLogs(logs, keys))
}

// finish prints the epoch's last line with the final logs.
func (p *progress) finish(steps int, logs Logs, keys []string) {
	if p.verbose == 0 || p.w == nil {
		return
	}
	elapsed := p.now().Sub(p.start).Seconds()
	perStep := elapsed / float64(max(steps, 1))
	if p.verbose == 1 {
		pre, post := "", ""
		if p.dynamic {
			pre, post = "\r", "\x1b[K"
		}
		fmt.Fprintf(p.w, "%s%s %s %.0fs%s%s%s\n", pre, p.count(steps), p.bar(steps), math.Floor(elapsed), formatPerStep(perStep), formatLogs(logs, keys), post)
		return
	}
	fmt.Fprintf(p.w, "%s - %.0fs -%s%s\n", p.count(steps), math.Floor(elapsed), formatPerStep(perStep), formatLogs(logs, keys))
}

func (p *progress) count(step int) string {
	d := len(fmt.Sprint(p.target))
	return fmt.Sprintf("%*d/%d", d, step, p.target)
}

func (p *progress) bar(step int) string {
	filled := barWidth
	if p.target > 0 {
		filled = barWidth * step / p.target
	}
	return strings.Repeat("━", filled) + strings.Repeat("─", barWidth-filled)
}

// formatPerStep formats a time per step as Keras does: " 4ms/step".
func formatPerStep(s float64) string {
	switch {
	case s >= 1 || s == 0:
		return fmt.Sprintf(" %.0fs/step", s)
	case s >= 1e-3:
		return fmt.Sprintf(" %.0fms/step", s*1e3)
	default:
		return fmt.Sprintf(" %.0fus/step", s*1e6)
	}
}

func formatETA(s float64) string {
	e := int(math.Round(s))
	switch {
	case e >= 3600:
		return fmt.Sprintf("%d:%02d:%02d", e/3600, e%3600/60, e%60)
	case e >= 60:
		return fmt.Sprintf("%d:%02d", e/60, e%60)
	}
	return fmt.Sprintf("%ds", e)
}

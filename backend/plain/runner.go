package plain

import "github.com/gotfe/gotfe/backend"

// Runner runs programs on one plain [Backend]. It satisfies the Runner interface of package
// keras: Run calls the program once, on the same backend every time, so a model keeps its
// weights on it from one call to the next.
type Runner struct {
	b *Backend
}

// NewRunner returns a runner over a new plain backend.
func NewRunner() *Runner { return &Runner{b: New()} }

// Backend returns the backend the runner runs programs on.
func (r *Runner) Backend() *Backend { return r.b }

// Run calls fn with the runner's backend and returns its error.
func (r *Runner) Run(fn func(b backend.Backend) error) error { return fn(r.b) }

// Engine describes what the runner computes on, as a model's Summary shows it.
func (r *Runner) Engine() string { return "plain (float64, in the clear: nothing is secret-shared)" }

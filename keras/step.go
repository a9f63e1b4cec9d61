package keras

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/gotfe/gotfe/backend"
)

// run runs fn on every party of the model's runner as one step of the computation. On a
// multi-party backend ([backend.Stepper]) the parties first agree on the step (call) and its
// public parameters: the model's own (architecture, compile configuration, owner, seed, where
// its weights come from) and the call's (sample counts, batch size, epochs...). A mismatch is an
// error on every party at once, naming the parameter; a party whose preparation failed
// (prepErr) takes part with its error, so the others fail with its reason rather than waiting
// for it. After fn, the parties confirm that it succeeded everywhere.
func (m *Sequential) run(call string, params []backend.Param, prepErr error, fn func(b backend.Backend) error) error {
	return m.runEach(call, params, func(backend.Backend) ([]backend.Param, error) { return nil, prepErr }, fn)
}

// runEach is run with a preparation on each party (reading that party's file, say) that adds
// parameters of its own to the agreement, or fails.
func (m *Sequential) runEach(call string, params []backend.Param, prep func(b backend.Backend) ([]backend.Param, error),
	fn func(b backend.Backend) error) error {
	ps := append(m.modelParams(), params...)
	return m.runner.Run(func(b backend.Backend) error {
		own, prepErr := prep(b)
		s, ok := b.(backend.Stepper)
		if !ok {
			if prepErr != nil {
				return prepErr
			}
			return fn(b)
		}
		local := append(slices.Clone(ps), m.replicaParam(b))
		return s.Step(call, append(local, own...), prepErr, func() error { return fn(b) })
	})
}

// modelParams returns the public parameters of the model the parties must agree on.
func (m *Sequential) modelParams() []backend.Param {
	arch, compile := "not built", "none"
	if m.built("") != nil {
		// No shapes yet: nothing more to agree on.
	} else if h, err := m.header("architecture"); err == nil {
		c := h.Compile
		h.Compile = nil
		if b, err := json.Marshal(h); err == nil {
			arch = digest(b)
		}
		if c != nil {
			if b, err := json.Marshal(c); err == nil {
				compile = digest(b)
			}
		}
	}
	m.mu.Lock()
	source := "initializers"
	switch {
	case m.diverged:
		source = "trained or loaded shares"
	case m.fromOwner:
		source = "the owner's weights"
	}
	state := "none"
	if st := m.state; st != nil {
		// Whether a new replica restores the optimizer's state (inputs from the owner) is
		// decided from this, so the parties must agree on it.
		state = fmt.Sprintf("epoch %d, %d optimizer steps, optimizer state %v", st.Epochs, st.Iterations, st.hasSlots(m))
	}
	m.mu.Unlock()
	return []backend.Param{
		{Name: "training state", Value: state},
		{Name: "architecture", Value: arch},
		{Name: "compile configuration", Value: compile},
		{Name: "model owner", Value: strconv.Itoa(m.owner)},
		{Name: "model seed", Value: strconv.FormatUint(m.seed, 10)},
		{Name: "weights", Value: source},
	}
}

// replicaParam says whether the model already has a replica on b (whose building would
// otherwise run on some parties only).
func (m *Sequential) replicaParam(b backend.Backend) backend.Param {
	m.mu.Lock()
	_, ok := m.replicas[b]
	m.mu.Unlock()
	return backend.Param{Name: "weights on the parties", Value: strconv.FormatBool(ok)}
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:12])
}

func intParam(name string, v int) backend.Param {
	return backend.Param{Name: name, Value: strconv.Itoa(v)}
}

func anyParam(name string, v any) backend.Param {
	return backend.Param{Name: name, Value: fmt.Sprint(v)}
}

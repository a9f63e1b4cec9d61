package keras

import (
	"fmt"

	"github.com/gotfe/gotfe/backend"
)

// Runner runs a program on the parties of a computation. The plain runner
// ([github.com/gotfe/gotfe/backend/plain.Runner]) calls fn once; a local secure runner
// calls it concurrently on three goroutines, each with its own party's backend; a distributed
// runner calls it once with the backend of the party its process runs. Run returns the first
// error a call returned.
//
// A runner must pass the same backend values on every call of Run for its lifetime: models
// keep one replica of their weights per backend, across Runs.
type Runner interface {
	Run(fn func(b backend.Backend) error) error
}

// EngineDescriber is implemented by runners that say what they compute on (the plain and the
// secure runners do): [Sequential.Engine] and Summary show it.
type EngineDescriber interface {
	Engine() string
}

// Engine describes the engine the model runs on: "plain (float64, in the clear: ...)" until
// SetRunner gives it a secure runner, whose description names the protocol, the precision and
// the parties. Summary prints it as its last line.
func (m *Sequential) Engine() string {
	if d, ok := m.runner.(EngineDescriber); ok {
		return d.Engine()
	}
	return fmt.Sprintf("a custom runner (%T)", m.runner)
}

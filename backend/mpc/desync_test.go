package mpc_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/secure/session"
)

// desyncProgram is a program of backend operations on a register file of 4x4 tensors, every
// operation valid on whatever its registers hold, so that a party can skip, repeat or reorder
// any of them and still run to the end of its own program.
func desyncProgram(party int) []func(b backend.Backend, v []backend.Tensor) error {
	data := func(seed uint64) []float64 {
		r := rand.New(rand.NewPCG(seed, 2))
		out := make([]float64, 16)
		for i := range out {
			out[i] = 2*r.Float64() - 1
		}
		return out
	}
	input := func(owner int, seed uint64, dst int) func(b backend.Backend, v []backend.Tensor) error {
		return func(b backend.Backend, v []backend.Tensor) (err error) {
			var d []float64
			if party == owner {
				d = data(seed)
			}
			v[dst], err = b.Input(d, []int{4, 4}, owner)
			return err
		}
	}
	op2 := func(f func(b backend.Backend, x, y backend.Tensor) (backend.Tensor, error), dst, i, j int) func(b backend.Backend, v []backend.Tensor) error {
		return func(b backend.Backend, v []backend.Tensor) (err error) {
			v[dst], err = f(b, v[i], v[j])
			return err
		}
	}
	return []func(b backend.Backend, v []backend.Tensor) error{
		input(0, 1, 0),
		input(1, 2, 1),
		op2(func(b backend.Backend, x, y backend.Tensor) (backend.Tensor, error) {
			return b.MatMul(x, y, false, false)
		}, 2, 0, 1),
		op2(func(b backend.Backend, x, _ backend.Tensor) (backend.Tensor, error) {
			out, _, err := b.ReLU(x)
			return out, err
		}, 2, 2, 2),
		op2(func(b backend.Backend, x, y backend.Tensor) (backend.Tensor, error) { return b.Add(x, y) }, 3, 2, 0),
		op2(func(b backend.Backend, x, _ backend.Tensor) (backend.Tensor, error) { return b.Scale(x, 0.5) }, 3, 3, 3),
		op2(func(b backend.Backend, x, y backend.Tensor) (backend.Tensor, error) { return b.Mul(x, y) }, 4, 3, 1),
		op2(func(b backend.Backend, x, _ backend.Tensor) (backend.Tensor, error) { return b.Sigmoid(x) }, 4, 4, 4),
		op2(func(b backend.Backend, x, y backend.Tensor) (backend.Tensor, error) { return b.Sub(x, y) }, 5, 4, 2),
		op2(func(b backend.Backend, x, _ backend.Tensor) (backend.Tensor, error) { return b.Transpose(x, nil) }, 5, 5, 5),
		op2(func(b backend.Backend, x, y backend.Tensor) (backend.Tensor, error) { return b.Maximum(x, y) }, 6, 5, 0),
		op2(func(b backend.Backend, x, _ backend.Tensor) (backend.Tensor, error) { return b.AddScalar(x, 1) }, 6, 6, 6),
	}
}

// registers returns the register file of desyncProgram, every register a 4x4 tensor of zeros.
func registers(b backend.Backend) ([]backend.Tensor, error) {
	v := make([]backend.Tensor, 7)
	for i := range v {
		var err error
		if v[i], err = b.Zeros([]int{4, 4}); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Three parties run the same program, except that one of them skips, repeats or reorders one
// operation, chosen at random: every party returns an error, none a result, and none waits for
// its deadline to find out.
func TestDesynchronisationIsAnErrorOnEveryParty(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		runs := 60
		if testing.Short() {
			runs = 20
		}
		rng := rand.New(rand.NewPCG(9, 9))
		kinds := []string{"skip", "repeat", "reorder"}
		for run := range runs {
			faulty := rng.IntN(3)
			kind := kinds[rng.IntN(len(kinds))]
			n := len(desyncProgram(0))
			at := rng.IntN(n)
			if kind == "reorder" {
				at = rng.IntN(n - 1)
			}
			t.Run(fmt.Sprintf("%d/P%d %s op %d", run, faulty, kind, at), func(t *testing.T) {
				var results [3][]float64
				errs, took := threeProcesses(t, cfg, func(party int, r keras.Runner) error {
					prog := desyncProgram(party)
					if party == faulty {
						switch kind {
						case "skip":
							prog = append(prog[:at:at], prog[at+1:]...)
						case "repeat":
							prog = append(prog[:at+1:at+1], prog[at:]...)
						case "reorder":
							prog[at], prog[at+1] = prog[at+1], prog[at]
						}
					}
					var out []float64
					err := r.Run(func(b backend.Backend) error {
						return b.(backend.Stepper).Step("program", nil, nil, func() error {
							v, err := registers(b)
							if err != nil {
								return err
							}
							for _, op := range prog {
								if err := op(b, v); err != nil {
									return err
								}
							}
							out, err = b.Reveal(v[6], -1)
							return err
						})
					})
					if err == nil {
						results[party] = out // what a successful run hands its caller
					}
					return err
				})
				desync := 0
				for i, err := range errs {
					require.Error(t, err, "party %d returned a result", i)
					assert.Nil(t, results[i], "party %d", i)
					var de *session.DesyncError
					if errors.As(err, &de) {
						desync++
					}
					// A party that did not see the desynchronisation itself quotes the party that
					// did (through its failure notice, or the cause its links were aborted with).
					assert.Contains(t, err.Error(), "desynchronised", "party %d says what went wrong", i)
				}
				assert.Positive(t, desync, "a party finds the desynchronisation itself: %v", errs)
				assert.Less(t, took, partyTimeout/4, "the parties fail at once")
			})
		}
	})
}

// The same program on three parties in step runs to the end on every party.
func TestDesyncProgramRunsInStep(t *testing.T) {
	forEachProtocol(t, func(t *testing.T, cfg mpc.Config) {
		errs, _ := threeProcesses(t, cfg, func(party int, r keras.Runner) error {
			prog := desyncProgram(party)
			return r.Run(func(b backend.Backend) error {
				return b.(backend.Stepper).Step("program", nil, nil, func() error {
					v, err := registers(b)
					if err != nil {
						return err
					}
					for _, op := range prog {
						if err := op(b, v); err != nil {
							return err
						}
					}
					_, err = b.Reveal(v[6], -1)
					return err
				})
			})
		})
		assertNoErrors(t, errs)
	})
}

package keras

import (
	"fmt"
	"math"
	"regexp"
	"strings"
)

// Callback is called by Fit at the start and end of training and after every epoch. Callbacks
// run in the caller's goroutine, once per process, after the epoch's program has run on every
// party; the logs they see were revealed to every party, so all parties decide alike. A
// callback stops training with Sequential.StopTraining; an error it returns ends Fit.
type Callback interface {
	OnTrainBegin(m *Sequential) error
	OnEpochEnd(m *Sequential, epoch int, logs Logs) error
	OnTrainEnd(m *Sequential, h *History) error
}

// CallbackFuncs is a Callback made of functions; nil functions do nothing.
type CallbackFuncs struct {
	TrainBegin func(m *Sequential) error
	EpochEnd   func(m *Sequential, epoch int, logs Logs) error
	TrainEnd   func(m *Sequential, h *History) error
}

// OnTrainBegin calls TrainBegin.
func (c CallbackFuncs) OnTrainBegin(m *Sequential) error {
	if c.TrainBegin == nil {
		return nil
	}
	return c.TrainBegin(m)
}

// OnEpochEnd calls EpochEnd.
func (c CallbackFuncs) OnEpochEnd(m *Sequential, epoch int, logs Logs) error {
	if c.EpochEnd == nil {
		return nil
	}
	return c.EpochEnd(m, epoch, logs)
}

// OnTrainEnd calls TrainEnd.
func (c CallbackFuncs) OnTrainEnd(m *Sequential, h *History) error {
	if c.TrainEnd == nil {
		return nil
	}
	return c.TrainEnd(m, h)
}

// monitorOp decides improvements of a monitored quantity.
type monitorOp struct {
	name     string
	max      bool
	minDelta float64
}

func newMonitorOp(call, name, mode string, minDelta float64) (monitorOp, error) {
	op := monitorOp{name: name, minDelta: math.Abs(minDelta)}
	switch mode {
	case "", "auto":
		op.max = strings.Contains(name, "acc")
	case "min":
	case "max":
		op.max = true
	default:
		return op, fmt.Errorf("%s: unknown mode %q (want auto, min or max)", call, mode)
	}
	return op, nil
}

// better reports whether v improves on ref by more than minDelta.
func (op monitorOp) better(v, ref float64) bool {
	if op.max {
		return v-op.minDelta > ref
	}
	return v+op.minDelta < ref
}

func (op monitorOp) worst() float64 {
	if op.max {
		return math.Inf(-1)
	}
	return math.Inf(1)
}

func (op monitorOp) value(call string, logs Logs) (float64, error) {
	v, ok := logs[op.name]
	if !ok {
		return 0, fmt.Errorf("%s: %q is not logged (logged: %s)", call, op.name, strings.Join(logs.keys(), ", "))
	}
	return v, nil
}

// EarlyStoppingCallback stops training when a monitored quantity stops improving. Create it
// with EarlyStopping.
type EarlyStoppingCallback struct {
	op       monitorOp
	patience int
	baseline *float64
	restore  bool
	err      error

	wait      int
	best      float64
	bestEpoch int
	bestW     snapshot
	// StoppedEpoch is the epoch after which training stopped, or -1.
	StoppedEpoch int
}

// EarlyStopping returns a callback that stops training after Patience epochs without an
// improvement (by more than MinDelta) of the Monitor quantity (default "val_loss"). Options:
// Monitor, MinDelta, Patience, Mode, Baseline, RestoreBestWeights.
func EarlyStopping(opts ...Option) *EarlyStoppingCallback {
	o, err := collect("EarlyStopping", opts, options{monitor: "val_loss"},
		"Monitor", "MinDelta", "Patience", "Mode", "Baseline", "RestoreBestWeights")
	c := &EarlyStoppingCallback{patience: o.patience, baseline: o.baseline, restore: o.restoreBestWeights, err: err}
	if err == nil && o.patience < 0 {
		c.err = fmt.Errorf("EarlyStopping: negative patience %d", o.patience)
	}
	if c.err == nil {
		c.op, c.err = newMonitorOp("EarlyStopping", o.monitor, o.mode, o.minDelta)
	}
	return c
}

// OnTrainBegin resets the callback's state.
func (c *EarlyStoppingCallback) OnTrainBegin(m *Sequential) error {
	if c.err != nil {
		return c.err
	}
	c.wait, c.best, c.bestEpoch, c.bestW, c.StoppedEpoch = 0, c.op.worst(), 0, nil, -1
	if c.baseline != nil {
		c.best = *c.baseline
	}
	return nil
}

// OnEpochEnd checks the monitored quantity and stops training when patience runs out.
func (c *EarlyStoppingCallback) OnEpochEnd(m *Sequential, epoch int, logs Logs) error {
	v, err := c.op.value("EarlyStopping", logs)
	if err != nil {
		return err
	}
	if c.restore && c.bestW == nil {
		c.bestW = m.snapshot()
	}
	c.wait++
	if c.op.better(v, c.best) {
		c.best, c.bestEpoch = v, epoch
		if c.restore {
			c.bestW = m.snapshot()
		}
		if c.baseline == nil || c.op.better(v, *c.baseline) {
			c.wait = 0
			return nil
		}
	}
	if c.wait >= c.patience && epoch > 0 {
		c.StoppedEpoch = epoch
		m.StopTraining()
		if c.restore && c.bestW != nil {
			m.restore(c.bestW)
		}
	}
	return nil
}

// OnTrainEnd does nothing.
func (c *EarlyStoppingCallback) OnTrainEnd(m *Sequential, h *History) error { return nil }

// BestEpoch returns the epoch with the best monitored value so far.
func (c *EarlyStoppingCallback) BestEpoch() int { return c.bestEpoch }

// ModelCheckpointCallback saves the model during training. Create it with ModelCheckpoint.
type ModelCheckpointCallback struct {
	path     string
	op       monitorOp
	bestOnly bool
	shares   bool
	err      error
	best     float64
}

// ModelCheckpoint returns a callback that saves the model at the end of every epoch, or with
// SaveBestOnly only when the Monitor quantity (default "val_loss") improves. The path may hold
// fields in Keras's style, filled from the epoch (counted from 1) and the logs:
// "ckpt/model-{epoch:02d}-{val_loss:.3f}.gotfe". Files are written atomically. By default the
// weights are revealed to the model owner, who writes the file (Sequential.Save); with
// SaveShares(true) every party writes its own shares (Sequential.SaveShares). Options:
// Monitor, Mode, SaveBestOnly, SaveShares.
func ModelCheckpoint(path string, opts ...Option) *ModelCheckpointCallback {
	o, err := collect("ModelCheckpoint", opts, options{monitor: "val_loss"}, "Monitor", "Mode", "SaveBestOnly", "SaveShares")
	c := &ModelCheckpointCallback{path: path, bestOnly: o.saveBestOnly, shares: o.saveShares, err: err}
	if c.err == nil && path == "" {
		c.err = fmt.Errorf("ModelCheckpoint: empty path")
	}
	if c.err == nil {
		c.op, c.err = newMonitorOp("ModelCheckpoint", o.monitor, o.mode, 0)
	}
	return c
}

// OnTrainBegin resets the best value.
func (c *ModelCheckpointCallback) OnTrainBegin(m *Sequential) error {
	if c.err != nil {
		return c.err
	}
	c.best = c.op.worst()
	return nil
}

// OnEpochEnd saves the model when due.
func (c *ModelCheckpointCallback) OnEpochEnd(m *Sequential, epoch int, logs Logs) error {
	if c.bestOnly {
		v, err := c.op.value("ModelCheckpoint", logs)
		if err != nil {
			return err
		}
		if !c.op.better(v, c.best) {
			return nil
		}
		c.best = v
	}
	path, err := formatPath(c.path, epoch+1, logs)
	if err != nil {
		return err
	}
	if c.shares {
		err = m.SaveShares(path)
	} else {
		err = m.Save(path)
	}
	if err != nil {
		return fmt.Errorf("ModelCheckpoint: %w", err)
	}
	return nil
}

// OnTrainEnd does nothing.
func (c *ModelCheckpointCallback) OnTrainEnd(m *Sequential, h *History) error { return nil }

var pathField = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}]*))?\}`)

// formatPath fills "{name}" and "{name:spec}" fields (Python format specs such as 02d or .4f)
// from the epoch and the logs.
func formatPath(path string, epoch int, logs Logs) (string, error) {
	var err error
	out := pathField.ReplaceAllStringFunc(path, func(f string) string {
		m := pathField.FindStringSubmatch(f)
		name, spec := m[1], m[2]
		var v any
		if name == "epoch" {
			v = epoch
		} else if x, ok := logs[name]; ok {
			v = x
		} else {
			err = fmt.Errorf("ModelCheckpoint: path field {%s} is neither epoch nor logged", name)
			return f
		}
		if spec == "" {
			if name == "epoch" {
				return fmt.Sprint(v)
			}
			spec = "g"
		}
		verb := spec[len(spec)-1]
		if _, isInt := v.(int); isInt && strings.ContainsRune("eEfFgG", rune(verb)) {
			v = float64(epoch)
		}
		if _, isFloat := v.(float64); isFloat && verb == 'd' {
			spec = spec[:len(spec)-1] + ".0f"
		}
		return fmt.Sprintf("%"+spec, v)
	})
	return out, err
}

package keras

import (
	"fmt"
	"slices"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/layers"
)

// trainState is what a checkpoint holds besides the weights, so that training resumes exactly
// where it stopped: the optimizer's step count and state, the layers' public counters
// (Dropout's training passes) and the epochs completed. Everything but the optimizer's state
// values is public: every party knows it.
type trainState struct {
	Epochs     int      `json:"epochs"`                // epochs completed by Fit
	Iterations int      `json:"iterations"`            // optimizer steps
	Slots      []int    `json:"slots,omitempty"`       // sizes of the optimizer's state vectors
	LayerSteps []uint64 `json:"layer_steps,omitempty"` // per layer, 0 for layers without
	compileGen int      // the compilation the optimizer state belongs to
}

// hasSlots reports whether s carries optimizer state for the current compilation.
func (s *trainState) hasSlots(m *Sequential) bool {
	return s != nil && s.compileGen == m.compileGen && len(s.Slots) > 0
}

// trainable returns the sizes of the replica's trainable variables, in order.
func (r *replica) trainableSizes() ([]int, [][]int) {
	var sizes []int
	var shapes [][]int
	for _, v := range r.vars {
		if v.Trainable {
			n, _ := backend.NumElements(v.Value.Shape())
			sizes = append(sizes, n)
			shapes = append(shapes, v.Value.Shape())
		}
	}
	return sizes, shapes
}

// slotLayout says how an updater lays out its state: one flat vector per kind (Adam's m, v),
// or one tensor per kind and trainable variable. kinds is the number of kinds.
func (r *replica) slotLayout(slots []backend.Tensor) (perVariable bool, kinds int, err error) {
	sizes, shapes := r.trainableSizes()
	total := 0
	for _, n := range sizes {
		total += n
	}
	if len(slots) == 0 {
		return false, 0, nil
	}
	flat := true
	for _, s := range slots {
		if !slices.Equal(s.Shape(), []int{total}) {
			flat = false
		}
	}
	if flat {
		return false, len(slots), nil
	}
	if len(sizes) > 0 && len(slots)%len(sizes) == 0 {
		for i, s := range slots {
			if !slices.Equal(s.Shape(), shapes[i%len(shapes)]) {
				return false, 0, fmt.Errorf("optimizer state tensor %d has shape %v", i, s.Shape())
			}
		}
		return true, len(slots) / len(sizes), nil
	}
	return false, 0, fmt.Errorf("optimizer state of %d tensors does not fit %d variables", len(slots), len(sizes))
}

// flatSlots returns the replica's optimizer state as one vector per kind (the layout files
// hold), given the revealed values of its slots.
func (r *replica) flatSlots(slots []backend.Tensor, vals [][]float64) ([][]float64, error) {
	perVar, kinds, err := r.slotLayout(slots)
	if err != nil || !perVar {
		return vals, err
	}
	nv := len(slots) / kinds
	out := make([][]float64, kinds)
	for k := range out {
		for i := range nv {
			out[k] = append(out[k], vals[k*nv+i]...)
		}
	}
	return out, nil
}

// stateTensors inputs the owner's flat state vectors (nil on other parties; sizes are public)
// into tensors laid out as the updater u wants them.
func (r *replica) stateTensors(b backend.Backend, cur []backend.Tensor, sizes []int, vals [][]float64, owner int) ([]backend.Tensor, error) {
	perVar, kinds, err := r.slotLayout(cur)
	if err != nil {
		return nil, err
	}
	if kinds != len(sizes) {
		return nil, fmt.Errorf("the optimizer keeps %d state vectors, the saved state has %d", kinds, len(sizes))
	}
	var out []backend.Tensor
	for k, n := range sizes {
		var v []float64
		if vals != nil {
			v = vals[k]
		}
		if !perVar {
			if !slices.Equal(cur[k].Shape(), []int{n}) {
				return nil, fmt.Errorf("optimizer state vector %d has %d values, the saved one %d", k, cur[k].Shape()[0], n)
			}
			t, err := b.Input(v, []int{n}, owner)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
			continue
		}
		varSizes, shapes := r.trainableSizes()
		off := 0
		for i, vs := range varSizes {
			var part []float64
			if v != nil {
				if off+vs > len(v) {
					return nil, fmt.Errorf("optimizer state vector %d is too short", k)
				}
				part = v[off : off+vs]
			}
			off += vs
			t, err := b.Input(part, shapes[i], owner)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		if off != n {
			return nil, fmt.Errorf("optimizer state vector %d has %d values, the variables %d", k, n, off)
		}
	}
	return out, nil
}

// layerSteps returns the public counters of the replica's layers.
func (r *replica) layerSteps() []uint64 {
	out := make([]uint64, len(r.insts))
	any := false
	for i, inst := range r.insts {
		if s, ok := inst.(layers.Stepped); ok {
			out[i] = s.Steps()
			any = any || out[i] != 0
		}
	}
	if !any {
		return nil
	}
	return out
}

// setLayerSteps restores the layers' counters.
func (r *replica) setLayerSteps(steps []uint64) error {
	if steps == nil {
		return nil
	}
	if len(steps) != len(r.insts) {
		return fmt.Errorf("saved counters of %d layers, the model has %d", len(steps), len(r.insts))
	}
	for i, inst := range r.insts {
		if s, ok := inst.(layers.Stepped); ok {
			s.SetSteps(steps[i])
		} else if steps[i] != 0 {
			return fmt.Errorf("layer %d keeps no counter but the saved one is %d", i, steps[i])
		}
	}
	return nil
}

// captureState returns the replica's public training state and its optimizer's state tensors
// (nil when no optimizer has been built for the current compilation).
func (m *Sequential) captureState(r *replica) (*trainState, []backend.Tensor) {
	st := &trainState{Epochs: m.epochs, LayerSteps: r.layerSteps(), compileGen: m.compileGen}
	if r.upd == nil || r.updGen != m.compileGen {
		return st, nil
	}
	st.Iterations = r.upd.Iterations()
	slots := r.upd.Slots()
	st.Slots = flatSizes(slots, r)
	return st, slots
}

// flatSizes returns the sizes of the flat state vectors behind slots.
func flatSizes(slots []backend.Tensor, r *replica) []int {
	perVar, kinds, err := r.slotLayout(slots)
	if err != nil || kinds == 0 {
		return nil
	}
	if !perVar {
		out := make([]int, kinds)
		for k, s := range slots {
			out[k], _ = backend.NumElements(s.Shape())
		}
		return out
	}
	sizes, _ := r.trainableSizes()
	total := 0
	for _, n := range sizes {
		total += n
	}
	out := make([]int, kinds)
	for k := range out {
		out[k] = total
	}
	return out
}

// restoreState gives a new replica the saved training state: the layers' counters and, when
// the model is compiled as it was saved, the optimizer's step count and state, whose k-th
// vector slot(k, layout) returns as tensors in the layout the updater uses.
func (m *Sequential) restoreState(r *replica, st *trainState, slot func(cur []backend.Tensor) ([]backend.Tensor, error)) error {
	if st == nil {
		return nil
	}
	if err := r.setLayerSteps(st.LayerSteps); err != nil {
		return err
	}
	if m.optimizer == nil || st.compileGen != m.compileGen {
		return nil
	}
	u, err := r.updater(m)
	if err != nil {
		return err
	}
	ts, err := slot(u.Slots())
	if err != nil {
		return fmt.Errorf("optimizer state: %w", err)
	}
	return u.Restore(st.Iterations, ts)
}

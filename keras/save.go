package keras

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/layers"
	"github.com/gotfe/gotfe/losses"
	"github.com/gotfe/gotfe/optimizers"
)

// File layout of Save and SaveShares, all integers little-endian:
//
//	magic   8 bytes   "GOTFEMDL" (model) or "GOTFESHR" (one party's shares)
//	version uint32    1
//	hlen    uint64    length of the header
//	header  hlen      JSON: architecture, compile configuration, weight names and shapes
//	payload           model: every weight as float64 in order; shares: the backend's encoding
//	crc     uint32    CRC-32 (IEEE) of everything before it
const (
	modelMagic  = "GOTFEMDL"
	sharesMagic = "GOTFESHR"
	fileVersion = 1
	maxHeader   = 64 << 20
)

type fileHeader struct {
	Format    string         `json:"format"`
	ClassName string         `json:"class_name"`
	Config    modelConfig    `json:"config"`
	Compile   *compileConfig `json:"compile,omitempty"`
	Weights   []weightEntry  `json:"weights"`
	Party     *int           `json:"party,omitempty"`
	Backend   string         `json:"backend,omitempty"`
	// State is the training state saved with the weights (optimizer steps and state sizes,
	// layer counters, epochs).
	State *trainState `json:"state,omitempty"`
	// SaveID names the save a party's share file belongs to: drawn from randomness the parties
	// share, so the three files of one save carry the same identifier.
	SaveID string `json:"save_id,omitempty"`
	// SlotShapes are the shapes of the optimizer's state tensors in a share file.
	SlotShapes [][]int `json:"slot_shapes,omitempty"`
}

type modelConfig struct {
	Name       string       `json:"name"`
	InputShape []int        `json:"input_shape"`
	Seed       uint64       `json:"seed"`
	Owner      int          `json:"owner"`
	Layers     []classEntry `json:"layers"`
}

type classEntry struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

type compileConfig struct {
	Optimizer classEntry `json:"optimizer"`
	Loss      classEntry `json:"loss"`
	Metrics   []string   `json:"metrics,omitempty"`
}

type weightEntry struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// header describes the model for a file.
func (m *Sequential) header(format string) (fileHeader, error) {
	h := fileHeader{Format: format, ClassName: "Sequential", Config: modelConfig{
		Name: m.name, InputShape: m.input, Seed: m.seed, Owner: m.owner}}
	for _, l := range m.layers {
		raw, err := json.Marshal(l.Config())
		if err != nil {
			return h, fmt.Errorf("layer %s: %w", l.Name(), err)
		}
		h.Config.Layers = append(h.Config.Layers, classEntry{ClassName: l.ClassName(), Config: raw})
	}
	if m.optimizer != nil && m.loss != nil {
		oc, err := json.Marshal(m.optimizer.Config())
		if err != nil {
			return h, err
		}
		lc, err := json.Marshal(m.loss.Config())
		if err != nil {
			return h, err
		}
		h.Compile = &compileConfig{Optimizer: classEntry{m.optimizer.Name(), oc}, Loss: classEntry{m.loss.Name(), lc}}
		for _, mt := range m.metrics {
			h.Compile.Metrics = append(h.Compile.Metrics, mt.name)
		}
	}
	for _, s := range m.weightSpecs() {
		h.Weights = append(h.Weights, weightEntry{Name: s.name, Shape: s.spec.Shape})
	}
	return h, nil
}

// encodeFile assembles magic, header, payload and checksum.
func encodeFile(magic string, h fileHeader, payload []byte) ([]byte, error) {
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 8+4+8+len(hj)+len(payload)+4)
	buf = append(buf, magic...)
	buf = binary.LittleEndian.AppendUint32(buf, fileVersion)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(hj)))
	buf = append(buf, hj...)
	buf = append(buf, payload...)
	return binary.LittleEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf)), nil
}

// decodeFile checks a file's framing and returns its header and payload.
func decodeFile(magic string, data []byte) (fileHeader, []byte, error) {
	var h fileHeader
	if len(data) < 8+4+8+4 {
		return h, nil, errors.New("file too short")
	}
	if string(data[:8]) != magic {
		if string(data[:8]) == modelMagic || string(data[:8]) == sharesMagic {
			return h, nil, fmt.Errorf("file is a %q file, want %q", data[:8], magic)
		}
		return h, nil, errors.New("not a gotfe file (bad magic)")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return h, nil, errors.New("checksum mismatch: the file is corrupt or truncated")
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != fileVersion {
		return h, nil, fmt.Errorf("file version %d, this build reads %d", v, fileVersion)
	}
	hlen := binary.LittleEndian.Uint64(data[12:])
	if hlen > maxHeader || hlen > uint64(len(body)-20) {
		return h, nil, fmt.Errorf("header length %d does not fit the file", hlen)
	}
	d := json.NewDecoder(bytes.NewReader(body[20 : 20+hlen]))
	d.DisallowUnknownFields()
	if err := d.Decode(&h); err != nil {
		return h, nil, fmt.Errorf("header: %w", err)
	}
	if h.ClassName != "Sequential" {
		return h, nil, fmt.Errorf("model class %q, want Sequential", h.ClassName)
	}
	return h, body[20+hlen:], nil
}

// writeFileAtomic writes data to a temporary file in path's directory, syncs it and renames it
// to path, so readers see either the old file or the new one.
func writeFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // make the rename durable where the platform allows
		_ = d.Close()
	}
	return nil
}

// Save writes the model (architecture, compile configuration and weights) to path in gotfe's
// format, atomically. Weights held by replicas are revealed to the model owner, who writes
// the file; in a process that does not run the owner Save writes nothing and returns nil.
func (m *Sequential) Save(path string) error {
	if err := m.built("Save"); err != nil {
		return err
	}
	w, err := m.GetWeights()
	if err != nil {
		return fmt.Errorf("keras: Save: %w", err)
	}
	if w == nil {
		return nil
	}
	h, err := m.header("gotfe-model")
	if err != nil {
		return fmt.Errorf("keras: Save: %w", err)
	}
	m.mu.Lock()
	st, vals := m.state, m.stateVals
	m.mu.Unlock()
	if st != nil {
		h.State = st
		if !st.hasSlots(m) || vals == nil {
			cp := *st
			cp.Slots, cp.Iterations = nil, 0
			h.State, vals = &cp, nil
		}
	}
	var payload []byte
	for _, v := range slices.Concat(w, vals) {
		for _, x := range v {
			payload = binary.LittleEndian.AppendUint64(payload, math.Float64bits(x))
		}
	}
	data, err := encodeFile(modelMagic, h, payload)
	if err != nil {
		return fmt.Errorf("keras: Save: %w", err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("keras: Save: %w", err)
	}
	return nil
}

// Load reads a model written by Save: its layers, weights and, when it was compiled, its
// optimizer (without its state), loss and metrics. The model runs on the plain engine until
// SetRunner says otherwise.
func Load(path string) (*Sequential, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keras: Load: %w", err)
	}
	m, err := load(data)
	if err != nil {
		return nil, fmt.Errorf("keras: Load %s: %w", path, err)
	}
	return m, nil
}

func load(data []byte) (*Sequential, error) {
	h, payload, err := decodeFile(modelMagic, data)
	if err != nil {
		return nil, err
	}
	m, err := fromHeader(h)
	if err != nil {
		return nil, err
	}
	read := func(name string, n int) ([]float64, error) {
		if n < 0 || uint64(len(payload)) < 8*uint64(n) {
			return nil, fmt.Errorf("%s truncated", name)
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(payload[8*i:]))
		}
		payload = payload[8*n:]
		return v, nil
	}
	var w [][]float64
	for _, s := range m.weightSpecs() {
		n, _ := backend.NumElements(s.spec.Shape)
		v, err := read("weights: "+s.name, n)
		if err != nil {
			return nil, err
		}
		w = append(w, v)
	}
	var vals [][]float64
	if h.State != nil {
		for k, n := range h.State.Slots {
			v, err := read(fmt.Sprintf("optimizer state vector %d", k), n)
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
		}
	}
	if len(payload) != 0 {
		return nil, fmt.Errorf("weights: %d bytes left over", len(payload))
	}
	if err := m.SetWeights(w); err != nil {
		return nil, err
	}
	if st := h.State; st != nil {
		st.compileGen = m.compileGen
		if m.optimizer == nil {
			st.Slots, vals = nil, nil
		}
		m.state, m.stateVals, m.epochs = st, vals, st.Epochs
	}
	return m, nil
}

// fromHeader rebuilds the model a header describes and checks its weight list.
func fromHeader(h fileHeader) (*Sequential, error) {
	ls := []layers.Layer{layers.Input(h.Config.InputShape...)}
	for _, e := range h.Config.Layers {
		l, err := layers.FromConfig(e.ClassName, e.Config)
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	m, err := NewSequential(ls...)
	if err != nil {
		return nil, err
	}
	if h.Config.Name != "" {
		m.name = h.Config.Name
	}
	m.seed = h.Config.Seed
	if err := m.SetOwner(h.Config.Owner); err != nil {
		return nil, err
	}
	if err := m.checkWeightList(h.Weights); err != nil {
		return nil, err
	}
	if c := h.Compile; c != nil {
		opt, err := optimizers.FromConfig(c.Optimizer.ClassName, c.Optimizer.Config)
		if err != nil {
			return nil, err
		}
		loss, err := losses.FromConfig(c.Loss.ClassName, c.Loss.Config)
		if err != nil {
			return nil, err
		}
		if err := m.Compile(opt, loss, Metrics(c.Metrics...)); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// checkWeightList returns an error unless the listed weights are the model's.
func (m *Sequential) checkWeightList(ws []weightEntry) error {
	all := m.weightSpecs()
	if len(ws) != len(all) {
		return fmt.Errorf("file lists %d weights, the model has %d", len(ws), len(all))
	}
	for i, s := range all {
		if ws[i].Name != s.name || !slices.Equal(ws[i].Shape, s.spec.Shape) {
			return fmt.Errorf("weight %d is %s %v in the file, %s %v in the model", i, ws[i].Name, ws[i].Shape, s.name, s.spec.Shape)
		}
	}
	return nil
}

// SharesPath returns the file SaveShares writes for a party: path + ".p<party>".
func SharesPath(path string, party int) string { return fmt.Sprintf("%s.p%d", path, party) }

// SaveShares makes every party write its own shares of the weights, without revealing them,
// to SharesPath(path, party), atomically. The backend must implement backend.ShareCodec; the
// plain engine, which holds no shares, does not.
func (m *Sequential) SaveShares(path string) error {
	if err := m.built("SaveShares"); err != nil {
		return err
	}
	err := m.run("SaveShares", nil, nil, func(b backend.Backend) error {
		codec, ok := b.(backend.ShareCodec)
		if !ok || b.Party() < 0 {
			return fmt.Errorf("backend %s holds no shares; use Save", b.Name())
		}
		r, err := m.replica(b)
		if err != nil {
			return err
		}
		h, err := m.header("gotfe-shares")
		if err != nil {
			return err
		}
		p := b.Party()
		h.Party, h.Backend = &p, b.Name()
		if pr, ok := b.(backend.PublicRandom); ok {
			h.SaveID = fmt.Sprintf("%016x", pr.PublicUint64())
		}
		st, slots := m.captureState(r)
		h.State = st
		var payload []byte
		for _, v := range r.vars {
			if payload, err = codec.AppendShare(payload, v.Value); err != nil {
				return fmt.Errorf("weight %s: %w", v.Name, err)
			}
		}
		for k, t := range slots {
			h.SlotShapes = append(h.SlotShapes, slices.Clone(t.Shape()))
			if payload, err = codec.AppendShare(payload, t); err != nil {
				return fmt.Errorf("optimizer state %d: %w", k, err)
			}
		}
		data, err := encodeFile(sharesMagic, h, payload)
		if err != nil {
			return err
		}
		return writeFileAtomic(SharesPath(path, p), data)
	})
	if err != nil {
		return fmt.Errorf("keras: SaveShares: %w", err)
	}
	return nil
}

// LoadShares makes every party read its own shares from SharesPath(path, party) into its
// replica of the model, which must have the architecture the files were saved from. The
// weights then live on the replicas, as after Fit.
func (m *Sequential) LoadShares(path string) error {
	if err := m.built("LoadShares"); err != nil {
		return err
	}
	type loaded struct {
		h       fileHeader
		payload []byte
		file    string
	}
	var (
		mu    sync.Mutex
		files = map[backend.Backend]*loaded{}
		built = map[backend.Backend]*replica{}
		state *trainState
	)
	read := func(b backend.Backend) ([]backend.Param, error) {
		if _, ok := b.(backend.ShareCodec); !ok || b.Party() < 0 {
			return nil, fmt.Errorf("backend %s holds no shares; use Load", b.Name())
		}
		file := SharesPath(path, b.Party())
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		h, payload, err := decodeFile(sharesMagic, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if h.Party == nil || *h.Party != b.Party() || h.Backend != b.Name() {
			return nil, fmt.Errorf("%s: shares of party %v on %q, want party %d on %q", file, h.Party, h.Backend, b.Party(), b.Name())
		}
		if err := m.checkWeightList(h.Weights); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		st := h.State
		if st == nil {
			st = &trainState{}
		}
		if len(h.SlotShapes) != 0 && len(h.SlotShapes) < len(st.Slots) {
			return nil, fmt.Errorf("%s: %d optimizer state shapes for %d vectors", file, len(h.SlotShapes), len(st.Slots))
		}
		mu.Lock()
		files[b] = &loaded{h: h, payload: payload, file: file}
		mu.Unlock()
		save := fmt.Sprintf("%s (epoch %d, step %d)", h.SaveID, st.Epochs, st.Iterations)
		return []backend.Param{{Name: "the save its share file belongs to", Value: save}}, nil
	}
	err := m.runEach("LoadShares", nil, read, func(b backend.Backend) error {
		codec := b.(backend.ShareCodec)
		mu.Lock()
		f := files[b]
		mu.Unlock()
		payload := f.payload
		r, err := m.newReplicaFrom(b, func(k int, s namedSpec) (backend.Tensor, error) {
			t, rest, err := codec.ReadShare(payload, s.spec.Shape)
			payload = rest
			return t, err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", f.file, err)
		}
		var slots []backend.Tensor
		for _, shape := range f.h.SlotShapes {
			var t backend.Tensor
			if t, payload, err = codec.ReadShare(payload, shape); err != nil {
				return fmt.Errorf("%s: optimizer state: %w", f.file, err)
			}
			slots = append(slots, t)
		}
		if len(payload) != 0 {
			return fmt.Errorf("%s: %d bytes left over", f.file, len(payload))
		}
		st := f.h.State
		if st != nil {
			st.compileGen = m.compileGen
			if len(slots) == 0 {
				st.Slots = nil
			}
			err := m.restoreState(r, st, func(cur []backend.Tensor) ([]backend.Tensor, error) {
				if len(cur) != len(slots) {
					return nil, fmt.Errorf("the optimizer keeps %d state tensors, the file has %d", len(cur), len(slots))
				}
				return slots, nil
			})
			if err != nil {
				return fmt.Errorf("%s: %w", f.file, err)
			}
		}
		mu.Lock()
		built[b] = r
		state = st
		mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("keras: LoadShares: %w", err)
	}
	m.mu.Lock()
	m.replicas = built
	m.diverged = true
	m.state, m.stateVals = nil, nil
	if state != nil {
		m.epochs = state.Epochs
	}
	m.mu.Unlock()
	return nil
}

package keras

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/backend/plain"
)

// fakeParty is a test stand-in for one party of a three-party backend: it computes in the
// clear like the plain engine, but plays one party only. Input takes data from the owner
// alone (non-owners must pass nil, and receive the owner's values over channels), Reveal and
// ArgMax return values to the recipient alone, and it encodes "shares" per party. It checks
// the SPMD discipline of the model code without any cryptography.
type fakeParty struct {
	*plain.Backend
	id  int
	hub *hub
}

type hub struct {
	ch [3][3]chan []float64 // ch[from][to]
}

func newFakeRunner() *fakeRunner {
	h := &hub{}
	for i := range h.ch {
		for j := range h.ch[i] {
			h.ch[i][j] = make(chan []float64, 4096)
		}
	}
	r := &fakeRunner{}
	for i := range r.parties {
		r.parties[i] = &fakeParty{Backend: plain.New(), id: i, hub: h}
	}
	return r
}

func (f *fakeParty) Name() string { return "fake3" }
func (f *fakeParty) Party() int   { return f.id }

func (f *fakeParty) Input(data []float64, shape []int, owner int) (backend.Tensor, error) {
	if owner < 0 || owner > 2 {
		return nil, fmt.Errorf("fake: owner %d", owner)
	}
	if f.id == owner {
		if data == nil {
			return nil, errors.New("fake: the owner passed no data")
		}
		for p := range 3 {
			if p != owner {
				f.hub.ch[owner][p] <- slices.Clone(data)
			}
		}
		return f.Backend.Input(data, shape, owner)
	}
	if data != nil {
		return nil, fmt.Errorf("fake: party %d passed data it does not own (owner %d)", f.id, owner)
	}
	select {
	case d := <-f.hub.ch[owner][f.id]:
		return f.Backend.Input(d, shape, owner)
	case <-time.After(5 * time.Second):
		return nil, fmt.Errorf("fake: party %d: no input from %d", f.id, owner)
	}
}

func (f *fakeParty) Reveal(t backend.Tensor, to int) ([]float64, error) {
	v, err := f.Backend.Reveal(t, to)
	if err != nil || (to >= 0 && to != f.id) {
		return nil, err
	}
	return v, nil
}

func (f *fakeParty) ArgMax(t backend.Tensor, to int) ([]int, error) {
	v, err := f.Backend.ArgMax(t, to)
	if err != nil || (to >= 0 && to != f.id) {
		return nil, err
	}
	return v, nil
}

// AppendShare writes the party index and the values (a stand-in for real shares).
func (f *fakeParty) AppendShare(dst []byte, t backend.Tensor) ([]byte, error) {
	v, err := f.Backend.Reveal(t, -1)
	if err != nil {
		return nil, err
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(f.id))
	for _, x := range v {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
	}
	return dst, nil
}

func (f *fakeParty) ReadShare(data []byte, shape []int) (backend.Tensor, []byte, error) {
	n, err := backend.NumElements(shape)
	if err != nil {
		return nil, nil, err
	}
	if len(data) < 4+8*n || binary.LittleEndian.Uint32(data) != uint32(f.id) {
		return nil, nil, errors.New("fake: bad share")
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[4+8*i:]))
	}
	t, err := f.Backend.Input(v, shape, f.id)
	return t, data[4+8*n:], err
}

var _ backend.ShareCodec = (*fakeParty)(nil)

// Concat joins tensors along axis 0 (the only axis Fit joins), so that the fake parties take
// the path of a secure engine that computes the metrics of several steps at once.
func (f *fakeParty) Concat(axis int, xs ...backend.Tensor) (backend.Tensor, error) {
	if axis != 0 || len(xs) == 0 {
		return nil, fmt.Errorf("fake: concat of %d tensors along axis %d", len(xs), axis)
	}
	var all []float64
	shape := slices.Clone(xs[0].Shape())
	shape[0] = 0
	for _, x := range xs {
		v, err := f.Backend.Reveal(x, -1)
		if err != nil {
			return nil, err
		}
		all = append(all, v...)
		shape[0] += x.Shape()[0]
	}
	return f.Backend.Const(all, shape)
}

var _ concatenator = (*fakeParty)(nil)

// fakeRunner runs a program on three fake parties concurrently.
type fakeRunner struct {
	parties [3]*fakeParty
}

func (r *fakeRunner) Run(fn func(b backend.Backend) error) error {
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, p := range r.parties {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(p); err != nil {
				errs[i] = fmt.Errorf("party %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

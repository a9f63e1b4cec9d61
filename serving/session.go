package serving

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// A session is the three parties' life between two failures of their links. At its start
// party 0 sends the model's architecture (public) and the parties agree on it and on the
// output mode; party 0 then secret-shares the weights. Then, batch after batch:
//
//  1. Party 0 proposes a batch: the IDs and row counts of requests it received, in arrival
//     order (or an empty proposal, a heartbeat, when idle).
//  2. Parties 1 and 2 look for the proposed requests among those they received, waiting at
//     most ArrivalWait for late ones, and tell the other two which ones they hold, with a
//     digest of the proposal they received (party 0 holds every request it proposes).
//  3. The batch is the requests all three hold: every party computes the same set from the
//     same three answers, so the parties agree on each batch before computing it. The other
//     proposed requests fail on every party, naming the party that lacked them.
//  4. The parties run the model on the batch and send each client its output shares.
//
// Every message carries the sender's position in the program (package aby3), so a party that
// took another branch is caught at the next message; any failure of the computation ends the
// session on every party, and the next session starts from fresh links and fresh shares of
// the weights.

// errPeerStopped ends a session when party 0 stops serving in order.
var errPeerStopped = errors.New("party 0 stopped serving")

// setupMsg is what party 0 tells the others at the start of a session.
type setupMsg struct {
	Architecture json.RawMessage `json:"architecture"`
	Output       string          `json:"output"`
	MaxRows      int             `json:"max_rows"`
}

// proposal is party 0's batch proposal.
type proposal struct {
	Stop bool     `msgpack:"stop,omitempty"`
	IDs  [][]byte `msgpack:"ids,omitempty"`
	Rows []int    `msgpack:"rows,omitempty"`
}

// holding is what each party tells the others about a proposal.
type holding struct {
	Digest []byte `msgpack:"digest"`
	Have   []byte `msgpack:"have"` // one byte per proposed request: 1 if this party holds it
}

// session runs one session on links; it returns nil after an orderly shutdown of this party.
func (s *Server) session(ctx context.Context, links Links) error {
	id := secure.PartyID(s.cfg.Party)
	p, err := aby3.NewParty(ctx, id, links, s.cfg.Engine)
	if err != nil {
		return err
	}
	b := mpc.New(p)
	sm, info, err := s.setup(b)
	if err != nil {
		p.NotifyFailure("serving set-up", err)
		return err
	}
	s.setUp(info)
	s.log.Info("session up", "model", info.Model, "output", info.Output, "input_shape", info.InputShape, "max_rows", info.MaxRows)
	for {
		before := p.Stats() // a batch's costs count its proposal
		p.Begin("serve: proposal", nil)
		var prop proposal
		if id == 0 {
			var err error
			if prop, err = s.propose(ctx); err != nil {
				return err
			}
			msg, err := msgpack.Marshal(&prop)
			if err != nil {
				return err
			}
			if _, err := p.BroadcastBytes(msg, 0); err != nil {
				s.release(prop, err)
				return err
			}
		} else {
			msg, err := p.BroadcastBytes(nil, 0)
			if err != nil {
				return err
			}
			if err := msgpack.Unmarshal(msg, &prop); err != nil || len(prop.IDs) != len(prop.Rows) {
				return fmt.Errorf("malformed proposal from party 0: %v", err)
			}
		}
		if prop.Stop {
			if id == 0 {
				return nil
			}
			return errPeerStopped
		}
		if len(prop.IDs) > 0 {
			if err := s.batch(ctx, b, sm, info, prop, before); err != nil {
				return err
			}
		}
		if id != 0 && s.drained() {
			return nil
		}
	}
}

// setup agrees on the model and shares its weights.
func (s *Server) setup(b *mpc.Backend) (*secureModel, *ModelInfo, error) {
	p, err := b.Aby3Party()
	if err != nil {
		return nil, nil, err
	}
	var msg []byte
	if s.cfg.Party == 0 {
		if msg, err = json.Marshal(setupMsg{Architecture: s.arch, Output: s.cfg.Output, MaxRows: s.cfg.MaxBatchRows}); err != nil {
			return nil, nil, err
		}
	}
	msg, err = p.BroadcastBytes(msg, 0)
	if err != nil {
		return nil, nil, err
	}
	var set setupMsg
	var m *keras.Sequential
	prepErr := json.Unmarshal(msg, &set)
	if prepErr == nil {
		m, prepErr = keras.UnmarshalArchitecture(set.Architecture)
	}
	if prepErr == nil {
		if set.Output, prepErr = resolveOutput(m, set.Output); prepErr == nil && set.MaxRows < 1 {
			prepErr = fmt.Errorf("max rows %d", set.MaxRows)
		}
	}
	params := []aby3.Param{{Name: "architecture", Value: aby3.Digest(set.Architecture)}, {Name: "output", Value: set.Output},
		{Name: "max rows", Value: strconv.Itoa(set.MaxRows)}}
	if err := p.Agree("serving set-up", params, prepErr); err != nil {
		return nil, nil, err
	}
	ls, err := headLayers(m, set.Output)
	if err != nil {
		return nil, nil, err
	}
	var weights [][]float64
	if s.cfg.Party == 0 {
		weights = s.weights
	}
	sm, err := buildSecure(b, ls, m.InputShape(), weights, set.Output)
	if err != nil {
		return nil, nil, err
	}
	info := &ModelInfo{InputShape: m.InputShape(), OutputShape: m.OutputShape(), Output: set.Output,
		FracBits: p.Encoding().FracBits, Model: aby3.Digest(set.Architecture), MaxRows: set.MaxRows}
	return sm, info, nil
}

// propose waits for requests (party 0) and takes the next batch from the queue in arrival
// order: an empty proposal after Heartbeat without any, a stop once a shutdown has drained
// every request.
func (s *Server) propose(ctx context.Context) (proposal, error) {
	heartbeat := time.NewTimer(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		s.mu.Lock()
		now := time.Now()
		live := s.queue[:0]
		rows := 0
		for _, r := range s.queue {
			if !r.gone && !r.taken {
				live = append(live, r)
				rows += r.rows
			}
		}
		clear(s.queue[len(live):])
		s.queue = live
		var wait time.Duration
		if len(live) > 0 && s.cfg.BatchWindow > 0 && rows < s.cfg.MaxBatchRows {
			wait = live[0].arrived.Add(s.cfg.BatchWindow).Sub(now)
		}
		if len(live) > 0 && wait <= 0 {
			var prop proposal
			n, k := 0, 0
			for _, r := range live {
				if n+r.rows > s.cfg.MaxBatchRows {
					break
				}
				r.taken = true
				delete(s.pending, r.key)
				s.taking[r.key] = r
				prop.IDs, prop.Rows = append(prop.IDs, r.id), append(prop.Rows, r.rows)
				n += r.rows
				k++
			}
			s.queue = slices.Delete(s.queue, 0, k)
			s.mu.Unlock()
			return prop, nil
		}
		if s.draining && s.open == 0 {
			s.mu.Unlock()
			return proposal{Stop: true}, nil
		}
		ch := s.arrived
		s.mu.Unlock()
		var window <-chan time.Time
		if wait > 0 {
			window = time.After(wait)
		}
		select {
		case <-ctx.Done():
			return proposal{}, ctx.Err()
		case <-heartbeat.C:
			return proposal{}, nil
		case <-ch:
		case <-window:
		}
	}
}

// take finds the proposed requests among those this party received, waiting at most
// ArrivalWait for late ones (parties 1 and 2), and returns them with the holding bitmap.
func (s *Server) take(ctx context.Context, prop proposal) ([]*pendingReq, []byte) {
	reqs := make([]*pendingReq, len(prop.IDs))
	have := make([]byte, len(prop.IDs))
	if s.cfg.Party == 0 {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i := range prop.IDs {
			// propose took them: find them again by the batch's own record.
			reqs[i] = s.taking[string(prop.IDs[i])]
			have[i] = 1
		}
		return reqs, have
	}
	deadline := time.NewTimer(s.cfg.ArrivalWait)
	defer deadline.Stop()
	expired := false
	for {
		s.mu.Lock()
		missing, arriving := 0, 0
		for i, id := range prop.IDs {
			if reqs[i] != nil {
				continue
			}
			missing++
			r := s.pending[string(id)]
			if r == nil || r.gone || r.taken || r.rows != prop.Rows[i] {
				continue
			}
			if r.arriving {
				// Its header is here: wait for its shares, whatever ArrivalWait says (its
				// deadline bounds the wait).
				arriving++
				continue
			}
			r.taken = true
			delete(s.pending, r.key)
			reqs[i], have[i] = r, 1
			missing--
		}
		ch := s.arrived
		s.mu.Unlock()
		if missing == 0 || (expired && arriving == 0) {
			return reqs, have
		}
		select {
		case <-ch:
		case <-deadline.C:
			expired = true
		case <-ctx.Done():
			return reqs, have
		}
	}
}

// release answers the requests of a proposal that will not be computed.
func (s *Server) release(prop proposal, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range prop.IDs {
		if r := s.taking[string(id)]; r != nil {
			r.done <- result{err: err}
			delete(s.taking, string(id))
		}
	}
}

// batch agrees on a proposal's batch, computes it and answers its requests. before is the
// party's counters before the proposal, so that the batch's metrics include it.
func (s *Server) batch(ctx context.Context, b *mpc.Backend, sm *secureModel, info *ModelInfo, prop proposal, before aby3.Stats) error {
	p, err := b.Aby3Party()
	if err != nil {
		return err
	}
	start := time.Now()
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	reqs, have := s.take(ctx, prop)
	if s.cfg.Party == 0 {
		s.mu.Lock()
		for _, id := range prop.IDs {
			delete(s.taking, string(id))
		}
		s.mu.Unlock()
	}
	answer := func(i int, res result) {
		if reqs[i] != nil {
			reqs[i].done <- res
		}
	}
	p.Begin("serve: batch", []int{len(prop.IDs)})
	raw, err := msgpack.Marshal(&prop)
	if err != nil {
		return err
	}
	digest := sha256.Sum256(raw)
	msg, err := msgpack.Marshal(&holding{Digest: digest[:16], Have: have})
	if err != nil {
		return err
	}
	// Party 0 proposes only requests it holds: parties 1 and 2 alone tell which they hold
	// and what proposal they received. Party 0 checks both digests against its own, and
	// each of the others checks its peer's; a party that finds a mismatch ends the session,
	// which fails the others at their next message.
	all, err := p.ExchangeBytesExcept(msg, 0)
	if err != nil {
		for i := range reqs {
			answer(i, result{err: fmt.Errorf("the parties could not agree on the batch: %w", err)})
		}
		return err
	}
	in := make([]bool, len(prop.IDs))
	lacking := make([][]int, len(prop.IDs))
	for j, m := range all {
		if j == 0 {
			continue // holds every request it proposed
		}
		var h holding
		if err := msgpack.Unmarshal(m, &h); err != nil || len(h.Have) != len(prop.IDs) {
			err = fmt.Errorf("malformed batch agreement from party %d", j)
			for i := range reqs {
				answer(i, result{err: err})
			}
			return err
		}
		if !bytes.Equal(h.Digest, digest[:16]) {
			err := fmt.Errorf("party %d received another batch proposal than party %d", j, s.cfg.Party)
			for i := range reqs {
				answer(i, result{err: err})
			}
			return err
		}
		for i, v := range h.Have {
			if v != 1 {
				lacking[i] = append(lacking[i], j)
			}
		}
	}
	var batch []*pendingReq
	rows := 0
	for i := range prop.IDs {
		in[i] = len(lacking[i]) == 0
		if !in[i] {
			names := make([]string, len(lacking[i]))
			for k, j := range lacking[i] {
				names[k] = "party " + strconv.Itoa(j)
			}
			answer(i, result{err: fmt.Errorf("incomplete request: %s did not receive its shares in time (the client sent it to some parties only, or too late)", strings.Join(names, " and "))})
			continue
		}
		batch = append(batch, reqs[i])
		rows += reqs[i].rows
	}
	if len(batch) == 0 {
		return nil
	}
	size := numel(info.InputShape)
	xa, xb := batch[0].xa, batch[0].xb // one request: its shares as they are
	if len(batch) > 1 {
		xa, xb = make([]uint64, 0, rows*size), make([]uint64, 0, rows*size)
		for _, r := range batch {
			xa, xb = append(xa, r.xa...), append(xb, r.xb...)
		}
	}
	x, err := aby3.NewShared(append([]int{rows}, info.InputShape...), xa, xb)
	if err == nil {
		var out []uint64
		var frac int
		if out, frac, err = sm.run(b, x); err == nil {
			w := info.outWords()
			if len(out) != rows*w {
				err = fmt.Errorf("the model computed %d output values for %d rows, want %d each", len(out), rows, w)
			} else {
				at := 0
				for _, r := range batch {
					r.done <- result{share: out[at*w : (at+r.rows)*w], frac: frac, batch: seq}
					at += r.rows
				}
			}
		}
	}
	if err != nil {
		for _, r := range batch {
			r.done <- result{err: fmt.Errorf("the secure computation failed: %w", err)}
		}
		return err
	}
	d := p.Stats().Sub(before)
	s.cfg.Metrics.batch(rows, time.Since(start), d.BytesSent, d.Rounds, d.Messages)
	s.log.Debug("batch", "batch", seq, "requests", len(batch), "rows", rows, "latency", time.Since(start), "bytes_sent", d.BytesSent, "rounds", d.Rounds)
	return nil
}

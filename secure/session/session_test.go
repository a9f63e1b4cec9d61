package session

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
)

// run3 sets up three sessions over the in-memory links, with the dealt traffic's window and
// quantum shrunk to window and quantum bytes, and runs fn on each.
func run3(t *testing.T, window, quantum int64, fn func(s *Session) error) [3]error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var errs [3]error
	_ = launch.Run(ctx, launch.MemNetworks(), func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		s, err := New(ctx, "test", id, net, Config{Rand: rand.NewChaCha8([32]byte{byte(id)}), StallProbe: -1})
		if err != nil {
			errs[id] = err
			return err
		}
		s.ahead.window, s.ahead.quantum = window, quantum
		errs[id] = fn(s)
		return errs[id]
	})
	return errs
}

// A dealer runs ahead of its receiver by at most the window: party 2 deals 60 messages of 128
// bytes to party 1, which reads them after a pause; after every message, what party 1 has not
// yet acknowledged stays within the window, party 1 returns one credit per quantum read, and
// the credits still queued are skipped by the agreement that follows.
func TestDealtTrafficIsPaced(t *testing.T) {
	const (
		window, quantum = 1000, 250
		msgs, words     = 60, 10
		size            = 8*words + MessageOverhead
	)
	var stats [3]Stats
	errs := run3(t, window, quantum, func(s *Session) error {
		for i := range msgs {
			s.Begin("deal", []int{i})
			switch s.ID() {
			case 2:
				if err := s.SendAhead("deal", 1, make([]uint64, words)); err != nil {
					return err
				}
				a := &s.ahead
				if unacked := a.sent[1] - a.credits[1]*quantum; unacked > window {
					return errors.New("the dealer ran more than the window ahead")
				}
			case 1:
				if i == 0 {
					time.Sleep(50 * time.Millisecond) // let the dealer fill its window
				}
				if _, err := s.RecvAhead("deal", 2, words); err != nil {
					return err
				}
			}
		}
		if err := s.Agree("after", nil, nil); err != nil {
			return err
		}
		stats[s.ID()] = s.Stats()
		return nil
	})
	require.Equal(t, [3]error{}, errs)
	assert.Equal(t, int64(msgs), stats[2].DealerMessages)
	assert.Equal(t, int64(msgs*size), stats[2].DealerBytes)
	assert.Equal(t, int64(2), stats[2].Messages, "the dealer's only online messages are its agreement")
	credits := int64(msgs * size / quantum)
	assert.Equal(t, credits, stats[1].DealerMessages, "one credit per quantum read")
	assert.Equal(t, credits*MessageOverhead, stats[1].DealerBytes)
	assert.Zero(t, stats[0].DealerMessages)
}

// A receiver that sends data where the dealer waits for a credit is out of step: the dealer
// fails with a desynchronisation.
func TestDataInsteadOfCreditIsAnError(t *testing.T) {
	errs := run3(t, 200, 100, func(s *Session) error {
		s.Begin("deal", nil)
		switch s.ID() {
		case 2:
			for range 3 { // the third message exceeds the window
				if err := s.SendAhead("deal", 1, make([]uint64, 10)); err != nil {
					return err
				}
			}
		case 1:
			s.Begin("other", nil)
			return s.Send("other", 2, []uint64{1})
		}
		return nil
	})
	var de *DesyncError
	require.ErrorAs(t, errs[2], &de)
	assert.Equal(t, "other", de.TheirOp)
}

// A buffer with SendSlack words of spare capacity takes its trailer in place: over the
// in-memory links (which hand slices over) the receiver reads the sender's very array. One
// without the slack is copied, and arrives intact all the same.
func TestSendWritesTheTrailerInPlace(t *testing.T) {
	const n = 1000
	var sent [2][]uint64
	var got [2][]uint64
	errs := run3(t, 1<<20, 1<<16, func(s *Session) error {
		switch s.ID() {
		case 0:
			for k := range sent {
				c := n
				if k == 0 {
					c += SendSlack
				}
				v := make([]uint64, n, c)
				for i := range v {
					v[i] = uint64(i*7 + k)
				}
				sent[k] = v
				if err := s.Send("test", 1, v); err != nil {
					return err
				}
			}
		case 1:
			for k := range got {
				v, err := s.Recv("test", 0, n)
				if err != nil {
					return err
				}
				got[k] = v
			}
		}
		return nil
	})
	require.Equal(t, [3]error{}, errs)
	for k := range got {
		require.Len(t, got[k], n)
		for i, x := range got[k] {
			require.Equal(t, uint64(i*7+k), x, "message %d, word %d", k, i)
		}
	}
	assert.Same(t, &sent[0][0], &got[0][0], "with the slack, no copy")
	assert.NotSame(t, &sent[1][0], &got[1][0], "without it, a copy")
}

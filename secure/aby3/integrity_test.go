package aby3_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure/aby3"
)

// Every message carries the sender's position: a party one operation ahead fails the next
// exchange, on both ends of the link, with an error naming both operations.
func TestDesyncNamesBothOperations(t *testing.T) {
	var errs [3]error
	err := try3(1, func(p *aby3.Party) error {
		x, err := p.Share(0, []float64{1, 2, 3}, []int{3})
		if err != nil {
			return err
		}
		p.Begin("Add", []int{3})
		if p.ID() == 1 {
			p.Begin("Scale", []int{3}) // one operation more than the others
		}
		_, err = p.Reveal(x, -1)
		errs[p.ID()] = err
		return err
	})
	require.Error(t, err)
	// Party 2 receives from party 1 (one operation ahead), party 1 from party 0 (one behind);
	// whichever fails first may cut the other short.
	var found bool
	for _, e := range errs[1:] {
		var de *aby3.DesyncError
		if !errors.As(e, &de) {
			continue
		}
		found = true
		switch de.Peer {
		case 1:
			assert.Equal(t, "Scale", de.TheirOp)
			assert.Equal(t, "Add", de.OurOp)
			assert.Equal(t, de.OurCount+1, de.TheirCount)
			assert.Contains(t, de.Error(), "operation 2 (Scale)")
		case 0:
			assert.Equal(t, "Add", de.TheirOp)
			assert.Equal(t, "Scale", de.OurOp)
			assert.Equal(t, de.TheirCount+1, de.OurCount)
		default:
			t.Errorf("desynchronised with %v", de.Peer)
		}
	}
	assert.True(t, found, "a party names the desynchronisation: %v", errs)
}

// A payload of more than one chunk (2^20 elements) travels as several messages and arrives
// whole.
func TestLargeMessagesArriveWhole(t *testing.T) {
	n := 1<<20 + 3
	if testing.Short() {
		t.Skip("allocates 100 MB")
	}
	vals := make([]float64, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range vals {
		vals[i] = float64(r.IntN(2000) - 1000)
	}
	var got []float64
	var msgs int64
	run3(t, 2, func(p *aby3.Party) error {
		x, err := p.Share(0, vals, []int{n})
		if err != nil {
			return err
		}
		before := p.Stats()
		v, err := p.Reveal(x, 0)
		if p.ID() == 0 {
			got = v
		}
		if p.ID() == 2 {
			msgs = p.Stats().Sub(before).Messages
		}
		return err
	})
	assert.Equal(t, vals, got)
	assert.Equal(t, int64(2), msgs, "party 2 sends its component in two chunks")
}

// Agree passes when the three parties hold the same parameters, and otherwise fails on every
// party with an error naming the parameter; a party that failed before the step makes the
// others fail with its reason.
func TestAgree(t *testing.T) {
	same := []aby3.Param{{Name: "batch size", Value: "32"}, {Name: "samples", Value: "100"}}
	var errs [3]error
	run3(t, 3, func(p *aby3.Party) error {
		errs[p.ID()] = p.Agree("Fit", same, nil)
		return nil
	})
	assert.Equal(t, [3]error{}, errs)

	_ = try3(4, func(p *aby3.Party) error {
		ps := same
		if p.ID() == 2 {
			ps = []aby3.Param{{Name: "batch size", Value: "64"}, {Name: "samples", Value: "100"}}
		}
		errs[p.ID()] = p.Agree("Fit", ps, nil)
		return nil
	})
	for i, err := range errs {
		var ae *aby3.AgreementError
		require.ErrorAs(t, err, &ae, "party %d", i)
		assert.Equal(t, "batch size", ae.Param)
	}
	assert.Contains(t, errs[0].Error(), "P2 has 64, this party has 32")

	_ = try3(5, func(p *aby3.Party) error {
		var failed error
		if p.ID() == 1 {
			failed = errors.New("cannot read its file")
		}
		errs[p.ID()] = p.Agree("LoadShares", same, failed)
		return nil
	})
	assert.EqualError(t, errs[1], "cannot read its file")
	assert.Contains(t, errs[0].Error(), "P1 failed: cannot read its file")
	assert.Contains(t, errs[2].Error(), "P1 failed: cannot read its file")
}

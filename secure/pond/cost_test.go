package pond_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/pond"
	"github.com/gotfe/gotfe/secure/session"
)

// A matrix product costs one round of opening between parties 0 and 1 (one message each way,
// the masked operands: m·k + k·n words) plus the producer's one message to party 1 (the m·n
// words of its share of C = A·B), which counts as dealt traffic and no round; party 0 receives
// nothing from the producer, and the producer nothing from anyone.
func TestMatMulCostsOneRoundAndOneDealtMessage(t *testing.T) {
	const m, k, n = 13, 70, 9
	r := rand.New(rand.NewPCG(3, 4))
	x, y := randValues(r, m*k, -4, 2), randValues(r, k*n, -4, 2)
	var costs [3]session.Stats
	run3(t, 5, func(p *pond.Party) error {
		sx, err := p.Share(0, pick(p, 0, x), []int{m, k})
		if err != nil {
			return err
		}
		sy, err := p.Share(1, pick(p, 1, y), []int{k, n})
		if err != nil {
			return err
		}
		before := p.Stats()
		if _, err := p.MatMulRing(sx, sy); err != nil {
			return err
		}
		costs[p.ID()] = p.Stats().Sub(before)
		return nil
	})
	opening := int64(8*(m*k+k*n) + session.MessageOverhead)
	for id := range 2 {
		assert.Equal(t, session.Stats{Rounds: 1, Messages: 1, BytesSent: opening}, costs[id], "party %d", id)
	}
	c := costs[pond.Producer]
	assert.Equal(t, int64(1), c.Rounds, "the producer counts the round")
	assert.Equal(t, int64(0), c.Messages, "the producer sends nothing online")
	assert.Equal(t, int64(1), c.DealerMessages)
	assert.Equal(t, int64(8*m*n+session.MessageOverhead), c.DealerBytes)
}

// pick returns v on the party that owns it and nil elsewhere.
func pick(p *pond.Party, owner secure.PartyID, v []float64) []float64 {
	if p.ID() == owner {
		return v
	}
	return nil
}

// The producer deals without waiting for anything from the share holders: it runs a whole
// program of products, comparisons and truncations to its end before parties 0 and 1 start,
// and they then compute the right results from what it dealt.
func TestProducerRunsAhead(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	producerDone := make(chan struct{})
	x := []float64{1.5, -2, 3.25, -0.5, 7, 4}
	var got []float64
	err := launch.Local(ctx, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		p, err := pond.NewParty(ctx, id, net, pond.Config{})
		if err != nil {
			return err
		}
		if id != pond.Producer {
			select {
			case <-producerDone:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		sx, err := p.Share(0, pick(p, 0, x), []int{2, 3})
		if err != nil {
			return err
		}
		xt, err := p.Transpose(sx)
		if err != nil {
			return err
		}
		z, err := p.MatMul(sx, xt) // [2, 2], with a negative entry

		if err != nil {
			return err
		}
		y, _, err := p.ReLU(z)
		if err != nil {
			return err
		}
		s, err := p.Mul(y, y)
		if err != nil {
			return err
		}
		if id == pond.Producer {
			close(producerDone)
			return nil
		}
		v, err := p.Reveal(s, 0)
		if id == 0 {
			got = v
		}
		return err
	})
	require.NoError(t, err)
	// (ReLU(x·xᵀ))²: the products' truncations err by less than one ulp each, and the square
	// doubles the error of its operand (below 66).
	var want []float64
	for i := range 2 {
		for j := range 2 {
			var d float64
			for k := range 3 {
				d += x[i*3+k] * x[j*3+k]
			}
			d = max(d, 0)
			want = append(want, d*d)
		}
	}
	assert.InDeltaSlice(t, want, got, (2*66+1)*ulp)
}

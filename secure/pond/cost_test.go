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

// An operand opened in a product is not sent again: a second product with the same weight
// opens only the new input, a product with the weight's transpose and a fresh gradient only
// the gradient, and one of two operands opened before sends nothing but the producer's
// message; the results stay exact.
func TestOpenedOperandsAreNotSentAgain(t *testing.T) {
	const m, k, n = 6, 20, 5
	r := rand.New(rand.NewPCG(8, 9))
	x, x2, w, d := randValues(r, m*k, -4, 2), randValues(r, m*k, -4, 2), randValues(r, k*n, -4, 2), randValues(r, m*n, -4, 2)
	var sent [4]int64
	var got [4][]float64
	run3(t, 6, func(p *pond.Party) error {
		sx, err := p.Share(0, pick(p, 0, x), []int{m, k})
		if err != nil {
			return err
		}
		sx2, err := p.Share(0, pick(p, 0, x2), []int{m, k})
		if err != nil {
			return err
		}
		sw, err := p.Share(1, pick(p, 1, w), []int{k, n})
		if err != nil {
			return err
		}
		sd, err := p.Share(0, pick(p, 0, d), []int{m, n})
		if err != nil {
			return err
		}
		transposed := func(a, b *pond.Shared, ta bool) (*pond.Shared, error) {
			t := b
			if ta {
				t = a
			}
			tt, err := p.Transpose(t) // after the opening: the transpose carries it
			if err != nil {
				return nil, err
			}
			if ta {
				return p.MatMul(tt, b)
			}
			return p.MatMul(a, tt)
		}
		steps := []func() (*pond.Shared, error){
			func() (*pond.Shared, error) { return p.MatMul(sx, sw) },          // both fresh
			func() (*pond.Shared, error) { return p.MatMul(sx2, sw) },         // w opened before
			func() (*pond.Shared, error) { return transposed(sd, sw, false) }, // wᵀ: opened as w
			func() (*pond.Shared, error) { return transposed(sx, sd, true) },  // both opened before
		}
		for i, step := range steps {
			before := p.Stats()
			z, err := step()
			if err != nil {
				return err
			}
			if p.ID() == 0 {
				sent[i] = p.Stats().Sub(before).BytesSent
			}
			v, err := p.Reveal(z, 0)
			if p.ID() == 0 {
				got[i] = v
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	// Party 0's bytes: the Beaver round's masked operands, and the truncation round's bits.
	bits := func(elems int) int64 { return int64(8*((elems+63)/64) + session.MessageOverhead) }
	assert.Equal(t, int64(8*(m*k+k*n)+session.MessageOverhead)+bits(m*n), sent[0])
	assert.Equal(t, int64(8*m*k+session.MessageOverhead)+bits(m*n), sent[1])
	assert.Equal(t, int64(8*m*n+session.MessageOverhead)+bits(m*k), sent[2])
	assert.Equal(t, bits(k*n), sent[3])
	mm := func(a, b []float64, rows, inner, cols int, ta, tb bool) []float64 {
		out := make([]float64, rows*cols)
		for i := range rows {
			for j := range cols {
				for l := range inner {
					av, bv := a[i*inner+l], b[l*cols+j]
					if ta {
						av = a[l*rows+i]
					}
					if tb {
						bv = b[j*inner+l]
					}
					out[i*cols+j] += quantize(av) * quantize(bv)
				}
			}
		}
		return out
	}
	want := [][]float64{mm(x, w, m, k, n, false, false), mm(x2, w, m, k, n, false, false),
		mm(d, w, m, n, k, false, true), mm(x, d, k, m, n, true, false)}
	for i := range want {
		assert.InDeltaSlice(t, want[i], got[i], ulp, "product %d", i)
	}
}

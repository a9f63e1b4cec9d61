package aby3_test

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// An outside client's sharing opens to its values, the parties' output shares add up to the
// value they share, and neither a party's input pair nor any two output shares reveal it: the
// ring is exact, so every check is equality.
func TestOutsideInputAndOutput(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 7, 1000} {
		x := make([]uint64, n)
		for i := range x {
			x[i] = r.Uint64()
		}
		x[0] = 0
		parts, err := aby3.SplitForParties(x, rand.NewChaCha8([32]byte{byte(n)}))
		require.NoError(t, err)
		for i := range parts {
			// Party i holds (x_i, x_{i+1}): the pair it shares with its neighbours.
			require.Equal(t, parts[i][1], parts[(i+1)%3][0])
			// Its two components alone do not add up to x (they would, with negligible
			// probability, only if x_{i+2} were 0).
			for e := range x {
				require.NotEqual(t, x[e], parts[i][0][e]+parts[i][1][e])
			}
		}
		var mu sync.Mutex
		var outs [3][]uint64
		var opened [3][]uint64
		run3(t, uint64(n), func(p *aby3.Party) error {
			own := parts[p.ID()]
			s, err := aby3.NewShared([]int{n}, slices.Clone(own[0]), slices.Clone(own[1]))
			if err != nil {
				return err
			}
			o := p.OutputShare(s)
			v, err := p.RevealRing(s, -1)
			if err != nil {
				return err
			}
			mu.Lock()
			outs[p.ID()], opened[p.ID()] = o, v
			mu.Unlock()
			return nil
		})
		for i := range opened {
			require.Equal(t, x, opened[i])
		}
		sum := make([]uint64, n)
		require.NoError(t, aby3.CombineOutput(sum, outs))
		require.Equal(t, x, sum)
		for i := range outs {
			for e := range x {
				// No output share is one of the client's components, nor the value.
				for j := range parts {
					require.NotEqual(t, parts[j][0][e], outs[i][e])
				}
				require.NotEqual(t, x[e], outs[i][e])
			}
		}
	}
	require.Error(t, aby3.CombineOutput(make([]uint64, 2), [3][]uint64{{1, 2}, {1}, {1, 2}}))
}

// ExchangeBytesExcept gives every party the data of the two others than the silent one, in
// one round; the silent party sends no message, and the next exchange still lines up.
func TestExchangeBytesExcept(t *testing.T) {
	for silent := range secure.PartyID(3) {
		var mu sync.Mutex
		var ex [3][3][]byte
		var sent [3]int64
		run3(t, 11, func(p *aby3.Party) error {
			before := p.Stats()
			all, err := p.ExchangeBytesExcept([]byte{byte(p.ID()), 7}, silent)
			if err != nil {
				return err
			}
			d := p.Stats().Sub(before)
			if _, err := p.ExchangeBytes([]byte{byte(p.ID())}); err != nil {
				return err
			}
			mu.Lock()
			ex[p.ID()], sent[p.ID()] = all, d.Messages
			mu.Unlock()
			require.Equal(t, int64(1), d.Rounds)
			return nil
		})
		for i := range ex {
			for j := range ex[i] {
				if secure.PartyID(j) == silent {
					require.Nil(t, ex[i][j], "party %d's entry for silent %d", i, j)
					continue
				}
				require.Equal(t, []byte{byte(j), 7}, ex[i][j], "party %d's entry for %d", i, j)
			}
			want := int64(2)
			if secure.PartyID(i) == silent {
				want = 0
			}
			require.Equal(t, want, sent[i], "messages of party %d, silent %d", i, silent)
		}
	}
	run3(t, 12, func(p *aby3.Party) error {
		_, err := p.ExchangeBytesExcept(nil, 3)
		require.Error(t, err)
		return nil
	})
}

// A random sharing opens to the same values on every party, and differs from call to call;
// ExchangeBytes gives every party the three parties' data.
func TestRandomSharedAndExchange(t *testing.T) {
	var mu sync.Mutex
	var got [3][2][]uint64
	var ex [3][3][]byte
	run3(t, 9, func(p *aby3.Party) error {
		var vals [2][]uint64
		for k := range vals {
			s, err := p.RandomShared([]int{64})
			if err != nil {
				return err
			}
			if vals[k], err = p.RevealRing(s, -1); err != nil {
				return err
			}
		}
		all, err := p.ExchangeBytes([]byte{byte(p.ID()), 42})
		if err != nil {
			return err
		}
		mu.Lock()
		got[p.ID()], ex[p.ID()] = vals, all
		mu.Unlock()
		return nil
	})
	require.Equal(t, got[0], got[1])
	require.Equal(t, got[0], got[2])
	require.NotEqual(t, got[0][0], got[0][1])
	for i := range ex {
		for j := range ex[i] {
			require.Equal(t, []byte{byte(j), 42}, ex[i][j])
		}
	}
	run3(t, 10, func(p *aby3.Party) error {
		_, err := p.RandomShared([]int{-1})
		require.Error(t, err)
		return nil
	})
}

// A seeded split adds up to its values, its seeds are distinct and expand to the components
// that go in full otherwise, and each party's wire material (two seeds, or a seed and x_2)
// leaves out the component it lacks.
func TestSeededSplit(t *testing.T) {
	for _, n := range []int{1, 5, 1025} {
		x := make([]uint64, n)
		r := rand.New(rand.NewPCG(uint64(n), 9))
		for i := range x {
			x[i] = r.Uint64()
		}
		x[0] = 0
		s, err := aby3.SplitSeeded(x, rand.NewChaCha8([32]byte{byte(n), 1}))
		require.NoError(t, err)
		require.NotEqual(t, s.Seeds[0], s.Seeds[1])
		c := [3][]uint64{s.Component(0, n), s.Component(1, n), s.Component(2, n)}
		require.Equal(t, s.Last, c[2])
		require.Equal(t, aby3.ExpandSeed(s.Seeds[0], n), c[0])
		for e := range x {
			require.Equal(t, x[e], c[0][e]+c[1][e]+c[2][e], "element %d", e)
			// Each pair alone misses the third component: it does not add up to x.
			for i := range 3 {
				require.NotEqual(t, x[e], c[i][e]+c[(i+1)%3][e], "party %d, element %d", i, e)
			}
		}
		// The same seeds expand to the same prefix whatever the length.
		require.Equal(t, c[1][:1], aby3.ExpandSeed(s.Seeds[1], 1))
		// SplitForParties expands the same construction.
		parts, err := aby3.SplitForParties(x, rand.NewChaCha8([32]byte{byte(n), 1}))
		require.NoError(t, err)
		for i := range parts {
			require.Equal(t, c[i], parts[i][0])
			require.Equal(t, c[(i+1)%3], parts[i][1])
		}
	}
}

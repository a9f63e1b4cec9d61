package aby3

import (
	"fmt"
	"io"
	"slices"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/prg"
	"github.com/gotfe/gotfe/secure/ring"
)

// This file holds what a receiver or sender outside the three parties (a client of private
// predictions) needs: sharing its own input, receiving output shares, and the parties' side of
// both.
//
// Input: the client splits x into x_0 + x_1 + x_2 itself ([SplitSeeded]) and sends party i
// the pair (x_i, x_{i+1}), each component in full or as the seed it expands from; party i wraps
// the pair with [NewShared]. Party i never sees x_{i+2} nor its seed, so its two components are
// uniform and independent of x.
//
// Output: each party sends the client one value per element ([Party.OutputShare]): its first
// component plus its share of a fresh sharing of zero, so that the three values sum to x and
// any two of them are uniform and independent of x. Nothing of the parties' internal sharing
// (whose components are correlated with earlier messages) reaches the client.

// SplitForParties splits ring values x into a replicated sharing for the three parties, as an
// outside client does with its input: parts[i] holds party i's components (x_i, x_{i+1}). It
// expands the components of [SplitSeeded] in full.
func SplitForParties(x []uint64, rand io.Reader) (parts [secure.NumParties][2][]uint64, err error) {
	s, err := SplitSeeded(x, rand)
	if err != nil {
		return parts, err
	}
	var c [secure.NumParties][]uint64
	for i := range c {
		c[i] = s.Component(i, len(x))
	}
	for i := range parts {
		parts[i] = [2][]uint64{c[i], c[(i+1)%secure.NumParties]}
	}
	return parts, nil
}

// SeededSplit is an outside client's sharing of its input in the compact form it sends: x_0
// and x_1 are the AES-CTR streams ([ExpandSeed]) of two fresh seeds and x_2 = x - x_0 - x_1
// goes in full. Party 0 receives both seeds, party 1 the seed of x_1 and x_2, party 2 x_2 and
// the seed of x_0: each party receives its own pair (x_i, x_{i+1}) and nothing of x_{i+2}, in
// a third of the bytes of the full pairs.
type SeededSplit struct {
	Seeds [2]prg.Seed // the keys of x_0 and x_1
	Last  []uint64    // x_2
}

// SplitSeeded splits ring values x as [SeededSplit] describes, with seeds drawn from rand
// (crypto/rand when nil).
func SplitSeeded(x []uint64, rand io.Reader) (SeededSplit, error) {
	var s SeededSplit
	for i := range s.Seeds {
		seed, err := prg.NewSeed(rand)
		if err != nil {
			return s, fmt.Errorf("aby3: split: %w", err)
		}
		s.Seeds[i] = seed
	}
	s.Last = ExpandSeed(s.Seeds[0], len(x))
	ring.SubTo(s.Last, x, s.Last)
	x1 := ExpandSeed(s.Seeds[1], len(x))
	ring.SubTo(s.Last, s.Last, x1)
	return s, nil
}

// Component returns component i (0, 1 or 2) of the split, n values.
func (s SeededSplit) Component(i, n int) []uint64 {
	if i < len(s.Seeds) {
		return ExpandSeed(s.Seeds[i], n)
	}
	return slices.Clone(s.Last)
}

// ExpandSeed returns the first n values of the AES-CTR stream keyed by seed: a component of a
// [SeededSplit] that went as its seed.
func ExpandSeed(seed prg.Seed, n int) []uint64 {
	v := make([]uint64, n)
	prg.Expand(seed, v)
	return v
}

// CombineOutput adds the three parties' output shares ([Party.OutputShare]) into dst, which
// must have their length.
func CombineOutput(dst []uint64, shares [secure.NumParties][]uint64) error {
	for i, s := range shares {
		if len(s) != len(dst) {
			return fmt.Errorf("aby3: combine: share of %v has %d values, want %d: %w", secure.PartyID(i), len(s), len(dst), ring.ErrShape)
		}
	}
	ring.AddTo(dst, shares[0], shares[1])
	ring.AddTo(dst, dst, shares[2])
	return nil
}

// OutputShare returns this party's additive share of x for a receiver outside the three
// parties: its component x_i plus its share α_i of a fresh sharing of zero drawn from the
// pairwise PRGs. The three parties' values sum to x; any two of them are uniformly random and
// independent of x, and none equals a component another party holds. No communication; the
// three parties must call it together (it advances their pairwise streams).
func (p *Party) OutputShare(x *Shared) []uint64 {
	p.Begin("OutputShare", x.shape)
	out := append([]uint64(nil), x.a...)
	p.addZeroShare(out, make([]uint64, len(out)))
	return out
}

// OutputShareUnreduced is [Party.OutputShare] for a value before its truncation: this party's
// share of u - shift for a receiver outside the three parties, who sums the three shares and
// reads the result with frac fractional bits (u's). shift, a sharing of u's shape, is
// subtracted as ring elements, unscaled (a random shift hides the value up to its
// differences). The receiver learns the value at frac bits, twice the encoding's for a
// product, instead of its rounding to the encoding's: no truncation round is needed. No
// communication; the three parties must call it together.
func (p *Party) OutputShareUnreduced(u *Unreduced, shift *Shared) (share []uint64, frac int, err error) {
	p.Begin("OutputShareUnreduced", u.shape)
	if shift != nil && !slices.Equal(shift.shape, u.shape) {
		return nil, 0, fmt.Errorf("aby3: output share: shift of shape %v for a value of shape %v: %w", shift.shape, u.shape, ring.ErrShape)
	}
	out := append([]uint64(nil), u.t...)
	if shift != nil {
		ring.SubTo(out, out, shift.a)
	}
	p.addZeroShare(out, make([]uint64, len(out)))
	return out, u.frac, nil
}

// RandomShared returns a sharing of ring values drawn uniformly at random that no party
// knows: component j comes from the PRG the two parties holding it share (party i draws x_i
// from the stream it shares with party i-1 and x_{i+1} from the one it shares with i+1). No
// communication; the three parties must call it together.
func (p *Party) RandomShared(shape []int) (*Shared, error) {
	p.Begin("RandomShared", shape)
	n, err := ring.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("aby3: random: %w", err)
	}
	z := newShared(shape, n)
	p.prev.Fill(z.a)
	p.next.Fill(z.b)
	return z, nil
}

// ExchangeBytes sends data to both peers and returns what each party passed, indexed by party
// (this party's own data included), in one round. Unlike [Party.Agree] the values may differ:
// it is how the parties share public facts each one learnt alone (which requests of outside
// clients reached it, say). Data must be at most 8 MiB.
func (p *Party) ExchangeBytes(data []byte) (all [secure.NumParties][]byte, err error) {
	return p.exchangeBytes(data, -1)
}

// ExchangeBytesExcept is ExchangeBytes where party silent sends nothing (its data is
// ignored, and its entry is nil on every party): one round, four messages instead of six,
// for facts that silent's peers learn and silent knows already.
func (p *Party) ExchangeBytesExcept(data []byte, silent secure.PartyID) (all [secure.NumParties][]byte, err error) {
	if err := secure.CheckParty(silent); err != nil {
		return all, fmt.Errorf("aby3: exchange: %w", err)
	}
	return p.exchangeBytes(data, silent)
}

func (p *Party) exchangeBytes(data []byte, silent secure.PartyID) (all [secure.NumParties][]byte, err error) {
	p.Begin("ExchangeBytes", nil)
	p.round()
	if p.id != silent {
		for _, peer := range []secure.PartyID{p.id.Next(), p.id.Prev()} {
			if err := p.s.SendMsg("exchange", peer, data); err != nil {
				return all, err
			}
		}
		all[p.id] = append([]byte(nil), data...)
	}
	for _, peer := range []secure.PartyID{p.id.Next(), p.id.Prev()} {
		if peer == silent {
			continue
		}
		b, err := p.s.RecvMsg("exchange", peer)
		if err != nil {
			return all, err
		}
		all[peer] = b
	}
	return all, nil
}

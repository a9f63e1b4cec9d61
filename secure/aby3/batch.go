package aby3

import (
	"github.com/gotfe/gotfe/secure"
)

// batch gathers the messages of one communication round so that several protocol steps that
// run side by side (the products of a polynomial, the AND gates of one level of an adder, the
// bit products of one level of a max tree) share the round: every step appends the words it
// sends to each peer and declares how many it expects from each; [Party.exchange] then sends
// one message per peer and receives one from each peer that owes words, and the steps take
// their words back in the order they were appended. Every party runs the same steps in the same
// order, so the sizes always agree.
type batch struct {
	out  [secure.NumParties][]uint64
	want [secure.NumParties]int
	in   [secure.NumParties][]uint64
	off  [secure.NumParties]int
	kept [secure.NumParties]bool // a step keeps words of the message received from the peer
}

// maxReusedSend is the largest buffer (in words) that a party reuses once sent.
const maxReusedSend = 1 << 16

// grow reserves room for n more words to peer.
func (bt *batch) grow(peer secure.PartyID, n int) {
	o := bt.out[peer]
	if cap(o)-len(o) < n {
		g := getWords(len(o) + n)[:len(o)]
		copy(g, o)
		putWords(o)
		bt.out[peer] = g
	}
}

// put appends n words for peer and returns them for the caller to fill.
func (bt *batch) put(peer secure.PartyID, n int) []uint64 {
	bt.grow(peer, n)
	o := bt.out[peer]
	bt.out[peer] = o[:len(o)+n]
	return bt.out[peer][len(o) : len(o)+n : len(o)+n]
}

// expect declares n words to come from peer.
func (bt *batch) expect(peer secure.PartyID, n int) { bt.want[peer] += n }

// take returns the next n words received from peer.
func (bt *batch) take(peer secure.PartyID, n int) []uint64 {
	o := bt.off[peer]
	bt.off[peer] = o + n
	return bt.in[peer][o : o+n : o+n]
}

// release recycles the received buffers. Only for batches whose received words have all been
// consumed (copied or folded into results), never when a result aliases them.
func (bt *batch) release() {
	for i, b := range bt.in {
		if !bt.kept[i] {
			putWords(b)
		}
		bt.in[i] = nil
	}
}

// keep returns the next n words received from peer for the caller to keep: the message they
// belong to is then not recycled by release.
func (bt *batch) keep(peer secure.PartyID, n int) []uint64 {
	bt.kept[peer] = true
	return bt.take(peer, n)
}

// exchange runs one round: it sends every non-empty outgoing buffer (handing it over) and
// receives the declared number of words from each peer.
func (p *Party) exchange(op string, bt *batch) error {
	p.round()
	for _, peer := range []secure.PartyID{p.id.Next(), p.id.Prev()} {
		if len(bt.out[peer]) > 0 {
			if err := p.send(op, peer, bt.out[peer]); err != nil {
				return err
			}
			// The network is done with it: the next message may take it. Only small ones: a
			// large message's buffer held in a pool would raise the memory peak of a
			// convolutional network, while its allocation costs little beside its sending.
			if p.reuseSent && cap(bt.out[peer]) <= maxReusedSend {
				putWords(bt.out[peer])
			}
			bt.out[peer] = nil
		}
	}
	for _, peer := range []secure.PartyID{p.id.Next(), p.id.Prev()} {
		if bt.want[peer] > 0 {
			v, err := p.recv(op, peer, bt.want[peer])
			if err != nil {
				return err
			}
			bt.in[peer] = v
		}
	}
	return nil
}

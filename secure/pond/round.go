package pond

import (
	"time"

	"github.com/gotfe/gotfe/secure/session"
)

// round gathers the steps of one communication round so that they share it: parties 0 and 1
// each append the words they send to the other (both send as many, in the same layout) and
// take the other's back at the same offsets; the producer appends what it deals to party 1,
// which party 1 takes back in the same order. Party 0 draws its part of every correlation
// from the stream it shares with the producer, party 1 likewise, and the producer draws both
// in the same order, so nothing the producer deals to party 0 travels.
//
// The producer sends its message as soon as the round is prepared and waits for nothing: it
// runs ahead of the online phase, bounded only by the pacing of dealt traffic (see
// [session.Session.SendAhead]).
type round struct {
	out       [][]uint64 // parties 0 and 1: words to the other, by step
	nOut      int
	in        []uint64 // parties 0 and 1: words from the other
	offIn     int
	deals     [][]uint64 // the producer: words for party 1, by step
	nDealt    int
	dealt     []uint64 // party 1: words received from the producer
	offDealt  int
	wantDealt int
	start     time.Time // the producer: when it began dealing the round
}

// join returns the parts as one message of n words.
func join(parts [][]uint64, n int) []uint64 {
	if len(parts) == 1 && cap(parts[0])-len(parts[0]) >= session.SendSlack {
		return parts[0]
	}
	// Room for the message's trailer, which the session then writes in place.
	m := make([]uint64, 0, n+session.SendSlack)
	for _, p := range parts {
		m = append(m, p...)
	}
	return m
}

// newRound starts a round.
func (p *Party) newRound() *round {
	r := &round{}
	if !p.holds() {
		r.start = time.Now()
	}
	return r
}

// put appends n words for the other share holder and returns them to fill.
func (r *round) put(n int) []uint64 {
	v := make([]uint64, n)
	r.out = append(r.out, v)
	r.nOut += n
	return v
}

// take returns the other share holder's next n words.
func (r *round) take(n int) []uint64 {
	o := r.offIn
	r.offIn += n
	return r.in[o : o+n : o+n]
}

// deal appends n words for party 1 (on the producer) and returns them to fill.
func (r *round) deal(n int) []uint64 {
	v := make([]uint64, n)
	r.deals = append(r.deals, v)
	r.nDealt += n
	return v
}

// expectDealt declares n dealt words to come to party 1.
func (r *round) expectDealt(n int) { r.wantDealt += n }

// takeDealt returns party 1's next n dealt words.
func (r *round) takeDealt(n int) []uint64 {
	o := r.offDealt
	r.offDealt += n
	return r.dealt[o : o+n : o+n]
}

// exchange runs the round: the producer deals, parties 0 and 1 swap their words and party 1
// reads what was dealt to it. Every party counts one round.
func (p *Party) exchange(op string, r *round) error {
	p.s.Round()
	switch p.id {
	case Producer:
		return p.dealOnly(op, r)
	}
	n := r.nOut
	if n > 0 {
		if err := p.s.Send(op, p.other(), join(r.out, n)); err != nil {
			return err
		}
		r.out = nil
	}
	if p.id == 1 && r.wantDealt > 0 {
		d, err := p.s.RecvAhead(op, Producer, r.wantDealt)
		if err != nil {
			return err
		}
		r.dealt = d
	}
	if n > 0 {
		in, err := p.s.Recv(op, p.other(), n)
		if err != nil {
			return err
		}
		r.in = in
	}
	return nil
}

// dealOnly sends what the producer dealt in a round to party 1.
func (p *Party) dealOnly(op string, r *round) error {
	p.dealt(r.start)
	if r.nDealt == 0 {
		return nil
	}
	err := p.s.SendAhead(op, 1, join(r.deals, r.nDealt))
	r.deals = nil
	return err
}

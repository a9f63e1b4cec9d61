package aby3

// injectBits converts secret bits (bit 0 of the boolean sharing with components ba, bb) into
// an arithmetic sharing of the ring integers 0 and 1: two rounds and four words per bit sent by
// the parties together, against one round and six words for the injection by three-party
// transfers ([Party.BitToArith]).
//
// Write b = d ⊕ e with d = b_0 ⊕ b_1, which party 0 knows, and e = b_2, which parties 1 and 2
// know: b = d + e - 2de. Party 0 sends m = d - r to party 2, with r from the PRG it shares
// with party 1 (round 1), so that S_0 = d (party 0), S_1 = e - 2re (party 1) and S_2 = -2me
// (party 2) add up to b; a resharing with a fresh zero-sharing turns them into a replicated
// sharing (round 2). Party 2 sees d masked by r, and the resharing's messages are masked by
// the zero-sharing.
func (p *Party) injectBits(op string, ba, bb []uint64, shape []int) (*Shared, error) {
	n := len(ba)
	t := make([]uint64, n)
	p.round()
	switch p.id {
	case 0:
		r := getWords(n)
		p.next.Fill(r)
		m := newMsg(n)
		for i := range t {
			d := (ba[i] ^ bb[i]) & 1
			t[i] = d
			m[i] = d - r[i]
		}
		putWords(r)
		if err := p.send(op, 2, m); err != nil {
			return nil, err
		}
	case 1:
		r := getWords(n)
		p.prev.Fill(r)
		for i := range t {
			e := bb[i] & 1
			t[i] = e - 2*r[i]*e
		}
		putWords(r)
	case 2:
		m, err := p.recv(op, 0, n)
		if err != nil {
			return nil, err
		}
		for i := range t {
			t[i] = -(2 * m[i] * (ba[i] & 1))
		}
		putWords(m)
	}
	scratch := getWords(n)
	p.addZeroShare(t, scratch)
	putWords(scratch)
	return p.reshare(op, t, shape)
}

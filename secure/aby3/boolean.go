package aby3

import (
	"fmt"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/ring"
)

// BoolShared is one party's replicated boolean share of a secret tensor of 64-bit words: party
// i holds the components x_i (A) and x_{i+1} (B) of x = x_0 ⊕ x_1 ⊕ x_2. Each element is one
// word; the bitwise operations act on all 64 bits of every element at once (bit-slicing), so a
// tensor of any size costs the same number of rounds. A secret bit (a comparison result, a ReLU
// mask) is an element whose bit 0 holds the value and whose other bits are zero.
type BoolShared struct {
	shape []int
	a, b  []uint64
}

// Shape returns the tensor's shape (do not modify it).
func (s *BoolShared) Shape() []int { return s.shape }

// Len returns the number of elements.
func (s *BoolShared) Len() int { return len(s.a) }

// Components returns the party's two share components x_i and x_{i+1} (shared memory; for
// tests and for code building new protocols).
func (s *BoolShared) Components() (xi, xnext []uint64) { return s.a, s.b }

// Clone returns a deep copy.
func (s *BoolShared) Clone() *BoolShared {
	return &BoolShared{shape: append([]int(nil), s.shape...), a: append([]uint64(nil), s.a...), b: append([]uint64(nil), s.b...)}
}

func newBoolShared(shape []int, n int) *BoolShared {
	return &BoolShared{shape: append([]int(nil), shape...), a: make([]uint64, n), b: make([]uint64, n)}
}

func checkSameBool(op string, x, y *BoolShared) error {
	if !ring.SameShape(x.shape, y.shape) {
		return fmt.Errorf("aby3: %s: shapes %v and %v differ: %w", op, x.shape, y.shape, ring.ErrShape)
	}
	return nil
}

// ShareBool secret-shares words held by owner as a boolean sharing. The owner passes its values;
// the other parties pass nil and the same shape. One round: the owner sends one word per value
// to the next party.
func (p *Party) ShareBool(owner secure.PartyID, values []uint64, shape []int) (*BoolShared, error) {
	if err := secure.CheckParty(owner); err != nil {
		return nil, fmt.Errorf("aby3: share bool: %w", err)
	}
	n, err := ring.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("aby3: share bool: %w", err)
	}
	if p.id == owner && len(values) != n {
		return nil, fmt.Errorf("aby3: share bool: %d values for shape %v: %w", len(values), shape, ring.ErrShape)
	}
	// Components: x_owner = r (PRG of owner and owner-1), x_owner+1 = v ⊕ r, x_owner+2 = 0.
	out := &BoolShared{shape: append([]int(nil), shape...)}
	p.round()
	switch p.id {
	case owner:
		r := make([]uint64, n)
		p.prev.Fill(r)
		d := newMsg(n)
		ring.XorTo(d, values, r)
		keep := append([]uint64(nil), d...)
		if err := p.send("share bool", p.id.Next(), d); err != nil {
			return nil, err
		}
		out.a, out.b = r, keep
	case owner.Next():
		d, err := p.recv("share bool", owner, n)
		if err != nil {
			return nil, err
		}
		out.a, out.b = d, make([]uint64, n)
	default:
		r := make([]uint64, n)
		p.next.Fill(r)
		out.a, out.b = make([]uint64, n), r
	}
	return out, nil
}

// RevealBool opens x to party to, or to every party when to is -1. It returns the words on
// the receiving parties and nil on the others. One round, as [Party.RevealRing].
func (p *Party) RevealBool(x *BoolShared, to secure.PartyID) ([]uint64, error) {
	if to != -1 {
		if err := secure.CheckParty(to); err != nil {
			return nil, fmt.Errorf("aby3: reveal bool: %w", err)
		}
	}
	n := x.Len()
	p.round()
	if to == -1 || p.id.Next() == to {
		if err := p.send("reveal bool", p.id.Next(), cloneMsg(x.a)); err != nil {
			return nil, err
		}
	}
	if to != -1 && p.id != to {
		return nil, nil
	}
	missing, err := p.recv("reveal bool", p.id.Prev(), n)
	if err != nil {
		return nil, err
	}
	out := make([]uint64, n)
	ring.XorTo(out, x.a, x.b)
	ring.XorTo(out, out, missing)
	return out, nil
}

// BoolPublic returns a boolean sharing of public words c (one value broadcast, or one per
// element), with no communication.
func (p *Party) BoolPublic(c []uint64, shape []int) (*BoolShared, error) {
	n, err := ring.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("aby3: bool public: %w", err)
	}
	return p.XorPublic(newBoolShared(shape, n), c)
}

// Xor returns x ⊕ y (local).
func (p *Party) Xor(x, y *BoolShared) (*BoolShared, error) {
	if err := checkSameBool("xor", x, y); err != nil {
		return nil, err
	}
	z := newBoolShared(x.shape, x.Len())
	ring.XorTo(z.a, x.a, y.a)
	ring.XorTo(z.b, x.b, y.b)
	return z, nil
}

// comp0 returns which of the party's components is x_0 (the one a public constant is folded
// into), or nil for party 1, which does not hold it.
func (p *Party) comp0(a, b []uint64) []uint64 {
	switch p.id {
	case 0:
		return a
	case 2:
		return b
	}
	return nil
}

// XorPublic returns x ⊕ c for public words c: one value broadcast, or one per element (local).
func (p *Party) XorPublic(x *BoolShared, c []uint64) (*BoolShared, error) {
	if len(c) != 1 && len(c) != x.Len() {
		return nil, fmt.Errorf("aby3: xor public: %d values for shape %v: %w", len(c), x.shape, ring.ErrShape)
	}
	z := x.Clone()
	if dst := p.comp0(z.a, z.b); dst != nil {
		if len(c) == 1 {
			for i := range dst {
				dst[i] ^= c[0]
			}
		} else {
			ring.XorTo(dst, dst, c)
		}
	}
	return z, nil
}

// Not returns the complement of every bit of x (local); for secret bits held in bit 0, use
// XorPublic(x, []uint64{1}).
func (p *Party) Not(x *BoolShared) *BoolShared {
	z, _ := p.XorPublic(x, []uint64{^uint64(0)})
	return z
}

// AndPublic returns x ∧ c for public words c: one value broadcast, or one per element (local:
// every component is masked).
func (p *Party) AndPublic(x *BoolShared, c []uint64) (*BoolShared, error) {
	if len(c) != 1 && len(c) != x.Len() {
		return nil, fmt.Errorf("aby3: and public: %d values for shape %v: %w", len(c), x.shape, ring.ErrShape)
	}
	z := newBoolShared(x.shape, x.Len())
	if len(c) == 1 {
		for i := range z.a {
			z.a[i], z.b[i] = x.a[i]&c[0], x.b[i]&c[0]
		}
	} else {
		ring.AndTo(z.a, x.a, c)
		ring.AndTo(z.b, x.b, c)
	}
	return z, nil
}

// ShiftLeftBool returns x << s, the shift of every word (local).
func (p *Party) ShiftLeftBool(x *BoolShared, s uint) *BoolShared {
	z := newBoolShared(x.shape, x.Len())
	ring.ShiftLeftTo(z.a, x.a, s)
	ring.ShiftLeftTo(z.b, x.b, s)
	return z
}

// ShiftRightBool returns x >> s, the logical shift of every word (local).
func (p *Party) ShiftRightBool(x *BoolShared, s uint) *BoolShared {
	z := newBoolShared(x.shape, x.Len())
	ring.ShiftRightTo(z.a, x.a, s)
	ring.ShiftRightTo(z.b, x.b, s)
	return z
}

// And returns x ∧ y bitwise: one round, one word sent per element by every party. Each party
// forms z_i = x_i∧y_i ⊕ x_i∧y_{i+1} ⊕ x_{i+1}∧y_i ⊕ α_i, with α_i = F(k_{i,i+1}) ⊕ F(k_{i-1,i}) a
// fresh XOR-sharing of zero from the pairwise PRGs, and sends z_i to the previous party
// (ABY3 §3, the boolean form of the product).
func (p *Party) And(x, y *BoolShared) (*BoolShared, error) {
	if err := checkSameBool("and", x, y); err != nil {
		return nil, err
	}
	var bt batch
	st := p.andSend(&bt, x.a, x.b, y.a, y.b)
	if err := p.exchange("and", &bt); err != nil {
		return nil, err
	}
	za, zb := st.finish(&bt)
	return &BoolShared{shape: append([]int(nil), x.shape...), a: za, b: zb}, nil
}

// andStep is an AND of word vectors waiting for its round.
type andStep struct {
	z    []uint64
	next secure.PartyID
}

// andSend computes this party's masked cross terms of x ∧ y into the batch (to the previous
// party) and declares the word expected from the next one.
func (p *Party) andSend(bt *batch, xa, xb, ya, yb []uint64) andStep {
	return p.andSendInto(bt, make([]uint64, len(xa)), xa, xb, ya, yb)
}

// andSendInto is andSend writing z into a caller's slice.
func (p *Party) andSendInto(bt *batch, z, xa, xb, ya, yb []uint64) andStep {
	n := len(z)
	xa, xb, ya, yb = xa[:n], xb[:n], ya[:n], yb[:n]
	msg := bt.put(p.id.Prev(), n)
	p.prev.Fill(msg)
	p.next.Fill(z)
	for i := range z {
		v := z[i] ^ msg[i] ^ (xa[i] & (ya[i] ^ yb[i])) ^ (xb[i] & ya[i])
		z[i], msg[i] = v, v
	}
	bt.expect(p.id.Next(), n)
	return andStep{z: z, next: p.id.Next()}
}

// finish returns the product's components (z_i, z_{i+1}).
func (st andStep) finish(bt *batch) (za, zb []uint64) {
	return st.z, bt.take(st.next, len(st.z))
}

package aby3

import (
	"fmt"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/ring"
)

// Shared is one party's replicated share of a secret tensor over Z_2^64: party i holds the
// components x_i (A) and x_{i+1} (B) of x = x_0 + x_1 + x_2. Values are fixed-point encodings
// unless an operation says it works on raw ring elements.
type Shared struct {
	shape []int
	a, b  []uint64
	// zero marks components every party knows to be zero from how the sharing was made
	// (zeroA, zeroB), so that products skip them. Shares are never modified in place, so
	// the mark holds for the sharing's life; an operation that makes a new sharing leaves it
	// unmarked unless it says otherwise.
	zero uint8
}

// Components known to be zero (Shared.zero).
const (
	zeroA uint8 = 1 << iota
	zeroB
)

// Shape returns the tensor's shape (do not modify it).
func (s *Shared) Shape() []int { return s.shape }

// Len returns the number of elements.
func (s *Shared) Len() int { return len(s.a) }

// Components returns the party's two share components x_i and x_{i+1} (shared memory; for
// tests and for code building new protocols).
func (s *Shared) Components() (xi, xnext []uint64) { return s.a, s.b }

// NewShared wraps a party's two components as a share of the given shape. It is for protocols
// built outside this package; both slices must hold the shape's number of elements.
func NewShared(shape []int, xi, xnext []uint64) (*Shared, error) {
	n, err := ring.NumElements(shape)
	if err != nil {
		return nil, err
	}
	if len(xi) != n || len(xnext) != n {
		return nil, fmt.Errorf("aby3: components of %d and %d elements for shape %v: %w", len(xi), len(xnext), shape, ring.ErrShape)
	}
	return &Shared{shape: append([]int(nil), shape...), a: xi, b: xnext}, nil
}

func newShared(shape []int, n int) *Shared {
	return &Shared{shape: append([]int(nil), shape...), a: make([]uint64, n), b: make([]uint64, n)}
}

// Clone returns a deep copy.
func (s *Shared) Clone() *Shared {
	return &Shared{shape: append([]int(nil), s.shape...), a: append([]uint64(nil), s.a...), b: append([]uint64(nil), s.b...), zero: s.zero}
}

// ShareRing secret-shares raw ring values held by owner. The owner passes its values; the other
// parties pass nil and the same shape. It costs one round: the owner sends one ring element per
// value to the next party; the component it shares with the previous party comes from their
// common PRG. The third component is zero, which the other two parties know: a product with
// the sharing computes two local terms fewer (a model owner's weights, say).
func (p *Party) ShareRing(owner secure.PartyID, values []uint64, shape []int) (*Shared, error) {
	if err := secure.CheckParty(owner); err != nil {
		return nil, fmt.Errorf("aby3: share: %w", err)
	}
	n, err := ring.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("aby3: share: %w", err)
	}
	if p.id == owner && len(values) != n {
		return nil, fmt.Errorf("aby3: share: %d values for shape %v: %w", len(values), shape, ring.ErrShape)
	}
	// Components: x_owner = r (PRG of owner and owner-1), x_owner+1 = v - r, x_owner+2 = 0.
	out := &Shared{shape: append([]int(nil), shape...)}
	p.round()
	switch p.id {
	case owner:
		r := make([]uint64, n)
		p.prev.Fill(r)
		d := newMsg(n)
		ring.SubTo(d, values, r)
		keep := append([]uint64(nil), d...)
		if err := p.send("share", p.id.Next(), d); err != nil {
			return nil, err
		}
		out.a, out.b = r, keep
	case owner.Next():
		d, err := p.recv("share", owner, n)
		if err != nil {
			return nil, err
		}
		out.a, out.b, out.zero = d, make([]uint64, n), zeroB
	default: // owner.Prev()
		r := make([]uint64, n)
		p.next.Fill(r)
		out.a, out.b, out.zero = make([]uint64, n), r, zeroA
	}
	return out, nil
}

// Share secret-shares real values held by owner, encoded in fixed point. Non-finite or
// out-of-range values are an error on the owner (which then fails the computation).
func (p *Party) Share(owner secure.PartyID, values []float64, shape []int) (*Shared, error) {
	var enc []uint64
	if p.id == owner {
		n, err := ring.NumElements(shape)
		if err != nil {
			return nil, fmt.Errorf("aby3: share: %w", err)
		}
		if len(values) != n {
			return nil, fmt.Errorf("aby3: share: %d values for shape %v: %w", len(values), shape, ring.ErrShape)
		}
		if enc, err = p.enc.EncodeSlice(values); err != nil {
			return nil, fmt.Errorf("aby3: share: %w", err)
		}
	}
	return p.ShareRing(owner, enc, shape)
}

// RevealRing opens x to party to, or to every party when to is -1. It returns the raw ring
// values on the receiving parties and nil on the others. One round; revealing to one party
// sends one element per value from the previous party, revealing to all sends one per value
// from every party.
func (p *Party) RevealRing(x *Shared, to secure.PartyID) ([]uint64, error) {
	if to != -1 {
		if err := secure.CheckParty(to); err != nil {
			return nil, fmt.Errorf("aby3: reveal: %w", err)
		}
	}
	n := x.Len()
	p.round()
	// Party j misses x_{j+2}, the first component of party j+2 = j-1.
	if to == -1 || p.id.Next() == to {
		if err := p.send("reveal", p.id.Next(), cloneMsg(x.a)); err != nil {
			return nil, err
		}
	}
	if to != -1 && p.id != to {
		return nil, nil
	}
	missing, err := p.recv("reveal", p.id.Prev(), n)
	if err != nil {
		return nil, err
	}
	out := make([]uint64, n)
	ring.AddTo(out, x.a, x.b)
	ring.AddTo(out, out, missing)
	return out, nil
}

// Reveal opens x as real numbers to party to, or to all when to is -1 (see [Party.RevealRing]).
func (p *Party) Reveal(x *Shared, to secure.PartyID) ([]float64, error) {
	v, err := p.RevealRing(x, to)
	if err != nil || v == nil {
		return nil, err
	}
	return p.enc.DecodeSlice(v), nil
}

func checkSame(op string, x, y *Shared) error {
	if !ring.SameShape(x.shape, y.shape) {
		return fmt.Errorf("aby3: %s: shapes %v and %v differ: %w", op, x.shape, y.shape, ring.ErrShape)
	}
	return nil
}

// Add returns x + y (local).
func (p *Party) Add(x, y *Shared) (*Shared, error) {
	if err := checkSame("add", x, y); err != nil {
		return nil, err
	}
	z := newShared(x.shape, x.Len())
	ring.AddTo(z.a, x.a, y.a)
	ring.AddTo(z.b, x.b, y.b)
	return z, nil
}

// Sub returns x - y (local).
func (p *Party) Sub(x, y *Shared) (*Shared, error) {
	if err := checkSame("sub", x, y); err != nil {
		return nil, err
	}
	z := newShared(x.shape, x.Len())
	ring.SubTo(z.a, x.a, y.a)
	ring.SubTo(z.b, x.b, y.b)
	return z, nil
}

// Neg returns -x (local).
func (p *Party) Neg(x *Shared) *Shared {
	z := newShared(x.shape, x.Len())
	ring.NegTo(z.a, x.a)
	ring.NegTo(z.b, x.b)
	return z
}

// AddPublicRing returns x + c for public ring values c of x's shape, or a single value
// broadcast to every element (local: the parties holding component x_0 add c to it).
func (p *Party) AddPublicRing(x *Shared, c []uint64) (*Shared, error) {
	if len(c) != 1 && len(c) != x.Len() {
		return nil, fmt.Errorf("aby3: add public: %d values for shape %v: %w", len(c), x.shape, ring.ErrShape)
	}
	z := x.Clone()
	var dst []uint64
	switch p.id {
	case 0:
		dst = z.a
	case 2:
		dst = z.b
	default:
		return z, nil
	}
	if len(c) == 1 {
		ring.AddScalarTo(dst, dst, c[0])
	} else {
		ring.AddTo(dst, dst, c)
	}
	return z, nil
}

// AddPublic returns x + c for public real values c (one value, or one per element).
func (p *Party) AddPublic(x *Shared, c []float64) (*Shared, error) {
	enc, err := p.enc.EncodeSlice(c)
	if err != nil {
		return nil, fmt.Errorf("aby3: add public: %w", err)
	}
	return p.AddPublicRing(x, enc)
}

// SubFromPublic returns c - x for public real values c (one value, or one per element).
func (p *Party) SubFromPublic(c []float64, x *Shared) (*Shared, error) {
	return p.AddPublic(p.Neg(x), c)
}

// MulPublicRing returns c·x for a public integer c (local, no truncation).
func (p *Party) MulPublicRing(x *Shared, c uint64) *Shared {
	z := newShared(x.shape, x.Len())
	ring.ScaleTo(z.a, x.a, c)
	ring.ScaleTo(z.b, x.b, c)
	return z
}

// MulPublic returns c·x for a public real c, truncated back to f fractional bits (one round;
// see [Party.Trunc] for the error).
func (p *Party) MulPublic(x *Shared, c float64) (*Shared, error) {
	enc, err := p.enc.Encode(c)
	if err != nil {
		return nil, fmt.Errorf("aby3: mul public: %w", err)
	}
	return p.Trunc(p.MulPublicRing(x, enc), p.enc.FracBits)
}

// Reshape returns x with a new shape (one dimension may be -1); shares are not copied.
func (p *Party) Reshape(x *Shared, shape ...int) (*Shared, error) {
	s, err := ring.ResolveShape(x.Len(), shape)
	if err != nil {
		return nil, fmt.Errorf("aby3: %w", err)
	}
	return &Shared{shape: s, a: x.a, b: x.b, zero: x.zero}, nil
}

// PublicRing returns a sharing of public ring values c with the given shape, with no
// communication: component x_0 holds c and the others are zero.
func (p *Party) PublicRing(c []uint64, shape []int) (*Shared, error) {
	n, err := ring.NumElements(shape)
	if err != nil {
		return nil, err
	}
	z := newShared(shape, n)
	return p.AddPublicRing(z, c)
}

// Public returns a sharing of public real values (one value broadcast, or one per element).
func (p *Party) Public(c []float64, shape []int) (*Shared, error) {
	enc, err := p.enc.EncodeSlice(c)
	if err != nil {
		return nil, fmt.Errorf("aby3: public: %w", err)
	}
	return p.PublicRing(enc, shape)
}

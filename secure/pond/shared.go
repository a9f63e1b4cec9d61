package pond

import (
	"encoding/binary"
	"fmt"

	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/ring"
	"github.com/gotfe/gotfe/secure/session"
)

// Shared is one party's additive share of a secret tensor over Z_2^64: x = x_0 + x_1, party 0
// holding x_0 and party 1 x_1. The producer (party 2) holds no share: its Shared carries the
// shape alone, so that it runs the same program. Values are fixed-point encodings unless an
// operation says it works on raw ring elements.
type Shared struct {
	shape []int
	n     int
	v     []uint64 // nil on the producer
	open  *opening // kept from a Beaver product (see prodStep), or nil
}

// Shape returns the tensor's shape (do not modify it).
func (s *Shared) Shape() []int { return s.shape }

// Len returns the number of elements.
func (s *Shared) Len() int { return s.n }

// Component returns the party's share (shared memory; nil on the producer), for tests and
// for code building new protocols.
func (s *Shared) Component() []uint64 { return s.v }

// newShared returns a zero share of shape with n elements, with data on parties 0 and 1.
func (p *Party) newShared(shape []int, n int) *Shared {
	s := &Shared{shape: append([]int(nil), shape...), n: n}
	if p.holds() {
		s.v = make([]uint64, n)
	}
	return s
}

// wrapShared returns a share of shape holding v (nil on the producer).
func wrapShared(shape []int, n int, v []uint64) *Shared {
	return &Shared{shape: append([]int(nil), shape...), n: n, v: v}
}

func checkSame(op string, x, y *Shared) error {
	if !ring.SameShape(x.shape, y.shape) {
		return fmt.Errorf("pond: %s: shapes %v and %v differ: %w", op, x.shape, y.shape, ring.ErrShape)
	}
	return nil
}

// ShareRing secret-shares raw ring values held by owner; the others pass nil and the same
// shape. From party 0 or 1 it costs nothing: the owner masks its values with a stream it
// shares with the other holder, who takes the mask as its share. From the producer it is one
// message to party 1 (the mask coming from the stream the producer shares with party 0), and
// one round.
func (p *Party) ShareRing(owner secure.PartyID, values []uint64, shape []int) (*Shared, error) {
	if err := secure.CheckParty(owner); err != nil {
		return nil, fmt.Errorf("pond: share: %w", err)
	}
	n, err := ring.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("pond: share: %w", err)
	}
	if p.id == owner && len(values) != n {
		return nil, fmt.Errorf("pond: share: %d values for shape %v: %w", len(values), shape, ring.ErrShape)
	}
	out := p.newShared(shape, n)
	if owner == Producer {
		p.s.Round()
		switch p.id {
		case 0:
			p.deal.Fill(out.v)
		case 1:
			v, err := p.s.Recv("share", Producer, n)
			if err != nil {
				return nil, err
			}
			out.v = v
		default:
			r := make([]uint64, n, n+session.SendSlack)
			p.d0.Fill(r)
			ring.SubTo(r, values, r)
			if err := p.s.Send("share", 1, r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	switch p.id {
	case owner:
		p.peer.Fill(out.v)
		ring.SubTo(out.v, values, out.v)
	case Producer:
	default:
		p.peer.Fill(out.v)
	}
	return out, nil
}

// Share secret-shares real values held by owner, encoded in fixed point. Non-finite or
// out-of-range values are an error on the owner.
func (p *Party) Share(owner secure.PartyID, values []float64, shape []int) (*Shared, error) {
	var enc []uint64
	if p.id == owner {
		n, err := ring.NumElements(shape)
		if err != nil {
			return nil, fmt.Errorf("pond: share: %w", err)
		}
		if len(values) != n {
			return nil, fmt.Errorf("pond: share: %d values for shape %v: %w", len(values), shape, ring.ErrShape)
		}
		if enc, err = p.enc.EncodeSlice(values); err != nil {
			return nil, fmt.Errorf("pond: share: %w", err)
		}
	}
	return p.ShareRing(owner, enc, shape)
}

// RevealRing opens x to party to, or to every party when to is -1, and returns the raw ring
// values on the receiving parties (nil on the others). One round: each holder sends its share
// to the receivers.
func (p *Party) RevealRing(x *Shared, to secure.PartyID) ([]uint64, error) {
	if to != -1 {
		if err := secure.CheckParty(to); err != nil {
			return nil, fmt.Errorf("pond: reveal: %w", err)
		}
	}
	p.s.Round()
	if p.holds() {
		for _, q := range []secure.PartyID{p.other(), Producer} {
			if to == -1 || to == q {
				if err := p.s.Send("reveal", q, append(make([]uint64, 0, len(x.v)+session.SendSlack), x.v...)); err != nil {
					return nil, err
				}
			}
		}
	}
	if to != -1 && p.id != to {
		return nil, nil
	}
	out := make([]uint64, x.n)
	if p.holds() {
		copy(out, x.v)
	}
	for _, q := range []secure.PartyID{0, 1} {
		if q == p.id {
			continue
		}
		v, err := p.s.Recv("reveal", q, x.n)
		if err != nil {
			return nil, err
		}
		ring.AddTo(out, out, v)
	}
	return out, nil
}

// Reveal opens x as real numbers to party to, or to all when to is -1 (see
// [Party.RevealRing]).
func (p *Party) Reveal(x *Shared, to secure.PartyID) ([]float64, error) {
	v, err := p.RevealRing(x, to)
	if err != nil || v == nil {
		return nil, err
	}
	return p.enc.DecodeSlice(v), nil
}

// PublicRing returns a sharing of public ring values c (one value broadcast, or one per
// element): party 0 holds c, party 1 zero. No communication.
func (p *Party) PublicRing(c []uint64, shape []int) (*Shared, error) {
	n, err := ring.NumElements(shape)
	if err != nil {
		return nil, fmt.Errorf("pond: public: %w", err)
	}
	return p.AddPublicRing(p.newShared(shape, n), c)
}

// Public returns a sharing of public real values (one value broadcast, or one per element).
func (p *Party) Public(c []float64, shape []int) (*Shared, error) {
	enc, err := p.enc.EncodeSlice(c)
	if err != nil {
		return nil, fmt.Errorf("pond: public: %w", err)
	}
	return p.PublicRing(enc, shape)
}

// AddPublicRing returns x + c for public ring values c of x's shape, or a single value
// broadcast (local: party 0 adds c to its share).
func (p *Party) AddPublicRing(x *Shared, c []uint64) (*Shared, error) {
	if len(c) != 1 && len(c) != x.n {
		return nil, fmt.Errorf("pond: add public: %d values for shape %v: %w", len(c), x.shape, ring.ErrShape)
	}
	z := x.Clone()
	if p.id == 0 {
		if len(c) == 1 {
			ring.AddScalarTo(z.v, z.v, c[0])
		} else {
			ring.AddTo(z.v, z.v, c)
		}
	}
	return z, nil
}

// AddPublic returns x + c for public real values c (one value, or one per element).
func (p *Party) AddPublic(x *Shared, c []float64) (*Shared, error) {
	enc, err := p.enc.EncodeSlice(c)
	if err != nil {
		return nil, fmt.Errorf("pond: add public: %w", err)
	}
	return p.AddPublicRing(x, enc)
}

// Clone returns a deep copy (without what was kept of an opening).
func (s *Shared) Clone() *Shared {
	c := &Shared{shape: append([]int(nil), s.shape...), n: s.n}
	if s.v != nil {
		c.v = append([]uint64(nil), s.v...)
	}
	return c
}

// AppendShare appends the party's share of x (little-endian uint64s) to dst: 8 bytes per
// element on parties 0 and 1, nothing on the producer.
func (p *Party) AppendShare(dst []byte, x *Shared) []byte {
	for _, v := range x.v {
		dst = binary.LittleEndian.AppendUint64(dst, v)
	}
	return dst
}

// ReadShare decodes a share of the given shape written by [Party.AppendShare] from the front
// of data and returns it with the bytes it did not consume.
func (p *Party) ReadShare(data []byte, shape []int) (*Shared, []byte, error) {
	n, err := ring.NumElements(shape)
	if err != nil {
		return nil, nil, fmt.Errorf("pond: read share: %w", err)
	}
	s := p.newShared(shape, n)
	if !p.holds() {
		return s, data, nil
	}
	if len(data) < 8*n {
		return nil, nil, fmt.Errorf("pond: read share: %d bytes left, a share of shape %v needs %d", len(data), shape, 8*n)
	}
	for i := range s.v {
		s.v[i] = binary.LittleEndian.Uint64(data[8*i:])
	}
	return s, data[8*n:], nil
}

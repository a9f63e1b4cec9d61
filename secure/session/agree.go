package session

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gotfe/gotfe/secure"
)

// Param is one public parameter of a computation, by name, that every party must hold with
// the same value.
type Param struct {
	Name  string `msgpack:"n"`
	Value string `msgpack:"v"`
}

// agreeStep names the messages of Agree and NotifyFailure.
const agreeStep = "agree"

// agreement is what a party sends in Agree.
type agreement struct {
	What   string  `msgpack:"what"`
	Params []Param `msgpack:"params"`
	Failed string  `msgpack:"failed,omitempty"`
}

// AgreementError reports parties that hold different values of a public parameter, or a party
// that could not take part in a step (Failed names its error).
type AgreementError struct {
	What   string
	Peer   secure.PartyID
	Param  string
	Ours   string
	Theirs string
	Failed string // the peer's own error, when it failed before the step
}

// Error names the parameter and both values, or the peer's failure.
func (e *AgreementError) Error() string {
	if e.Failed != "" {
		return fmt.Sprintf("%s: %v failed: %s", e.What, e.Peer, e.Failed)
	}
	return fmt.Sprintf("%s: the parties disagree on %s: %v has %s, this party has %s", e.What, e.Param, e.Peer, e.Theirs, e.Ours)
}

// Agree checks that the three parties run the same step (what) with the same public
// parameters, in one round: each party sends its parameters to both peers and compares theirs
// with its own. A party whose own preparation failed passes failed (non-nil): it still takes
// part, so that the others fail at once with its reason rather than waiting for a message that
// never comes, and Agree returns failed to it. Every party that sees a difference returns an
// [AgreementError] naming the first parameter that differs; since every party compares with
// both others, a difference between any two parties is an error on all three.
func (s *Session) Agree(what string, params []Param, failed error) error {
	s.Begin("Agree", nil)
	a := agreement{What: what, Params: params}
	if failed != nil {
		a.Failed = failed.Error()
		if a.Failed == "" {
			a.Failed = "failed"
		}
	}
	msg, err := msgpack.Marshal(&a)
	if err != nil {
		return fmt.Errorf("%s: agree %s: %w", s.name, what, err)
	}
	s.Round()
	peers := []secure.PartyID{s.id.Next(), s.id.Prev()}
	for _, peer := range peers {
		if err := s.SendMsg(agreeStep, peer, msg); err != nil {
			return err
		}
	}
	var first error
	for _, peer := range peers {
		b, err := s.RecvMsg(agreeStep, peer)
		if err != nil {
			return err
		}
		var their agreement
		if err := msgpack.Unmarshal(b, &their); err != nil {
			return fmt.Errorf("%s: agree %s: malformed message from %v: %w", s.name, what, peer, err)
		}
		if first == nil {
			first = compareAgreement(what, peer, a, their)
		}
	}
	if failed != nil {
		return failed
	}
	return first
}

func compareAgreement(what string, peer secure.PartyID, ours, theirs agreement) error {
	switch {
	case theirs.Failed != "":
		return &AgreementError{What: what, Peer: peer, Failed: theirs.Failed}
	case theirs.What != ours.What:
		return &AgreementError{What: what, Peer: peer, Param: "the step", Ours: ours.What, Theirs: theirs.What}
	}
	for i, q := range ours.Params {
		if i >= len(theirs.Params) {
			return &AgreementError{What: what, Peer: peer, Param: q.Name, Ours: q.Value, Theirs: "nothing"}
		}
		t := theirs.Params[i]
		if t.Name != q.Name {
			return &AgreementError{What: what, Peer: peer, Param: "the parameters", Ours: q.Name, Theirs: t.Name}
		}
		if t.Value != q.Value {
			return &AgreementError{What: what, Peer: peer, Param: q.Name, Ours: q.Value, Theirs: t.Value}
		}
	}
	if len(theirs.Params) > len(ours.Params) {
		t := theirs.Params[len(ours.Params)]
		return &AgreementError{What: what, Peer: peer, Param: t.Name, Ours: "nothing", Theirs: t.Value}
	}
	return nil
}

// NotifyFailure tells both peers, without waiting for an answer, that this party stopped the
// step what with err: a peer waiting in [Session.Agree] or in the middle of an operation fails
// at once with an [AgreementError] quoting err, instead of waiting for its deadline. Errors of
// the links are ignored (the peers then learn of the failure from the links).
func (s *Session) NotifyFailure(what string, err error) {
	a := agreement{What: what, Failed: err.Error()}
	msg, merr := msgpack.Marshal(&a)
	if merr != nil {
		return
	}
	for _, peer := range []secure.PartyID{s.id.Next(), s.id.Prev()} {
		_ = s.SendMsg(agreeStep, peer, msg)
	}
}

// BroadcastBytes sends public bytes from party from to the other two, in one round: from passes
// its data and gets it back; the others pass nil and get from's data. Data must be at most
// 8 MiB.
func (s *Session) BroadcastBytes(data []byte, from secure.PartyID) ([]byte, error) {
	if err := secure.CheckParty(from); err != nil {
		return nil, fmt.Errorf("%s: BroadcastBytes: %w", s.name, err)
	}
	s.Round()
	if s.id == from {
		for _, peer := range []secure.PartyID{s.id.Next(), s.id.Prev()} {
			if err := s.SendMsg("broadcast", peer, data); err != nil {
				return nil, err
			}
		}
		return slices.Clone(data), nil
	}
	return s.RecvMsg("broadcast", from)
}

// Digest returns a short hexadecimal digest of b (the first 16 bytes of its SHA-256), for
// comparing long public parameters (an architecture, say) in [Session.Agree].
func Digest(b []byte) string {
	d := sha256.Sum256(b)
	return hex.EncodeToString(d[:16])
}

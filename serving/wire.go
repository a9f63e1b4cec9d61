package serving

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/vmihailenco/msgpack/v5"
)

// ALPN is the TLS application protocol of the links between clients and serving parties.
const ALPN = "gotfe-serve/2"

// Kinds of request a client sends on a stream.
const (
	kindInfo    = "info"
	kindPredict = "predict"
)

// idBytes is the length of a request ID: random, chosen by the client, the same at the three
// parties.
const idBytes = 16

// request is the one frame a client sends on a stream.
type request struct {
	Kind      string `msgpack:"kind"`
	ID        []byte `msgpack:"id,omitempty"`
	Rows      int    `msgpack:"rows,omitempty"`
	TimeoutMs int64  `msgpack:"timeout_ms,omitempty"`
	// Seeds says how the party's two components of the input come, x_i then x_{i+1}: as the
	// seed of prg.SeedSize bytes that the component expands from (aby3.ExpandSeed), or, when
	// empty, in full in Shares.
	Seeds [][]byte `msgpack:"seeds,omitempty"`
	// Shares holds the components that come in full, rows·size little-endian uint64s each, in
	// the order of Seeds. They follow the header frame as they are, after their length (4
	// bytes, big-endian), so that a party knows of a request as soon as its header is in.
	Shares []byte `msgpack:"-"`
}

// encodeRequest returns the bytes of a request on its stream: the header frame and, for a
// prediction, the shares.
func encodeRequest(req *request) ([]byte, error) {
	body, err := msgpack.Marshal(req)
	if err != nil {
		return nil, err
	}
	n := 4 + len(body)
	if req.Kind == kindPredict {
		n += 4 + len(req.Shares)
	}
	b := binary.BigEndian.AppendUint32(make([]byte, 0, n), uint32(len(body)))
	b = append(b, body...)
	if req.Kind == kindPredict {
		b = binary.BigEndian.AppendUint32(b, uint32(len(req.Shares)))
		b = append(b, req.Shares...)
	}
	return b, nil
}

// response is the one frame a party sends back.
type response struct {
	Party int    `msgpack:"party"`
	Error string `msgpack:"error,omitempty"`
	// Unavailable marks an error that says the party has no session with the others right
	// now (starting, or a peer is down): the client may try again.
	Unavailable bool       `msgpack:"unavailable,omitempty"`
	Info        *ModelInfo `msgpack:"info,omitempty"`
	// Share is the party's output share: one little-endian uint64 per output value.
	Share []byte `msgpack:"share,omitempty"`
	// Frac is the number of fractional bits of the values the shares add up to (0: the
	// model's FracBits). Logits are sent before their truncation, at twice the model's bits.
	Frac int `msgpack:"frac,omitempty"`
}

// ModelInfo is what the parties tell clients about the model they serve: public facts only.
type ModelInfo struct {
	// InputShape and OutputShape are the shapes of one sample (no batch dimension).
	InputShape  []int `msgpack:"input_shape" json:"input_shape"`
	OutputShape []int `msgpack:"output_shape" json:"output_shape"`
	// Output is what a prediction reveals to the client: OutputProbabilities,
	// OutputClass or OutputValues.
	Output string `msgpack:"output" json:"output"`
	// FracBits is the fixed-point precision the client encodes its input with.
	FracBits int `msgpack:"frac_bits" json:"frac_bits"`
	// Model is a digest of the architecture (no weights), the same at the three parties.
	Model string `msgpack:"model" json:"model"`
	// MaxRows is the largest number of rows one request may carry.
	MaxRows int `msgpack:"max_rows" json:"max_rows"`
}

// outWords is the number of output share values per row.
func (i *ModelInfo) outWords() int {
	if i.Output == OutputClass {
		return 1
	}
	return numel(i.OutputShape)
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// maxFrameDefault bounds a frame when no other bound is configured.
const maxFrameDefault = 64 << 20

// writeFrame writes v as one frame: a 4-byte big-endian length and its msgpack encoding.
func writeFrame(w io.Writer, v any) (int, error) {
	body, err := msgpack.Marshal(v)
	if err != nil {
		return 0, err
	}
	b := make([]byte, 4, 4+len(body))
	binary.BigEndian.PutUint32(b, uint32(len(body)))
	b = append(b, body...)
	return w.Write(b)
}

// errFrameTooLarge reports a frame above the reader's bound.
var errFrameTooLarge = errors.New("frame too large")

// readFrame reads one frame of at most max bytes into v and returns its size.
func readFrame(r io.Reader, max int, v any) (int, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, err
	}
	n := int(binary.BigEndian.Uint32(h[:]))
	if n > max {
		return 4, fmt.Errorf("%w: %d bytes, at most %d", errFrameTooLarge, n, max)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 4, err
	}
	if err := msgpack.Unmarshal(body, v); err != nil {
		return 4 + n, fmt.Errorf("malformed frame: %w", err)
	}
	return 4 + n, nil
}

// appendWords appends little-endian uint64s to b.
func appendWords(b []byte, v []uint64) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, x)
	}
	return b
}

// words decodes little-endian uint64s; len(b) must be a multiple of 8.
func words(b []byte) []uint64 {
	v := make([]uint64, len(b)/8)
	for i := range v {
		v[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return v
}

package keras

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// architectureFormat names the JSON MarshalArchitecture writes.
const architectureFormat = "gotfe-architecture"

// MarshalArchitecture returns the model's architecture as JSON: its input shape, layers and
// their configurations, seed, owner, compile configuration and the names and shapes of its
// weights, but none of the weights' values. It is the header Save writes before the weights:
// public information that lets the parties of a secure computation build the same model as
// the party that holds the weights.
func MarshalArchitecture(m *Sequential) ([]byte, error) {
	if err := m.built("MarshalArchitecture"); err != nil {
		return nil, err
	}
	h, err := m.header(architectureFormat)
	if err != nil {
		return nil, fmt.Errorf("keras: MarshalArchitecture: %w", err)
	}
	return json.Marshal(h)
}

// UnmarshalArchitecture builds a model from the JSON MarshalArchitecture wrote. The model has
// no weights of its own: call SetWeights with the values, or SetWeights(nil) in a process
// whose weights come from the model owner, before running it.
func UnmarshalArchitecture(data []byte) (*Sequential, error) {
	if len(data) > maxHeader {
		return nil, fmt.Errorf("keras: UnmarshalArchitecture: %d bytes is more than %d", len(data), maxHeader)
	}
	var h fileHeader
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&h); err != nil {
		return nil, fmt.Errorf("keras: UnmarshalArchitecture: %w", err)
	}
	if h.Format != architectureFormat {
		return nil, fmt.Errorf("keras: UnmarshalArchitecture: format %q, want %q", h.Format, architectureFormat)
	}
	if h.ClassName != "Sequential" {
		return nil, fmt.Errorf("keras: UnmarshalArchitecture: model class %q, want Sequential", h.ClassName)
	}
	if h.Party != nil || h.Backend != "" {
		return nil, errors.New("keras: UnmarshalArchitecture: the architecture names a party or backend")
	}
	m, err := fromHeader(h)
	if err != nil {
		return nil, fmt.Errorf("keras: UnmarshalArchitecture: %w", err)
	}
	return m, nil
}

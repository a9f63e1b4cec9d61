package quic

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Links start at full-size packets only when both peers are on loopback.
func TestInitialPacketSize(t *testing.T) {
	tests := []struct {
		name  string
		hosts [NumParties]string
		id    int
		want  uint16
	}{
		{"all on 127.0.0.1", [NumParties]string{"127.0.0.1", "127.0.0.1", "127.0.0.1"}, 0, loopbackPacketSize},
		{"loopback range and ::1", [NumParties]string{"127.0.0.2", "::1", "127.0.0.3"}, 1, loopbackPacketSize},
		{"localhost", [NumParties]string{"localhost", "localhost", "localhost"}, 2, loopbackPacketSize},
		{"own host unknown (Conn given)", [NumParties]string{"", "127.0.0.1", "127.0.0.1"}, 0, loopbackPacketSize},
		{"one peer elsewhere", [NumParties]string{"127.0.0.1", "192.0.2.7", "127.0.0.1"}, 0, 0},
		{"peer by name", [NumParties]string{"127.0.0.1", "127.0.0.1", "party2.example"}, 1, 0},
		{"unspecified", [NumParties]string{"0.0.0.0", "127.0.0.1", "127.0.0.1"}, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &settings{Config: Config{ID: tc.id}, hosts: tc.hosts}
			assert.Equal(t, tc.want, s.initialPacketSize())
			assert.Equal(t, tc.want, s.quicConfig().InitialPacketSize)
		})
	}
}

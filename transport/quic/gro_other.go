//go:build !linux

package quic

import "net"

// withGRO returns nil: receive offload is read only on Linux.
func withGRO(*net.UDPConn) net.PacketConn { return nil }

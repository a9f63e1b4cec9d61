//go:build linux

package quic

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// newMessages returns n messages shaped as quic-go passes them to ReadBatch: one buffer of
// its packet size and a control-message buffer each.
func newMessages(n int) []ipv4.Message {
	ms := make([]ipv4.Message, n)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, loopbackPacketSize)}
		ms[i].OOB = make([]byte, 128)
	}
	return ms
}

// datagram returns a datagram of n bytes whose bytes name it (i) and their position.
func datagram(i, n int) []byte {
	b := make([]byte, n)
	for k := range b {
		b[k] = byte(i*31 + k)
	}
	return b
}

// A buffer the kernel coalesced is handed out as the datagrams it holds, in order, each
// with the run's sender and control messages, over as many ReadBatch calls as it takes.
func TestGROConnSplitsARun(t *testing.T) {
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}
	tests := []struct {
		name  string
		sizes []int // the run: all of one size but the last
		batch int   // messages per ReadBatch
	}{
		{"one datagram", []int{700}, 8},
		{"even run", []int{100, 100, 100}, 8},
		{"short last", []int{100, 100, 100, 37}, 8},
		{"run longer than a batch", []int{50, 50, 50, 50, 50, 9}, 4},
		{"one message per batch", []int{1452, 1452, 1452}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var run []byte
			for i, n := range tc.sizes {
				run = append(run, datagram(i, n)...)
			}
			oob := []byte{1, 2, 3, 4, 5, 6, 7, 8}
			c := &groConn{buf: make([]byte, groBufferSize), oob: make([]byte, 256)}
			c.n = copy(c.buf, run)
			c.oobn = copy(c.oob, oob)
			c.seg = tc.sizes[0]
			c.addr = from
			var got [][]byte
			for c.off < c.n {
				ms := newMessages(tc.batch)
				k, err := c.ReadBatch(ms, 0)
				require.NoError(t, err)
				require.Positive(t, k)
				for _, m := range ms[:k] {
					got = append(got, bytes.Clone(m.Buffers[0][:m.N]))
					assert.Equal(t, oob, m.OOB[:m.NN], "control messages of the run")
					assert.Equal(t, from, m.Addr)
				}
			}
			require.Len(t, got, len(tc.sizes))
			for i, n := range tc.sizes {
				assert.Equal(t, datagram(i, n), got[i], "datagram %d", i)
			}
		})
	}
}

// sendSegmented sends payload to dst as datagrams of seg bytes in one segmented send (GSO),
// or reports false if the socket refuses it.
func sendSegmented(t *testing.T, c *net.UDPConn, dst *net.UDPAddr, payload []byte, seg int) bool {
	t.Helper()
	oob := make([]byte, unix.CmsgSpace(2))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level = unix.IPPROTO_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	binary.NativeEndian.PutUint16(oob[unix.CmsgLen(0):], uint16(seg))
	_, _, err := c.WriteMsgUDP(payload, oob, dst)
	return err == nil
}

// Through the kernel: segmented sends, a plain datagram and an empty one arrive as the
// datagrams they are, whether or not the kernel coalesced them.
func TestGROConnReadsTheKernelsRuns(t *testing.T) {
	rc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer rc.Close()
	g := newGROConn(rc)
	if g == nil {
		t.Skip("the kernel refuses UDP_GRO")
	}
	sc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer sc.Close()
	dst := rc.LocalAddr().(*net.UDPAddr)

	var want [][]byte
	runs := [][]int{{1200, 1200, 1200, 1200, 500}, {300, 300, 300}}
	next := 0
	for _, run := range runs {
		var payload []byte
		for _, n := range run {
			d := datagram(next, n)
			next++
			payload = append(payload, d...)
			want = append(want, d)
		}
		if !sendSegmented(t, sc, dst, payload, run[0]) {
			t.Skip("the kernel refuses segmented sends (UDP_SEGMENT)")
		}
	}
	single := datagram(next, 999)
	_, err = sc.WriteToUDP(single, dst)
	require.NoError(t, err)
	want = append(want, single)
	_, err = sc.WriteToUDP(nil, dst)
	require.NoError(t, err)
	want = append(want, []byte{})

	require.NoError(t, rc.SetReadDeadline(time.Now().Add(10*time.Second)))
	var got [][]byte
	reads := 0
	for len(got) < len(want) {
		fresh := g.off >= g.n
		ms := newMessages(3)
		k, err := g.ReadBatch(ms, 0)
		require.NoError(t, err)
		if fresh {
			reads++
		}
		for _, m := range ms[:k] {
			got = append(got, bytes.Clone(m.Buffers[0][:m.N]))
			assert.Equal(t, sc.LocalAddr().String(), m.Addr.String())
		}
	}
	assert.Equal(t, want, got)
	t.Logf("%d datagrams in %d reads", len(want), reads)
}

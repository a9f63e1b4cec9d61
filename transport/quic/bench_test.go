package quic

import (
	"bufio"
	"bytes"
	"context"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// BenchmarkThroughput streams messages one way, party 0 to party 1, on loopback.
func BenchmarkThroughput(b *testing.B) {
	for _, size := range []int{64 << 10, 1 << 20, 16 << 20} {
		b.Run(byteSize(size), func(b *testing.B) {
			eps := dialAll(b, newTestPKIOnce(b).configs(b))
			ctx := context.Background()
			msg := make([]byte, size)
			done := make(chan error, 1)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			go func() {
				for range b.N {
					if _, err := eps[1].Recv(ctx, 0); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for range b.N {
				// Send takes ownership: the payload is not reused by the caller in real use,
				// but QUIC has copied it into packets by the time Send returns.
				if err := eps[0].Send(ctx, 1, msg); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkRoundTrip measures a ping-pong of one ring element between parties 0 and 1.
func BenchmarkRoundTrip(b *testing.B) {
	eps := dialAll(b, newTestPKIOnce(b).configs(b))
	ctx := context.Background()
	go func() {
		for {
			p, err := eps[1].Recv(ctx, 0)
			if err != nil {
				return
			}
			if eps[1].Send(ctx, 0, p) != nil {
				return
			}
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		if err := eps[0].Send(ctx, 1, make([]byte, 8)); err != nil {
			b.Fatal(err)
		}
		if _, err := eps[0].Recv(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHeader compares the hand-written msgpack header with a msgpack library's.
func BenchmarkHeader(b *testing.B) {
	b.Run("hand", func(b *testing.B) {
		buf := make([]byte, 0, maxHeaderLen)
		r := bufio.NewReader(nil)
		b.ReportAllocs()
		for b.Loop() {
			buf = appendHeader(buf[:0], kindData, 1<<20)
			r.Reset(bytes.NewReader(buf))
			if _, _, err := readHeader(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("msgpack", func(b *testing.B) {
		var w bytes.Buffer
		enc := msgpack.NewEncoder(&w)
		enc.UseCompactInts(true)
		b.ReportAllocs()
		for b.Loop() {
			w.Reset()
			if err := enc.Encode([2]uint64{kindData, 1 << 20}); err != nil {
				b.Fatal(err)
			}
			var h [2]uint64
			if err := msgpack.Unmarshal(w.Bytes(), &h); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return itoa(n>>20) + "MiB"
	case n >= 1<<10:
		return itoa(n>>10) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

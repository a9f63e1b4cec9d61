package prg_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/secure/prg"
)

// The stream is AES-128-CTR with a zero IV, read as little-endian uint64s, however it is read.
func TestStreamMatchesAESCTR(t *testing.T) {
	seed := prg.Seed{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	block, err := aes.NewCipher(seed[:])
	require.NoError(t, err)
	ref := make([]byte, 8*5000)
	cipher.NewCTR(block, make([]byte, 16)).XORKeyStream(ref, make([]byte, len(ref)))

	s := prg.New(seed)
	got := make([]uint64, 0, 5000)
	got = append(got, s.Uint64(), s.Uint64())
	for _, n := range []int{1, 7, 1021, 2000, 1969} {
		buf := make([]uint64, n)
		s.Fill(buf)
		got = append(got, buf...)
	}
	require.Len(t, got, 5000)
	for i, v := range got {
		require.Equal(t, binary.LittleEndian.Uint64(ref[8*i:]), v, "value %d", i)
	}
}

func TestSeeds(t *testing.T) {
	a, err := prg.NewSeed(nil)
	require.NoError(t, err)
	b, err := prg.NewSeed(nil)
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	fixed := bytes.NewReader(make([]byte, 32))
	c, err := prg.NewSeed(fixed)
	require.NoError(t, err)
	assert.Equal(t, prg.Seed{}, c)
	_, err = prg.NewSeed(bytes.NewReader(nil))
	assert.Error(t, err)
	s1, s2 := prg.New(a), prg.New(a)
	assert.Equal(t, s1.Seed(), s2.Seed())
}

func BenchmarkFill(b *testing.B) {
	s := prg.New(prg.Seed{})
	buf := make([]uint64, 1<<14)
	b.SetBytes(8 << 14)
	b.ReportAllocs()
	for b.Loop() {
		s.Fill(buf)
	}
}

// Expand gives the stream's first values, whatever the length (within and across the
// stream's buffer, and empty), overwriting what dst held.
func TestExpandMatchesStream(t *testing.T) {
	seed, err := prg.NewSeed(nil)
	require.NoError(t, err)
	for _, n := range []int{0, 1, 7, 1024, 1024 + 3, 5000} { // the stream's buffer holds 1024
		want := make([]uint64, n)
		prg.New(seed).Fill(want)
		got := make([]uint64, n)
		for i := range got {
			got[i] = 0xdeadbeef
		}
		prg.Expand(seed, got)
		require.Equal(t, want, got, "n = %d", n)
	}
}

package secure

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// nativeLittleEndian is true on little-endian machines, where a []uint64 is already in wire
// order and can be sent without copying.
var nativeLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Uint64sToBytes returns the little-endian bytes of v. On little-endian machines the result
// aliases v (no copy): the caller hands v over with it and must not modify v afterwards.
func Uint64sToBytes(v []uint64) []byte {
	if len(v) == 0 {
		return []byte{}
	}
	if nativeLittleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v))
	}
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], x)
	}
	return b
}

// BytesToUint64s reads want little-endian uint64 values from b, aliasing b when it is suitably
// aligned on a little-endian machine. A length other than 8·want is an error.
func BytesToUint64s(b []byte, want int) ([]uint64, error) {
	if len(b) != 8*want {
		return nil, fmt.Errorf("secure: message of %d bytes, want %d values (%d bytes)", len(b), want, 8*want)
	}
	if want == 0 {
		return []uint64{}, nil
	}
	if nativeLittleEndian && uintptr(unsafe.Pointer(&b[0]))%8 == 0 {
		return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), want), nil
	}
	v := make([]uint64, want)
	for i := range v {
		v[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return v, nil
}

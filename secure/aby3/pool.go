package aby3

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gotfe/gotfe/secure/session"
)

// Scratch vectors of the protocols (sign-bit trees, bit products, message buffers) are taken
// from pools by size class (four classes per power of two, a quarter apart, as memory
// allocators space theirs: a buffer is at most a quarter larger than asked for, where
// power-of-two classes let it be twice as large) and given back when the protocol step is done, so that large tensors do not allocate and clear fresh memory at every
// level of a comparison. Results handed to callers are never pooled. Buffers received from a
// peer are the receiver's to keep (the link interface hands them over), so they are recycled
// too once read, and serve as the next messages.

// subClasses is the number of size classes between consecutive powers of two.
const subClasses = 4

var wordPools [48 * subClasses]sync.Pool // class i holds slices of capacity classSize(i) + slack

// sizeClass returns the smallest size class of at least n words (n >= minPooled), and its size:
// 2^c·(1 + j/4) for 2^c < n <= 2^(c+1) and j = 1..4.
func sizeClass(n int) (class, size int) {
	c := bits.Len(uint(n-1)) - 1 // 2^c < n <= 2^(c+1)
	step := 1 << (c - 2)
	j := (n - 1<<c + step - 1) / step
	return c*subClasses + j - 1, 1<<c + j*step
}

// Buffers whose capacity is not a power of two plus slack (messages received from a peer carry
// exactly their length and their trailer) are pooled by exact capacity, so that the next
// message of the same size, as in every step of a training loop, reuses them. At most
// maxExact sizes are tracked.
var (
	exactPools sync.Map // capacity -> *sync.Pool
	exactSizes atomic.Int64
)

const maxExact = 512

// minPooled is the smallest capacity worth pooling.
const minPooled = 1 << 6

// slack is the spare capacity every buffer gets, so that a message sent from it takes its
// trailer in place instead of being copied ([session.SendSlack]).
const slack = session.SendSlack

// getWords returns a slice of n words with arbitrary contents and at least slack words of
// spare capacity.
func getWords(n int) []uint64 {
	if n < minPooled {
		return make([]uint64, n, n+slack)
	}
	if v, ok := exactPools.Load(n + slack); ok {
		if b := v.(*sync.Pool).Get(); b != nil {
			return (*b.(*[]uint64))[:n]
		}
	}
	c, size := sizeClass(n)
	if c >= len(wordPools) {
		return make([]uint64, n, n+slack)
	}
	if v := wordPools[c].Get(); v != nil {
		return (*v.(*[]uint64))[:n]
	}
	return make([]uint64, n, size+slack)
}

// getBytes returns n scratch bytes with arbitrary contents, and the pooled words that hold
// them, to give back with putWords when done.
func getBytes(n int) ([]byte, []uint64) {
	w := getWords(max((n+7)/8, 1))
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), 8*len(w))[:n], w
}

// newMsg returns n zero words with room for a message's trailer: for a buffer that will be
// sent, so that the session need not copy it.
func newMsg(n int) []uint64 { return make([]uint64, n, n+slack) }

// cloneMsg returns a copy of v with room for a message's trailer.
func cloneMsg(v []uint64) []uint64 {
	out := make([]uint64, len(v), len(v)+slack)
	copy(out, v)
	return out
}

// getZeroWords returns a slice of n zero words.
func getZeroWords(n int) []uint64 {
	b := getWords(n)
	clear(b)
	return b
}

// putWords gives buffers back to the pools. The buffers must not be used afterwards, and no
// live slice may alias them.
func putWords(bs ...[]uint64) {
	for _, b := range bs {
		c := cap(b)
		if c < minPooled+slack {
			continue
		}
		b = b[:c]
		if e, size := sizeClass(c - slack); size == c-slack {
			if e < len(wordPools) {
				wordPools[e].Put(&b)
			}
			continue
		}
		v, ok := exactPools.Load(c)
		if !ok {
			if exactSizes.Load() >= maxExact {
				continue
			}
			exactSizes.Add(1)
			v, _ = exactPools.LoadOrStore(c, new(sync.Pool))
		}
		v.(*sync.Pool).Put(&b)
	}
}

// parallelGrain is the number of elements below which a loop runs on one core: splitting
// smaller loops costs more in goroutine hand-offs than it saves.
const parallelGrain = 1 << 15

// parallelFor runs fn over [0, n) split into contiguous chunks on up to GOMAXPROCS
// goroutines (the caller's included) when n is large, else in one call. Chunks are multiples
// of align (to keep packed words whole).
func parallelFor(n, align int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/parallelGrain)
	if workers <= 1 {
		fn(0, n)
		return
	}
	chunk := (n/workers + align - 1) / align * align
	var wg sync.WaitGroup
	for lo := chunk; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	fn(0, min(chunk, n))
	wg.Wait()
}

package ring

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Large products are split into parts that the calling goroutine and idle helper goroutines
// claim one at a time. The helpers are started once, on first use, one fewer than the CPUs;
// a call uses at most GOMAXPROCS goroutines. Work is only offered to a helper that is idle at
// that moment (a non-blocking send on an unbuffered channel), so concurrent callers never
// queue behind each other, and the caller waits only for parts that were claimed: a helper
// that wakes up after the caller has claimed everything finds nothing to do and the caller
// does not wait for it.

// partJob is a unit of work split into numbered parts.
type partJob interface {
	runPart(i int)
}

// splitter hands out the parts of one job. It is pooled so that a call allocates nothing, and
// reference-counted so that a helper that is slow to start never sees it recycled.
type splitter struct {
	job   partJob // read only after claiming a part, while the caller waits for it
	parts int64
	next  atomic.Int64
	refs  atomic.Int32
	done  sync.WaitGroup // parts claimed but not finished
}

// work claims and runs parts until none are left.
func (s *splitter) work() {
	for {
		i := s.next.Add(1) - 1
		if i >= s.parts {
			return
		}
		s.job.runPart(int(i))
		s.done.Done()
	}
}

// release drops one reference; the last one returns s to the pool.
func (s *splitter) release() {
	if s.refs.Add(-1) == 0 {
		s.job = nil
		splitters.Put(s)
	}
}

var (
	helpersOnce sync.Once
	helperCh    chan *splitter
	splitters   = sync.Pool{New: func() any { return new(splitter) }}
)

func startHelpers() {
	helperCh = make(chan *splitter)
	for range runtime.NumCPU() - 1 {
		go func() {
			for s := range helperCh {
				s.work()
				s.release()
			}
		}()
	}
}

// runParallel runs parts 0..parts-1 of job on up to workers goroutines, the caller included,
// and returns when every part is done.
func runParallel(job partJob, parts, workers int) {
	workers = min(workers, parts)
	if workers <= 1 {
		for i := range parts {
			job.runPart(i)
		}
		return
	}
	helpersOnce.Do(startHelpers)
	s := splitters.Get().(*splitter)
	s.job, s.parts = job, int64(parts)
	s.next.Store(0)
	s.refs.Store(1)
	s.done.Add(parts)
	handed := false
	for range workers - 1 {
		s.refs.Add(1)
		select {
		case helperCh <- s:
			handed = true
			continue
		default:
			s.refs.Add(-1)
		}
		break
	}
	if handed {
		// The woken helper sits in this P's runnext slot, where an idle P steals it only
		// after a back-off of tens of microseconds. Yielding runs the helper here at once
		// and lets the idle P pick the caller up from the global queue.
		runtime.Gosched()
	}
	s.work()
	s.done.Wait()
	s.release()
}

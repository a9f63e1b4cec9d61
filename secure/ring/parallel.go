package ring

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Large products are split into parts that the calling goroutine and idle helper goroutines
// claim one at a time. The helpers are started once, on first use, one fewer than the CPUs;
// a call uses at most GOMAXPROCS goroutines. Work is only handed to a helper that is idle at
// that moment (a non-blocking send on an unbuffered channel), so concurrent callers never
// queue behind each other: a caller that finds no idle helper does all its parts itself.

// partJob is a unit of work split into numbered parts.
type partJob interface {
	numParts() int
	runPart(i int)
}

// splitter runs the parts of one job. It is pooled so that a call allocates nothing.
type splitter struct {
	job  partJob
	next atomic.Int64
	wg   sync.WaitGroup
}

// work claims and runs parts until none are left.
func (s *splitter) work() {
	parts := int64(s.job.numParts())
	for {
		i := s.next.Add(1) - 1
		if i >= parts {
			return
		}
		s.job.runPart(int(i))
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
				s.wg.Done()
			}
		}()
	}
}

// runParallel runs all parts of job using up to workers goroutines, the caller included, and
// returns when every part is done.
func runParallel(job partJob, workers int) {
	workers = min(workers, job.numParts())
	if workers <= 1 {
		for i := range job.numParts() {
			job.runPart(i)
		}
		return
	}
	helpersOnce.Do(startHelpers)
	s := splitters.Get().(*splitter)
	s.job = job
	s.next.Store(0)
	for range workers - 1 {
		s.wg.Add(1)
		select {
		case helperCh <- s:
			continue
		default:
			s.wg.Done()
		}
		break
	}
	s.work()
	s.wg.Wait()
	s.job = nil
	splitters.Put(s)
}

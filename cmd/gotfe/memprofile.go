package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"
)

// peakProfiler keeps the heap profile of the moment the live heap was largest: it samples the
// live heap (the bytes the last garbage collection found reachable) every period and, each time
// that exceeds the largest seen by a tenth, takes a heap profile. The profile's inuse figures are
// those of that collection, so they name what was held at the peak.
type peakProfiler struct {
	path string
	stop chan struct{}
	done sync.WaitGroup

	mu   sync.Mutex
	peak uint64
	prof []byte
}

// startPeakProfiler starts sampling; with an empty path it does nothing and returns nil.
func startPeakProfiler(path string) *peakProfiler {
	if path == "" {
		return nil
	}
	p := &peakProfiler{path: path, stop: make(chan struct{})}
	p.done.Go(p.loop)
	return p
}

func (p *peakProfiler) loop() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		metrics.Read(s)
		live := s[0].Value.Uint64()
		if live <= p.peak+p.peak/10 {
			continue
		}
		var b bytes.Buffer
		if err := pprof.Lookup("heap").WriteTo(&b, 0); err != nil {
			continue
		}
		p.mu.Lock()
		p.peak, p.prof = live, b.Bytes()
		p.mu.Unlock()
	}
}

// finish stops sampling and writes the profile of the peak to the file; a nil p does nothing.
func (p *peakProfiler) finish() error {
	if p == nil {
		return nil
	}
	close(p.stop)
	p.done.Wait()
	runtime.GC()
	if p.prof == nil {
		return fmt.Errorf("memprofile: no heap profile was taken")
	}
	fmt.Fprintf(os.Stderr, "memprofile: live heap peaked at %d MiB; profile in %s\n", p.peak>>20, p.path)
	return os.WriteFile(p.path, p.prof, 0o644)
}

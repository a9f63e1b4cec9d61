//go:build !unix

package main

import "time"

// processCPU returns the processor time this process has used, and whether the system says
// (not here).
func processCPU() (time.Duration, bool) { return 0, false }

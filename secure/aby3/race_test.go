//go:build race

package aby3

// raceEnabled is true when the tests run under the race detector, which makes sync.Pool drop
// a random quarter of what it is given.
const raceEnabled = true

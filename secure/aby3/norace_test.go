//go:build !race

package aby3

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false

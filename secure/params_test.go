package secure_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gotfe/gotfe/secure"
)

// The choice of FastCompareMax from a round trip: the default up to 2 ms, then four round
// trips' worth of 3.5 µs per value, capped at 2^24.
func TestAutoFastCompareMax(t *testing.T) {
	for _, c := range []struct {
		rtt  time.Duration
		want int
	}{
		{0, secure.DefaultFastCompareMax},                      // links that measure nothing
		{50 * time.Microsecond, secure.DefaultFastCompareMax},  // loopback
		{secure.SlowLinkRTT - 1, secure.DefaultFastCompareMax}, // just fast
		{secure.SlowLinkRTT, 2285},                             // 4·2 ms / 3.5 µs
		{40 * time.Millisecond, 45714},                         // 4·40 ms / 3.5 µs
		{time.Hour, 1 << 24},                                   // capped
		{3 * time.Millisecond, 3428},                           // 4·3 ms / 3.5 µs
		{200 * time.Millisecond, 228571},                       // intercontinental
	} {
		assert.Equal(t, c.want, secure.AutoFastCompareMax(c.rtt), "%v", c.rtt)
	}
}

// A FastCompareMax of 0 survives Validate: the parties choose it at set-up.
func TestValidateLeavesFastCompareMaxToSetUp(t *testing.T) {
	p, err := secure.Params{}.Validate()
	assert.NoError(t, err)
	assert.Zero(t, p.FastCompareMax)
	assert.Equal(t, secure.DefaultFracBits, p.FracBits)
}

func ExampleAutoFastCompareMax() {
	for _, rtt := range []time.Duration{100 * time.Microsecond, 10 * time.Millisecond, 40 * time.Millisecond} {
		fmt.Println(rtt, secure.AutoFastCompareMax(rtt))
	}
	// Output:
	// 100µs 256
	// 10ms 11428
	// 40ms 45714
}

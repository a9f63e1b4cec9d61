package convert_test

import "github.com/gotfe/gotfe/internal/kerastest"

// The fixtures' flat slices as keras data (see kerastest).
var (
	xsOf = kerastest.Samples
	ysOf = kerastest.Targets
	vals = kerastest.Values
)

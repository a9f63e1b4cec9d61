package mpc_test

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend/mpc"
)

// The command-line flags reach the engine's parameters.
func TestFlagsEngineConfig(t *testing.T) {
	for _, c := range []struct {
		args              []string
		fracBits, fastCmp int
		protocol          string
	}{
		{nil, 0, 0, "aby3"},
		{[]string{"--frac-bits", "20", "--fast-compare-max", "1000000"}, 20, 1000000, "aby3"},
		{[]string{"--fast-compare-max=-1", "--protocol", "pond"}, 0, -1, "pond"},
	} {
		var f mpc.Flags
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		f.Register(fs, "quic")
		require.NoError(t, fs.Parse(c.args))
		require.NoError(t, f.Validate())
		cfg := f.EngineConfig()
		assert.Equal(t, c.fracBits, cfg.Params.FracBits, "%v", c.args)
		assert.Equal(t, c.fastCmp, cfg.Params.FastCompareMax, "%v", c.args)
		assert.Equal(t, c.protocol, cfg.Params.Protocol, "%v", c.args)
	}
}

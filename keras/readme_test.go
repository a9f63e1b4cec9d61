package keras_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README's "Use it from Go" code is the body of Example_quickStart, which go test
// compiles and runs: the README shows code that works.
func TestReadmeQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	s := string(readme)
	at := strings.Index(s, "## Use it from Go")
	require.GreaterOrEqual(t, at, 0, "the README has a quick start")
	s = s[at:]
	start := strings.Index(s, "```go\n")
	require.GreaterOrEqual(t, start, 0)
	s = s[start+len("```go\n"):]
	block := s[:strings.Index(s, "```")]

	src, err := os.ReadFile("quickstart_test.go")
	require.NoError(t, err)
	body := string(src)
	from := strings.Index(body, "func Example_quickStart() {\n")
	require.GreaterOrEqual(t, from, 0)
	body = body[from+len("func Example_quickStart() {\n"):]
	body = body[:strings.Index(body, "\t// Output:")]
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	require.Equal(t, strings.Join(lines, "\n")+"\n", block, "README quick start and Example_quickStart differ")
}

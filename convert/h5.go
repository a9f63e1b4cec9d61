package convert

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/scigolib/hdf5"

	"github.com/gotfe/gotfe/backend"
	"github.com/gotfe/gotfe/keras"
)

// maxZipEntry bounds the uncompressed size of an entry of a .keras archive (4 GiB).
const maxZipEntry = 4 << 30

// openH5 opens an HDF5 file, turning a panic of the reader on a corrupt file into an error.
func openH5(path string) (f *hdf5.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("corrupt HDF5 file: %v", r)
		}
	}()
	return hdf5.Open(path)
}

// guard runs fn, turning a panic of the HDF5 reader into an error.
func guard(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt HDF5 file: %v", r)
		}
	}()
	return fn()
}

// child returns the child of g named name.
func child(g *hdf5.Group, name string) hdf5.Object {
	for _, c := range g.Children() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

// childGroup returns the group g/name.
func childGroup(g *hdf5.Group, name string) (*hdf5.Group, error) {
	c, ok := child(g, name).(*hdf5.Group)
	if !ok {
		return nil, fmt.Errorf("no group %q in %q", name, g.Name())
	}
	return c, nil
}

// stringsAttr reads a string or list-of-strings attribute (fixed- or variable-length) of a
// group; ok is false when the group has no such attribute.
func stringsAttr(g *hdf5.Group, name string) (vals []string, ok bool, err error) {
	attrs, err := g.Attributes()
	if err != nil {
		return nil, false, err
	}
	for _, a := range attrs {
		if a.Name != name {
			continue
		}
		v, err := a.ReadValue()
		if err != nil {
			return nil, true, fmt.Errorf("attribute %s: %w", name, err)
		}
		switch v := v.(type) {
		case string:
			return []string{v}, true, nil
		case []string:
			return v, true, nil
		case []any:
			if len(v) == 0 {
				return nil, true, nil
			}
		}
		return nil, true, fmt.Errorf("attribute %s is %T, not strings", name, v)
	}
	return nil, false, nil
}

// readDataset reads a dataset that must hold exactly as many values as shape.
func readDataset(d *hdf5.Dataset, shape []int) ([]float64, error) {
	v, err := d.Read()
	if err != nil {
		return nil, err
	}
	n, _ := backend.NumElements(shape)
	if len(v) != n {
		return nil, fmt.Errorf("dataset %s holds %d values, the configuration gives shape %v (%d values)", d.Name(), len(v), shape, n)
	}
	return v, nil
}

// readH5 reads a legacy Keras HDF5 model (model.save("x.h5") in Keras 2).
func readH5(path string) (*keras.Sequential, error) {
	f, err := openH5(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var m *keras.Sequential
	err = guard(func() error {
		var err error
		m, err = readH5File(f)
		return err
	})
	return m, err
}

func readH5File(f *hdf5.File) (*keras.Sequential, error) {
	root := f.Root()
	cfg, ok, err := stringsAttr(root, "model_config")
	if err != nil {
		return nil, err
	}
	if !ok || len(cfg) != 1 {
		return nil, errors.New("no model_config attribute: a file of weights only (save_weights), or not a Keras model")
	}
	km, err := parseKerasModel([]byte(cfg[0]))
	if err != nil {
		return nil, err
	}
	wg := root
	if g, err := childGroup(root, "model_weights"); err == nil {
		wg = g
	}
	names, ok, err := stringsAttr(wg, "layer_names")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("no layer_names attribute in model_weights")
	}
	return km.build(func(_ int, l *kerasLayer, k int, name string, shape []int) ([]float64, error) {
		found := false
		for _, n := range names {
			found = found || n == l.name
		}
		if !found {
			return nil, fmt.Errorf("layer %s is not in layer_names %v", l.name, names)
		}
		lg, err := childGroup(wg, l.name)
		if err != nil {
			return nil, err
		}
		wnames, _, err := stringsAttr(lg, "weight_names")
		if err != nil {
			return nil, err
		}
		// weight_names holds paths such as "dense/kernel:0", relative to the layer's group.
		var path string
		for _, wn := range wnames {
			base := wn[strings.LastIndex(wn, "/")+1:]
			if i := strings.LastIndex(base, ":"); i >= 0 {
				base = base[:i]
			}
			if base == name {
				path = wn
				break
			}
		}
		if path == "" {
			return nil, fmt.Errorf("not in the layer's weight_names %v", wnames)
		}
		parts := strings.Split(path, "/")
		g := lg
		for _, p := range parts[:len(parts)-1] {
			if g, err = childGroup(g, p); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		d, ok := child(g, parts[len(parts)-1]).(*hdf5.Dataset)
		if !ok {
			return nil, fmt.Errorf("no dataset %s", path)
		}
		return readDataset(d, shape)
	})
}

// readKerasZip reads a Keras 3 .keras archive: config.json and model.weights.h5.
func readKerasZip(data []byte) (*keras.Sequential, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a .keras archive: %w", err)
	}
	entry := func(name string) ([]byte, error) {
		for _, zf := range zr.File {
			if zf.Name != name {
				continue
			}
			if zf.UncompressedSize64 > maxZipEntry {
				return nil, fmt.Errorf("%s: %d bytes is too large", name, zf.UncompressedSize64)
			}
			rc, err := zf.Open()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			defer rc.Close()
			b, err := io.ReadAll(io.LimitReader(rc, int64(zf.UncompressedSize64)+1))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if uint64(len(b)) != zf.UncompressedSize64 {
				return nil, fmt.Errorf("%s: %d bytes, the archive says %d", name, len(b), zf.UncompressedSize64)
			}
			return b, nil
		}
		return nil, fmt.Errorf("the archive has no %s", name)
	}
	cfg, err := entry("config.json")
	if err != nil {
		return nil, err
	}
	km, err := parseKerasModel(cfg)
	if err != nil {
		return nil, err
	}
	wb, err := entry("model.weights.h5")
	if err != nil {
		return nil, err
	}
	// The HDF5 reader opens files by name.
	tmp, err := os.CreateTemp("", "gotfe-weights-*.h5")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(wb); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	f, err := openH5(tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("model.weights.h5: %w", err)
	}
	defer f.Close()
	var m *keras.Sequential
	err = guard(func() error {
		var err error
		m, err = kerasZipWeights(f, km)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("model.weights.h5: %w", err)
	}
	return m, nil
}

// kerasZipWeights builds the model with weights from layers/<name>/vars/<k>, where name is
// the layer's class in snake case, numbered from its second use ("dense", "dense_1", ...).
func kerasZipWeights(f *hdf5.File, km *kerasModel) (*keras.Sequential, error) {
	lg, err := childGroup(f.Root(), "layers")
	if err != nil {
		if lg, err = childGroup(f.Root(), "_layer_checkpoint_dependencies"); err != nil {
			return nil, errors.New("no group layers")
		}
	}
	paths := make([]string, len(km.layers))
	used := map[string]int{}
	for i, l := range km.layers {
		base := snakeCase(l.class)
		name := base
		if k, ok := used[base]; ok {
			used[base] = k + 1
			name = base + "_" + strconv.Itoa(k+1)
		} else {
			used[base] = 0
		}
		paths[i] = name
	}
	return km.build(func(li int, l *kerasLayer, k int, name string, shape []int) ([]float64, error) {
		g, err := childGroup(lg, paths[li])
		if err != nil {
			return nil, err
		}
		if g, err = childGroup(g, "vars"); err != nil {
			return nil, fmt.Errorf("layers/%s: %w", paths[li], err)
		}
		d, ok := child(g, strconv.Itoa(k)).(*hdf5.Dataset)
		if !ok {
			return nil, fmt.Errorf("no dataset layers/%s/vars/%d", paths[li], k)
		}
		return readDataset(d, shape)
	})
}

package main

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// maxInputBytes bounds an input file.
const maxInputBytes = 1 << 30

// readRows reads the input rows of a model of sample shape shape from a file: JSON (an array
// of rows, each flat or nested in the shape), CSV (a row per line, flat; a first line that is
// not numbers is a header) or NumPy .npy (an array of shape [rows, ...] whose other
// dimensions hold the sample's values, or of the sample's shape for one row). format is
// "json", "csv", "npy" or "" to go by the file's extension. It returns the rows flattened and
// their number.
func readRows(path, format string, shape []int) ([]float64, int, error) {
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv":
			format = "csv"
		case ".npy":
			format = "npy"
		default:
			format = "json"
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxInputBytes+1))
	if err != nil {
		return nil, 0, err
	}
	if len(data) > maxInputBytes {
		return nil, 0, fmt.Errorf("%s: larger than %d bytes", path, maxInputBytes)
	}
	var x []float64
	var n int
	switch format {
	case "json":
		x, n, err = parseRows(data, shape)
	case "csv":
		x, n, err = parseCSV(data, shape)
	case "npy":
		x, n, err = parseNPY(data, shape)
	default:
		return nil, 0, fmt.Errorf("input format %q: want json, csv or npy", format)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return x, n, nil
}

func sampleSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// parseRows reads a JSON array of rows, each a flat array of numbers or arrays nested in the
// sample shape, and returns the rows flattened and their number.
func parseRows(data []byte, shape []int) ([]float64, int, error) {
	var rows []json.RawMessage
	if err := json.Unmarshal(data, &rows); err != nil {
		return nil, 0, fmt.Errorf("want a JSON array of rows: %w", err)
	}
	if len(rows) == 0 {
		return nil, 0, errors.New("no rows")
	}
	size := sampleSize(shape)
	x := make([]float64, 0, len(rows)*size)
	for i, r := range rows {
		var flat []float64
		if json.Unmarshal(r, &flat) == nil {
			if len(flat) != size {
				return nil, 0, fmt.Errorf("row %d has %d values, the model takes %d (shape %v)", i, len(flat), size, shape)
			}
			x = append(x, flat...)
			continue
		}
		var nested any
		if err := json.Unmarshal(r, &nested); err != nil {
			return nil, 0, fmt.Errorf("row %d: %w", i, err)
		}
		var got []int
		var err error
		if x, err = flatten(x, nested, shape, &got); err != nil {
			return nil, 0, fmt.Errorf("row %d: %w (the model takes shape %v)", i, err, shape)
		}
	}
	return x, len(rows), nil
}

// flatten appends the numbers of v, which must be nested in shape, to dst.
func flatten(dst []float64, v any, shape []int, at *[]int) ([]float64, error) {
	if len(shape) == 0 {
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("at %v: %v is not a number", *at, v)
		}
		return append(dst, f), nil
	}
	l, ok := v.([]any)
	if !ok || len(l) != shape[0] {
		return nil, fmt.Errorf("at %v: want an array of %d", *at, shape[0])
	}
	for i, e := range l {
		*at = append(slices.Clone(*at), i)
		var err error
		if dst, err = flatten(dst, e, shape[1:], at); err != nil {
			return nil, err
		}
		*at = (*at)[:len(*at)-1]
	}
	return dst, nil
}

// parseCSV reads one flat row per line; a first line that is not all numbers is a header.
func parseCSV(data []byte, shape []int) ([]float64, int, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	size := sampleSize(shape)
	var x []float64
	rows := 0
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		vals := make([]float64, len(rec))
		var bad error
		for i, s := range rec {
			if vals[i], err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
				bad = fmt.Errorf("line %d, column %d: %q is not a number", line, i+1, s)
				break
			}
		}
		if bad != nil {
			if line == 1 && rows == 0 {
				continue // a header
			}
			return nil, 0, bad
		}
		if len(vals) != size {
			return nil, 0, fmt.Errorf("line %d has %d values, the model takes %d (shape %v)", line, len(vals), size, shape)
		}
		x = append(x, vals...)
		rows++
	}
	if rows == 0 {
		return nil, 0, errors.New("no rows")
	}
	return x, rows, nil
}

var (
	npyDescr   = regexp.MustCompile(`'descr'\s*:\s*'([<>|=])([fiu])(\d+)'`)
	npyFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape'\s*:\s*\(([0-9,\s]*)\)`)
)

// parseNPY reads a NumPy .npy array (format versions 1 to 3) of floats or integers in C order.
func parseNPY(data []byte, shape []int) ([]float64, int, error) {
	const magic = "\x93NUMPY"
	if len(data) < 10 || string(data[:6]) != magic {
		return nil, 0, errors.New("not a .npy file (no \\x93NUMPY magic)")
	}
	major := data[6]
	var hlen, off int
	switch major {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(data[8:10])), 10
	case 2, 3:
		if len(data) < 12 {
			return nil, 0, errors.New(".npy header: truncated")
		}
		h := binary.LittleEndian.Uint32(data[8:12])
		if uint64(h) > uint64(len(data)) {
			return nil, 0, fmt.Errorf(".npy header: length %d beyond the file's %d bytes", h, len(data))
		}
		hlen, off = int(h), 12
	default:
		return nil, 0, fmt.Errorf(".npy format version %d: want 1, 2 or 3", major)
	}
	if hlen > len(data)-off {
		return nil, 0, fmt.Errorf(".npy header: length %d beyond the file's %d bytes", hlen, len(data))
	}
	header := string(data[off : off+hlen])
	body := data[off+hlen:]
	m := npyDescr.FindStringSubmatch(header)
	if m == nil {
		return nil, 0, fmt.Errorf(".npy header: dtype (descr) not a little- or big-endian float or integer: %q", header)
	}
	bigEndian := m[1] == ">"
	kind := m[2]
	width, _ := strconv.Atoi(m[3])
	if !(kind == "f" && (width == 4 || width == 8) || (kind == "i" || kind == "u") && (width == 1 || width == 2 || width == 4 || width == 8)) {
		return nil, 0, fmt.Errorf(".npy dtype %s%s%d: want float32, float64 or an integer type", m[1], kind, width)
	}
	if fm := npyFortran.FindStringSubmatch(header); fm == nil || fm[1] != "False" {
		return nil, 0, errors.New(".npy: only C-ordered arrays are read (fortran_order must be False)")
	}
	sm := npyShape.FindStringSubmatch(header)
	if sm == nil {
		return nil, 0, fmt.Errorf(".npy header: no shape: %q", header)
	}
	var dims []int
	count := 1
	for _, f := range strings.Split(sm[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 || d > maxInputBytes {
			return nil, 0, fmt.Errorf(".npy shape: bad dimension %q", f)
		}
		dims = append(dims, d)
		if count > maxInputBytes/max(d, 1) {
			return nil, 0, fmt.Errorf(".npy shape %v: too many values", dims)
		}
		count *= d
	}
	if count*width != len(body) {
		return nil, 0, fmt.Errorf(".npy: shape %v of %d-byte values needs %d bytes of data, the file has %d", dims, width, count*width, len(body))
	}
	size := sampleSize(shape)
	var rows int
	switch {
	case slices.Equal(dims, shape):
		rows = 1
	case len(dims) >= 1 && dims[0] > 0 && sampleSize(dims[1:]) == size:
		rows = dims[0]
	default:
		return nil, 0, fmt.Errorf(".npy shape %v: want [rows, ...] with %d values per row (the model takes shape %v)", dims, size, shape)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	x := make([]float64, count)
	for i := range x {
		b := body[i*width:]
		switch {
		case kind == "f" && width == 4:
			x[i] = float64(math.Float32frombits(order.Uint32(b)))
		case kind == "f":
			x[i] = math.Float64frombits(order.Uint64(b))
		case width == 1 && kind == "i":
			x[i] = float64(int8(b[0]))
		case width == 1:
			x[i] = float64(b[0])
		case width == 2 && kind == "i":
			x[i] = float64(int16(order.Uint16(b)))
		case width == 2:
			x[i] = float64(order.Uint16(b))
		case width == 4 && kind == "i":
			x[i] = float64(int32(order.Uint32(b)))
		case width == 4:
			x[i] = float64(order.Uint32(b))
		case kind == "i":
			x[i] = float64(int64(order.Uint64(b)))
		default:
			x[i] = float64(order.Uint64(b))
		}
	}
	return x, rows, nil
}

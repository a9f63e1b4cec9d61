package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/convert"
	"github.com/gotfe/gotfe/keras"
)

func init() {
	register("inspect", "inspect [--format F] FILE: print the summary of a model file (TF.js model.json, .keras, .h5, .onnx or gotfe)", inspectCmd)
	register("predict", "predict --model FILE --input FILE [--format F] [--transport quic|mem] [--plain] [--config parties.json --party N]: private predictions of a model file on JSON inputs", predictCmd)
}

func inspectCmd(_ context.Context, args []string) error { return inspect(args, os.Stdout) }

func inspect(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	format := fs.String("format", "auto", "file format: auto, tfjs, keras, h5, onnx or gotfe")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one model file", errUsage)
	}
	f, err := convert.ParseFormat(*format)
	if err != nil {
		return err
	}
	m, err := convert.Load(fs.Arg(0), f)
	if err != nil {
		return err
	}
	if err := m.Summary(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, " Input shape: %v (one sample)\n", m.InputShape())
	if convert.SoftmaxHead(m) {
		fmt.Fprintln(stdout, " Classifier: ends with a softmax")
	}
	return nil
}

func predictCmd(ctx context.Context, args []string) error { return predict(ctx, args, os.Stdout) }

// predictSetup is what the party holding the model tells the others before a distributed
// prediction: public facts only.
type predictSetup struct {
	Architecture json.RawMessage `json:"architecture"`
	Samples      int             `json:"samples"`
}

func predict(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	model := fs.String("model", "", "model file (TF.js model.json, .keras, .h5, .onnx or gotfe); party 0 only in a distributed run")
	input := fs.String("input", "", "JSON inputs: an array of rows, each flat or nested in the model's input shape; party 0 only in a distributed run")
	format := fs.String("format", "auto", "model file format: auto, tfjs, keras, h5, onnx or gotfe")
	plain := fs.Bool("plain", false, "predict in the clear on the plain engine instead")
	batch := fs.Int("batch-size", 32, "rows per private batch")
	var parties mpc.Flags
	parties.Register(fs, "quic")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %v", errUsage, fs.Args())
	}
	if err := parties.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	const owner = 0
	isOwner := !parties.Distributed() || parties.Party == owner
	if isOwner && (*model == "" || *input == "") {
		return fmt.Errorf("%w: --model and --input are required", errUsage)
	}
	if !isOwner && (*model != "" || *input != "") {
		return fmt.Errorf("%w: only party %d reads --model and --input", errUsage, owner)
	}
	if *plain && parties.Distributed() {
		return fmt.Errorf("%w: --plain runs in this process only", errUsage)
	}

	var m *keras.Sequential
	var x []float64
	var setup predictSetup
	if isOwner {
		f, err := convert.ParseFormat(*format)
		if err != nil {
			return err
		}
		if m, err = convert.Load(*model, f); err != nil {
			return err
		}
		raw, err := os.ReadFile(*input)
		if err != nil {
			return err
		}
		if x, setup.Samples, err = parseRows(raw, m.InputShape()); err != nil {
			return fmt.Errorf("%s: %w", *input, err)
		}
		if setup.Architecture, err = keras.MarshalArchitecture(m); err != nil {
			return err
		}
	}
	if !*plain {
		runner, err := parties.Runner(ctx)
		if err != nil {
			return err
		}
		defer runner.Close()
		if parties.Distributed() {
			// The model's architecture and the number of rows are public: party 0 sends them
			// to the others, who build the same model without its weights.
			pr, ok := runner.(interface{ Backend() *mpc.Backend })
			if !ok {
				return errors.New("the distributed runner has no backend")
			}
			msg, err := json.Marshal(setup)
			if err != nil {
				return err
			}
			if msg, err = pr.Backend().BroadcastBytes(msg, owner); err != nil {
				return err
			}
			if !isOwner {
				if err := json.Unmarshal(msg, &setup); err != nil {
					return fmt.Errorf("set-up from party %d: %w", owner, err)
				}
				if m, err = keras.UnmarshalArchitecture(setup.Architecture); err != nil {
					return err
				}
				if err := m.SetWeights(nil); err != nil {
					return err
				}
			}
		}
		if err := m.SetRunner(runner); err != nil {
			return err
		}
	}
	out, err := m.Predict(x, keras.NumSamples(setup.Samples), keras.BatchSize(*batch), keras.Verbose(0))
	if err != nil {
		return err
	}
	if out == nil { // not the owner: the predictions are party 0's only
		return nil
	}
	return writePredictions(stdout, out, setup.Samples, convert.SoftmaxHead(m))
}

// writePredictions prints one JSON object per row: the class and its probabilities for a
// classifier, the outputs otherwise.
func writePredictions(w io.Writer, out []float64, rows int, classifier bool) error {
	enc := json.NewEncoder(w)
	k := len(out) / rows
	for r := range rows {
		row := out[r*k : (r+1)*k]
		var v any
		if classifier {
			best := 0
			for i, p := range row {
				if p > row[best] {
					best = i
				}
			}
			v = struct {
				Class         int       `json:"class"`
				Probabilities []float64 `json:"probabilities"`
			}{best, row}
		} else {
			v = struct {
				Outputs []float64 `json:"outputs"`
			}{row}
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return nil
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
	size := 1
	for _, d := range shape {
		size *= d
	}
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

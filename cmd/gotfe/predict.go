package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/gotfe/gotfe/convert"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/nd"
	"github.com/gotfe/gotfe/serving"
)

const predictUsage = "predict (--model FILE | --config parties.json [--cert FILE --key FILE]) --input FILE [--output probabilities|class|outputs] [--plain]: private predictions, from three local parties (--model) or from a deployment's serving parties (--config)"

func init() {
	register("inspect", "inspect [--format F] FILE: print the summary of a model file (TF.js model.json, .keras, .h5, .onnx or gotfe)", inspectCmd)
	register("predict", predictUsage, predictCmd)
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

func predict(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	model := fs.String("model", "", "model file (TF.js model.json, .keras, .h5, .onnx or gotfe): run the three parties in this process")
	format := fs.String("format", "auto", "model file format: auto, tfjs, keras, h5, onnx or gotfe")
	config := fs.String("config", "", "parties.json of a deployment whose parties serve (gotfe serve)")
	cert := fs.String("cert", "", "the client's certificate (default client.pem beside parties.json)")
	key := fs.String("key", "", "the client's key (default client.key beside parties.json)")
	input := fs.String("input", "", "input rows: JSON (an array of rows, each flat or nested in the model's input shape), CSV or .npy")
	inputFormat := fs.String("input-format", "", "json, csv or npy (default: by the file's extension, JSON otherwise)")
	output := fs.String("output", "", "with --model: what the parties reveal: probabilities (a softmax head), class or outputs (default: probabilities for a classifier)")
	plain := fs.Bool("plain", false, "with --model: predict in the clear on the plain engine instead")
	timeout := fs.Duration("timeout", time.Minute, "deadline of the prediction")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected arguments %v", errUsage, fs.Args())
	case (*model == "") == (*config == ""):
		return fmt.Errorf("%w: give --model (a local try-out) or --config (a deployment), and --input", errUsage)
	case *input == "":
		return fmt.Errorf("%w: --input is required", errUsage)
	case *config != "" && (*plain || *output != ""):
		return fmt.Errorf("%w: --plain and --output go with --model (the serving parties choose what they reveal)", errUsage)
	case *model == "" && (*cert != "" || *key != "") && (*cert == "" || *key == ""):
		return fmt.Errorf("%w: --cert and --key go together", errUsage)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	if *config != "" {
		dir := filepath.Dir(*config)
		if *cert == "" {
			*cert, *key = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
		}
		cfg, err := serving.ClientConfigFromFile(*config, *cert, *key)
		if err != nil {
			return err
		}
		c, err := serving.NewClient(cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		return predictWith(ctx, c, *input, *inputFormat, stdout)
	}

	f, err := convert.ParseFormat(*format)
	if err != nil {
		return err
	}
	m, err := convert.Load(*model, f)
	if err != nil {
		return err
	}
	if *plain {
		x, n, err := readRows(*input, *inputFormat, m.InputShape())
		if err != nil {
			return err
		}
		out, err := m.Predict(nd.New(x, append([]int{n}, m.InputShape()...)...), keras.Verbose(0))
		if err != nil {
			return err
		}
		return writePlain(stdout, out.Data(), n, convert.SoftmaxHead(m))
	}
	// The local try-out: three parties in this process, over QUIC with mutual TLS on
	// loopback, and a client outside them that alone sees the input and the output.
	l, err := serving.StartLocal(ctx, m, serving.LocalOptions{Output: *output})
	if err != nil {
		return err
	}
	defer l.Close()
	c, err := l.NewClient("local")
	if err != nil {
		return err
	}
	defer c.Close()
	if err := predictWith(ctx, c, *input, *inputFormat, stdout); err != nil {
		return err
	}
	return l.Shutdown(ctx)
}

// predictWith reads the input rows in the shape the parties serve, predicts them and prints
// one JSON object per row.
func predictWith(ctx context.Context, c *serving.Client, input, inputFormat string, stdout io.Writer) error {
	info, err := c.Info(ctx)
	if err != nil {
		return err
	}
	x, n, err := readRows(input, inputFormat, info.InputShape)
	if err != nil {
		return err
	}
	p, err := c.Predict(ctx, x)
	if err != nil {
		return err
	}
	return writePrediction(stdout, p, n)
}

type classOut struct {
	Class         int       `json:"class"`
	Probabilities []float64 `json:"probabilities,omitempty"`
}

type valuesOut struct {
	Outputs []float64 `json:"outputs"`
}

// writePrediction prints one JSON object per row: the class and its probabilities for a
// classifier, the class alone when only the class is revealed, the outputs otherwise.
func writePrediction(w io.Writer, p *serving.Prediction, rows int) error {
	enc := json.NewEncoder(w)
	for r := range rows {
		var v any
		switch {
		case p.Probabilities != nil:
			v = classOut{p.Classes[r], p.Probabilities[r]}
		case p.Classes != nil:
			v = classOut{Class: p.Classes[r]}
		case p.Outputs != nil:
			v = valuesOut{p.Outputs[r]}
		default:
			return errors.New("empty prediction")
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return nil
}

// writePlain prints the plain engine's outputs like writePrediction.
func writePlain(w io.Writer, out []float64, rows int, classifier bool) error {
	k := len(out) / rows
	p := &serving.Prediction{}
	for r := range rows {
		row := out[r*k : (r+1)*k]
		if !classifier {
			p.Outputs = append(p.Outputs, row)
			continue
		}
		best := 0
		for i, v := range row {
			if v > row[best] || math.IsNaN(row[best]) {
				best = i
			}
		}
		p.Classes, p.Probabilities = append(p.Classes, best), append(p.Probabilities, row)
	}
	return writePrediction(w, p, rows)
}

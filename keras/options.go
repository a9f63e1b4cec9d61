package keras

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Option is an optional argument of Compile, Fit, Evaluate, Predict, EarlyStopping or
// ModelCheckpoint. Each call accepts the options that make sense for it and reports any other
// as an error.
type Option interface {
	apply(o *options)
}

// options holds every optional argument; each call reads the ones it takes.
type options struct {
	given []string

	// Compile
	metrics []string

	// Fit, Evaluate, Predict
	epochs          int
	initialEpoch    int
	batchSize       int
	shuffle         bool
	seed            uint64
	xVal, yVal      Data
	hasValData      bool
	validationSplit float64
	callbacks       []Callback
	verbose         int
	out             io.Writer
	owner           int
	samples         int
	valSamples      int
	sampleWeight    Data
	hasSampleWeight bool
	classWeight     map[int]float64

	// Callbacks
	monitor            string
	minDelta           float64
	patience           int
	mode               string
	baseline           *float64
	restoreBestWeights bool
	saveBestOnly       bool
	saveShares         bool
}

type option struct {
	key string
	f   func(o *options)
}

func (o option) apply(opts *options) { opts.given = append(opts.given, o.key); o.f(opts) }

// collect applies opts over defaults and reports options the call does not take.
func collect(call string, opts []Option, defaults options, allowed ...string) (options, error) {
	o := defaults
	o.given = nil
	for _, opt := range opts {
		if opt == nil {
			return o, fmt.Errorf("%s: nil option", call)
		}
		opt.apply(&o)
	}
	for _, k := range o.given {
		if !slices.Contains(allowed, k) {
			return o, fmt.Errorf("%s: option %s does not apply to %s", call, k, call)
		}
	}
	return o, nil
}

func (o *options) has(key string) bool { return slices.Contains(o.given, key) }

// Metrics names the metrics Compile adds to the loss: "accuracy" (or "acc": categorical or
// binary accuracy as the loss and output suggest), "categorical_accuracy",
// "sparse_categorical_accuracy", "binary_accuracy", "mse" ("mean_squared_error"), "mae"
// ("mean_absolute_error"), "precision" and "recall" (of the outputs above 0.5, or 0 for a loss
// from logits, counted over every output as Keras does), and "auc" (Keras's AUC: the ROC curve
// interpolated between 200 thresholds). Keras's class names ("Precision", "Recall", "AUC")
// are accepted too. The metrics are not weighted by SampleWeight or ClassWeight.
//
// On a secure engine the parties open, at the end of each epoch, what each metric needs: the
// sums of the per-sample metrics; for precision and recall the true positives and the
// predicted (or actual) positives; for AUC its area before the division by p·(1-p) and the
// fraction p of positive targets (the counts at the thresholds stay secret).
func Metrics(names ...string) Option {
	return option{"Metrics", func(o *options) { o.metrics = append(o.metrics, names...) }}
}

// Epochs sets the number of epochs of Fit (default 1).
func Epochs(n int) Option { return option{"Epochs", func(o *options) { o.epochs = n }} }

// InitialEpoch sets the epoch Fit starts at, to resume a training (default 0).
func InitialEpoch(n int) Option {
	return option{"InitialEpoch", func(o *options) { o.initialEpoch = n }}
}

// BatchSize sets the number of samples per step (default 32).
func BatchSize(n int) Option { return option{"BatchSize", func(o *options) { o.batchSize = n }} }

// Shuffle sets whether Fit shuffles the training samples before each epoch (default true).
// The order comes from a public seed, so every party shuffles alike.
func Shuffle(v bool) Option { return option{"Shuffle", func(o *options) { o.shuffle = v }} }

// Seed sets the seed of Fit's shuffling (default: derived from the model's seed).
func Seed(s uint64) Option { return option{"Seed", func(o *options) { o.seed = s }} }

// ValidationData gives Fit samples and targets to evaluate at the end of every epoch, logged
// with a "val_" prefix. Parties that do not own the data pass nil with ValidationSamples.
func ValidationData(x, y Data) Option {
	return option{"ValidationData", func(o *options) { o.xVal, o.yVal, o.hasValData = x, y, true }}
}

// SampleWeight weighs Fit's training samples, one weight per sample (shape [n]), as Keras's
// sample_weight: the loss of a batch is the mean over its samples of weight × loss, so its
// gradients scale alike; the metrics are not weighted. The weights are the data owner's and
// are secret-shared with the samples; parties that do not own the data pass nil.
func SampleWeight(w Data) Option {
	return option{"SampleWeight", func(o *options) { o.sampleWeight, o.hasSampleWeight = w, true }}
}

// ClassWeight weighs Fit's training samples by their class, as Keras's class_weight: a map
// from every class index (the target's class; 0 or 1 for binary targets) to its weight. With
// SampleWeight, a sample's weight is the product of both. The owner computes each sample's
// weight from its targets; the weights are secret-shared with the samples. Every party gives
// the option (a party that does not own the data may give an empty map).
func ClassWeight(w map[int]float64) Option {
	return option{"ClassWeight", func(o *options) {
		o.classWeight = w
		if o.classWeight == nil {
			o.classWeight = map[int]float64{}
		}
	}}
}

// ValidationSplit holds back the last fraction (in (0, 1)) of the training samples, before
// shuffling, as validation data.
func ValidationSplit(f float64) Option {
	return option{"ValidationSplit", func(o *options) { o.validationSplit = f }}
}

// Callbacks adds callbacks to Fit.
func Callbacks(cbs ...Callback) Option {
	return option{"Callbacks", func(o *options) { o.callbacks = append(o.callbacks, cbs...) }}
}

// Verbose sets what Fit, Evaluate and Predict print: 0 nothing, 1 a progress bar updated every
// step (the default), 2 one line per epoch.
func Verbose(v int) Option { return option{"Verbose", func(o *options) { o.verbose = v }} }

// Output sets where progress is printed (default os.Stdout).
func Output(w io.Writer) Option { return option{"Output", func(o *options) { o.out = w }} }

// DataOwner names the party that owns the samples and targets and receives predictions
// (default 0).
func DataOwner(p int) Option { return option{"DataOwner", func(o *options) { o.owner = p }} }

// NumSamples gives the number of samples to a party that does not own the data and passes
// nil; the owner may give it too, and it must then agree with the data.
func NumSamples(n int) Option { return option{"NumSamples", func(o *options) { o.samples = n }} }

// ValidationSamples is NumSamples for ValidationData.
func ValidationSamples(n int) Option {
	return option{"ValidationSamples", func(o *options) { o.valSamples = n }}
}

// Monitor names the logged quantity a callback watches (default "val_loss").
func Monitor(name string) Option { return option{"Monitor", func(o *options) { o.monitor = name }} }

// MinDelta sets the smallest change of the monitored quantity EarlyStopping counts as an
// improvement (default 0).
func MinDelta(d float64) Option { return option{"MinDelta", func(o *options) { o.minDelta = d }} }

// Patience sets the number of epochs without improvement after which EarlyStopping stops
// training (default 0).
func Patience(n int) Option { return option{"Patience", func(o *options) { o.patience = n }} }

// Mode sets whether the monitored quantity should decrease ("min"), increase ("max"), or
// "auto" (the default): increase for accuracies, decrease otherwise.
func Mode(m string) Option {
	return option{"Mode", func(o *options) { o.mode = strings.ToLower(m) }}
}

// Baseline sets a value the monitored quantity must improve on for EarlyStopping to reset its
// patience.
func Baseline(v float64) Option { return option{"Baseline", func(o *options) { o.baseline = &v }} }

// RestoreBestWeights makes EarlyStopping restore the weights of the best epoch when it stops
// (default false).
func RestoreBestWeights(v bool) Option {
	return option{"RestoreBestWeights", func(o *options) { o.restoreBestWeights = v }}
}

// SaveBestOnly makes ModelCheckpoint save only when the monitored quantity improves (default
// false: every epoch).
func SaveBestOnly(v bool) Option {
	return option{"SaveBestOnly", func(o *options) { o.saveBestOnly = v }}
}

// SaveShares makes ModelCheckpoint write each party's own shares (Sequential.SaveShares)
// rather than revealing the weights to the model owner (Sequential.Save).
func SaveShares(v bool) Option {
	return option{"SaveShares", func(o *options) { o.saveShares = v }}
}

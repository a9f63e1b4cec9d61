package convert_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/convert"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/secure/aby3"
)

// reference is what a fixture's tool computed: its inputs (pixels to divide by input_scale,
// or the values themselves) and its outputs, and for ONNX fixtures ONNX Runtime's outputs.
type reference struct {
	Tool       string      `json:"tool"`
	InputShape []int       `json:"input_shape"`
	InputScale float64     `json:"input_scale"`
	Inputs     [][]float64 `json:"inputs"`
	Outputs    [][]float64 `json:"outputs"`
	ORT        [][]float64 `json:"onnxruntime_outputs"`
}

func readReference(t testing.TB, path string) *reference {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var r reference
	require.NoError(t, json.Unmarshal(b, &r))
	require.NotEmpty(t, r.Inputs)
	require.Len(t, r.Outputs, len(r.Inputs))
	return &r
}

// x returns the first n reference inputs as the tool fed them (float32), in gotfe's layout:
// an ONNX image [C, H, W] (nchw) is transposed to [H, W, C].
func (r *reference) x(n int, nchw bool) []float64 {
	var x []float64
	for _, row := range r.Inputs[:n] {
		v := make([]float64, len(row))
		for i, p := range row {
			if r.InputScale != 0 {
				v[i] = float64(float32(p) / float32(r.InputScale))
			} else {
				v[i] = float64(float32(p))
			}
		}
		if s := r.InputShape; nchw && len(s) == 3 {
			c, h, w := s[0], s[1], s[2]
			nhwc := make([]float64, len(v))
			for ci := 0; ci < c; ci++ {
				for p := 0; p < h*w; p++ {
					nhwc[p*c+ci] = v[ci*h*w+p]
				}
			}
			v = nhwc
		}
		x = append(x, v...)
	}
	return x
}

// fixture is one model file made by a real tool, with the reference its tool computed.
type fixture struct {
	name, path, ref string
	format          convert.Format
}

func (f fixture) nchw() bool { return f.format == convert.ONNX }

var fixtures = []fixture{
	{"tfjs mlp", "testdata/tfjs_mlp/model.json", "testdata/tfjs_mlp/reference.json", convert.TFJS},
	{"tfjs cnn", "testdata/tfjs_cnn/model.json", "testdata/tfjs_cnn/reference.json", convert.TFJS},
	{"h5 mlp", "testdata/keras/mlp.h5", "testdata/tfjs_mlp/reference.json", convert.H5},
	{"h5 cnn", "testdata/keras/cnn.h5", "testdata/tfjs_cnn/reference.json", convert.H5},
	{"keras mlp", "testdata/keras/mlp.keras", "testdata/tfjs_mlp/reference.json", convert.Keras},
	{"keras cnn", "testdata/keras/cnn.keras", "testdata/tfjs_cnn/reference.json", convert.Keras},
	{"onnx mlp", "testdata/onnx_mlp/model.onnx", "testdata/onnx_mlp/reference.json", convert.ONNX},
	{"onnx cnn", "testdata/onnx_cnn/model.onnx", "testdata/onnx_cnn/reference.json", convert.ONNX},
	{"onnx ops", "testdata/onnx_ops/model.onnx", "testdata/onnx_ops/reference.json", convert.ONNX},
}

func maxDiff(t *testing.T, got []float64, want [][]float64) float64 {
	t.Helper()
	k := len(want[0])
	require.Len(t, got, len(want)*k)
	worst := 0.0
	for i, row := range want {
		for j, w := range row {
			worst = math.Max(worst, math.Abs(got[i*k+j]-w))
		}
	}
	return worst
}

// On the plain engine an imported model computes in float64 from the file's float32 weights,
// the tools in float32. A float32 dot product of n terms errs by about sqrt(n)·u·Σ|x·w| in
// practice (u = 2^-24 ≈ 6e-8; n ≤ 784 here) and Σ|x·w| stays below 10 for these small
// trained models, so a logit errs by at most 28·6e-8·10 = 1.7e-5 and a softmax probability by
// half that (its derivative is at most 1/2): 1e-5 (the observed errors are near 1e-7).
const plainTol = 1e-5

// On the secure engine the weights and inputs are rounded to 2^-16 and every product is
// truncated (within one unit, 1.5e-5 each, a few hundred of them summed into a logit: about
// 1e-4 at worst from the roundings in these models), and the softmax is approximated within
// 2e-3 per probability (secure/approx); a logit error moves a probability by at most half of
// it, so a classifier's probabilities agree within 2e-3 + 1e-4 and, where the tool's two
// largest probabilities differ by more than twice that, so does its class.
const secureTol = 2.1e-3

// The fixture without a softmax passes through a tanh and a sigmoid, each approximated
// within 1e-2 over its whole range (far better near zero, where most of these inputs fall):
// its outputs are held to the 1e-2 asked of probabilities.
const secureTolNoSoftmax = 1e-2

func TestFixturesMatchTheirTools(t *testing.T) {
	for _, engine := range []string{"plain", "secure"} {
		for _, f := range fixtures {
			t.Run(engine+"/"+f.name, func(t *testing.T) {
				ref := readReference(t, f.ref)
				m, err := convert.Load(f.path, convert.Auto)
				require.NoError(t, err)
				n := len(ref.Inputs)
				tol := plainTol
				if engine == "secure" {
					r := mpc.NewLocalRunner(aby3.Config{}, nil)
					defer r.Close()
					require.NoError(t, m.SetRunner(r))
					tol = secureTol
					if !convert.SoftmaxHead(m) {
						tol = secureTolNoSoftmax
					}
				}
				pred, err := m.Predict(xsOf(m, ref.x(n, f.nchw())), keras.Verbose(0))
				require.NoError(t, err)
				got := pred.Data()
				for _, want := range [][][]float64{ref.Outputs, ref.ORT} {
					if want == nil {
						continue
					}
					want = want[:n]
					d := maxDiff(t, got, want)
					t.Logf("max |gotfe %s - reference| = %.2e (tolerance %.0e)", engine, d, tol)
					require.LessOrEqual(t, d, tol)
					if convert.SoftmaxHead(m) {
						same := sameClass(got, want)
						t.Logf("same class on %d of %d inputs", same, n)
						require.GreaterOrEqual(t, float64(same), 0.995*float64(n))
					}
				}
			})
		}
	}
}

// sameClass counts the rows whose largest output is the same in got and want.
func sameClass(got []float64, want [][]float64) int {
	k, same := len(want[0]), 0
	for i, row := range want {
		if argmax(got[i*k:(i+1)*k]) == argmax(row) {
			same++
		}
	}
	return same
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// A model saved in gotfe's own format loads back through the same entry point.
func TestGotfeFormatRoundTrip(t *testing.T) {
	ref := readReference(t, "testdata/tfjs_cnn/reference.json")
	m, err := convert.Load("testdata/tfjs_cnn/model.json", convert.Auto)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "cnn.gotfe")
	require.NoError(t, m.Save(path))
	f, err := os.Open(path)
	require.NoError(t, err)
	head := make([]byte, 16)
	_, err = f.Read(head)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	format, err := convert.Detect(path, head)
	require.NoError(t, err)
	require.Equal(t, convert.Gotfe, format)
	back, err := convert.Load(path, convert.Auto)
	require.NoError(t, err)
	x := ref.x(4, false)
	want, err := m.Predict(xsOf(m, x), keras.Verbose(0))
	require.NoError(t, err)
	got, err := back.Predict(xsOf(back, x), keras.Verbose(0))
	require.NoError(t, err)
	require.Equal(t, want, got)
}

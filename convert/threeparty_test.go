package convert_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotfe/gotfe/backend/mpc"
	"github.com/gotfe/gotfe/convert"
	"github.com/gotfe/gotfe/keras"
	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// partyView is what one party ends with.
type partyView struct {
	arch    []byte
	pred    []float64
	weights [][]float64
}

// Three parties, each its own process in spirit (its own model value and runner): only party
// 0 has the file. It imports the model and broadcasts the architecture; parties 1 and 2 build
// the model from it and the three predict together on party 0's images. Parties 1 and 2 never
// hold the weights in the clear: GetWeights gives them nil, and the shares their replicas
// hold (saved with SaveShares) contain none of the weights' encodings, while the three
// parties' shares together reconstruct them.
func TestThreePartiesOnlyOwnerHasTheFile(t *testing.T) {
	const n = 8
	ref := readReference(t, "testdata/onnx_cnn/reference.json")
	x := ref.x(n, true)
	dir := t.TempDir()
	shares := filepath.Join(dir, "cnn")
	var mu sync.Mutex
	views := map[secure.PartyID]*partyView{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := launch.Local(ctx, func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		p, err := aby3.NewParty(ctx, id, net, aby3.Config{})
		if err != nil {
			return err
		}
		runner := mpc.NewPartyRunner(p)
		v := &partyView{}
		var m *keras.Sequential
		if id == 0 {
			if m, err = convert.Load("testdata/onnx_cnn/model.onnx", convert.Auto); err != nil {
				return err
			}
			if v.arch, err = keras.MarshalArchitecture(m); err != nil {
				return err
			}
		}
		if v.arch, err = runner.Backend().BroadcastBytes(v.arch, 0); err != nil {
			return err
		}
		var xs []float64
		if id == 0 {
			xs = x
		} else {
			if m, err = keras.UnmarshalArchitecture(v.arch); err != nil {
				return err
			}
			if err := m.SetWeights(nil); err != nil { // the weights come from party 0
				return err
			}
		}
		if err := m.SetRunner(runner); err != nil {
			return err
		}
		pred, err := m.Predict(xsOf(m, xs), keras.NumSamples(n), keras.Verbose(0))
		if err != nil {
			return err
		}
		v.pred = vals(pred)
		if err := m.SaveShares(shares); err != nil {
			return err
		}
		if v.weights, err = m.GetWeights(); err != nil {
			return err
		}
		mu.Lock()
		views[id] = v
		mu.Unlock()
		return nil
	})
	require.NoError(t, err)

	// Party 0 gets the predictions, the others nothing.
	require.Equal(t, views[0].arch, views[1].arch)
	require.Equal(t, views[0].arch, views[2].arch)
	d := maxDiff(t, views[0].pred, ref.Outputs[:n])
	t.Logf("party 0: max |prediction - torch| = %.2e", d)
	require.LessOrEqual(t, d, secureTol)
	require.Equal(t, n, sameClass(views[0].pred, ref.Outputs[:n]))
	require.Nil(t, views[1].pred)
	require.Nil(t, views[2].pred)

	// Only party 0 knows the weights.
	w := views[0].weights
	require.NotEmpty(t, w)
	require.Nil(t, views[1].weights)
	require.Nil(t, views[2].weights)

	// Each party's share file holds its two components (x_i, x_{i+1}) of every weight.
	var comps [3][][2][]uint64
	for p := range 3 {
		comps[p] = readShares(t, keras.SharesPath(shares, p), w)
	}
	hidden := 0
	for k := range w {
		for j, v := range w[k] {
			// The three parties' first components add up to the encoding of the weight.
			sum := comps[0][k][0][j] + comps[1][k][0][j] + comps[2][k][0][j]
			require.InDelta(t, v, float64(int64(sum))/(1<<16), 1.0/(1<<16), "weight %d[%d]", k, j)
			enc := uint64(int64(math.Round(v * (1 << 16))))
			if enc == 0 {
				continue
			}
			hidden++
			for _, p := range []int{1, 2} {
				for c := range 2 {
					require.NotEqual(t, enc, comps[p][k][c][j], "party %d holds weight %d[%d] in the clear", p, k, j)
				}
			}
		}
	}
	t.Logf("%d nonzero weights, none held in the clear by parties 1 and 2", hidden)
}

// readShares decodes a share file (see keras.SaveShares): per weight, the party's components
// x_i and x_{i+1}.
func readShares(t *testing.T, path string, w [][]float64) [][2][]uint64 {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "GOTFESHR", string(b[:8]))
	hlen := binary.LittleEndian.Uint64(b[12:])
	var h struct {
		Party *int `json:"party"`
	}
	require.NoError(t, json.Unmarshal(b[20:20+hlen], &h))
	payload := b[20+hlen : len(b)-4]
	var out [][2][]uint64
	for _, v := range w {
		var c [2][]uint64
		for part := range 2 {
			c[part] = make([]uint64, len(v))
			for i := range v {
				c[part][i] = binary.LittleEndian.Uint64(payload[8*(part*len(v)+i):])
			}
		}
		payload = payload[16*len(v):]
		out = append(out, c)
	}
	require.Empty(t, payload)
	return out
}

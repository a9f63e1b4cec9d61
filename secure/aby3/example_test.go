package aby3_test

import (
	"context"
	"fmt"

	"github.com/gotfe/gotfe/launch"
	"github.com/gotfe/gotfe/secure"
	"github.com/gotfe/gotfe/secure/aby3"
)

// Three parties in one process: party 0 shares x, party 1 shares w, they compute x·w and
// ReLU(x·w) on shares, and only party 2 learns the result.
func Example() {
	x := []float64{1, -2, 0.5, 3}    // 2x2, owned by party 0
	w := []float64{0.5, -1, 2, 0.25} // 2x2, owned by party 1
	var out []float64
	err := launch.Local(context.Background(), func(ctx context.Context, id secure.PartyID, net secure.Network) error {
		p, err := aby3.NewParty(ctx, id, net, aby3.Config{})
		if err != nil {
			return err
		}
		var xs, ws []float64
		switch id {
		case 0:
			xs = x
		case 1:
			ws = w
		}
		sx, err := p.Share(0, xs, []int{2, 2})
		if err != nil {
			return err
		}
		sw, err := p.Share(1, ws, []int{2, 2})
		if err != nil {
			return err
		}
		z, err := p.MatMul(sx, sw)
		if err != nil {
			return err
		}
		y, _, err := p.ReLU(z)
		if err != nil {
			return err
		}
		v, err := p.Reveal(y, 2)
		if id == 2 {
			out = v
		}
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range out {
		fmt.Printf("%.3f ", v)
	}
	fmt.Println()
	// Output: 0.000 0.000 6.250 0.250
}

package aby3_test

import (
	"math/rand/v2"
	"testing"

	"github.com/gotfe/gotfe/secure/aby3"
	"github.com/gotfe/gotfe/secure/ring"
)

// bench3 runs an operation on three in-process parties once per benchmark iteration. prep runs
// once on every party and returns the operation; the parties stay up between iterations, so
// only the operation is timed. It reports the rounds and the bytes all parties send per op.
func bench3(b *testing.B, prep func(p *aby3.Party) (func() error, error)) {
	b.Helper()
	var start [3]chan struct{}
	for i := range start {
		start[i] = make(chan struct{})
	}
	ready, done := make(chan error, 3), make(chan error, 3)
	var stats [3]aby3.Stats
	finished := make(chan error, 1)
	go func() {
		finished <- try3(71, func(p *aby3.Party) error {
			op, err := prep(p)
			ready <- err
			if err != nil {
				return err
			}
			for range start[p.ID()] {
				s := p.Stats()
				err := op()
				stats[p.ID()] = p.Stats().Sub(s)
				done <- err
				if err != nil {
					return err
				}
			}
			return nil
		})
	}()
	for range 3 {
		if err := <-ready; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range start {
			start[i] <- struct{}{}
		}
		for range 3 {
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range start {
		close(start[i])
	}
	if err := <-finished; err != nil {
		b.Fatal(err)
	}
	var bytes int64
	for _, s := range stats {
		bytes += s.BytesSent
	}
	b.ReportMetric(float64(stats[0].Rounds), "rounds/op")
	b.ReportMetric(float64(bytes), "bytes/op")
}

// benchInput shares n values uniform in [lo, hi) from party 0.
func benchInput(p *aby3.Party, shape []int, lo, hi float64) (*aby3.Shared, error) {
	n := numel(shape)
	var v []float64
	if p.ID() == 0 {
		r := rand.New(rand.NewPCG(1, 2))
		v = make([]float64, n)
		for i := range v {
			v[i] = lo + (hi-lo)*r.Float64()
		}
	}
	s, err := p.Share(0, v, shape)
	if err != nil {
		return nil, err
	}
	return p.AddPublic(s, []float64{0})
}

func BenchmarkReLU(b *testing.B) {
	bench3(b, func(p *aby3.Party) (func() error, error) {
		x, err := benchInput(p, []int{16384}, -4, 4)
		return func() error { _, _, err := p.ReLU(x); return err }, err
	})
}

func BenchmarkMaxPool2D(b *testing.B) {
	g, err := ring.NewConvGeom(128, 24, 24, 16, 2, 2, 2, 2, false)
	if err != nil {
		b.Fatal(err)
	}
	bench3(b, func(p *aby3.Party) (func() error, error) {
		x, err := benchInput(p, []int{128, 24, 24, 16}, -4, 4)
		return func() error { _, _, err := p.MaxPool2D(x, g); return err }, err
	})
}

func BenchmarkSigmoid(b *testing.B) {
	bench3(b, func(p *aby3.Party) (func() error, error) {
		x, err := benchInput(p, []int{16384}, -8, 8)
		return func() error { _, err := p.Sigmoid(x); return err }, err
	})
}

func BenchmarkSoftmax(b *testing.B) {
	bench3(b, func(p *aby3.Party) (func() error, error) {
		x, err := benchInput(p, []int{128, 10}, -10, 10)
		return func() error { _, err := p.Softmax(x); return err }, err
	})
}

func BenchmarkExp(b *testing.B) {
	bench3(b, func(p *aby3.Party) (func() error, error) {
		x, err := benchInput(p, []int{16384}, -10, 4)
		return func() error { _, err := p.Exp(x); return err }, err
	})
}

func BenchmarkReciprocal(b *testing.B) {
	bench3(b, func(p *aby3.Party) (func() error, error) {
		x, err := benchInput(p, []int{16384}, 0.01, 30)
		return func() error { _, err := p.Reciprocal(x); return err }, err
	})
}

func BenchmarkMaxPool2DBackward(b *testing.B) {
	g, err := ring.NewConvGeom(128, 24, 24, 16, 2, 2, 2, 2, false)
	if err != nil {
		b.Fatal(err)
	}
	bench3(b, func(p *aby3.Party) (func() error, error) {
		x, err := benchInput(p, []int{128, 24, 24, 16}, -4, 4)
		if err != nil {
			return nil, err
		}
		y, mask, err := p.MaxPool2D(x, g)
		return func() error { _, err := p.MaxPool2DBackward(y, mask, g); return err }, err
	})
}

// BenchmarkMul is the fixed-point product with its exact truncation, on 100000 elements.
func BenchmarkMul(b *testing.B) {
	bench3(b, func(p *aby3.Party) (func() error, error) {
		x, err := benchInput(p, []int{100000}, -10, 10)
		if err != nil {
			return nil, err
		}
		return func() error { _, err := p.Mul(x, x); return err }, nil
	})
}

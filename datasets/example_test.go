package datasets_test

import (
	"fmt"
	"log"

	"github.com/gotfe/gotfe/datasets"
)

func ExampleLoadMNIST() {
	// An empty directory searches $GOTFE_DATA, then the GoMNIST module in the module cache.
	m, err := datasets.LoadMNIST("")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("train:", datasets.FlatShape(m.NumTrain()), "labels", m.TrainY[:5])
	fmt.Println("test: ", datasets.NHWCShape(m.NumTest()), "labels", m.TestY[:5])

	small, err := m.Subset(1000, 200)
	if err != nil {
		log.Fatal(err)
	}
	y, err := datasets.OneHot(small.TrainY, datasets.NumClasses)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("one-hot targets:", len(y)/datasets.NumClasses, "×", datasets.NumClasses)
	// Output:
	// train: [60000 784] labels [5 0 4 1 9]
	// test:  [10000 28 28 1] labels [7 2 1 0 4]
	// one-hot targets: 1000 × 10
}

// A training epoch: shuffle the examples, then walk them in batches.
func ExampleBatches() {
	x := []float64{0, 0, 1, 1, 2, 2, 3, 3, 4, 4} // five examples of two features
	y := []int{0, 1, 2, 3, 4}
	perm := datasets.Permutation(len(y), 1) // a new seed per epoch gives a new order
	batches, err := datasets.Batches(len(y), 2)
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range batches {
		idx := perm[b[0]:b[1]]
		bx, err := datasets.Gather(x, 2, idx)
		if err != nil {
			log.Fatal(err)
		}
		by, err := datasets.Gather(y, 1, idx)
		if err != nil {
			log.Fatal(err)
		}
		paired := true
		for i, label := range by {
			paired = paired && bx[2*i] == float64(label)
		}
		fmt.Printf("batch [%d, %d): %d examples, paired: %v\n", b[0], b[1], len(by), paired)
	}
	// Output:
	// batch [0, 2): 2 examples, paired: true
	// batch [2, 4): 2 examples, paired: true
	// batch [4, 5): 1 examples, paired: true
}

func ExampleOneHot() {
	y, err := datasets.OneHot([]int{2, 0}, 3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(y)
	// Output: [0 0 1 1 0 0]
}

func ExampleSmallVsLarge() {
	fmt.Println(datasets.SmallVsLarge([]int{5, 0, 4, 1, 9}))
	// Output: [1 0 0 0 1]
}

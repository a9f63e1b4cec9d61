package layers

// Arrange lets instances built for consecutive layers of a model run in an order that computes
// the same values for less: a plain ReLU (the "relu" activation of a Dense, Conv2D or
// DepthwiseConv2D layer, an Activation("relu") layer or a ReLU() layer) directly followed by a
// MaxPooling2D layer is applied after the pooling instead of before it. The two orders agree
// exactly, forward and backward: ReLU is monotone, so max(relu(a), relu(b)) = relu(max(a, b)),
// and the first maximum of a window is the same position either way whenever it is positive;
// when it is not, both orders pass no gradient. On the secure engine the ReLU's comparisons
// then run on the pooled map, a quarter of the elements for 2x2 windows. insts[k] is the
// instance of the model's k-th layer; Arrange changes how they compute, not what.
func Arrange(insts []Instance) {
	for k := 0; k+1 < len(insts); k++ {
		p, ok := insts[k+1].(*poolInst)
		if !ok || !p.max || p.post != nil {
			continue
		}
		d, ok := insts[k].(reluDeferrer)
		if !ok || !d.deferReLU() {
			continue
		}
		a := newAct(p.b, "relu")
		p.post = &a
	}
}

// reluDeferrer is an instance whose output passes through a plain ReLU that it can leave to
// the next instance.
type reluDeferrer interface {
	// deferReLU drops the instance's ReLU and reports whether it had one to drop.
	deferReLU() bool
}

func (f *fused) deferReLU() bool { return f.a.dropReLU() }

func (i *activationInst) deferReLU() bool { return i.a.dropReLU() }

// dropReLU makes a plain ReLU that has not run the identity, and reports whether it was one.
func (a *act) dropReLU() bool {
	if a.name != "relu" || a.ran {
		return false
	}
	*a = newAct(a.b, "linear")
	return true
}

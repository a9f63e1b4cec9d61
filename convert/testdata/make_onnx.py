"""make_onnx.py makes the ONNX fixtures with PyTorch's own exporter (torch.onnx.export,
opset 13), each with the reference outputs torch computes:

- onnx_mlp: Flatten, Linear(784, 16), ReLU, Linear(16, 10), Softmax, briefly trained on MNIST;
- onnx_cnn: Conv2d(1, 4, 3), ReLU, MaxPool2d(2), Flatten, Linear(676, 10), Softmax, trained
  likewise (NCHW: the Flatten before the Gemm reads channels first);
- onnx_ops: a small untrained network over 2-channel 12x12 images exercising the other ops the
  importer reads (BatchNormalization, Clip(0, 6), a depthwise Conv, Tanh, AveragePool, Sigmoid,
  MaxPool, GlobalAveragePool, Reshape, MatMul + Add), with paddings TensorFlow's "same" does
  not make;
- resnet18.onnx and mobilenet_v2.onnx: torchvision's graphs (weights=None: random weights),
  saved with their large tensors as external data, which is not kept: the importer must reject
  them at their first residual Add before it reads any weight.

Usage: /usr/bin/python3 make_onnx.py MNIST_DIR TESTDATA_DIR
(Debian's python3-torch, python3-torchvision, python3-onnx and numpy.)
"""
import gzip
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision

NTRAIN, NREF = 4000, 24


def idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    ndim = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def export(model, example, path):
    model.eval()
    torch.onnx.export(model, example, path, opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def write_ref(path, ref):
    with open(path, "w") as f:
        json.dump(ref, f, separators=(",", ":"))


class LinearMatMul(nn.Module):
    """x @ w + b, which the exporter writes as MatMul followed by Add."""

    def __init__(self, n, m):
        super().__init__()
        self.w = nn.Parameter(torch.randn(n, m) * 0.5)
        self.b = nn.Parameter(torch.randn(m) * 0.1)

    def forward(self, x):
        return torch.matmul(x, self.w) + self.b


class Ops(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.relu6 = nn.ReLU6()
        # Stride 2 over an even size: PyTorch pads both sides where TensorFlow's "same" would
        # pad only the end, so the importer pads explicitly.
        self.dw = nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=4)
        self.avg = nn.AvgPool2d(2, padding=1, count_include_pad=True)
        self.max = nn.MaxPool2d(2, padding=1)
        self.pw = nn.Conv2d(8, 6, 1, bias=False)
        self.drop = nn.Dropout(0.2)
        self.fc = LinearMatMul(6, 5)

    def forward(self, x):
        x = self.relu6(self.bn(self.conv(x)))  # Clip(0, 6)
        x = torch.tanh(self.dw(x))
        x = torch.sigmoid(self.avg(x))
        x = self.pw(self.max(x))  # max pooling with padding, over non-negative values
        x = nn.functional.adaptive_avg_pool2d(x, 1)  # GlobalAveragePool
        x = x.reshape(-1, 6)
        return self.fc(self.drop(x))


def main():
    mnist, root = sys.argv[1], sys.argv[2]
    torch.manual_seed(7)
    x = torch.tensor(idx(os.path.join(mnist, "train-images-idx3-ubyte.gz"))[:NTRAIN], dtype=torch.float32) / 255
    y = torch.tensor(idx(os.path.join(mnist, "train-labels-idx1-ubyte.gz"))[:NTRAIN], dtype=torch.long)
    px = idx(os.path.join(mnist, "t10k-images-idx3-ubyte.gz"))[:NREF]
    xr = torch.tensor(px, dtype=torch.float32).reshape(NREF, 1, 28, 28) / 255
    x = x.reshape(NTRAIN, 1, 28, 28)
    nets = {
        "mlp": nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10), nn.Softmax(dim=1)),
        "cnn": nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(676, 10),
                             nn.Softmax(dim=1)),
    }
    for kind, net in nets.items():
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        for epoch in range(2):
            perm = torch.randperm(NTRAIN)
            for i in range(0, NTRAIN, 64):
                idxs = perm[i:i + 64]
                p = net(x[idxs])
                loss = nn.functional.nll_loss(torch.log(p + 1e-9), y[idxs])
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                acc = (net(x).argmax(1) == y).float().mean().item()
            print(kind, "epoch", epoch + 1, "accuracy %.3f" % acc)
        d = os.path.join(root, "onnx_" + kind)
        os.makedirs(d, exist_ok=True)
        export(net, xr[:1], os.path.join(d, "model.onnx"))
        with torch.no_grad():
            out = net(xr).numpy()
        write_ref(os.path.join(d, "reference.json"), {
            "tool": "PyTorch " + torch.__version__, "input_shape": [1, 28, 28], "input_scale": 255,
            "inputs": px.reshape(NREF, -1).tolist(), "outputs": out.tolist()})

    # The other ops, untrained, with batch statistics moved off their defaults.
    ops = Ops()
    with torch.no_grad():
        ops.bn.running_mean.uniform_(-0.5, 0.5)
        ops.bn.running_var.uniform_(0.5, 1.5)
        ops.bn.weight.uniform_(0.5, 1.5)
        ops.bn.bias.uniform_(-0.5, 0.5)
    d = os.path.join(root, "onnx_ops")
    os.makedirs(d, exist_ok=True)
    xo = torch.randint(-32, 32, (NREF, 2, 12, 12)).float() / 16  # exact in float32 and short in JSON
    # The exporter folds BatchNormalization into the convolution in eval mode; keep it a node.
    ops.eval()
    torch.onnx.export(ops, xo[:1], os.path.join(d, "model.onnx"), opset_version=13, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    with torch.no_grad():
        out = ops(xo).numpy()
    write_ref(os.path.join(d, "reference.json"), {
        "tool": "PyTorch " + torch.__version__, "input_shape": [2, 12, 12],
        "inputs": [[float(v) for v in row] for row in xo.reshape(NREF, -1).numpy()], "outputs": out.tolist()})

    # torchvision's graphs, weights external (and dropped).
    for name, net in (("resnet18", torchvision.models.resnet18(weights=None)),
                      ("mobilenet_v2", torchvision.models.mobilenet_v2(weights=None))):
        tmp = os.path.join(root, name + ".full.onnx")
        export(net, torch.randn(1, 3, 64, 64), tmp)
        m = onnx.load(tmp)
        os.remove(tmp)
        path = os.path.join(root, name + ".onnx")
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=name + ".weights", size_threshold=256)
        os.remove(os.path.join(root, name + ".weights"))


if __name__ == "__main__":
    main()

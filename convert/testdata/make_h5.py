"""make_h5.py writes the weights of the TF.js fixtures (tfjs_mlp, tfjs_cnn) again as Keras
files, with h5py, in Keras's own layouts:

- legacy Keras 2 HDF5 (<kind>.h5): root attributes model_config (the Sequential's JSON),
  keras_version and backend; group model_weights with attribute layer_names and, per layer, a
  group with attribute weight_names whose datasets sit at <layer>/<weight name>;
- Keras 3 (<kind>.keras): a zip of config.json, metadata.json and model.weights.h5, whose
  weights sit at layers/<snake-case class name, de-duplicated>/vars/<index>.

The MLP's string attributes are fixed-length (what Keras 2 writes from bytes), the CNN's
variable-length (what h5py writes from str), so that readers meet both.

Usage: /usr/bin/python3 make_h5.py TESTDATA_DIR   (Debian's python3-h5py and numpy)
"""
import io
import json
import os
import re
import sys
import zipfile

import h5py
import numpy as np

DTYPE3 = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def init(cls):
    return {"module": "keras.initializers", "class_name": cls, "config": {"seed": None} if cls == "GlorotUniform" else {}, "registered_name": None}


def read_tfjs(d):
    with open(os.path.join(d, "model.json")) as f:
        m = json.load(f)
    group = m["weightsManifest"][0]
    data = b"".join(open(os.path.join(d, p), "rb").read() for p in group["paths"])
    out, off = [], 0
    for w in group["weights"]:
        n = int(np.prod(w["shape"]))
        out.append(np.frombuffer(data, dtype="<f4", count=n, offset=off).reshape(w["shape"]))
        off += 4 * n
    return out


# Each model: (Keras class, name, config (Keras 2 keys), weight names), in order.
def layers(kind):
    dense = lambda name, units, act: ("Dense", name, {"units": units, "activation": act, "use_bias": True,
        "kernel_initializer": init("GlorotUniform"), "bias_initializer": init("Zeros"), "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}, ["kernel", "bias"])
    if kind == "mlp":
        return [dense("dense", 16, "relu"),
                ("Dropout", "dropout", {"rate": 0.1, "noise_shape": None, "seed": None}, []),
                dense("dense_1", 10, "softmax")]
    return [("Conv2D", "conv2d", {"filters": 4, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
             "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": True,
             "kernel_initializer": init("GlorotUniform"), "bias_initializer": init("Zeros"), "kernel_regularizer": None,
             "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None},
             ["kernel", "bias"]),
            ("MaxPooling2D", "max_pooling2d", {"pool_size": [2, 2], "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}, []),
            ("Flatten", "flatten", {"data_format": "channels_last"}, []),
            dense("dense", 10, "softmax")]


def shapes(kind):
    return [784] if kind == "mlp" else [28, 28, 1]


def keras2_config(kind):
    ls = [{"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_input_shape": [None] + shapes(kind),
           "dtype": "float32", "sparse": False, "ragged": False, "name": "input_1"}, "registered_name": None}]
    for cls, name, cfg, _ in layers(kind):
        c = {"name": name, "trainable": True, "dtype": "float32"}
        c.update(cfg)
        ls.append({"module": "keras.layers", "class_name": cls, "config": c, "registered_name": None})
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": ls}}


def keras3_config(kind):
    shape = [None] + shapes(kind)
    ls = [{"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": shape, "dtype": "float32",
           "sparse": False, "name": "input_layer"}, "registered_name": None}]
    for cls, name, cfg, _ in layers(kind):
        c = {"name": name, "trainable": True, "dtype": DTYPE3}
        c.update(cfg)
        ls.append({"module": "keras.layers", "class_name": cls, "config": c, "registered_name": None})
    return {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "trainable": True,
            "dtype": DTYPE3, "layers": ls, "build_input_shape": shape}, "registered_name": None,
            "build_config": {"input_shape": shape}}


def snake_case(name):
    """Keras's naming.to_snake_case: MaxPooling2D -> max_pooling2d."""
    s = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()


def strings(vals, fixed):
    if fixed:
        return np.array([v.encode("utf8") for v in vals], dtype="S%d" % max([1] + [len(v) for v in vals]))
    return np.array(vals, dtype=h5py.string_dtype())


def write_h5(path, kind, weights):
    fixed = kind == "mlp"
    ws = iter(weights)
    with h5py.File(path, "w") as f:
        cfg = json.dumps(keras2_config(kind))
        if fixed:
            f.attrs["model_config"] = cfg.encode("utf8")
            f.attrs["keras_version"] = b"2.15.0"
            f.attrs["backend"] = b"tensorflow"
        else:
            f.attrs.create("model_config", cfg, dtype=h5py.string_dtype())
            f.attrs.create("keras_version", "2.15.0", dtype=h5py.string_dtype())
            f.attrs.create("backend", "tensorflow", dtype=h5py.string_dtype())
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = strings([name for _, name, _, _ in layers(kind)], fixed)
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.15.0"
        for cls, name, _, wnames in layers(kind):
            lg = g.create_group(name)
            full = ["%s/%s:0" % (name, w) for w in wnames]
            lg.attrs["weight_names"] = strings(full, fixed) if full else np.array([], dtype="S1")
            for n in full:
                lg.create_dataset(n, data=next(ws))


def write_keras(path, kind, weights):
    buf = io.BytesIO()
    ws = iter(weights)
    with h5py.File(buf, "w") as f:
        lg = f.create_group("layers")
        used = {}
        for cls, _, _, wnames in layers(kind):
            base = snake_case(cls)
            name = base
            if base in used:
                used[base] += 1
                name = "%s_%d" % (base, used[base])
            else:
                used[base] = 0
            v = lg.create_group(name).create_group("vars")
            for i, _ in enumerate(wnames):
                v.create_dataset(str(i), data=next(ws))
        f.create_group("optimizer").create_group("vars")
        f.create_group("vars")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.3.3", "date_saved": "2025-01-01@00:00:00"}))
        z.writestr("config.json", json.dumps(keras3_config(kind)))
        z.writestr("model.weights.h5", buf.getvalue())


def main():
    root = sys.argv[1]
    os.makedirs(os.path.join(root, "keras"), exist_ok=True)
    for kind in ("mlp", "cnn"):
        w = read_tfjs(os.path.join(root, "tfjs_" + kind))
        write_h5(os.path.join(root, "keras", kind + ".h5"), kind, w)
        write_keras(os.path.join(root, "keras", kind + ".keras"), kind, w)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Check that Keras 3 loads the `.weights.h5` files modelc exports (issue 18). Run once by hand
(CI never runs it); the figures it prints are recorded in README.md here:

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/keras_files/check_weights_h5_export.py

For each case, `<case>.modelc.weights.h5` was written by modelc's exporter (WeightsFile.export,
the code behind `BIN export --weights OUT.weights.h5`) from a generated test model with random
weights, and `<case>.modelc.io.npz` holds inputs and modelc's outputs for them (both made by
Tests/BackendTests/KerasWeightsH5ExportTests.swift with MODELC_MAKE_EXPORT_FIXTURE=1). This
script builds the same network in Keras (make_keras_files.py), loads the file with
`model.load_weights`, predicts the same inputs and prints the max abs difference to modelc's
outputs. It also walks the file with h5py and checks every layer got its variables (Keras'
own load_weights raises when a weighted layer's group is missing or holds the wrong count).
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_keras_files import CASES  # noqa: E402


def check(name):
    path = os.path.join(HERE, name + ".modelc.weights.h5")
    with h5py.File(path, "r") as f:
        datasets = []
        f.visititems(lambda k, v: datasets.append(k) if isinstance(v, h5py.Dataset) else None)
        names = {k: f["layers"][k]["vars"].attrs["name"] for k in f["layers"].keys()}
        names = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in names.items()}
    model = CASES[name]()
    for v in model.weights:                         # so that a variable Keras did not load shows
        v.assign(np.full(v.shape, np.nan, np.float32))
    model.load_weights(path)
    unloaded = [v.path for v in model.weights if np.isnan(np.asarray(v)).any()]
    io = np.load(os.path.join(HERE, name + ".modelc.io.npz"))
    y = np.asarray(model.predict(io["input"], verbose=0))
    diff = float(np.max(np.abs(y - io["output"])))
    print(f"{name}: {len(datasets)} datasets, layer groups {names}; "
          f"variables not loaded: {unloaded or 'none'}; max abs difference Keras - modelc: {diff:.3g}")
    return diff, unloaded


def main():
    print("keras", keras.__version__, "h5py", h5py.__version__, "backend", keras.backend.backend())
    worst = 0.0
    for name in ("gc_bn_pool", "gc_separable", "gc_dense_bn"):
        diff, unloaded = check(name)
        if unloaded or not diff <= 1e-5:
            sys.exit(f"{name}: FAILED")
        worst = max(worst, diff)
    print(f"all loaded by Keras; max abs difference over all cases {worst:.3g}")


if __name__ == "__main__":
    main()

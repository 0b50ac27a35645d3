#!/usr/bin/env python3
"""Generate the Keras reference fixture of a model with shared layers (issue 17): a Conv1D and a
Dense each called on two branches of one input, so that each one's weight gradient is the sum
over its two calls. Same format and method as make_fixtures.py (whose make_case writes model.md,
weights.npz and io.npz; see README.md here).

Also writes the model's Keras 3 config to Tests/Fixtures/keras_config/graph_shared.config.json.

Run once by hand (CI never runs it):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/numerics/make_shared_fixtures.py
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
from keras import layers as L  # noqa: E402
import make_fixtures as mf  # noqa: E402


def shared():
    # conv_s runs on a (5, 3) and a (4, 3) sequence: Keras 3 prints the last call's shape,
    # (None, 3, 4), which call 1's input cannot give with the undilated kernel.
    i = keras.Input((6, 2), name="input_layer")
    a = L.Conv1D(3, 2, activation="tanh", name="conv_a")(i)
    b = L.Conv1D(3, 3, activation="sigmoid", name="conv_b")(i)
    conv = L.Conv1D(4, 2, activation="tanh", name="conv_s")
    pa = L.GlobalAveragePooling1D(name="avg_a")(conv(a))
    pb = L.GlobalMaxPooling1D(name="max_b")(conv(b))
    dense = L.Dense(3, activation="tanh", name="dense_s")
    y = L.Add(name="add")([dense(pa), dense(pb)])
    return keras.Model(i, L.Dense(2, name="dense_out")(y), name="fx_graph_shared")


CASES = {
    "graph_shared": dict(
        build=shared, input_shape=(6, 2), batch=3, annotations=[],
        note="Two Conv1D branches of one (6, 2) input, one Conv1D (conv_s) called on both (shared weights, "
             "outputs (4, 4) and (3, 4)), a global average and a global max pool, one Dense (dense_s) called on "
             "both pools, Add, Dense"),
}


def main():
    for k, name in enumerate(CASES):
        spec = dict(CASES[name], seed_file=None)
        mf.make_case(name, spec, 2100 + k, write=mf.BACKEND == mf.WRITER)
        print(f"wrote {name} ({mf.BACKEND})", flush=True)
    # The same model's Keras 3 config (one inbound node per call of conv_s and dense_s), read by
    # SharedLayerTests as a .keras file's config.json.
    config = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras_config", "graph_shared.config.json")
    with open(config, "w") as fh:
        fh.write(shared().to_json())


if __name__ == "__main__":
    main()

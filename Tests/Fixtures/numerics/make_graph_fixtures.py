#!/usr/bin/env python3
"""Generate the Keras reference fixtures of the graph models (issue 17): merge layers read
through a functional table's `Connected to` column. Same format and method as make_fixtures.py
(whose make_case writes model.md, weights.npz and io.npz; see README.md here).

Run once by hand (CI never runs it):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/numerics/make_graph_fixtures.py [case ...]
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
from keras import layers as L  # noqa: E402
import make_fixtures as mf  # noqa: E402


def residual_inception():
    # Short names: Keras 3 cuts longer ones in the table (GraphTests reads such a table).
    # A residual block: conv -> BN -> tanh, whose output branches (no fusion may swallow it),
    # -> conv -> BN -> Add with the skip -> tanh; then an inception-style block: a 1x1 conv and
    # a 3x3 stride-1 'same' max pool of that output, concatenated on channels.
    i = keras.Input((5, 5, 2), name="input_layer")
    x = L.Conv2D(4, 3, padding="same", name="conv2d")(i)
    x = L.BatchNormalization(name="bn")(x)
    s = L.Activation("tanh", name="activation")(x)
    y = L.Conv2D(4, 3, padding="same", name="conv2d_1")(s)
    y = L.BatchNormalization(name="bn_1")(y)
    y = L.Add(name="add")([y, s])
    y = L.Activation("tanh", name="activation_1")(y)
    a = L.Conv2D(2, 1, activation="tanh", name="conv2d_2")(y)
    b = L.MaxPooling2D(3, strides=1, padding="same", name="max_pooling2d")(y)
    y = L.Concatenate(name="concatenate")([a, b])
    y = L.GlobalAveragePooling2D(name="gap")(y)
    return keras.Model(i, L.Dense(3, name="dense")(y), name="fx_graph_residual_inception")


def merges():
    # every other merge kind, and Concatenate on the other axis, on three Dense outputs per row
    i = keras.Input((3, 4), name="input_layer")
    a = L.Dense(3, activation="tanh", name="dense")(i)
    b = L.Dense(3, activation="sigmoid", name="dense_1")(i)
    c = L.Dense(3, name="dense_2")(i)
    s = L.Subtract(name="subtract")([a, b])
    m = L.Multiply(name="multiply")([s, b, c])
    v = L.Average(name="average")([m, a])
    hi = L.Maximum(name="maximum")([v, b, c])
    lo = L.Minimum(name="minimum")([hi, a])
    y = L.Concatenate(axis=1, name="concatenate")([lo, a])
    y = L.Flatten(name="flatten")(y)
    return keras.Model(i, L.Dense(3, name="dense_3")(y), name="fx_graph_merges")


CASES = {
    "graph_residual_inception": dict(
        build=residual_inception, input_shape=(5, 5, 2), batch=3,
        annotations=["layer max_pooling2d: pool=3 stride=1 padding=same   # 2x2 to 5x5 fit the shapes too"],
        note="A residual block (Conv2D + BatchNormalization + tanh whose output feeds both the next Conv2D and the "
             "Add, Conv2D + BatchNormalization, Add, tanh), then an inception-style Concatenate of a 1x1 Conv2D and a "
             "3x3 stride-1 'same' MaxPooling2D of that output, GlobalAveragePooling2D, Dense"),
    "graph_merges": dict(
        build=merges, input_shape=(3, 4), batch=3, annotations=[],
        note="Subtract, Multiply (3 inputs), Average, Maximum (3 inputs), Minimum and Concatenate on axis 1 (rows) "
             "over three Dense outputs on a (3, 4) input, Flatten, Dense"),
}


def main():
    names = sys.argv[1:] or list(CASES)
    for k, name in enumerate(CASES):
        if name not in names:
            continue
        spec = dict(CASES[name], seed_file=None)
        mf.make_case(name, spec, 2000 + k, write=mf.BACKEND == mf.WRITER)
        print(f"wrote {name} ({mf.BACKEND})", flush=True)


if __name__ == "__main__":
    main()

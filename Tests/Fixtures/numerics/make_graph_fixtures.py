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


def attention():
    # Transformer-encoder pieces as keras.io's examples write them: self-attention (the query
    # passed twice), its residual Add and LayerNormalization; cross-attention whose query, key and
    # value are three different tensors of two lengths, without biases and with its own output
    # size; causal self-attention; then GlobalAveragePooling1D and Dense.
    i = keras.Input((5, 6), name="input_layer")
    a = L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4, name="mha")(i, i)
    x = L.Add(name="add")([i, a])
    x = L.LayerNormalization(name="ln")(x)
    v = L.Dense(4, activation="tanh", name="dense")(x)
    q = L.Conv1D(6, 2, strides=2, name="conv1d")(x)
    c = L.MultiHeadAttention(num_heads=1, key_dim=2, use_bias=False, output_shape=3, name="mha_1")(q, v, x)
    s = L.MultiHeadAttention(num_heads=2, key_dim=2, name="mha_2")(x, x, use_causal_mask=True)
    g = L.Concatenate(axis=1, name="concatenate")([L.GlobalAveragePooling1D(name="gap")(c),
                                                   L.GlobalAveragePooling1D(name="gap_1")(s)])
    return keras.Model(i, L.Dense(3, name="dense_1")(g), name="fx_graph_attention")


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
    "graph_attention": dict(
        build=attention, input_shape=(5, 6), batch=3,
        annotations=["layer mha: heads=2 key_dim=3 value_dim=4",
                     "layer mha_1: heads=1 key_dim=2",
                     "layer mha_2: heads=2 key_dim=2 causal=true   # use_causal_mask=True in the call"],
        note="MultiHeadAttention three ways: self-attention (2 heads, key_dim 3, value_dim 4) with its residual Add "
             "and LayerNormalization; cross-attention of a strided Conv1D's query (2 steps) over a Dense's values and "
             "the 5-step keys, without biases, output_shape 3; causal self-attention (2 heads, key_dim 2); "
             "GlobalAveragePooling1D of both, Concatenate, Dense"),
}


def main():
    names = sys.argv[1:] or list(CASES)
    for k, name in enumerate(CASES):
        if name not in names:
            continue
        spec = dict(CASES[name], seed_file=None)
        mf.make_case(name, spec, 2000 + k, write=mf.BACKEND == mf.WRITER)
        if name == "graph_attention" and mf.BACKEND == mf.WRITER:
            # The same model and weights as a Keras 3 model file (config.json + model.weights.h5):
            # its inbound nodes (query, value, key; use_causal_mask) and the attention layers'
            # variables (`_query_dense`, ... under each layer).
            import numpy as np
            d = os.path.join(mf.HERE, name)
            m32 = mf.build(spec["build"], "float32")
            mf.load_weights(m32, dict(np.load(os.path.join(d, "weights.npz"))))
            m32.save(os.path.join(d, "model.keras"))
        print(f"wrote {name} ({mf.BACKEND})", flush=True)


if __name__ == "__main__":
    main()

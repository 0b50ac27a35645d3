#!/usr/bin/env python3
"""Generate the Keras reference fixture of a Siamese model: two inputs, one shared layer (issue 17).

Run once by hand (CI never runs it):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/numerics/make_siamese_fixture.py

Writes graph_siamese/ in the format of make_fixtures.py (model.md, weights.npz, io.npz; README.md
here): two Input layers `left` and `right` (6 floats each), one Dense `encoder` (5 units, tanh)
called on both (one set of weights, counted once), their difference and product concatenated,
then a 2-class softmax. io.npz's `input` is the flat vector modelc's compiled model takes (left's
values, then right's, the table's InputLayer order); its outputs are the logits; the gradients
are for L = sum(output_training * upstream), the encoder's summed over its two calls, and
`grad_input` is dL/d(input). data.npz holds `x_left`, `x_right` and `y` for `train`/`eval`.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402
import make_fixtures as mf  # noqa: E402

NAME = "graph_siamese"
FEATURES, UNITS, N = 6, 5, 6


def siamese():
    left = keras.Input((FEATURES,), name="left")
    right = keras.Input((FEATURES,), name="right")
    enc = L.Dense(UNITS, activation="tanh", name="encoder")
    a, b = enc(left), enc(right)
    d = L.Subtract(name="difference")([a, b])
    p = L.Multiply(name="product")([a, b])
    c = L.Concatenate(name="concat")([d, p])
    z = L.Dense(2, name="logits")(c)
    s = L.Activation("softmax", name="probs")(z)
    return keras.Model([left, right], s, name="fx_graph_siamese")


def main():
    import tensorflow as tf
    rng = np.random.default_rng(1729)
    d = os.path.join(mf.HERE, NAME)
    write = mf.BACKEND == mf.WRITER
    m32 = mf.build(siamese, "float32")
    m64 = mf.build(siamese, "float64")
    names = [ly.name for ly in m32.layers]
    order = [ly.name for ly in m32.layers if isinstance(ly, L.InputLayer)]
    anns = ["model: name=fx_graph_siamese", "layer encoder: activation=tanh", "layer logits: activation=linear",
            "layer probs: activation=softmax"]
    table = "```\n" + mf.summary_text(m32) + "```\n"
    header = (f"# Fixture `{NAME}`\n\nA Siamese model: two inputs of {FEATURES} features, one tanh Dense "
              f"`encoder` ({UNITS} units) called on both (shared weights), the difference and the product of "
              f"its two outputs concatenated, then a 2-class softmax. Layers: {', '.join(names)}.\n\n"
              f"Keras 3 `model.summary()`:\n\n")
    w = {}
    for k, v in mf.named_vars(m64):
        shape = tuple(v.shape)
        a = np.sqrt(3.0 / max(int(np.prod(shape[:-1])), 1)) if k.endswith("kernel") else 0.3
        w[k] = rng.uniform(-a, a, shape).astype(np.float32)
    mf.load_weights(m64, w)
    data = {"x_left": rng.uniform(-1.0, 1.0, (N, FEATURES)).astype(np.float32),
            "x_right": rng.uniform(-1.0, 1.0, (N, FEATURES)).astype(np.float32),
            "y": rng.integers(0, 2, N).astype(np.int64)}
    flat = np.concatenate([data["x_" + k].reshape(N, -1) for k in order], axis=1)

    def split(xt):
        return [xt[:, :FEATURES], xt[:, FEATURES:]] if order == ["left", "right"] else [xt[:, FEATURES:], xt[:, :FEATURES]]

    logits = keras.Model(m64.inputs, m64.get_layer("logits").output)
    up = rng.standard_normal((N, 2)).astype(np.float32)
    tv = [(mf.key_name(ly, v), v) for ly in m64.layers for v in ly.trainable_weights]
    io = {"input": flat, "output_inference": mf.f32(logits(split(mf.to64(flat)), training=False)), "upstream": up}
    xt = tf.Variable(np.asarray(flat, np.float64))
    with tf.GradientTape() as tape:
        y = logits(split(xt), training=True)
        loss = tf.reduce_sum(y * mf.to64(up))
    grads = tape.gradient(loss, [v.value for _, v in tv] + [xt])
    io["output_training"] = mf.f32(y)
    for (k, _), g in zip(tv, grads[:-1]):
        io["grad/" + k] = mf.f32(mf.f64(g))
    io["grad_input"] = mf.f32(mf.f64(grads[-1]))
    # numpy cross-check of the forward
    W, B = w["encoder/kernel"].astype(np.float64), w["encoder/bias"].astype(np.float64)
    ea, eb = np.tanh(data["x_left"] @ W + B), np.tanh(data["x_right"] @ W + B)
    z = np.concatenate([ea - eb, ea * eb], 1) @ w["logits/kernel"] + w["logits/bias"]
    err = np.abs(z - io["output_inference"]).max()
    assert err < 1e-5, err
    print(f"{NAME}: layers {names}, inputs {order}, weights {sorted(w)}, numpy check {err:.2e}")
    if write:
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.md"), "w") as fh:
            fh.write(header + table + "\n" + mf.annotation_block(anns))
        np.savez(os.path.join(d, "weights.npz"), **w)
        np.savez(os.path.join(d, "io.npz"), **io)
        np.savez(os.path.join(d, "data.npz"), **data)


if __name__ == "__main__":
    main()

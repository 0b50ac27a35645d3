#!/usr/bin/env python3
"""Generate the Keras reference fixture of a model with two inputs (issue 17).

Run once by hand (CI never runs it):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/numerics/make_input_fixtures.py

Writes graph_inputs/ in the format of make_fixtures.py (model.md, weights.npz, io.npz; README.md
here): two Input layers, `tokens` (5 token ids in 0..<7, read by an Embedding) and `features`
(4 floats, read by a Dense), concatenated, then a 3-class softmax. A compiled model with several
inputs takes one flat vector per example, every input's values input after input in the order
of the table's InputLayer rows; io.npz's `input` is that vector (the ids stored as floats), and
its outputs are the logits (modelc strips the final softmax). The weights' gradients are for
L = sum(output_training * upstream); an Embedding's ids have no input gradient, so there is no
`grad_input`. Also writes data.npz, the `--data` file of `train`/`eval`: `x_tokens` (int64 ids),
`x_features` (float32) and `y` (labels), one array per input named x_<input>; and
Tests/Fixtures/keras_files/inputs_order.keras, the same layers saved with the inputs in the other
order (features, tokens): modelc takes a .keras file's inputs in its `input_layers` order.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402
import make_fixtures as mf  # noqa: E402

NAME = "graph_inputs"
VOCAB, STEPS, FEATURES, N = 7, 5, 4, 6


def two_inputs():
    tok = keras.Input((STEPS,), name="tokens")
    feat = keras.Input((FEATURES,), name="features")
    e = L.Embedding(VOCAB, 3, name="embedding")(tok)
    f = L.Flatten(name="flatten")(e)
    d = L.Dense(6, activation="tanh", name="dense")(feat)
    c = L.Concatenate(name="concat")([f, d])
    z = L.Dense(3, name="logits")(c)
    p = L.Activation("softmax", name="probs")(z)
    return keras.Model([tok, feat], p, name="fx_graph_inputs")


def weights(model, rng):
    w = {}
    for k, v in mf.named_vars(model):
        if k.endswith("/embeddings"):
            w[k] = rng.uniform(-1.0, 1.0, tuple(v.shape)).astype(np.float32)
    rest = [(k, v) for k, v in mf.named_vars(model) if k not in w]
    for k, v in rest:
        role = k.split("/")[-1]
        shape = tuple(v.shape)
        a = np.sqrt(3.0 / max(int(np.prod(shape[:-1])), 1)) if role == "kernel" else 0.3
        w[k] = rng.uniform(-a, a, shape).astype(np.float32)
    return w


def main():
    import tensorflow as tf
    rng = np.random.default_rng(2117)
    d = os.path.join(mf.HERE, NAME)
    write = mf.BACKEND == mf.WRITER
    m32 = mf.build(two_inputs, "float32")
    m64 = mf.build(two_inputs, "float64")
    names = [ly.name for ly in m32.layers]
    order = [ly.name for ly in m32.layers if isinstance(ly, L.InputLayer)]   # the table's InputLayer rows
    anns = ["model: name=fx_graph_inputs", "layer dense: activation=tanh", "layer logits: activation=linear",
            "layer probs: activation=softmax"]
    table = "```\n" + mf.summary_text(m32) + "```\n"
    header = (f"# Fixture `{NAME}`\n\nTwo inputs: token ids ({STEPS} in 0..<{VOCAB}) through an Embedding and "
              f"Flatten, {FEATURES} features through a tanh Dense, concatenated, then a 3-class softmax. "
              f"Layers: {', '.join(names)}.\n\nKeras 3 `model.summary()`:\n\n")
    w = weights(m64, rng)
    mf.load_weights(m64, w)
    data = {"x_tokens": rng.integers(0, VOCAB, (N, STEPS)).astype(np.int64),
            "x_features": rng.uniform(-1.0, 1.0, (N, FEATURES)).astype(np.float32),
            "y": rng.integers(0, 3, N).astype(np.int64)}
    # The flat input modelc's compiled model takes: each input's values, in table order.
    flat = np.concatenate([data["x_" + k].astype(np.float32).reshape(N, -1) for k in order], axis=1)
    sizes = {"tokens": STEPS, "features": FEATURES}

    def split(xt):
        parts, at = {}, 0
        for k in order:
            parts[k] = xt[:, at:at + sizes[k]]
            at += sizes[k]
        return [parts["tokens"], parts["features"]]

    logits = keras.Model(m64.inputs, m64.get_layer("logits").output)
    up = rng.standard_normal((N, 3)).astype(np.float32)
    tv = [(mf.key_name(ly, v), v) for ly in m64.layers for v in ly.trainable_weights]
    io = {"input": flat, "output_inference": mf.f32(logits(split(mf.to64(flat)), training=False)), "upstream": up}
    xt = tf.constant(np.asarray(flat, np.float64))
    with tf.GradientTape() as tape:
        y = logits(split(xt), training=True)
        loss = tf.reduce_sum(y * mf.to64(up))
    # an Embedding's gradient comes as IndexedSlices: made dense here
    grads = [mf.f64(tf.convert_to_tensor(g)) for g in tape.gradient(loss, [v.value for _, v in tv])]
    io["output_training"] = mf.f32(y)
    for (k, _), g in zip(tv, grads):
        io["grad/" + k] = mf.f32(g)
    # numpy cross-check of the forward
    e = w["embedding/embeddings"].astype(np.float64)[data["x_tokens"]].reshape(N, -1)
    h = np.tanh(data["x_features"] @ w["dense/kernel"] + w["dense/bias"])
    z = np.concatenate([e, h], 1) @ w["logits/kernel"] + w["logits/bias"]
    err = np.abs(z - io["output_inference"]).max()
    assert err < 1e-5, err
    print(f"{NAME}: layers {names}, inputs {order}, numpy check {err:.2e}")
    if write:
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.md"), "w") as fh:
            fh.write(header + table + "\n" + mf.annotation_block(anns))
        np.savez(os.path.join(d, "weights.npz"), **w)
        np.savez(os.path.join(d, "io.npz"), **io)
        np.savez(os.path.join(d, "data.npz"), **data)
        reordered = keras.Model([m32.get_layer("features").output, m32.get_layer("tokens").output], m32.output,
                                name="inputs_order")
        reordered.save(os.path.join(mf.HERE, "..", "keras_files", "inputs_order.keras"))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generate the Keras reference fixture of a model with several output heads (issue 17).

Run once by hand (CI never runs it):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/numerics/make_head_fixtures.py

Writes graph_heads/ in the format of make_fixtures.py (model.md, weights.npz, io.npz; README.md
here), where the model's output is what modelc emits for several heads: every head's values side
by side, head after head in table order, a softmax head as its logits. io.npz has in addition
the weighted training loss, computed with Keras's own loss functions on the targets in data.npz
(the `--data` file of `train`/`eval`: x and one array per head, named after it):

    loss = 1 * sparse_categorical_crossentropy(class_out) + 2 * binary_crossentropy(flag_out)
         + 0.5 * mean_squared_error(map_out)

(the weights and map_out's loss as the `head` annotations say; class_out and flag_out take
their loss from their activation), as `loss`, and its gradient for every trainable weight as
`lossgrad/<key>`. Also writes Tests/Fixtures/keras_files/heads_order.keras (see below).
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L, ops  # noqa: E402
import make_fixtures as mf  # noqa: E402

NAME = "graph_heads"
WEIGHTS = {"class_out": 1.0, "flag_out": 2.0, "map_out": 0.5}


def heads():
    # A shared trunk (conv -> flatten -> dense) and three heads: a 3-class softmax (its own
    # Activation layer), one sigmoid unit, and a 4x4x1 linear map from the conv (flattened
    # into the joined output).
    i = keras.Input((4, 4, 2), name="input_layer")
    x = L.Conv2D(3, 3, padding="same", activation="tanh", name="conv2d")(i)
    f = L.Flatten(name="flatten")(x)
    h = L.Dense(6, activation="tanh", name="dense")(f)
    a = L.Dense(3, name="class_logits")(h)
    a = L.Activation("softmax", name="class_out")(a)
    b = L.Dense(1, activation="sigmoid", name="flag_out")(h)
    c = L.Conv2D(1, 1, name="map_out")(x)
    return keras.Model(i, [a, b, c], name="fx_graph_heads")


def main():
    rng = np.random.default_rng(2100)
    d = os.path.join(mf.HERE, NAME)
    write = mf.BACKEND == mf.WRITER
    m32 = mf.build(heads, "float32")
    m64 = mf.build(heads, "float64")
    names = [l.name for l in m32.layers]
    anns = ["model: name=fx_graph_heads", "head flag_out: weight=2", "head map_out: loss=mse weight=0.5"]
    for layer in m32.layers:
        if isinstance(layer, (L.Conv2D, L.Dense)):
            anns.append(f"layer {layer.name}: activation={layer.activation.__name__}")
        if type(layer) is L.Activation:
            anns.append(f"layer {layer.name}: activation={layer.activation.__name__}")
    table = "```\n" + mf.summary_text(m32) + "```\n"
    header = (f"# Fixture `{NAME}`\n\nThree output heads on a shared Conv2D/Dense trunk: a 3-class softmax "
              f"(class_out), one sigmoid unit (flag_out, loss weight 2) and a 4x4x1 linear map (map_out, mse, "
              f"weight 0.5). Layers: {', '.join(names)}.\n\nKeras 3 `model.summary()`:\n\n")
    w = mf.random_weights(m64, rng)
    mf.load_weights(m64, w)
    n = 5
    x = rng.uniform(-1.0, 1.0, (n, 4, 4, 2)).astype(np.float32)
    data = {"x": x,
            "class_out": rng.integers(0, 3, n).astype(np.int64),
            "flag_out": rng.integers(0, 2, (n, 1)).astype(np.float32),
            "map_out": rng.uniform(-1.0, 1.0, (n, 4, 4, 1)).astype(np.float32)}

    # The joined output modelc emits: class logits, flag probability, the map (HWC), per example.
    joined = keras.Model(m64.inputs, [m64.get_layer("class_logits").output, m64.get_layer("flag_out").output,
                                      m64.get_layer("map_out").output])

    def flat(ys):
        return ops.concatenate([ops.reshape(y, (n, -1)) for y in ys], axis=1)

    up = rng.standard_normal((n, 3 + 1 + 16)).astype(np.float32)
    tv = [(mf.key_name(layer, v), v) for layer in m64.layers for v in layer.trainable_weights]
    io = {"input": x, "output_inference": mf.f32(flat(joined(mf.to64(x), training=False)))}

    def upstream(xt):
        y = flat(joined(xt, training=True))
        return ops.sum(y * mf.to64(up)), y

    _, y, grads = mf.value_and_grads(upstream, x, [v for _, v in tv])
    io["output_training"] = mf.f32(y)
    io["upstream"] = up
    io["grad_input"] = mf.f32(grads[0])
    for (k, _), g in zip(tv, grads[1:]):
        io["grad/" + k] = mf.f32(g)

    def weighted(xt):
        pa, pb, pc = m64(xt, training=True)
        la = ops.mean(keras.losses.sparse_categorical_crossentropy(mf.to64(data["class_out"]), pa))
        lb = ops.mean(keras.losses.binary_crossentropy(mf.to64(data["flag_out"]), pb))
        lc = ops.mean(keras.losses.mean_squared_error(mf.to64(data["map_out"]), pc))
        return WEIGHTS["class_out"] * la + WEIGHTS["flag_out"] * lb + WEIGHTS["map_out"] * lc, (la, lb, lc)

    loss, parts, lgrads = mf.value_and_grads(weighted, x, [v for _, v in tv])
    io["loss"] = np.array([loss], np.float32)
    io["head_losses"] = np.array([float(mf.f64(p)) for p in parts], np.float32)
    for (k, _), g in zip(tv, lgrads[1:]):
        io["lossgrad/" + k] = mf.f32(g)
    print(f"{NAME}: layers {names}, loss {loss:.6f}, heads {io['head_losses']}")
    if write:
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.md"), "w") as fh:
            fh.write(header + table + "\n" + mf.annotation_block(anns))
        np.savez(os.path.join(d, "weights.npz"), **w)
        np.savez(os.path.join(d, "io.npz"), **io)
        np.savez(os.path.join(d, "data.npz"), **data)
        # The same layers saved as a .keras file whose outputs Keras orders map_out, class_out,
        # flag_out (not the layers' order): modelc takes the heads in that order.
        reordered = keras.Model(m32.inputs, [m32.get_layer(k).output for k in ("map_out", "class_out", "flag_out")],
                                name="heads_order")
        reordered.save(os.path.join(mf.HERE, "..", "keras_files", "heads_order.keras"))


if __name__ == "__main__":
    main()

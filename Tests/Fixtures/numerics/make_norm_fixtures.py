#!/usr/bin/env python3
"""Reference fixtures for the normalization layers (issue 17), made once by hand (CI never runs this):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/numerics/make_norm_fixtures.py

normalization_layers (Keras 3, TF backend, make_fixtures.py's machinery: float32 summary table,
  float64 model on float32 weights and inputs): Conv2D 1x1, Rescaling(0.5, offset=0.1), an
  adapted Normalization (mean, variance, count set from the rng), Conv2D 2x2,
  LayerNormalization over the last axis, over every axis, and without center after a Dense;
  also saved as model.keras (float32, the same weights).
  The convolution before Rescaling and Normalization makes their input gradients part of its
  kernel gradient.
pytorch_norm (torch, float64; make_pytorch_fixtures.py's format): Conv2d, GroupNorm(2, 4), ReLU,
  Conv2d, LayerNorm([3, 3, 4]) over the whole [C, H, W], flatten, Linear, LayerNorm(6), tanh, Linear.
Both are cross-checked against plain numpy formulas (printed "sanity ok").
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import make_fixtures as mf  # noqa: E402
from make_fixtures import L  # noqa: E402

KERAS_CASE = "normalization_layers"
KERAS_BUILD = mf.seq(KERAS_CASE, (4, 5, 2),
                     lambda: L.Conv2D(2, 1, name="conv2d"),
                     lambda: L.Rescaling(0.5, offset=0.1, name="rescaling"),
                     lambda: L.Normalization(name="normalization"),
                     lambda: L.Conv2D(3, 2, name="conv2d_1"),
                     lambda: L.LayerNormalization(name="layer_normalization"),
                     lambda: L.LayerNormalization(axis=[1, 2, 3], name="layer_normalization_1"),
                     lambda: L.Flatten(name="flatten"),
                     lambda: L.Dense(4, name="dense"),
                     lambda: L.LayerNormalization(center=False, name="layer_normalization_2"),
                     lambda: L.Dense(3, name="dense_1"))


def keras_weights(model, rng):
    w = {}
    for k, v in mf.named_vars(model):
        shape, role = tuple(v.shape), k.split("/")[-1]
        if role == "kernel":
            a = np.sqrt(3.0 / np.prod(shape[:-1]))
            val = rng.uniform(-a, a, shape)
        elif role in ("bias", "beta"):
            val = rng.uniform(-0.3, 0.3, shape)
        elif role == "gamma":
            val = rng.uniform(0.5, 1.5, shape)
        elif role == "mean":
            val = rng.uniform(-0.3, 0.3, shape)
        elif role == "variance":
            val = rng.uniform(0.5, 2.0, shape)
        elif role == "count":
            val = np.array(10.0)
        else:
            raise ValueError(k)
        w[k] = np.asarray(val, np.float32)
    return w


def make_keras(seed=41, n=3):
    import tensorflow as tf
    rng = np.random.default_rng(seed)
    d = os.path.join(mf.HERE, KERAS_CASE)
    os.makedirs(d, exist_ok=True)
    m32 = mf.build(KERAS_BUILD, "float32")
    m64 = mf.build(KERAS_BUILD, "float64")
    anns = [f"model: name=fx_{KERAS_CASE}", "layer rescaling: scale=0.5 offset=0.1"]
    anns += [f"layer {ly.name}: activation=linear" for ly in m32.layers if isinstance(ly, (L.Dense, L.Conv2D))]
    note = ("Conv2D 1x1, Rescaling(0.5, offset=0.1), an adapted Normalization (mean, variance, count), Conv2D 2x2, "
            "LayerNormalization over the last axis, over every axis ([1, 2, 3]), Flatten, Dense, LayerNormalization "
            "without center, Dense. Reference values from `make_norm_fixtures.py` (Keras 3, TF backend, float64)")
    with open(os.path.join(d, "model.md"), "w") as fh:
        fh.write(f"# Fixture `{KERAS_CASE}`\n\n{note}.\n\nKeras 3 `model.summary()`:\n\n```\n"
                 + mf.summary_text(m32) + "```\n\n" + mf.annotation_block(anns))
    w = keras_weights(m64, rng)
    mf.load_weights(m64, w)
    m64.get_layer("normalization").finalize_state()    # its mean/variance tensors are snapshots
    np.savez(os.path.join(d, "weights.npz"), **w)
    # The same model and weights as a Keras 3 model file (config.json + model.weights.h5),
    # for reading the layers' configs and loading their weights by Keras 3's variable order.
    mf.load_weights(m32, w)
    m32.get_layer("normalization").finalize_state()
    m32.save(os.path.join(d, "model.keras"))
    x = rng.uniform(-1.0, 1.0, (n, 4, 5, 2)).astype(np.float32)
    up = rng.standard_normal((n, 3)).astype(np.float32)
    io = {"input": x, "output_inference": mf.f32(m64(mf.to64(x), training=False)), "upstream": up}
    tv = [(mf.key_name(ly, v), v) for ly in m64.layers for v in ly.trainable_weights]
    xt = tf.constant(np.asarray(x, np.float64))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = m64(xt, training=True)
        loss = mf.ops.sum(y * mf.to64(up))
    grads = tape.gradient(loss, [xt] + [v.value for _, v in tv])
    io["output_training"] = mf.f32(y)
    io["grad_input"] = mf.f32(grads[0])
    for (k, _), g in zip(tv, grads[1:]):
        io["grad/" + k] = mf.f32(g)
    np.savez(os.path.join(d, "io.npz"), **io)
    print("sanity", "ok" if rel(keras_numpy(w, x), io["output_inference"]) < 1e-5 else "MISMATCH", KERAS_CASE)


def layer_norm(x, axes, eps, gamma=None, beta=None):
    m = x.mean(axis=axes, keepdims=True)
    v = ((x - m) ** 2).mean(axis=axes, keepdims=True)
    y = (x - m) / np.sqrt(v + eps)
    return y * (1 if gamma is None else gamma) + (0 if beta is None else beta)


def keras_numpy(w, x):
    f = {k: v.astype(np.float64) for k, v in w.items()}
    y = x.astype(np.float64) @ f["conv2d/kernel"][0, 0] + f["conv2d/bias"]
    y = y * 0.5 + 0.1
    y = (y - f["normalization/mean"]) / np.maximum(np.sqrt(f["normalization/variance"]), 1e-7)
    k = f["conv2d_1/kernel"]
    y = sum(y[:, i:i + 3, j:j + 4, :] @ k[i, j] for i in range(2) for j in range(2)) + f["conv2d_1/bias"]
    y = layer_norm(y, (3,), 1e-3, f["layer_normalization/gamma"], f["layer_normalization/beta"])
    y = layer_norm(y, (1, 2, 3), 1e-3, f["layer_normalization_1/gamma"], f["layer_normalization_1/beta"])
    y = y.reshape(len(y), -1) @ f["dense/kernel"] + f["dense/bias"]
    y = layer_norm(y, (1,), 1e-3, f["layer_normalization_2/gamma"])
    return y @ f["dense_1/kernel"] + f["dense_1/bias"]


def rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


def make_torch():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import make_pytorch_fixtures as pf

    class NormNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
            self.gn = nn.GroupNorm(2, 4)
            self.conv2 = nn.Conv2d(4, 3, 3)
            self.ln1 = nn.LayerNorm([3, 3, 4])
            self.fc1 = nn.Linear(36, 6)
            self.ln2 = nn.LayerNorm(6)
            self.fc2 = nn.Linear(6, 3)
            with torch.no_grad():       # non-trivial affine parameters
                for m in (self.gn, self.ln1, self.ln2):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.3, 0.3)

        def forward(self, x):
            x = F.relu(self.gn(self.conv1(x)))
            x = self.ln1(self.conv2(x))
            x = torch.tanh(self.ln2(self.fc1(torch.flatten(x, 1))))
            return self.fc2(x)

    pf.MODEL_MD["pytorch_norm"] = (
        "Conv2d, GroupNorm(2, 4) (eps 1e-5), ReLU, Conv2d, LayerNorm([3, 3, 4]) over the whole [C, H, W], NCHW "
        "flatten, Linear, LayerNorm(6), tanh, Linear.", "input: shape=2x5x6 scale=1 offset=0",
        "forward: conv1 gn relu conv2 ln1 flatten fc1 ln2 tanh fc2")
    torch.set_num_threads(1)
    pf.make("pytorch_norm", NormNet, (2, 5, 6), 3, 42)
    md = os.path.join(pf.ROOT, "pytorch_norm", "model.md")
    with open(md) as fh:
        text = fh.read().replace("make_pytorch_fixtures.py", "make_norm_fixtures.py")
    with open(md, "w") as fh:
        fh.write(text)
    io = np.load(os.path.join(pf.ROOT, "pytorch_norm", "io.npz"))
    w = {k: v.astype(np.float64) for k, v in np.load(os.path.join(pf.ROOT, "pytorch_norm", "weights.npz")).items()}
    x = io["input"].astype(np.float64)                   # [N, H, W, C]
    y = sum(np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))[:, i:i + 5, j:j + 6, :] @ w["conv1.weight"][:, :, i, j].T
            for i in range(3) for j in range(3)) + w["conv1.bias"]
    g = y.reshape(3, 5, 6, 2, 2)                         # groups of 2 channels
    y = layer_norm(g, (1, 2, 4), 1e-5).reshape(3, 5, 6, 4) * w["gn.weight"] + w["gn.bias"]
    y = np.maximum(y, 0)
    y = sum(y[:, i:i + 3, j:j + 4, :] @ w["conv2.weight"][:, :, i, j].T for i in range(3) for j in range(3)) + w["conv2.bias"]
    y = layer_norm(y, (1, 2, 3), 1e-5, w["ln1.weight"].transpose(1, 2, 0), w["ln1.bias"].transpose(1, 2, 0))
    y = y.transpose(0, 3, 1, 2).reshape(3, -1) @ w["fc1.weight"].T + w["fc1.bias"]
    y = np.tanh(layer_norm(y, (1,), 1e-5, w["ln2.weight"], w["ln2.bias"]))
    y = y @ w["fc2.weight"].T + w["fc2.bias"]
    print("sanity", "ok" if rel(y, io["output_inference"]) < 1e-5 else "MISMATCH", "pytorch_norm")


if __name__ == "__main__":
    make_keras()
    make_torch()

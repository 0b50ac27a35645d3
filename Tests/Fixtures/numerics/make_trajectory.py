#!/usr/bin/env python3
"""Issue 20: a 20-step training trajectory of the seed 002 network in Keras 3, for
Tests/BackendTests/TrajectoryFixtureTests.swift. Run once by hand (CI never runs it):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/numerics/make_trajectory.py

Start: the seed 002 fixture's weights (seed002_mnist_cnn/weights.npz). Data: the first 20 x 4
training images of the MNIST sample shipped in Sources/ModelcData/Samples/mnist, in file order,
pixels / 255 (the model's Lambda standardizes them). Recipe: Keras Adam defaults (lr 1e-3,
beta_1 0.9, beta_2 0.999, epsilon 1e-7), sparse categorical cross-entropy on the logits (mean over
the batch), BatchNorm in training mode (batch statistics, momentum 0.99, eps 1e-3), dropout off
(the fixture network pins every rate to 0, as modelc does with `dropout = false`).

The reference run is float64. Adam's trajectory is chaotic in rounding (its first update is
about lr * sign(g)), so the script also measures how far float32 implementations wander from that
reference: an ensemble of the float32 run on TensorFlow, the same on TensorFlow without oneDNN and
on Keras's torch backend (other kernels, other rounding), and PERTURBED more TensorFlow float32
runs whose start weights are moved by a few float32 ulps (relative uniform noise of 2^-22). (Perturbed
float64 runs stay within 1e-6 of the reference for ten steps: the wandering comes from float32
arithmetic in the gradients, not from the start.) The test holds modelc to that spread. Stored in trajectory/steps.npz:
  loss64[s]                          loss of batch s before step s (s = 0..19), float64 reference
  loss32[s]                          the same in float32
  loss_spread[s]                     max over the ensemble of |loss - loss64| / loss64 at step s
  final64/<key>                      the reference's tensor after the 20 steps, for KEYS (BatchNorm
                                     moving statistics included); of a tensor larger than PREFIX
                                     values, only its first PREFIX values in file order (size)
  spread/<key>                       max over the ensemble of max|final - final64| / max|final64|
  step1_64/<key>, step1_32/<key>     the tensor after the first step, float64 and float32 (where
                                     a trajectory first parts: which weights moved the other way)
"""
import gzip
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import keras  # noqa: E402

import make_fixtures as mf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "..", "Sources", "ModelcData", "Samples", "mnist")
STEPS, BATCH = 20, 4
KEYS = ["conv2d_1/kernel", "batch_normalization_1/gamma", "batch_normalization_1/moving_mean",
        "batch_normalization_1/moving_variance", "conv2d_6/kernel", "batch_normalization_7/moving_variance",
        "conv2d_1/bias", "dense_2/kernel", "dense_3/kernel", "dense_3/bias"]


def idx(name):
    with gzip.open(os.path.join(SAMPLE, name)) as fh:
        b = fh.read()
    dims = b[3]
    shape = [int.from_bytes(b[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * dims).reshape(shape)


PERTURBED = 5
PREFIX = 4096


def run(floatx, w0, x, y, case="seed002_mnist_cnn"):
    model = mf.build(mf.CASES[case]["build"], floatx)
    keras.config.set_floatx(floatx)
    keras.config.set_dtype_policy(floatx)
    mf.load_weights(model, w0)
    opt = keras.optimizers.Adam()
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt.build(model.trainable_variables)
    losses = []
    for s in range(STEPS):
        loss, grads = loss_and_grads(model, ce, x[s * BATCH:(s + 1) * BATCH].astype(floatx), y[s * BATCH:(s + 1) * BATCH])
        opt.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss))
        if s == 0:
            first = {k: mf.f32(v.value).ravel()[:PREFIX] for k, v in mf.named_vars(model) if k in KEYS}
    final = {k: mf.f32(v.value).ravel()[:PREFIX] for k, v in mf.named_vars(model) if k in KEYS}
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    return np.array(losses, np.float64), final, first


def loss_and_grads(model, ce, xb, yb):
    """Eager (no XLA, no compiled step): the plain arithmetic of each op, on either backend."""
    if mf.BACKEND == "torch":
        import torch
        loss = ce(torch.tensor(yb), model(torch.tensor(xb), training=True))
        return float(loss), torch.autograd.grad(loss, [v.value for v in model.trainable_variables])
    import tensorflow as tf
    with tf.GradientTape() as tape:
        loss = ce(tf.constant(yb), model(tf.constant(xb), training=True))
    return float(loss), tape.gradient(loss, model.trainable_variables)


def other_float32_runs(w0):
    """The float32 run by two other implementations, each in its own process: Keras on the torch
    backend, and TensorFlow without its oneDNN kernels."""
    import subprocess
    import tempfile
    runs = []
    for env in ({"KERAS_BACKEND": "torch"}, {"KERAS_BACKEND": "tensorflow", "TF_ENABLE_ONEDNN_OPTS": "0"}):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "part.npz")
            subprocess.run([sys.executable, os.path.abspath(__file__), "--part", out], check=True,
                           env={**os.environ, **env})
            f = dict(np.load(out))
            runs.append((f["losses"].astype(np.float64), {k: f[f"final/{k}"] for k in KEYS},
                         {k: f[f"first/{k}"] for k in KEYS}))
    return runs


def data():
    images = idx("train-images-idx3-ubyte.gz")[:STEPS * BATCH]
    labels = idx("train-labels-idx1-ubyte.gz")[:STEPS * BATCH].astype(np.int64)
    return (images.astype(np.float32) / 255.0)[..., None], labels


def part(out):
    w0 = dict(np.load(os.path.join(HERE, "seed002_mnist_cnn", "weights.npz")))
    losses, final, first = run("float32", w0, *data())
    np.savez(out, losses=losses, **{f"final/{k}": v for k, v in final.items()}, **{f"first/{k}": v for k, v in first.items()})


def perturbed(w0, rng):
    return {k: (v.astype(np.float64) * (1 + rng.uniform(-2.0 ** -22, 2.0 ** -22, v.shape))).astype(np.float32)
            for k, v in w0.items()}


def main():
    w0 = dict(np.load(os.path.join(HERE, "seed002_mnist_cnn", "weights.npz")))
    x, labels = data()
    loss64, final64, first64 = run("float64", w0, x, labels)
    ensemble = [run("float32", w0, x, labels)] + other_float32_runs(w0)
    rng = np.random.default_rng(20)
    ensemble += [run("float32", perturbed(w0, rng), x, labels) for _ in range(PERTURBED)]
    rel = lambda a, b: float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))  # noqa: E731
    out = {"loss64": loss64.astype(np.float32), "loss32": ensemble[0][0].astype(np.float32),
           "loss_spread": np.max([np.abs(e[0] - loss64) / loss64 for e in ensemble], axis=0).astype(np.float32)}
    for k in KEYS:
        out[f"final64/{k}"] = final64[k]
        out[f"spread/{k}"] = np.array([max(rel(e[1][k], final64[k]) for e in ensemble)], np.float32)
        out[f"step1_64/{k}"] = first64[k]
        out[f"step1_32/{k}"] = ensemble[0][2][k]
    d = os.path.join(HERE, "trajectory")
    os.makedirs(d, exist_ok=True)
    np.savez(os.path.join(d, "steps.npz"), **out)
    for s in range(STEPS):
        print(f"step {s:2d}: loss64 {loss64[s]:.6f} " + " ".join(f"{e[0][s]:.6f}" for e in ensemble)
              + f"  spread {out['loss_spread'][s]:.2e}")
    for k in KEYS:
        print(f"{k}: ensemble spread {out[f'spread/{k}'][0]:.2e}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--part":
        part(sys.argv[2])
    else:
        main()

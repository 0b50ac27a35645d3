#!/usr/bin/env python3
"""Keras 3 references for the task losses (binary, categorical, sparse categorical cross-entropy,
MSE, MAE) on a tiny model: one Dense layer (3 inputs -> K outputs) with the head's activation.

Run once by hand (CI never runs it; LossFixtureTests in Tests/RuntimeTests read the result):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/numerics/make_loss_fixtures.py

Writes losses/losses.npz with, per case C: C/x [N, 3], C/kernel [3, K], C/bias [K],
C/outputs (the head's outputs: sigmoid probabilities, or the logits of a softmax head, or the
linear outputs), C/y, C/loss (the Keras loss, a scalar), C/grad_logits (d loss / d(x W + b)),
C/grad_kernel, C/grad_bias. Float64 throughout (Keras dtype policy float64), stored as float32.
The loss and its gradients come from the Keras loss objects under tf.GradientTape, the head
activation from keras.activations (which hands the logits to the cross-entropies as Keras's
training does).
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

keras.config.set_floatx("float64")
HERE = os.path.dirname(os.path.abspath(__file__))
N, D = 6, 3


def one_case(rng, k, activation, loss, y):
    x = rng.uniform(-1, 1, (N, D)).astype(np.float32)
    w = rng.uniform(-1.5, 1.5, (D, k)).astype(np.float32)
    b = rng.uniform(-0.3, 0.3, (k,)).astype(np.float32)
    xv, wv, bv = (tf.Variable(a.astype(np.float64)) for a in (x, w, b))
    with tf.GradientTape() as tape:
        z = tf.matmul(xv, wv) + bv
        tape.watch(z)
        out = activation(z)
        value = loss(tf.constant(y.astype(np.float64) if y.dtype.kind == "f" else y), out)
    gz, gw, gb = tape.gradient(value, [z, wv, bv])
    # the outputs modelc's loss reads: a softmax head's logits (the softmax is stripped)
    seen = z if activation is keras.activations.softmax else out
    return dict(x=x, kernel=w, bias=b, outputs=np.asarray(seen), y=y, loss=np.float64(value),
                grad_logits=np.asarray(gz), grad_kernel=np.asarray(gw), grad_bias=np.asarray(gb))


def main():
    rng = np.random.default_rng(17)
    L, A = keras.losses, keras.activations
    onehot = np.eye(4, dtype=np.float32)[rng.integers(0, 4, N)]
    cases = {
        "bce_sigmoid_1": (1, A.sigmoid, L.BinaryCrossentropy(), rng.integers(0, 2, (N, 1)).astype(np.float32)),
        "bce_sigmoid_multilabel": (4, A.sigmoid, L.BinaryCrossentropy(), rng.integers(0, 2, (N, 4)).astype(np.float32)),
        "bce_logits_soft": (2, A.linear, L.BinaryCrossentropy(from_logits=True), rng.uniform(0, 1, (N, 2)).astype(np.float32)),
        "cce_onehot": (4, A.softmax, L.CategoricalCrossentropy(), onehot),
        "scce": (4, A.softmax, L.SparseCategoricalCrossentropy(), rng.integers(0, 4, (N,)).astype(np.int32)),
        "mse_linear": (3, A.linear, L.MeanSquaredError(), rng.uniform(-1, 1, (N, 3)).astype(np.float32)),
        "mae_linear": (3, A.linear, L.MeanAbsoluteError(), rng.uniform(-1, 1, (N, 3)).astype(np.float32)),
        "mse_sigmoid": (3, A.sigmoid, L.MeanSquaredError(), rng.uniform(0, 1, (N, 3)).astype(np.float32)),
    }
    arrays = {}
    for name, (k, act, loss, y) in cases.items():
        for key, a in one_case(rng, k, act, loss, y).items():
            a = np.asarray(a)
            arrays[f"{name}/{key}"] = a.astype(np.int32) if a.dtype.kind in "iu" else a.astype(np.float32)
        print(name, float(arrays[f"{name}/loss"]))
    os.makedirs(os.path.join(HERE, "losses"), exist_ok=True)
    np.savez(os.path.join(HERE, "losses", "losses.npz"), **arrays)


if __name__ == "__main__":
    main()

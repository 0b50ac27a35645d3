#!/usr/bin/env python3
"""Issue 18: seed 002's network saved by Keras 3 as `seed002_mnist_cnn.keras`, for
Tests/BackendTests/KerasModelFileTests.swift. Run once by hand (CI never runs it):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/keras_files/make_seed002_keras.py

The network is the seed document's (Tests/Fixtures/numerics/make_fixtures.py builds it layer by
layer with the seed table's names), with its real Dropout rates and a softmax head, and its Lambda
standardizing the pixels. Weights: the seed 002 fixture's (numerics/seed002_mnist_cnn/weights.npz).
The architecture and weights go into the `.keras` zip as Keras writes it; what the config cannot
say (the Lambda's function, dataset, input scaling) is in `seed002_mnist_cnn.keras.modelc` beside
it. `seed002_mnist_cnn.keras.io.npz` holds four MNIST sample images (pixels 0..255) and Keras's
probabilities for them (inference).
"""
import gzip
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NUMERICS = os.path.join(HERE, "..", "numerics")
SAMPLE = os.path.join(HERE, "..", "..", "..", "Sources", "ModelcData", "Samples", "mnist")
MEAN, STD = 0.1307, 0.3081


def seed002():
    i = keras.Input((28, 28, 1), name="input_layer")
    x = L.Lambda(lambda t: (t - MEAN) / STD, name="lambda_1")(i)
    spec = [(32, None), (32, 1), (64, None), (64, 2), (128, 3), (64, 4)]
    for k, (f, pool) in enumerate(spec, start=1):
        x = L.Conv2D(f, 3, padding="same", name=f"conv2d_{k}")(x)
        x = L.BatchNormalization(name=f"batch_normalization_{k}")(x)
        x = L.LeakyReLU(negative_slope=0.3, name=f"leaky_re_lu_{k}")(x)
        if pool:
            x = L.MaxPooling2D(2, name=f"max_pooling2d_{pool}")(x)
            x = L.Dropout(0.25, name=f"dropout_{pool}")(x)
    x = L.Flatten(name="flatten_1")(x)
    x = L.BatchNormalization(name="batch_normalization_7")(x)
    x = L.Dropout(0.25, name="dropout_5")(x)
    x = L.Dense(256, name="dense_1")(x)
    x = L.LeakyReLU(negative_slope=0.3, name="leaky_re_lu_7")(x)
    x = L.Dropout(0.5, name="dropout_6")(x)
    x = L.Dense(128, name="dense_2")(x)
    x = L.LeakyReLU(negative_slope=0.3, name="leaky_re_lu_8")(x)
    x = L.Dropout(0.5, name="dropout_7")(x)
    x = L.Dense(10, activation="softmax", name="dense_3")(x)
    return keras.Model(i, x, name="seed002_mnist_cnn")


def main():
    m = seed002()
    w = np.load(os.path.join(NUMERICS, "seed002_mnist_cnn", "weights.npz"))
    for layer in m.layers:
        for v in layer.weights:
            v.assign(w[f"{layer.name}/{v.name}"])
    m.save(os.path.join(HERE, "seed002_mnist_cnn.keras"))
    with gzip.open(os.path.join(SAMPLE, "t10k-images-idx3-ubyte.gz")) as fh:
        px = np.frombuffer(fh.read(), np.uint8, offset=16)[:4 * 784].reshape(4, 28, 28, 1)
    p = m.predict(px.astype(np.float32) / 255, verbose=0)
    np.savez(os.path.join(HERE, "seed002_mnist_cnn.keras.io.npz"), pixels=px, probabilities=p.astype(np.float32))
    print(p.argmax(1), p.max(1))


if __name__ == "__main__":
    main()

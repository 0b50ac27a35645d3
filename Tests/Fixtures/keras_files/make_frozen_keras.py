#!/usr/bin/env python3
"""Frozen layers in Keras model files (issue 17's published corpus: pretrained, frozen
Embeddings). Run once with Keras 3 (`~/.cache/modelc-peers/venv/bin/python
Tests/Fixtures/keras_files/make_frozen_keras.py`); CI reads only the files it writes:

- frozen_dense.keras: Input(8) -> Dense(4, trainable=False) -> Dense(3, softmax);
  Keras counts 36 non-trainable and 15 trainable parameters.
- frozen_bn.keras: Input(8) -> BatchNormalization(trainable=False) -> Dense(3): refused by
  modelc (a frozen Keras BatchNorm normalizes with its moving statistics in training).
"""
import os

import keras

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    keras.utils.set_random_seed(3)
    dense = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, trainable=False, name="frozen"),
                              keras.layers.Dense(3, activation="softmax", name="head")], name="frozen_dense")
    print("frozen_dense trainable", sum(int(w.numpy().size) for w in dense.trainable_weights),
          "non-trainable", sum(int(w.numpy().size) for w in dense.non_trainable_weights))
    dense.save(os.path.join(HERE, "frozen_dense.keras"))
    bn = keras.Sequential([keras.Input((8,)), keras.layers.BatchNormalization(trainable=False, name="bn"),
                           keras.layers.Dense(3, activation="softmax", name="head")], name="frozen_bn")
    bn.save(os.path.join(HERE, "frozen_bn.keras"))


if __name__ == "__main__":
    main()

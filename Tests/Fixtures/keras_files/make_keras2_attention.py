#!/usr/bin/env python3
"""A Keras 2 (tf_keras 2.21) `.h5` model with MultiHeadAttention, made once and committed; CI never
runs this:

    ~/.cache/modelc-peers/venv/bin/pip install tf_keras
    ~/.cache/modelc-peers/venv/bin/python Tests/Fixtures/keras_files/make_keras2_attention.py

`keras2_attention.h5`: a Dense named `query` (whose weights are `query/kernel:0`, not an
attention's), cross-attention called as `mha(q, v, k)` (tf.keras writes value= and key= into the
first input's kwargs) with `use_causal_mask=True`, GlobalAveragePooling1D, Dense softmax; random
weights. `keras2_attention.io.npz`: inputs `x` and Keras's `predict` probabilities `y`.
"""
import os
import numpy as np
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tf_keras as keras
from tf_keras import layers as L

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(11)
i = keras.Input((6, 5), name="seq")
q = L.Dense(8, activation="tanh", name="query")(i)
v = L.Dense(4, name="values")(i)
a = L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, name="mha")(q, v, i, use_causal_mask=True)
o = L.Dense(3, activation="softmax", name="out")(L.GlobalAveragePooling1D(name="gap")(a))
m = keras.Model(i, o, name="keras2_attention")
for w in m.weights:
    w.assign(rng.uniform(-0.6, 0.6, w.shape).astype(np.float32))
m.save(os.path.join(HERE, "keras2_attention.h5"))
x = rng.uniform(-1, 1, (4, 6, 5)).astype(np.float32)
np.savez(os.path.join(HERE, "keras2_attention.io.npz"), x=x, y=m.predict(x, verbose=0))
print([w.name for w in m.weights])

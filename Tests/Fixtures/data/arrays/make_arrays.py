#!/usr/bin/env python3
"""The array-data fixtures (made once; CI never runs this): a separable binary task on 4 features,
y = 1 when x0 + x1 - x2 > 0 (x3 is noise).

    python3 Tests/Fixtures/data/arrays/make_arrays.py

binary.npz: x [64, 4] float32, y [64] int64, x_test [16, 4], y_test [16].
binary.csv: a header line, then the same 64 training rows: x0..x3, then the label.
bad_x_shape.npz: x [3, 5], y [3]: 5 values per example, for the error test of a 4-input model.
"""
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2026)
x = rng.uniform(-1, 1, (80, 4)).astype(np.float32)
y = (x[:, 0] + x[:, 1] - x[:, 2] > 0).astype(np.int64)
np.savez(os.path.join(HERE, "binary.npz"), x=x[:64], y=y[:64], x_test=x[64:], y_test=y[64:])
with open(os.path.join(HERE, "binary.csv"), "w") as f:
    f.write("x0,x1,x2,x3,label\n")
    for row, label in zip(x[:64], y[:64]):
        f.write(",".join(f"{v:.6f}" for v in row) + f",{label}\n")
np.savez(os.path.join(HERE, "bad_x_shape.npz"), x=np.full((3, 5), 0.5, np.float32), y=np.array([0, 1, 0]))

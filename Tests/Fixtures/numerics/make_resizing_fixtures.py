#!/usr/bin/env python3
"""Generate the Keras reference fixture of the Resizing and CenterCrop layers: bilinear resizing up
in one axis and down (by a non-integer factor) in the other, then a CenterCrop with an odd row
and column left over, between two convolutions, so that their input gradients reach the first
convolution's kernel; then Resizing to a smaller square. Same format
and method as make_fixtures.py (whose make_case writes model.md, weights.npz and io.npz; see
README.md here).

Run once by hand (CI never runs it):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/numerics/make_resizing_fixtures.py
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
from keras import layers as L  # noqa: E402
import make_fixtures as mf  # noqa: E402


def resizing():
    i = keras.Input((7, 9, 2), name="input_layer")
    x = L.Conv2D(3, 2, padding="same", activation="tanh", name="conv2d")(i)     # (7, 9, 3)
    x = L.Resizing(11, 5, name="resizing")(x)                                     # (11, 5, 3): up 11/7, down 5/9
    x = L.CenterCrop(8, 4, name="center_crop")(x)                                 # (8, 4, 3): rows 1..8, columns 0..3
    x = L.Conv2D(4, 3, activation="tanh", name="conv2d_1")(x)                    # (6, 2, 4)
    x = L.Resizing(4, 4, name="resizing_1")(x)                                    # (4, 4, 4)
    x = L.Flatten(name="flatten")(x)
    return keras.Model(i, L.Dense(3, name="dense")(x), name="fx_resizing")


CASES = {
    "resizing": dict(
        build=resizing, input_shape=(7, 9, 2), batch=3, annotations=[],
        note="Conv2D 'same', Resizing to 11x5 (up 11/7, down 5/9), CenterCrop to 8x4 (from row 1 and column 0: "
             "the odd row and column left over go to the bottom and right), Conv2D 3x3, Resizing to 4x4, Flatten, Dense"),
}


def main():
    spec = dict(CASES["resizing"], seed_file=None)
    mf.make_case("resizing", spec, 3100, write=mf.BACKEND == mf.WRITER)
    print(f"wrote resizing ({mf.BACKEND})", flush=True)


if __name__ == "__main__":
    main()

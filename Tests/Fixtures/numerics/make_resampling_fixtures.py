#!/usr/bin/env python3
"""Generate the Keras reference fixture of the resampling layers (issue 17): causal (and dilated
causal) Conv1D, ZeroPadding1D, SeparableConv1D, Cropping1D, UpSampling1D, Permute,
UpSampling2D(interpolation='bilinear'), Cropping2D, Conv2DTranspose with output_padding and
RepeatVector, in one small functional model. Same format and method as make_fixtures.py (whose
make_case writes model.md, weights.npz and io.npz; see README.md here). Also writes the
model's `.keras` config.json as Tests/Fixtures/keras_config/resampling.config.json (the config
reader's test of the same layers).

Run once by hand (CI never runs it):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/numerics/make_resampling_fixtures.py
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
from keras import layers as L  # noqa: E402
import make_fixtures as mf  # noqa: E402


def resampling():
    i = keras.Input((8, 3), name="input_layer")
    x = L.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="tanh", name="conv1d")(i)   # (8, 4)
    x = L.ZeroPadding1D((1, 2), name="zero_padding1d")(x)                                          # (11, 4)
    x = L.SeparableConv1D(5, 3, depth_multiplier=2, padding="same", activation="tanh", name="sep_conv1d")(x)  # (11, 5)
    x = L.Cropping1D((1, 2), name="cropping1d")(x)                                                 # (8, 5)
    x = L.UpSampling1D(2, name="up_sampling1d")(x)                                                 # (16, 5)
    x = L.Conv1D(3, 3, strides=2, padding="causal", activation="tanh", name="conv1d_1")(x)         # (8, 3)
    x = L.Permute((2, 1), name="permute")(x)                                                       # (3, 8)
    x = L.Reshape((3, 8, 1), name="reshape")(x)
    x = L.UpSampling2D(2, interpolation="bilinear", name="up_sampling2d")(x)                       # (6, 16, 1)
    x = L.Cropping2D(((1, 0), (2, 3)), name="cropping2d")(x)                                       # (5, 11, 1)
    x = L.Conv2DTranspose(2, 3, strides=2, output_padding=1, activation="tanh", name="conv2d_transpose")(x)  # (12, 24, 2)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    x = L.RepeatVector(3, name="repeat_vector")(x)                                                 # (3, 2)
    x = L.Flatten(name="flatten")(x)
    return keras.Model(i, L.Dense(3, name="dense")(x), name="fx_resampling")


CASES = {
    "resampling": dict(
        build=resampling, input_shape=(8, 3), batch=3,
        annotations=[
            "layer conv1d: padding=causal dilation=2   # the table prints the shapes of 'same'",
            "layer sep_conv1d: depth_multiplier=2 activation=tanh   # 11 s1 multiplier 1 has the same count",
            "layer conv1d_1: padding=causal",
            "layer cropping1d: crop=1,2                # the table fixes only the total 3",
            "layer up_sampling2d: interpolation=bilinear",
            "layer cropping2d: crop=1,0,2,3",
        ],
        note="Causal dilated Conv1D, ZeroPadding1D (1, 2), SeparableConv1D (multiplier 2, same), Cropping1D (1, 2), "
             "UpSampling1D 2, causal stride-2 Conv1D, Permute (2, 1), Reshape, bilinear UpSampling2D 2x2, Cropping2D "
             "((1, 0), (2, 3)), Conv2DTranspose 3x3 stride 2 valid with output_padding 1 (inferred from the shapes), "
             "GlobalAveragePooling2D, RepeatVector 3, Flatten, Dense"),
}


def main():
    spec = dict(CASES["resampling"], seed_file=None)
    mf.make_case("resampling", spec, 3000, write=mf.BACKEND == mf.WRITER)
    print(f"wrote resampling ({mf.BACKEND})", flush=True)
    if mf.BACKEND == mf.WRITER:
        write_config("resampling", spec["build"])


def write_config(name, build):
    import tempfile
    import zipfile
    model = mf.build(build, "float32")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.keras")
        model.save(path)
        with zipfile.ZipFile(path) as z:
            cfg = z.read("config.json")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras_config", f"{name}.config.json")
    with open(out, "wb") as f:
        f.write(cfg)


if __name__ == "__main__":
    main()

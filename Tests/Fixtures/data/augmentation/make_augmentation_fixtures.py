#!/usr/bin/env python3
"""Reference outputs of Keras's random image layers with fixed transforms, made once by hand
(CI never runs this):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/data/augmentation/make_augmentation_fixtures.py

Each case's layer is built with a range of one value (lower == upper), so its "random"
transform is fixed, and called with training=True on one 7x9x2 image of values in [0, 255)
(Keras 3, TensorFlow backend). The rotation, zoom and translation cases run every fill mode
and both interpolations, also shifted by the whole size and, on a 1x9x2 row (an axis of length 1),
rotated and zoomed. Writes cases.json beside this script: the image (row-major [h, w, c]) and,
per case, the layer's class, its arguments and its output (and its own image when it has one).
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

H, W, C = 7, 9, 2
rng = np.random.default_rng(20261207)
image = rng.uniform(0, 255, (H, W, C)).astype(np.float32)

cases = []


def add(name, cls, img=None, **args):
    layer = getattr(L, cls)(**args)
    x = image if img is None else img
    out = np.asarray(layer(x[None], training=True))[0]
    case = {"name": name, "class": cls, "args": args, "output": out.reshape(-1).tolist()}
    if img is not None:
        case.update(height=x.shape[0], width=x.shape[1], image=x.reshape(-1).tolist())
    cases.append(case)


row = rng.uniform(0, 255, (1, 9, 2)).astype(np.float32)


for fill in ["reflect", "wrap", "constant", "nearest"]:
    for interp in ["bilinear", "nearest"]:
        common = dict(fill_mode=fill, interpolation=interp, fill_value=17.0)
        add(f"rotation_{fill}_{interp}", "RandomRotation", factor=(0.07, 0.07), **common)
        add(f"rotation_neg_{fill}_{interp}", "RandomRotation", factor=(-0.31, -0.31), **common)
        add(f"zoom_out_{fill}_{interp}", "RandomZoom", height_factor=(0.3, 0.3), **common)
        add(f"zoom_xy_{fill}_{interp}", "RandomZoom", height_factor=(-0.25, -0.25), width_factor=(0.4, 0.4), **common)
        add(f"translation_{fill}_{interp}", "RandomTranslation", height_factor=(0.2, 0.2),
            width_factor=(-0.35, -0.35), **common)
        add(f"translation_far_{fill}_{interp}", "RandomTranslation", height_factor=(-0.9, -0.9),
            width_factor=(0.75, 0.75), **common)
        add(f"translation_whole_{fill}_{interp}", "RandomTranslation", height_factor=(1.0, 1.0),
            width_factor=(-1.0, -1.0), **common)
        add(f"row_rotation_{fill}_{interp}", "RandomRotation", img=row, factor=(0.13, 0.13), **common)
        add(f"row_zoom_{fill}_{interp}", "RandomZoom", img=row, height_factor=(0.6, 0.6), width_factor=(-0.4, -0.4), **common)
# factor (a, b) is sorted into (lower, upper) and draws from [1 - lower, 1 + upper]: (-x, x) is 1 + x
add("contrast", "RandomContrast", factor=(-0.4, 0.4))
add("contrast_small", "RandomContrast", factor=(-0.05, 0.05))
add("brightness", "RandomBrightness", factor=(0.1, 0.1))
add("brightness_range", "RandomBrightness", factor=(-0.3, -0.3), value_range=(0, 100))

# sanity: the contrast ranges Keras resolved (lower, upper), so the Swift test draws the same factor
for c in cases:
    if c["class"] == "RandomContrast":
        c["resolved_factor"] = list(getattr(L, "RandomContrast")(**c["args"]).factor)

doc = {"keras": keras.__version__, "height": H, "width": W, "channels": C,
       "image": image.reshape(-1).tolist(), "cases": cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.json")
with open(path, "w") as f:
    json.dump(doc, f)
print(f"wrote {len(cases)} cases to {path}")

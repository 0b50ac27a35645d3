#!/usr/bin/env python3
"""Make the Keras weight-file fixtures in Tests/Fixtures/keras_files/ (see README.md there).

Run once by hand (CI never runs it):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/keras_files/make_keras_files.py

Each model mirrors a generated test model of Tests/TestModelSpecs (same layer names, kinds and
hyperparameters), gets random float32 weights (BatchNorm statistics included) and is saved by
Keras itself as `<case>.weights.h5` (Keras 3), `<case>.keras` (Keras 3 zip) and `<case>.h5`
(`model.save("x.h5")`: the legacy Keras 2 full-model format). `gc_dense_bn` is also saved as
Keras 2 weights only (`<case>.weights_only.h5`, legacy `save_weights_to_hdf5_group`) and copied
by h5py into the newer HDF5 layouts (`libver="v108"`: superblock 2, `libver="latest"`: superblock
3, object header 2, link messages). `<case>.io.npz` holds inputs and Keras' outputs.
`hdf5_features.h5` exercises the HDF5 features Keras leaves out (see FEATURES below).
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers as L  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def gc_bn_pool():
    i = keras.Input((5, 5, 3), name="input_layer")
    x = L.Conv2D(8, 3, padding="same", use_bias=False, name="conv2d_1")(i)
    x = L.BatchNormalization(name="batch_normalization_1")(x)
    x = L.Activation("tanh", name="activation_1")(x)
    x = L.AveragePooling2D(2, padding="same", name="average_pooling2d_1")(x)
    x = L.Conv2D(6, 1, name="conv2d_2")(x)
    x = L.BatchNormalization(scale=False, center=True, name="batch_normalization_2")(x)
    x = L.Flatten(name="flatten_1")(x)
    x = L.Dense(3, name="dense_1")(x)
    return keras.Model(i, x, name="gc_bn_pool")


def gc_separable():
    i = keras.Input((6, 6, 3), name="input_layer")
    x = L.Conv2D(3, 1, name="conv2d_1")(i)
    x = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="tanh", name="depthwise_conv2d_1")(x)
    x = L.SeparableConv2D(5, 3, strides=2, padding="same", activation="sigmoid", name="separable_conv2d_1")(x)
    x = L.SeparableConv2D(18, 2, depth_multiplier=2, use_bias=False, name="separable_conv2d_2")(x)
    x = L.Flatten(name="flatten_1")(x)
    x = L.Dense(3, name="dense_1")(x)
    return keras.Model(i, x, name="gc_separable")


def gc_dense_bn():
    m = keras.Sequential(name="gc_dense_bn")
    m.add(keras.Input((12,)))
    m.add(L.Dense(20, activation="tanh", name="dense_1"))
    m.add(L.BatchNormalization(name="batch_normalization_1"))
    m.add(L.Dense(33, use_bias=False, activation="sigmoid", name="dense_2"))
    m.add(L.Dropout(0.3, name="dropout_1"))
    m.add(L.Dense(4, name="dense_3"))
    m.add(L.Activation("softmax", name="activation_1"))
    return m


def gc_conv_wide():
    # Keras 3's activation names for hard_swish and gelu (approximate=False), and elu.
    i = keras.Input((7, 8, 3), name="input_layer")
    x = L.Conv2D(40, (1, 5), strides=(1, 2), padding="same", activation="hard_silu", name="conv2d_1")(i)
    x = L.Conv2D(36, (4, 1), strides=(2, 1), activation="elu", name="conv2d_2")(x)
    x = L.Conv2D(70, 3, padding="same", use_bias=False, activation="gelu", name="conv2d_3")(x)
    x = L.GlobalAveragePooling2D(name="global_average_pooling2d_1")(x)
    x = L.Dense(5, activation="softmax", name="dense_1")(x)
    return keras.Model(i, x, name="gc_conv_wide")


CASES = {"gc_bn_pool": gc_bn_pool, "gc_separable": gc_separable, "gc_dense_bn": gc_dense_bn}
# Saved as `.keras` only, each from its own seed: `make_keras_files.py gc_conv_wide` (re)makes it
# alone, leaving the other files as they are.
KERAS_ONLY = {"gc_conv_wide": gc_conv_wide}


def randomize(model, rng):
    for layer in model.layers:
        values = []
        for v in layer.weights:
            role = v.path.split("/")[-1]
            lo, hi = {"gamma": (0.5, 1.5), "beta": (-0.3, 0.3), "moving_mean": (-0.2, 0.2),
                      "moving_variance": (0.5, 1.5), "bias": (-0.2, 0.2)}.get(role, (-0.5, 0.5))
            values.append(rng.uniform(lo, hi, tuple(v.shape)).astype(np.float32))
        if values:
            layer.set_weights(values)


def copy_h5(src, dst, libver):
    """Copies every group, dataset and attribute of src into a new file written with `libver`."""
    with h5py.File(src, "r") as s, h5py.File(dst, "w", libver=libver) as d:
        def attrs(a, b):
            for k, v in a.attrs.items():
                b.attrs[k] = v

        def visit(a, b):
            attrs(a, b)
            for k, v in a.items():
                if isinstance(v, h5py.Group):
                    visit(v, b.create_group(k, track_order=True))
                else:
                    attrs(v, b.create_dataset(k, data=v[()]))
        visit(s, d)


FEATURES = """hdf5_features.h5 (libver latest: superblock 3, object header 2):
  /big: 20 datasets d00..d19 (int32 scalars i) in a group with track_order (dense links:
        fractal heap + B-tree v2), 12 attributes a00..a11 on /big (dense attribute storage)
  /chunked: float32 (7, 5) arange/10, chunks (3, 2), shuffle + deflate
  /f16: float16 [0.5, -1.25, 2.0], /f64be: big-endian float64 [1.5, -2.25]
  /i16be: big-endian int16 [-3, 300], /u8: uint8 [1, 2, 255], /compact: int32 [7, 8, 9] compact layout
  attrs on /: fixed 'fixed' = b'abc', vlen 'vlen' = 'hello', 'names' = [b'x', b'yz'] (fixed),
        'vnames' = ['p', 'qq'] (vlen)
hdf5_features_v0.h5: the same in the default (earliest) layout, chunked with B-tree v1."""


def features(path, libver):
    with h5py.File(path, "w", libver=libver) as f:
        big = f.create_group("big", track_order=True)
        for i in range(20):
            big.create_dataset(f"d{i:02d}", data=np.int32(i))
        for i in range(12):
            big.attrs[f"a{i:02d}"] = np.int32(100 + i)
        f.create_dataset("chunked", data=np.arange(35, dtype=np.float32).reshape(7, 5) / 10,
                         chunks=(3, 2), shuffle=True, compression="gzip")
        f.create_dataset("f16", data=np.array([0.5, -1.25, 2.0], np.float16))
        f.create_dataset("f64be", data=np.array([1.5, -2.25], ">f8"))
        f.create_dataset("i16be", data=np.array([-3, 300], ">i2"))
        f.create_dataset("u8", data=np.array([1, 2, 255], np.uint8))
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        sid = h5py.h5s.create_simple((3,))
        h5py.h5d.create(f.id, b"compact", h5py.h5t.STD_I32LE, sid, dcpl=dcpl).write(
            h5py.h5s.ALL, h5py.h5s.ALL, np.array([7, 8, 9], np.int32))
        many = f.create_group("many", track_order=True)
        for i in range(100):
            many[f"link_to_u8_{i:03d}"] = f["u8"]     # hard links: v2 B-tree internal node, heap indirect block
        f.attrs["fixed"] = np.bytes_(b"abc")
        f.attrs["vlen"] = "hello"
        f.attrs["names"] = np.array([b"x", b"yz"])
        f.attrs["vnames"] = np.array(["p", "qq"], dtype=h5py.string_dtype())


def keras_only(name):
    rng = np.random.default_rng(sum(name.encode()))
    model = KERAS_ONLY[name]()
    randomize(model, rng)
    for layer in model.layers:      # kernels x 4: values reach hard_silu's +-3 and gelu's tails
        if isinstance(layer, L.Conv2D):
            layer.kernel.assign(layer.kernel.numpy() * 4)
    base = os.path.join(HERE, name)
    model.save(base + ".keras")
    x = rng.uniform(-1, 1, (4,) + tuple(model.input_shape[1:])).astype(np.float32)
    np.savez(base + ".io.npz", input=x, output=np.asarray(model.predict(x, verbose=0)).astype(np.float32))
    print(name, os.path.getsize(base + ".keras"))


def main():
    rng = np.random.default_rng(18)
    for name, build in CASES.items():
        model = build()
        randomize(model, rng)
        base = os.path.join(HERE, name)
        model.save_weights(base + ".weights.h5")
        model.save(base + ".keras")
        model.save(base + ".h5")                      # legacy Keras 2 full-model format
        shape = (4,) + tuple(model.input_shape[1:])
        x = rng.uniform(-1, 1, shape).astype(np.float32)
        y = np.asarray(model.predict(x, verbose=0)).astype(np.float32)
        np.savez(base + ".io.npz", input=x, output=y)
        if name == "gc_dense_bn":
            with h5py.File(base + ".weights_only.h5", "w") as f:
                legacy_h5_format.save_weights_to_hdf5_group(f, model)
            copy_h5(base + ".h5", base + ".v108.h5", ("v108", "v108"))
            copy_h5(base + ".weights.h5", base + ".latest.weights.h5", "latest")
        print(name, {k: os.path.getsize(base + k) for k in (".weights.h5", ".keras", ".h5")})
    features(os.path.join(HERE, "hdf5_features.h5"), "latest")
    features(os.path.join(HERE, "hdf5_features_v0.h5"), "earliest")


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--features"]:     # only the two HDF5 feature files
        features(os.path.join(HERE, "hdf5_features.h5"), "latest")
        features(os.path.join(HERE, "hdf5_features_v0.h5"), "earliest")
    elif sys.argv[1:] and all(a in KERAS_ONLY for a in sys.argv[1:]):
        for a in sys.argv[1:]:
            keras_only(a)
    else:
        main()

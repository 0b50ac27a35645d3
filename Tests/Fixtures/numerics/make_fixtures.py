#!/usr/bin/env python3
"""Generate the Keras reference fixtures in Tests/Fixtures/numerics/ (see README.md there).

Run once by hand (CI never runs it):

    pip install /opt/wheels/torch-2.13.0+cpu-*.whl keras      # Keras 3, torch backend
    KERAS_BACKEND=torch python3 Tests/Fixtures/numerics/make_fixtures.py [case ...]

Every case is a small Keras 3 functional model. The summary table in model.md comes from
a float32 build of the model (exactly what Keras prints); the numbers in io.npz come from a
float64 build fed the *same float32-rounded* weights and inputs, then rounded to float32,
so the references carry no float32 accumulation error of their own.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "..", "..", "..", "..", "shared", "seeds")
BACKEND = keras.backend.backend()
WRITER = "tensorflow"    # the backend whose results are stored; the other one cross-checks
assert BACKEND in ("torch", "tensorflow"), BACKEND
torch.set_num_threads(1)
keras.config.set_floatx("float64")
keras.config.set_dtype_policy("float64")

STD_MEAN, STD_STD = 0.1307, 0.3081


# ----------------------------------------------------------------------------------------------
# Case definitions: each returns (build(), input_shape, batch, annotations, note)
# build() must create layers with explicit names (the npz keys use them).
# ----------------------------------------------------------------------------------------------

def seq(name, input_shape, *ls):
    def build():
        i = keras.Input(input_shape, name="input_layer")
        x = i
        for f in ls:
            x = f()(x)
        return keras.Model(i, x, name=f"fx_{name}")
    return build


L = layers
CASES = {}


def case(name, input_shape, batch, annotations, note, *ls, seed_file=None, backend=None):
    CASES[name] = dict(build=seq(name, input_shape, *ls), input_shape=input_shape, batch=batch,
                       annotations=annotations, note=note, seed_file=seed_file, backend=backend)


case("conv2d_valid_bias", (9, 9, 3), 3, [],
     "Conv2D 4 filters 3x3 stride 1 valid with bias: 9x9x3 -> 7x7x4",
     lambda: L.Conv2D(4, 3, name="conv2d"))

case("conv2d_same_stride2", (10, 11, 2), 3, [],
     "Conv2D 3 filters 3x3 stride 2 same: 10x11x2 -> 5x6x3. TF same padding: rows pad 0 top / 1 bottom "
     "(total 1, odd extra at the bottom), cols 1 left / 1 right",
     lambda: L.Conv2D(3, 3, strides=2, padding="same", name="conv2d"))

case("conv2d_same_even_kernel", (7, 7, 2), 3, [],
     "Conv2D 3 filters 4x4 stride 1 same: 7x7x2 -> 7x7x3. TF same padding: 1 top / 2 bottom, 1 left / 2 right",
     lambda: L.Conv2D(3, 4, padding="same", name="conv2d"))

case("conv2d_nonsquare", (8, 7, 2), 3, ["layer conv2d_1: kernel=1x4 stride=1 padding=valid   # 2x2 stride 1x2 same fits too"],
     "Conv2D 3 filters 4x1 valid then Conv2D 4 filters 1x4 valid: 8x7x2 -> 5x7x3 -> 5x4x4",
     lambda: L.Conv2D(3, (4, 1), name="conv2d"),
     lambda: L.Conv2D(4, (1, 4), name="conv2d_1"))

case("conv2d_activations", (8, 8, 2), 3,
     ["layer conv2d: activation=relu", "layer conv2d_1: activation=tanh", "layer conv2d_2: activation=sigmoid"],
     "Conv2D activations: 3x3 relu, 3x3 tanh, 1x1 sigmoid",
     lambda: L.Conv2D(4, 3, activation="relu", name="conv2d"),
     lambda: L.Conv2D(3, 3, activation="tanh", name="conv2d_1"),
     lambda: L.Conv2D(2, 1, activation="sigmoid", name="conv2d_2"))

case("separable_conv2d", (8, 8, 3), 3, [],
     "SeparableConv2D 5 filters 3x3 valid, depth multiplier 1, bias: 8x8x3 -> 6x6x5",
     lambda: L.SeparableConv2D(5, 3, name="separable_conv2d"))

case("depthwise_conv2d", (7, 7, 3), 3, [],
     "DepthwiseConv2D 3x3 valid, depth multiplier 2, bias: 7x7x3 -> 5x5x6 (output channel c*2+m)",
     lambda: L.DepthwiseConv2D(3, depth_multiplier=2, name="depthwise_conv2d"))

case("batchnorm_conv", (6, 6, 3), 4, [],
     "Conv2D 4 filters 3x3 no bias, then BatchNormalization (eps 1e-3, momentum 0.99)",
     lambda: L.Conv2D(4, 3, use_bias=False, name="conv2d"),
     lambda: L.BatchNormalization(name="batch_normalization"))

case("batchnorm_dense", (2, 3, 2), 4, [],
     "Flatten, Dense 5 with bias, BatchNormalization over features",
     lambda: L.Flatten(name="flatten"),
     lambda: L.Dense(5, name="dense"),
     lambda: L.BatchNormalization(name="batch_normalization"))

case("maxpool", (7, 6, 3), 3, [],
     "MaxPooling2D 2x2 stride 2 valid on odd height: 7x6x3 -> 3x3x3 (last row dropped)",
     lambda: L.MaxPooling2D(2, name="max_pooling2d"))

case("maxpool_same", (7, 6, 3), 3, ["layer max_pooling2d: pool=3x3 stride=2 padding=same"],
     "MaxPooling2D 3x3 stride 2 same: 7x6x3 -> 4x3x3 (pads 1/1 rows, 0/1 cols; pads never win)",
     lambda: L.MaxPooling2D(3, strides=2, padding="same", name="max_pooling2d"))

case("avgpool", (7, 6, 3), 3, [],
     "AveragePooling2D 2x2 stride 2 valid: 7x6x3 -> 3x3x3",
     lambda: L.AveragePooling2D(2, name="average_pooling2d"))

case("avgpool_same", (7, 6, 3), 3, ["layer average_pooling2d: pool=3x3 stride=2 padding=same"],
     "AveragePooling2D 3x3 stride 2 same: 7x6x3 -> 4x3x3; divides by the number of NON-padding cells",
     lambda: L.AveragePooling2D(3, strides=2, padding="same", name="average_pooling2d"),
     )   # NB: Keras' torch backend edge-replicates asymmetric pool padding (wrong for averages)

case("global_avg_pool", (5, 4, 3), 3, [],
     "GlobalAveragePooling2D: 5x4x3 -> 3",
     lambda: L.GlobalAveragePooling2D(name="global_average_pooling2d"))

case("global_max_pool", (5, 4, 3), 3, [],
     "GlobalMaxPooling2D: 5x4x3 -> 3",
     lambda: L.GlobalMaxPooling2D(name="global_max_pooling2d"))

case("zero_padding_asym", (5, 5, 2), 3, ["layer zero_padding2d: pad=1,2,3,0   # top,bottom,left,right"],
     "ZeroPadding2D ((1,2),(3,0)) then Conv2D 2 filters 3x3 valid: 5x5x2 -> 8x8x2 -> 6x6x2",
     lambda: L.ZeroPadding2D(((1, 2), (3, 0)), name="zero_padding2d"),
     lambda: L.Conv2D(2, 3, name="conv2d"))

case("act_relu", (4, 5, 3), 3, [], "Activation('relu') on the input",
     lambda: L.Activation("relu", name="activation"))

case("act_leaky_relu_default", (4, 5, 3), 3, [],
     "LeakyReLU layer with the default slope (Keras 3 negative_slope=0.3 = Keras 2 alpha 0.3); no annotation",
     lambda: L.LeakyReLU(name="leaky_re_lu"))

case("act_leaky_relu_0_1", (4, 5, 3), 3, ["layer leaky_re_lu: alpha=0.1"],
     "LeakyReLU(negative_slope=0.1)",
     lambda: L.LeakyReLU(negative_slope=0.1, name="leaky_re_lu"))

case("act_sigmoid", (4, 5, 3), 3, [], "Activation('sigmoid') on the input",
     lambda: L.Activation("sigmoid", name="activation"))

case("act_tanh", (4, 5, 3), 3, [], "Activation('tanh') on the input",
     lambda: L.Activation("tanh", name="activation"))

case("act_softmax", (3, 4, 2), 3, [],
     "Flatten, Dense 6, Activation('softmax') (standalone, mid-network), Dense 3",
     lambda: L.Flatten(name="flatten"),
     lambda: L.Dense(6, name="dense"),
     lambda: L.Activation("softmax", name="activation"),
     lambda: L.Dense(3, name="dense_1"))

case("dense_activations", (2, 3, 2), 3,
     ["layer dense: activation=relu", "layer dense_1: activation=sigmoid", "layer dense_2: activation=tanh",
      "layer dense_3: activation=softmax", "layer dense_4: activation=linear"],
     "Activations inside Dense: relu, sigmoid, tanh, softmax (mid-network), linear",
     lambda: L.Flatten(name="flatten"),
     lambda: L.Dense(8, activation="relu", name="dense"),
     lambda: L.Dense(7, activation="sigmoid", name="dense_1"),
     lambda: L.Dense(6, activation="tanh", name="dense_2"),
     lambda: L.Dense(5, activation="softmax", name="dense_3"),
     lambda: L.Dense(4, name="dense_4"))

case("dense_leaky_relu", (2, 3, 2), 3, ["layer dense: activation=leaky_relu alpha=0.2"],
     "Dense(6, activation='leaky_relu'): the *function* keras.activations.leaky_relu has slope 0.2 "
     "(the LeakyReLU *layer* defaults to 0.3), then Dense 3",
     lambda: L.Flatten(name="flatten"),
     lambda: L.Dense(6, activation="leaky_relu", name="dense"),
     lambda: L.Dense(3, name="dense_1"))

case("flatten_hwc", (3, 4, 5), 3, [],
     "Flatten of 3x4x5 (HWC order: index (h*4+w)*5+c), Dense 4",
     lambda: L.Flatten(name="flatten"),
     lambda: L.Dense(4, name="dense"))

case("reshape", (4, 6, 2), 3, [],
     "Reshape 4x6x2 -> 6x4x2 (C-order reinterpretation of the HWC buffer), Conv2D 3 filters 3x3 valid",
     lambda: L.Reshape((6, 4, 2), name="reshape"),
     lambda: L.Conv2D(3, 3, name="conv2d"))

case("dense", (2, 3, 2), 3, [],
     "Flatten, Dense 7 with bias, Dense 5 without bias",
     lambda: L.Flatten(name="flatten"),
     lambda: L.Dense(7, name="dense"),
     lambda: L.Dense(5, use_bias=False, name="dense_1"))

case("lambda_standardize", (5, 5, 1), 3,
     [f"layer lambda: standardize mean={STD_MEAN} std={STD_STD}"],
     f"Lambda x -> (x - {STD_MEAN}) / {STD_STD}, then Conv2D 2 filters 3x3",
     lambda: L.Lambda(lambda x: (x - STD_MEAN) / STD_STD, name="lambda"),
     lambda: L.Conv2D(2, 3, name="conv2d"))


# --- the seed networks, with the seed tables' layer names ---------------------------------------

def _seed000():
    return [
        lambda: L.ZeroPadding2D(2, name="zero_padding2d_1"),
        lambda: L.Conv2D(32, 7, use_bias=False, name="conv2d_1"),
        lambda: L.BatchNormalization(name="batch_normalization_1"),
        lambda: L.MaxPooling2D(2, name="max_pooling2d_1"),
        lambda: L.Activation("relu", name="activation_1"),
        lambda: L.Conv2D(64, 5, use_bias=False, name="conv2d_2"),
        lambda: L.BatchNormalization(name="batch_normalization_2"),
        lambda: L.Activation("relu", name="activation_2"),
        lambda: L.Conv2D(128, 3, strides=2, use_bias=False, name="conv2d_3"),
        lambda: L.BatchNormalization(name="batch_normalization_3"),
        lambda: L.MaxPooling2D(2, name="max_pooling2d_2"),
        lambda: L.Activation("relu", name="activation_3"),
        lambda: L.Flatten(name="flatten_1"),
        lambda: L.Dense(512, activation="relu", name="dense_1"),
        lambda: L.Dropout(0.0, name="dropout_1"),
        lambda: L.Dense(10, name="dense_2"),          # softmax in the seed; logits here
    ]


case("seed000_kmnist_cnn", (28, 28, 1), 4,
     ["model: name=fx_seed000_kmnist_cnn",
      "layer dense_1: activation=relu",
      "layer dense_2: activation=softmax",
      "layer dropout_*: rate=0      # fixture only: dropout off so training-mode outputs are deterministic"],
     "Seed 000 KMNIST CNN (table copied from the seed document); Dropout rate pinned to 0",
     *_seed000(), seed_file="000_")


def _seed002():
    ls = [lambda: L.Lambda(lambda x: (x - STD_MEAN) / STD_STD, name="lambda_1")]
    spec = [(32, None), (32, "max_pooling2d_1"), (64, None), (64, "max_pooling2d_2"),
            (128, "max_pooling2d_3"), (64, "max_pooling2d_4")]
    drop = 1
    for k, (f, pool) in enumerate(spec, start=1):
        ls.append(lambda f=f, k=k: L.Conv2D(f, 3, padding="same", name=f"conv2d_{k}"))
        ls.append(lambda k=k: L.BatchNormalization(name=f"batch_normalization_{k}"))
        ls.append(lambda k=k: L.LeakyReLU(negative_slope=0.3, name=f"leaky_re_lu_{k}"))
        if pool:
            ls.append(lambda pool=pool: L.MaxPooling2D(2, name=pool))
            ls.append(lambda d=drop: L.Dropout(0.0, name=f"dropout_{d}"))
            drop += 1
    ls += [
        lambda: L.Flatten(name="flatten_1"),
        lambda: L.BatchNormalization(name="batch_normalization_7"),
        lambda: L.Dropout(0.0, name="dropout_5"),
        lambda: L.Dense(256, name="dense_1"),
        lambda: L.LeakyReLU(negative_slope=0.3, name="leaky_re_lu_7"),
        lambda: L.Dropout(0.0, name="dropout_6"),
        lambda: L.Dense(128, name="dense_2"),
        lambda: L.LeakyReLU(negative_slope=0.3, name="leaky_re_lu_8"),
        lambda: L.Dropout(0.0, name="dropout_7"),
        lambda: L.Dense(10, name="dense_3"),          # softmax in the seed; logits here
    ]
    return ls


case("seed002_mnist_cnn", (28, 28, 1), 4,
     ["model: name=fx_seed002_mnist_cnn",
      "dataset: mnist",
      f"layer lambda_1: standardize mean={STD_MEAN} std={STD_STD}",
      "layer leaky_re_lu_*: alpha=0.3",
      "layer dense_1: activation=linear",
      "layer dense_2: activation=linear",
      "layer dense_3: activation=softmax",
      "layer dropout_*: rate=0      # fixture only: dropout off so training-mode outputs are deterministic"],
     "Seed 002 MNIST CNN (table copied from the seed document); Dropout rate pinned to 0",
     *_seed002(), seed_file="002_")


# --- 1-D and decoder layers (issue 17); appended so that every earlier case keeps its seed -------

case("conv1d_pool", (15, 3), 3, [],
     "Conv1D 4 filters k3 valid with bias: 15x3 -> 13x4; Conv1D 5 filters k4 stride 2 same, no bias: -> 7x5 "
     "(TF same: 1 left, 2 right); MaxPooling1D 2 same: -> 4x5 (the last window holds one step); Flatten "
     "(index l*5+c); Dense 3",
     lambda: L.Conv1D(4, 3, name="conv1d"),
     lambda: L.Conv1D(5, 4, strides=2, padding="same", use_bias=False, name="conv1d_1"),
     lambda: L.MaxPooling1D(2, padding="same", name="max_pooling1d"),
     lambda: L.Flatten(name="flatten"),
     lambda: L.Dense(3, name="dense"))

case("conv1d_dilated_bn", (16, 2), 4,
     ["layer conv1d: dilation=2          # 'same' keeps the length: the table cannot show the dilation",
      "layer average_pooling1d: pool=3 stride=2"],
     "Conv1D 6 filters k3 dilation 2 same, no bias (effective extent 5: 2 left, 2 right), BatchNormalization, "
     "ReLU, AveragePooling1D 3 stride 2 valid: 16 -> 7, GlobalMaxPooling1D",
     lambda: L.Conv1D(6, 3, dilation_rate=2, padding="same", use_bias=False, name="conv1d"),
     lambda: L.BatchNormalization(name="batch_normalization"),
     lambda: L.Activation("relu", name="activation"),
     lambda: L.AveragePooling1D(3, strides=2, name="average_pooling1d"),
     lambda: L.GlobalMaxPooling1D(name="global_max_pooling1d"))

case("conv1d_gap", (12, 2), 3, [],
     "Conv1D 20 filters k5 same relu, then Conv1D 3 filters k1 (SIMD16 + tail channels), MaxPooling1D 2, "
     "GlobalAveragePooling1D, Dense 3",
     lambda: L.Conv1D(20, 5, padding="same", activation="relu", name="conv1d"),
     lambda: L.Conv1D(3, 1, name="conv1d_1"),
     lambda: L.MaxPooling1D(2, name="max_pooling1d"),
     lambda: L.GlobalAveragePooling1D(name="global_average_pooling1d"),
     lambda: L.Dense(3, name="dense"))

case("upsampling2d", (3, 4, 2), 3, [],
     "UpSampling2D size (2, 3), nearest: 3x4x2 -> 6x12x2; Conv2D 3 filters 3x3 valid: -> 4x10x3",
     lambda: L.UpSampling2D((2, 3), name="up_sampling2d"),
     lambda: L.Conv2D(3, 3, name="conv2d"))

case("conv2d_transpose", (4, 5, 3), 3, [],
     "Conv2DTranspose 4 filters 5x5 stride 2 same (TF: output 2n, 1 row cut before, 2 after): 4x5x3 -> 8x10x4; "
     "Conv2DTranspose 2 filters 2x3 strides (3, 1) valid, no bias (rows: kernel 2 < stride 3, so every third "
     "row gets nothing): -> 24x12x2; Conv2DTranspose 2 filters 2x2 stride 1 same, tanh (0 before, 1 after): -> 24x12x2",
     lambda: L.Conv2DTranspose(4, 5, strides=2, padding="same", name="conv2d_transpose"),
     lambda: L.Conv2DTranspose(2, (2, 3), strides=(3, 1), use_bias=False, name="conv2d_transpose_1"),
     lambda: L.Conv2DTranspose(2, 2, padding="same", activation="tanh", name="conv2d_transpose_2"))


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------

def build(spec_build, floatx):
    keras.config.set_floatx(floatx)
    keras.config.set_dtype_policy(floatx)
    try:
        return spec_build()
    finally:
        keras.config.set_floatx("float64")      # every computation in this script runs in float64
        keras.config.set_dtype_policy("float64")


def summary_text(model):
    out = []
    model.summary(print_fn=lambda s, line_break=True: out.append(s))
    return "".join(out).rstrip("\n") + "\n"


def key_name(layer, var):
    """Keras weight-file key. Keras 3 names a DepthwiseConv2D kernel 'kernel'; the interchange
    format uses the Keras 2 name 'depthwise_kernel' (see README)."""
    n = var.name
    if isinstance(layer, layers.MultiHeadAttention):     # mha/query/kernel, ..., mha/attention_output/bias
        return var.path
    if isinstance(layer, layers.DepthwiseConv2D) and n == "kernel":
        n = "depthwise_kernel"
    return f"{layer.name}/{n}"


def named_vars(model):
    out = []
    for layer in model.layers:
        for v in layer.weights:
            out.append((key_name(layer, v), v))
    return out


def random_weights(model, rng):
    w = {}
    for k, v in named_vars(model):
        shape = tuple(v.shape)
        role = k.split("/")[-1]
        if role in ("kernel", "depthwise_kernel", "pointwise_kernel"):
            fan_in = int(np.prod(shape[:-1])) if role != "depthwise_kernel" else int(np.prod(shape[:2]))
            a = np.sqrt(3.0 / max(fan_in, 1))        # unit-variance-preserving uniform
            val = rng.uniform(-a, a, shape)
        elif role == "bias":
            val = rng.uniform(-0.3, 0.3, shape)
        elif role == "gamma":
            val = rng.uniform(0.5, 1.5, shape)
        elif role == "beta":
            val = rng.uniform(-0.5, 0.5, shape)
        elif role == "moving_mean":
            val = rng.uniform(-0.3, 0.3, shape)
        elif role == "moving_variance":
            val = rng.uniform(0.5, 2.0, shape)
        else:
            raise ValueError(k)
        w[k] = val.astype(np.float32)
    return w


def load_weights(model, w):
    for k, v in named_vars(model):
        v.assign(w[k].astype(v.dtype))


def to64(a):
    return ops.convert_to_tensor(np.asarray(a, dtype=np.float64))


def f32(t):
    if t is None:
        return None
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu().numpy()
    return np.asarray(t).astype(np.float32)


def f64(t):
    if t is None:
        return None
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu().numpy()
    return np.asarray(t).astype(np.float64)


def value_and_grads(fn, x, variables):
    """fn(x_tensor) -> (scalar loss, aux). Returns (loss, aux, [dL/dx, dL/dvar...]) as float32 numpy."""
    if BACKEND == "torch":
        xt = torch.tensor(np.asarray(x, np.float64), requires_grad=True)
        loss, aux = fn(xt)
        grads = torch.autograd.grad(loss, [xt] + [v.value for v in variables], allow_unused=True)
    else:
        import tensorflow as tf
        xt = tf.constant(np.asarray(x, np.float64))
        with tf.GradientTape() as tape:
            tape.watch(xt)
            loss, aux = fn(xt)
        grads = tape.gradient(loss, [xt] + [v.value for v in variables])
    return float(np.asarray(f64(loss))), aux, [f64(g) for g in grads]


def annotation_block(annotations):
    lines = ["```modelc", "input: scale=1 offset=0      # fixture inputs are fed raw (already scaled floats)"]
    lines += annotations
    lines.append("```")
    return "\n".join(lines) + "\n"


def find_seed(prefix):
    for f in sorted(os.listdir(SEEDS)):
        if f.startswith(prefix):
            with open(os.path.join(SEEDS, f)) as fh:
                return fh.read()
    raise FileNotFoundError(prefix)


# ----------------------------------------------------------------------------------------------
# One case
# ----------------------------------------------------------------------------------------------

def make_case(name, spec, seed, write=True):
    rng = np.random.default_rng(seed)
    d = os.path.join(HERE, name)
    if write:
        os.makedirs(d, exist_ok=True)

    m32 = build(spec["build"], "float32")
    m64 = build(spec["build"], "float64")

    # model.md
    if spec["seed_file"]:
        table = find_seed(spec["seed_file"]).rstrip("\n") + "\n"
        header = (f"<!-- fixture {name}: the seed document verbatim, then annotations. {spec['note']} -->\n\n")
    else:
        table = "```\n" + summary_text(m32) + "```\n"
        header = f"# Fixture `{name}`\n\n{spec['note']}.\n\nKeras 3 `model.summary()`:\n\n"
    anns = list(spec["annotations"])
    if not any(a.startswith("model:") for a in anns):
        anns.insert(0, f"model: name=fx_{name}")
    # State every Conv/Dense activation explicitly: the table cannot show it, and modelc's
    # defaults (relu for a conv with no activation layer after it, softmax for a final Dense)
    # are guesses for real models, not what these fixtures compute.
    for layer in m32.layers:
        if isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv2DTranspose, layers.SeparableConv2D,
                              layers.DepthwiseConv2D, layers.Dense)):
            if not any(a.startswith(f"layer {layer.name}:") and "activation=" in a for a in anns):
                act = layer.activation.__name__
                anns.append(f"layer {layer.name}: activation={act}")
        if type(layer) is layers.Activation:      # the table shows "(Activation)", never the function
            if not any(a.startswith(f"layer {layer.name}:") for a in anns):
                anns.append(f"layer {layer.name}: activation={layer.activation.__name__}")
    if write:
        with open(os.path.join(d, "model.md"), "w") as fh:
            fh.write(header + table + "\n" + annotation_block(anns))

    # weights
    w = random_weights(m64, rng)
    load_weights(m64, w)
    if write:
        np.savez(os.path.join(d, "weights.npz"), **w)

    # io
    n = spec["batch"]
    x = rng.uniform(-1.0, 1.0, (n,) + tuple(spec["input_shape"])).astype(np.float32)
    if spec["seed_file"]:
        x = rng.uniform(0.0, 1.0, x.shape).astype(np.float32)     # pixel-like inputs in [0, 1]
    up = rng.standard_normal((n,) + tuple(m64.output_shape[1:])).astype(np.float32)
    io = {"input": x}
    io["output_inference"] = f32(m64(to64(x), training=False))

    tv = [(key_name(layer, v), v) for layer in m64.layers for v in layer.trainable_weights]

    def objective(xt):
        y = m64(xt, training=True)
        return ops.sum(y * to64(up)), y

    _, y, grads = value_and_grads(objective, x, [v for _, v in tv])
    if write:
        assert "float64" in str(y.dtype), (name, y.dtype)
    io["output_training"] = f32(y)
    io["upstream"] = up
    io["grad_input"] = f32(grads[0])
    for (k, v), g in zip(tv, grads[1:]):
        if g is None or np.max(np.abs(g)) < 1e-10:     # structurally zero (a bias feeding BatchNorm):
            g = np.zeros(tuple(v.shape))               # store exact zeros, not float64 round-off
        io["grad/" + k] = f32(g)
    for k, v in named_vars(m64):
        if k.endswith("/moving_mean") or k.endswith("/moving_variance"):
            io["moving_after/" + k] = f32(v.value)
    if write:
        np.savez(os.path.join(d, "io.npz"), **io)
    return w, io


# ----------------------------------------------------------------------------------------------
# Optimizer steps
# ----------------------------------------------------------------------------------------------

OPTIMIZERS = {
    # name: (factory, l2)
    "sgd": (lambda: keras.optimizers.SGD(learning_rate=0.1), 0.0),
    "momentum": (lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9), 0.0),
    "nesterov": (lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True), 0.0),
    "adam": (lambda: keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7), 0.0),
    "adamw": (lambda: keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.004, beta_1=0.9,
                                             beta_2=0.999, epsilon=1e-7), 0.0),
    "rmsprop": (lambda: keras.optimizers.RMSprop(learning_rate=1e-3, rho=0.9, momentum=0.0, epsilon=1e-7), 0.0),
    "adadelta": (lambda: keras.optimizers.Adadelta(learning_rate=1.0, rho=0.95, epsilon=1e-7), 0.0),
    "sgd_l2": (lambda: keras.optimizers.SGD(learning_rate=0.1), 0.0005),
}


def opt_model_builder(l2):
    reg = keras.regularizers.L2(l2) if l2 else None

    def b():
        i = keras.Input((6, 6, 1), name="input_layer")
        x = L.Conv2D(3, 3, activation="relu", kernel_regularizer=reg, name="conv2d")(i)
        x = L.Flatten(name="flatten")(x)
        x = L.Dense(4, kernel_regularizer=reg, name="dense")(x)      # softmax folded into the loss
        return keras.Model(i, x, name="fx_optimizer_steps")
    return b


def make_optimizer_steps(write=True):
    d = os.path.join(HERE, "optimizer_steps")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(1234)
    m32 = build(opt_model_builder(0.0), "float32")
    m64 = build(opt_model_builder(0.0), "float64")
    w0 = random_weights(m64, rng)
    if write:
        np.savez(os.path.join(d, "weights.npz"), **w0)
    n = 4
    data = {}
    for s in (1, 2):
        data[f"input_{s}"] = rng.uniform(-1, 1, (n, 6, 6, 1)).astype(np.float32)
        data[f"labels_{s}"] = rng.integers(0, 4, n).astype(np.int64)
    with open(os.path.join(d, "model.md") if write else os.devnull, "w") as fh:
        fh.write("# Fixture `optimizer_steps`\n\nConv2D 3x3 relu, Flatten, Dense 4 (softmax cross-entropy on "
                 "the logits). Keras 3 `model.summary()`:\n\n```\n" + summary_text(m32) + "```\n\n" +
                 annotation_block(["model: name=fx_optimizer_steps", "layer conv2d: activation=relu",
                                   "layer dense: activation=softmax",
                                   "train: optimizer=sgd lr=0.1 batch=4 loss=crossentropy"]))
    out = dict(data)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for oname, (factory, l2) in OPTIMIZERS.items():
        m = build(opt_model_builder(l2), "float64")
        load_weights(m, w0)
        keras.config.set_floatx("float64")
        opt = factory()
        opt.build(m.trainable_variables)
        for s in (1, 2):
            vs = m.trainable_variables

            def objective(xt, s=s):
                logits = m(xt, training=True)
                loss = ce(ops.convert_to_tensor(data[f"labels_{s}"]), logits)
                if m.losses:
                    loss = loss + ops.sum(ops.stack(m.losses))
                return loss, None

            loss, _, gs = value_and_grads(objective, data[f"input_{s}"], vs)
            opt.apply_gradients(zip([to64(g) for g in gs[1:]], vs))
            out[f"{oname}/loss_{s}"] = np.array([loss], np.float32)
            for layer in m.layers:
                for v in layer.trainable_weights:
                    out[f"{oname}/step{s}/{key_name(layer, v)}"] = f32(v.value)
    if write:
        np.savez(os.path.join(d, "steps.npz"), **out)

    # PyTorch MultiMarginLoss (p=1, margin=1, mean reduction)
    logits = rng.standard_normal((5, 10)).astype(np.float32) * 1.5
    labels = rng.integers(0, 10, 5).astype(np.int64)
    lt = torch.tensor(logits.astype(np.float64), requires_grad=True)
    lv = torch.nn.MultiMarginLoss()(lt, torch.tensor(labels))
    (g,) = torch.autograd.grad(lv, [lt])
    if write:
        np.savez(os.path.join(d, "margin_loss.npz"), logits=logits, labels=labels,
                 loss=np.array([lv.item()], np.float32), grad_logits=f32(g))
    return w0, out


# ----------------------------------------------------------------------------------------------
# Sanity checks against plain numpy (not exhaustive; the fixtures are Keras' word)
# ----------------------------------------------------------------------------------------------

def np_conv_same(x, k, b, stride):
    n, h, wd, c = x.shape
    kh, kw, _, f = k.shape
    oh, ow = -(-h // stride), -(-wd // stride)
    ph = max((oh - 1) * stride + kh - h, 0)
    pw = max((ow - 1) * stride + kw - wd, 0)
    xp = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    y = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
            y[:, i, j, :] = np.tensordot(patch, k, axes=([1, 2, 3], [0, 1, 2]))
    return y + (b if b is not None else 0)


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def sanity(results):
    msgs = []
    w, io = results["conv2d_same_stride2"]
    y = np_conv_same(io["input"].astype(np.float64), w["conv2d/kernel"], w["conv2d/bias"], 2)
    msgs.append(("conv2d_same_stride2 forward vs numpy", rel(y, io["output_inference"])))
    # grad wrt bias = sum of upstream over N,H,W
    msgs.append(("conv2d_same_stride2 grad bias", rel(io["upstream"].sum((0, 1, 2)), io["grad/conv2d/bias"])))
    w, io = results["conv2d_same_even_kernel"]
    y = np_conv_same(io["input"].astype(np.float64), w["conv2d/kernel"], w["conv2d/bias"], 1)
    msgs.append(("conv2d_same_even_kernel forward vs numpy", rel(y, io["output_inference"])))
    # batchnorm_conv: training forward + moving stats
    w, io = results["batchnorm_conv"]
    x = io["input"].astype(np.float64)
    k = w["conv2d/kernel"].astype(np.float64)
    n, h, wd, c = x.shape
    zz = np.zeros((n, h - 2, wd - 2, k.shape[3]))
    for i in range(h - 2):
        for j in range(wd - 2):
            zz[:, i, j, :] = np.tensordot(x[:, i:i + 3, j:j + 3, :], k, axes=([1, 2, 3], [0, 1, 2]))
    mu, var = zz.mean((0, 1, 2)), zz.var((0, 1, 2))
    g, bt = w["batch_normalization/gamma"], w["batch_normalization/beta"]
    yt = (zz - mu) / np.sqrt(var + 1e-3) * g + bt
    msgs.append(("batchnorm_conv training forward", rel(yt, io["output_training"])))
    mm = 0.99 * w["batch_normalization/moving_mean"] + 0.01 * mu
    mv = 0.99 * w["batch_normalization/moving_variance"] + 0.01 * var
    msgs.append(("batchnorm_conv moving_mean", rel(mm, io["moving_after/batch_normalization/moving_mean"])))
    msgs.append(("batchnorm_conv moving_variance (population var)",
                 rel(mv, io["moving_after/batch_normalization/moving_variance"])))
    yi = (zz - w["batch_normalization/moving_mean"]) / np.sqrt(w["batch_normalization/moving_variance"] + 1e-3) * g + bt
    msgs.append(("batchnorm_conv inference forward", rel(yi, io["output_inference"])))
    # flatten HWC
    w, io = results["flatten_hwc"]
    y = io["input"].reshape(io["input"].shape[0], -1).astype(np.float64) @ w["dense/kernel"] + w["dense/bias"]
    msgs.append(("flatten_hwc (C-order NHWC reshape)", rel(y, io["output_inference"])))
    # leaky default 0.3
    w, io = results["act_leaky_relu_default"]
    x = io["input"]
    msgs.append(("leaky_relu default slope 0.3", rel(np.where(x > 0, x, 0.3 * x), io["output_inference"])))
    # Dense(activation='leaky_relu') uses slope 0.2
    w, io = results["dense_leaky_relu"]
    x = io["input"].reshape(io["input"].shape[0], -1).astype(np.float64)
    h = x @ w["dense/kernel"] + w["dense/bias"]
    y = np.where(h > 0, h, 0.2 * h) @ w["dense_1/kernel"] + w["dense_1/bias"]
    msgs.append(("Dense(activation='leaky_relu') slope 0.2", rel(y, io["output_inference"])))
    # avg pool same excludes padding
    w, io = results["avgpool_same"]
    x = io["input"].astype(np.float64)
    xp = np.pad(x, ((0, 0), (1, 1), (0, 1), (0, 0)), constant_values=np.nan)
    y = np.zeros(io["output_inference"].shape)
    for i in range(4):
        for j in range(3):
            y[:, i, j, :] = np.nanmean(xp[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3, :], axis=(1, 2))
    msgs.append(("avgpool_same divides by valid count", rel(y, io["output_inference"])))
    # depthwise channel order c*mult+m
    w, io = results["depthwise_conv2d"]
    x = io["input"].astype(np.float64)
    k = w["depthwise_conv2d/depthwise_kernel"]
    y = np.zeros(io["output_inference"].shape)
    for c in range(3):
        for mlt in range(2):
            for i in range(5):
                for j in range(5):
                    y[:, i, j, c * 2 + mlt] = (x[:, i:i + 3, j:j + 3, c] * k[:, :, c, mlt]).sum((1, 2))
    y += w["depthwise_conv2d/bias"]
    msgs.append(("depthwise channel order c*mult+m", rel(y, io["output_inference"])))
    return msgs


def np_conv1d(x, k, b, stride, pad_left, pad_right, dilation=1):
    xp = np.pad(x, ((0, 0), (pad_left, pad_right), (0, 0)))
    kl, _, f = k.shape
    n_out = (xp.shape[1] - (kl - 1) * dilation - 1) // stride + 1
    y = np.zeros((x.shape[0], n_out, f))
    for i in range(n_out):
        for t in range(kl):
            y[:, i, :] += xp[:, i * stride + t * dilation, :] @ k[t]
    return y + (b if b is not None else 0)


def np_conv_transpose(x, k, b, stride, before, out_shape):
    """k [kh, kw, F, CI]: input pixel (i, j) adds x[i, j] . k[t, u] into output (i*s + t - before)."""
    n, h, w, _ = x.shape
    kh, kw, f, _ = k.shape
    y = np.zeros((n, out_shape[0], out_shape[1], f))
    for i in range(h):
        for j in range(w):
            for t in range(kh):
                for u in range(kw):
                    oi, oj = i * stride[0] + t - before[0], j * stride[1] + u - before[1]
                    if 0 <= oi < out_shape[0] and 0 <= oj < out_shape[1]:
                        y[:, oi, oj, :] += x[:, i, j, :] @ k[t, u].T
    return y + (b if b is not None else 0)


def sanity_issue17(results):
    """numpy references for the 1-D and decoder fixtures, on their inference outputs."""
    msgs = []
    if "conv1d_pool" in results:
        w, io = results["conv1d_pool"]
        x = io["input"].astype(np.float64)
        h = np_conv1d(x, w["conv1d/kernel"], w["conv1d/bias"], 1, 0, 0)
        h = np_conv1d(h, w["conv1d_1/kernel"], None, 2, 1, 2)                       # 13 -> 7, TF same
        h = np.pad(h, ((0, 0), (0, 1), (0, 0)), constant_values=-np.inf)          # pool 2 same: 7 -> 4
        h = np.maximum(h[:, 0::2], h[:, 1::2])
        y = h.reshape(h.shape[0], -1) @ w["dense/kernel"] + w["dense/bias"]
        msgs.append(("conv1d_pool forward vs numpy (same s2 pads 1/2, pool same, l*C+c flatten)",
                     rel(y, io["output_inference"])))
    if "upsampling2d" in results:
        w, io = results["upsampling2d"]
        u = np.repeat(np.repeat(io["input"].astype(np.float64), 2, axis=1), 3, axis=2)
        msgs.append(("upsampling2d = np.repeat (nearest) then conv",
                     rel(np_conv_same(u[:, :, :, :], w["conv2d/kernel"], w["conv2d/bias"], 1)[:, 1:-1, 1:-1, :],
                         io["output_inference"])))
    if "conv2d_transpose" in results:
        w, io = results["conv2d_transpose"]
        x = io["input"].astype(np.float64)
        h = np_conv_transpose(x, w["conv2d_transpose/kernel"], w["conv2d_transpose/bias"], (2, 2), (1, 1), (8, 10))
        h = np_conv_transpose(h, w["conv2d_transpose_1/kernel"], None, (3, 1), (0, 0), (24, 12))
        h = np.tanh(np_conv_transpose(h, w["conv2d_transpose_2/kernel"], w["conv2d_transpose_2/bias"], (1, 1), (0, 0), (24, 12)))
        msgs.append(("conv2d_transpose forward vs numpy scatter (TF same crops max(k-s,0)//2 before)",
                     rel(h, io["output_inference"])))
    return msgs


def sanity_optim(w0, out):
    msgs = []
    # SGD: w1 = w0 - 0.1 g ; Adam first step: w1 = w0 - lr * m/(sqrt(v)+eps) * sqrt(1-b2)/(1-b1)
    g = (w0["dense/kernel"] - out["sgd/step1/dense/kernel"]) / 0.1
    m = 0.1 * g
    v = 0.001 * g * g
    alpha = 1e-3 * np.sqrt(1 - 0.999) / (1 - 0.9)
    adam = w0["dense/kernel"] - m * alpha / (np.sqrt(v) + 1e-7)
    msgs.append(("adam step1 from sgd-derived gradient", rel(adam, out["adam/step1/dense/kernel"])))
    nest = w0["dense/kernel"] - 1.9 * 0.1 * g
    msgs.append(("nesterov step1 = w - (1+mom)*lr*g", rel(nest, out["nesterov/step1/dense/kernel"])))
    l2 = w0["dense/kernel"] - 0.1 * (g + 2 * 0.0005 * w0["dense/kernel"])
    msgs.append(("sgd_l2 step1 = w - lr*(g + 2*wd*w)", rel(l2, out["sgd_l2/step1/dense/kernel"])))
    aw = w0["dense/bias"] * (1 - 0.004 * 1e-3)
    gb = (w0["dense/bias"] - out["sgd/step1/dense/bias"]) / 0.1
    aw = aw - 0.1 * gb * alpha / (np.sqrt(0.001 * gb * gb) + 1e-7)
    msgs.append(("adamw step1 bias (decays biases too)", rel(aw, out["adamw/step1/dense/bias"])))
    # two-step checks on dense/kernel, using gradients recovered from the plain SGD path:
    # g1 from step 1; g2 at the momentum path's own step-1 weights is unknown, so only
    # optimizers whose step-1 weights equal SGD's (momentum) can reuse sgd's step-2 gradient.
    w1 = out["sgd/step1/dense/kernel"]
    g2 = (w1 - out["sgd/step2/dense/kernel"]) / 0.1
    v = -0.1 * g
    v = 0.9 * v - 0.1 * g2
    msgs.append(("momentum step2 = w1 + (0.9*v1 - lr*g2)", rel(w1 + v, out["momentum/step2/dense/kernel"])))
    a = 0.1 * g * g
    rms = w0["dense/kernel"] - 1e-3 * g / np.sqrt(a + 1e-7)
    msgs.append(("rmsprop step1 = w - lr*g/sqrt(a+eps) (eps inside sqrt)", rel(rms, out["rmsprop/step1/dense/kernel"])))
    a = 0.05 * g * g
    delta = np.sqrt(0 + 1e-7) / np.sqrt(a + 1e-7) * g
    msgs.append(("adadelta step1 = w - lr*sqrt(eps)/sqrt(a+eps)*g", rel(w0["dense/kernel"] - 1.0 * delta,
                                                                      out["adadelta/step1/dense/kernel"])))
    return msgs


def load_case(name):
    d = os.path.join(HERE, name)
    return dict(np.load(os.path.join(d, "weights.npz"))), dict(np.load(os.path.join(d, "io.npz")))


def compare(name, new, old_path):
    old = dict(np.load(old_path))
    worst = 0.0
    missing = sorted(set(old) ^ set(new))
    for k in old:
        if k in new:
            a, b = np.asarray(new[k], np.float64), np.asarray(old[k], np.float64)
            worst = max(worst, rel(a, b) if np.any(b != 0) else float(np.max(np.abs(a), initial=0.0)))
    status = "agree" if worst < 1e-5 and not missing else "DIFFER"
    print(f"cross-check {status}: {name} ({os.path.basename(old_path)}): max rel diff {worst:.2e}"
          + (f", key mismatch {missing}" if missing else ""), flush=True)


def check_with_modelc(binary):
    """Compare what `modelc check --json` infers for every fixture model with the Keras layers.
    Development aid only (the Swift tests own this); prints one line per disagreement."""
    import json
    import subprocess
    bad = 0
    for name, spec in CASES.items():
        path = os.path.join(HERE, name, "model.md")
        p = subprocess.run([binary, "check", "--json", path], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"modelc check FAILED on {name}: {p.stderr.strip()[:300]}")
            bad += 1
            continue
        inferred = {ly["name"]: ly.get("inferred", {}) for ly in json.loads(p.stdout)["layers"]}
        model = build(spec["build"], "float32")
        for layer in model.layers:
            cfg = layer.get_config()
            got = inferred.get(layer.name)
            if got is None:
                if not isinstance(layer, layers.InputLayer):
                    print(f"{name}: layer {layer.name} missing from modelc's IR"); bad += 1
                continue
            want = {}
            if isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv2DTranspose, layers.SeparableConv2D,
                                  layers.DepthwiseConv2D)):
                want = dict(kernel=list(cfg["kernel_size"]), strides=list(cfg["strides"]), padding=cfg["padding"],
                            use_bias=cfg["use_bias"], activation=cfg["activation"])
                if "dilation_rate" in cfg:
                    want["dilation_rate"] = list(cfg["dilation_rate"])
            elif isinstance(layer, (layers.MaxPooling1D, layers.AveragePooling1D, layers.MaxPooling2D,
                                    layers.AveragePooling2D)):
                want = dict(pool_size=list(cfg["pool_size"]), strides=list(cfg["strides"]), padding=cfg["padding"])
            elif isinstance(layer, layers.Dense):
                want = dict(use_bias=cfg["use_bias"], activation=cfg["activation"])
            elif isinstance(layer, layers.ZeroPadding2D):
                want = dict(padding=[list(x) for x in cfg["padding"]])
            elif isinstance(layer, layers.UpSampling2D):
                want = dict(size=list(cfg["size"]))
            elif type(layer) is layers.Activation:
                want = dict(activation=cfg["activation"])
            if isinstance(layer, layers.DepthwiseConv2D):
                want["depth_multiplier"] = cfg["depth_multiplier"]
            for k, v in want.items():
                if k in got and got[k] != v and not (k == "activation" and spec["seed_file"] and v == "linear"
                                                     and got[k] == "softmax"):
                    print(f"{name}: {layer.name}.{k}: modelc infers {got[k]!r}, Keras has {v!r}"); bad += 1
    print(f"modelc check comparison: {bad} disagreement(s)")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--modelc":
        check_with_modelc(sys.argv[2])
        return
    """torch backend: writes every case except TF-only ones, and optimizer_steps.
    tensorflow backend: writes the TF-only cases and cross-checks every stored fixture."""
    names = sys.argv[1:] or list(CASES)
    for i, name in enumerate(CASES):
        if name not in names:
            continue
        spec = CASES[name]
        write = BACKEND == WRITER
        w, io = make_case(name, spec, 1000 + i, write=write)
        if write:
            print(f"wrote {name} ({BACKEND})", flush=True)
        elif os.path.exists(os.path.join(HERE, name, "io.npz")):
            compare(name, io, os.path.join(HERE, name, "io.npz"))
        else:
            print(f"skipped {name}: no stored fixture yet", flush=True)
    if sys.argv[1:]:
        present = [n for n in names if os.path.exists(os.path.join(HERE, n, "io.npz"))]
        for label, r in sanity_issue17({n: load_case(n) for n in present}):
            print(f"sanity {'ok' if r < 1e-5 else 'MISMATCH'}: {label}: max rel diff {r:.2e}")
        return
    w0, out = make_optimizer_steps(write=(BACKEND == WRITER))
    if BACKEND == WRITER:
        print("wrote optimizer_steps", flush=True)
    else:
        compare("optimizer_steps", out, os.path.join(HERE, "optimizer_steps", "steps.npz"))
    if not all(os.path.exists(os.path.join(HERE, name, "io.npz")) for name in CASES):
        print("sanity checks skipped: run with the other backend first")
        return
    results = {name: load_case(name) for name in CASES}
    for label, r in sanity(results) + sanity_optim(w0, out) + sanity_issue17(results):
        status = "ok" if r < 1e-5 else "MISMATCH"
        print(f"sanity {status}: {label}: max rel diff {r:.2e}")


if __name__ == "__main__":
    main()

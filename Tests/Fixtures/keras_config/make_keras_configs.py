#!/usr/bin/env python3
"""Make the Keras model-config fixtures in Tests/Fixtures/keras_config/ (see README.md there).

Run once by hand (CI never runs it), with Keras 3:

    nice -n 19 ~/.cache/modelc-peers/venv/bin/python Tests/Fixtures/keras_config/make_keras_configs.py

Writes, for every network below, NAME.config.json: the config.json of the `.keras` file
Keras 3 saves for it (the seed networks' whole `.keras` files are large because of their
weights, so only the architecture is committed). Also writes:
  tiny_mlp.keras             a whole `.keras` file (config.json, metadata.json, model.weights.h5)
  tiny_cnn_noweights.keras   a stored-entry zip the script builds from config.json and metadata.json
  keras2_*.json              Keras 2 `model_config` strings (the root attribute of a Keras 2 `.h5`),
                             written by hand in the Keras 2.x format (dict and old list forms)
  expected.json              for every network Keras builds: each layer's name, class, output
                             shape (without the batch) and parameter count, and the totals,
                             as Keras itself computes them
"""
import json
import os
import sys
import tempfile
import zipfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
from keras import layers as L  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def seq(name, inp, inp_name, body):
    """A Sequential model with an explicit Input (named as the summary table's input)."""
    m = keras.Sequential(name=name)
    m.add(keras.Input(shape=inp, name=inp_name))
    for layer in body:
        m.add(layer)
    return m


def functional(name, inp, inp_name, body):
    x = i = keras.Input(shape=inp, name=inp_name)
    for layer in body:
        x = layer(x)
    return keras.Model(i, x, name=name)


def bn(n):
    return L.BatchNormalization(name=n, momentum=0.99, epsilon=0.001)


def seed000():
    return functional("seed000_kmnist_cnn", (28, 28, 1), "input_1", [
        L.ZeroPadding2D(2, name="zero_padding2d_1"),
        L.Conv2D(32, 7, use_bias=False, name="conv2d_1"), bn("batch_normalization_1"),
        L.MaxPooling2D(2, name="max_pooling2d_1"), L.Activation("relu", name="activation_1"),
        L.Conv2D(64, 5, use_bias=False, name="conv2d_2"), bn("batch_normalization_2"),
        L.Activation("relu", name="activation_2"),
        L.Conv2D(128, 3, strides=2, use_bias=False, name="conv2d_3"), bn("batch_normalization_3"),
        L.MaxPooling2D(2, name="max_pooling2d_2"), L.Activation("relu", name="activation_3"),
        L.Flatten(name="flatten_1"), L.Dense(512, activation="relu", name="dense_1"),
        L.Dropout(0.5, name="dropout_1"), L.Dense(10, activation="softmax", name="dense_2"),
    ])


def seed001(name, units, act):
    body = [L.Flatten(name="flatten_1")]
    body += [L.Dense(u, activation=act, name=f"dense_{k + 1}") for k, u in enumerate(units)]
    body.append(L.Dense(10, activation="softmax", name=f"dense_{len(units) + 1}"))
    return functional(name, (28, 28, 1), "input_1", body)


def seed002(with_lambda):
    body = [L.Lambda(lambda x: (x - 0.1307) / 0.3081, name="lambda_1")] if with_lambda else []
    k = 0

    def block(filters, convs, dropout):
        nonlocal k
        out = []
        for _ in range(convs):
            k += 1
            out += [L.Conv2D(filters, 3, padding="same", name=f"conv2d_{k}"), bn(f"batch_normalization_{k}"),
                    L.LeakyReLU(negative_slope=0.3, name=f"leaky_re_lu_{k}")]
        return out
    body += block(32, 2, 0) + [L.MaxPooling2D(2, name="max_pooling2d_1"), L.Dropout(0.25, name="dropout_1")]
    body += block(64, 2, 0) + [L.MaxPooling2D(2, name="max_pooling2d_2"), L.Dropout(0.25, name="dropout_2")]
    body += block(128, 1, 0) + [L.MaxPooling2D(2, name="max_pooling2d_3"), L.Dropout(0.25, name="dropout_3")]
    body += block(64, 1, 0) + [L.MaxPooling2D(2, name="max_pooling2d_4"), L.Dropout(0.25, name="dropout_4")]
    body += [L.Flatten(name="flatten_1"), bn("batch_normalization_7"), L.Dropout(0.25, name="dropout_5"),
             L.Dense(256, name="dense_1"), L.LeakyReLU(negative_slope=0.3, name="leaky_re_lu_7"),
             L.Dropout(0.5, name="dropout_6"),
             L.Dense(128, name="dense_2"), L.LeakyReLU(negative_slope=0.3, name="leaky_re_lu_8"),
             L.Dropout(0.5, name="dropout_7"), L.Dense(10, activation="softmax", name="dense_3")]
    # The table has no InputLayer row: modelc names the input it adds `input`.
    return seq("seed002_mnist_cnn" + ("" if with_lambda else "_nolambda"), (28, 28, 1), "input", body)


def seed003(k):
    return functional(f"seed003_k{k}", (28, 28, 1), "input_1", [
        L.Conv2D(32, (k, 1), activation="relu", name="conv2d_1"),
        L.Conv2D(32, (1, k), activation="relu", name="conv2d_2"),
        L.MaxPooling2D(2, name="max_pooling2d_1"),
        L.Conv2D(64, (k, 1), activation="relu", name="conv2d_3"),
        L.Conv2D(64, (1, k), activation="relu", name="conv2d_4"),
        L.MaxPooling2D(2, name="max_pooling2d_2"),
        L.Flatten(name="flatten_1"), L.Dense(128, activation="relu", name="dense_1"),
        L.Dropout(0.5, name="dropout_1"), L.Dense(10, name="dense_2"),
    ])


def seed004():
    return seq("seed004_kannada_cnn", (28, 28, 1), "input", [
        L.Conv2D(32, 5, padding="same", activation="relu", name="conv2d_1"), bn("batch_normalization_1"),
        L.Conv2D(32, 5, padding="same", activation="relu", name="conv2d_2"), bn("batch_normalization_2"),
        L.MaxPooling2D(2, name="max_pooling2d_1"), L.Dropout(0.25, name="dropout_1"),
        L.Conv2D(64, 3, padding="same", activation="relu", name="conv2d_3"), bn("batch_normalization_3"),
        L.Conv2D(64, 3, padding="same", activation="relu", name="conv2d_4"), bn("batch_normalization_4"),
        L.MaxPooling2D(2, name="max_pooling2d_2"), L.Dropout(0.25, name="dropout_2"),
        L.Flatten(name="flatten_1"), L.Dense(256, activation="relu", name="dense_1"),
        L.Dropout(0.5, name="dropout_3"), L.Dense(10, activation="softmax", name="dense_2"),
    ])


def cifar10_small_cnn():
    return seq("cifar10_small_cnn", (32, 32, 3), "input", [
        L.Conv2D(32, 3, padding="same", name="conv2d_1"), L.Activation("relu", name="activation_1"),
        L.Conv2D(32, 3, name="conv2d_2"), L.Activation("relu", name="activation_2"),
        L.MaxPooling2D(2, name="max_pooling2d_1"), L.Dropout(0.25, name="dropout_1"),
        L.Conv2D(64, 3, padding="same", name="conv2d_3"), L.Activation("relu", name="activation_3"),
        L.Conv2D(64, 3, name="conv2d_4"), L.Activation("relu", name="activation_4"),
        L.MaxPooling2D(2, name="max_pooling2d_2"), L.Dropout(0.25, name="dropout_2"),
        L.Flatten(name="flatten_1"), L.Dense(512, name="dense_1"), L.Activation("relu", name="activation_5"),
        L.Dropout(0.5, name="dropout_3"), L.Dense(10, name="dense_2"), L.Activation("softmax", name="activation_6"),
    ])


def all_image_layers():
    """Every image layer kind with non-default hyperparameters."""
    return seq("all_image_layers", (20, 18, 3), "in", [
        L.ZeroPadding2D(((1, 2), (0, 3)), name="pad"),
        L.Conv2D(6, (3, 2), strides=(2, 1), padding="same", use_bias=False, activation="tanh", name="conv"),
        L.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False, name="bn_nocenter"),
        L.SeparableConv2D(8, 3, depth_multiplier=2, padding="valid", activation="relu", name="sep"),
        L.DepthwiseConv2D((2, 3), depth_multiplier=3, strides=1, padding="same", use_bias=True, name="dw"),
        L.Conv2D(5, 3, dilation_rate=(2, 1), activation="sigmoid", name="dilated"),
        L.AveragePooling2D(pool_size=(2, 3), strides=(1, 2), padding="same", name="avg"),
        L.ReLU(name="relu"),
        L.Conv2DTranspose(4, 3, strides=2, padding="valid", name="deconv"),
        L.Conv2DTranspose(4, (3, 2), strides=(2, 1), padding="same", activation="relu", name="deconv_same"),
        L.UpSampling2D((2, 1), name="up"),
        L.MaxPooling2D(pool_size=3, strides=2, padding="valid", name="maxpool"),
        L.LeakyReLU(negative_slope=0.1, name="leaky"),
        L.Activation("elu", name="elu"),
        L.BatchNormalization(scale=False, name="bn_noscale"),
        L.GlobalMaxPooling2D(name="gmp"),
        L.Dense(12, use_bias=False, name="dense"),
        L.Reshape((3, 4), name="reshape"),
        L.Flatten(name="flatten"),
        L.Dense(7, activation="softmax", name="head"),
    ])


def all_sequence_layers():
    """The 1-D layers, in a functional chain."""
    return functional("all_sequence_layers", (40, 3), "signal", [
        L.Conv1D(8, 5, strides=1, dilation_rate=2, padding="valid", activation="relu", name="c1"),
        L.MaxPooling1D(pool_size=3, strides=2, padding="same", name="p1"),
        L.Conv1D(6, 3, strides=2, padding="same", use_bias=False, name="c2"),
        L.AveragePooling1D(pool_size=2, name="p2"),
        L.Softmax(name="smax"),
        L.GlobalAveragePooling1D(name="gap1"),
        L.Dropout(0.125, name="drop"),
        L.Dense(4, activation="softmax", name="out"),
    ])


def gap_cnn():
    return seq("gap_cnn", (12, 12, 1), "input_1", [
        L.Conv2D(4, 3, activation="relu", name="c"), L.GlobalAveragePooling2D(name="gap"),
        L.Dense(3, activation="softmax", name="d"),
    ])


def branch():
    i = keras.Input(shape=(8,), name="x")
    a = L.Dense(4, name="a")(i)
    b = L.Dense(4, name="b")(i)
    s = L.Add(name="add")([a, b])
    return keras.Model(i, L.Dense(2, activation="softmax", name="out")(s), name="branch")


def nested():
    inner = keras.Sequential([keras.Input(shape=(8,)), L.Dense(4, name="inner_dense")], name="inner_block")
    i = keras.Input(shape=(8,), name="x")
    return keras.Model(i, L.Dense(2, name="out")(inner(i)), name="nested")


def unsupported():
    return seq("unsupported", (16,), "x", [L.Dense(8, name="d"), L.UnitNormalization(name="un"), L.Dense(2, name="out")])


def tiny_mlp():
    return seq("tiny_mlp", (6,), "input_layer", [L.Dense(4, activation="relu", name="hidden"),
                                                 L.Dense(3, activation="softmax", name="probs")])


def tiny_cnn():
    return seq("tiny_cnn", (8, 8, 1), "input_layer", [L.Conv2D(2, 3, name="conv"), L.Flatten(name="flat"),
                                                      L.Dense(2, activation="softmax", name="probs")])


def mnist_lstm_rows():
    return seq("mnist_lstm_rows", (28, 28), "input", [L.LSTM(128, name="lstm"), L.Dense(10, activation="softmax", name="dense")])


def embedding_birnn():
    """Embedding -> Bidirectional GRU (sequences, ave) -> Bidirectional LSTM (concat) -> SimpleRNN-free head."""
    return functional("embedding_birnn", (12,), "tokens", [
        L.Embedding(100, 8, name="embedding"),
        L.Bidirectional(L.GRU(6, return_sequences=True, name="gru"), merge_mode="ave", name="bidirectional"),
        L.GRU(5, reset_after=False, return_sequences=True, name="gru_1"),
        L.SimpleRNN(4, return_sequences=True, name="simple_rnn"),
        L.Bidirectional(L.LSTM(3, name="lstm"), name="bidirectional_1"),
        L.Dense(2, activation="softmax", name="dense")])


def time_distributed():
    """TimeDistributed around Flatten, Dense and Dropout; a Dense straight on a sequence."""
    return seq("time_distributed", (5, 2, 3), "input", [
        L.TimeDistributed(L.Flatten(), name="time_distributed"),
        L.TimeDistributed(L.Dense(4, activation="tanh"), name="time_distributed_1"),
        L.TimeDistributed(L.Dropout(0.25), name="time_distributed_2"),
        L.LSTM(3, return_sequences=True, name="lstm"),
        L.Dense(2, name="dense"),
        L.GRU(3, name="gru")])



def time_distributed_conv():
    """TimeDistributed around Conv2D, pooling and global pooling on a (steps, H, W, C) input."""
    return seq("time_distributed_conv", (4, 9, 8, 1), "input", [
        L.TimeDistributed(L.Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="relu"), name="td_conv"),
        L.TimeDistributed(L.MaxPooling2D((2, 2), strides=1), name="td_max"),
        L.TimeDistributed(L.AveragePooling2D(2, padding="same"), name="td_avg"),
        L.TimeDistributed(L.Conv2D(3, 1, use_bias=False), name="td_conv_1"),
        L.TimeDistributed(L.GlobalMaxPooling2D(), name="td_gmp"),
        L.LSTM(3, name="lstm")])


def augmentation_layers():
    """Resizing, CenterCrop, the random image layers with non-default arguments, then Rescaling and a small CNN."""
    return seq("augmentation_layers", (24, 20, 3), "image", [
        L.Resizing(30, 26, name="resize"),
        L.CenterCrop(27, 24, name="crop"),
        L.RandomFlip("horizontal", name="flip"),
        L.RandomRotation((-0.05, 0.1), fill_mode="constant", fill_value=12.0, interpolation="nearest", name="rotate"),
        L.RandomZoom(0.2, width_factor=(-0.1, 0.3), fill_mode="wrap", name="zoom"),
        L.RandomTranslation(0.1, (-0.2, 0.05), fill_mode="nearest", name="shift"),
        L.RandomContrast(0.3, name="contrast"),
        L.RandomBrightness((-0.2, 0.1), value_range=(0, 200), name="brightness"),
        L.Rescaling(1 / 255, name="rescaling"),
        L.Conv2D(4, 3, activation="relu", name="conv"),
        L.GlobalAveragePooling2D(name="gap"),
        L.Dense(3, activation="softmax", name="head"),
    ])


KERAS3 = {
    "seed000_kmnist_cnn": seed000,
    "seed001_mlp_128_128_64_relu_sgd": lambda: seed001("seed001_mlp_128_128_64_relu_sgd", [128, 128, 64], "relu"),
    "seed001_mlp_128_64_32_relu_nesterov": lambda: seed001("seed001_mlp_128_64_32_relu_nesterov", [128, 64, 32], "relu"),
    "seed001_mlp_128_64_relu_adam": lambda: seed001("seed001_mlp_128_64_relu_adam", [128, 64], "relu"),
    "seed001_mlp_256_128_64_sigmoid_rmsprop": lambda: seed001("seed001_mlp_256_128_64_sigmoid_rmsprop", [256, 128, 64], "sigmoid"),
    "seed002_mnist_cnn": lambda: seed002(True),
    "seed002_mnist_cnn_nolambda": lambda: seed002(False),
    "seed003_k4": lambda: seed003(4),
    "seed003_k5": lambda: seed003(5),
    "seed003_k6": lambda: seed003(6),
    "seed004_kannada_cnn": seed004,
    "cifar10_small_cnn": cifar10_small_cnn,
    "all_image_layers": all_image_layers,
    "all_sequence_layers": all_sequence_layers,
    "gap_cnn": gap_cnn,
    "branch": branch,
    "nested": nested,
    "unsupported": unsupported,
    "mnist_lstm_rows": mnist_lstm_rows,
    "embedding_birnn": embedding_birnn,
    "time_distributed": time_distributed,
    "time_distributed_conv": time_distributed_conv,
    "augmentation_layers": augmentation_layers,
}


def shape_of(layer):
    return [int(d) for d in layer.output.shape[1:]]


def expectation(model, cfg):
    rows = [[l.name, l.__class__.__name__, shape_of(l), int(l.count_params())] for l in model.layers]
    if isinstance(model, keras.Sequential):
        # model.layers leaves out a Sequential's InputLayer; config.json lists it first.
        first = json.loads(cfg)["config"]["layers"][0]
        assert first["class_name"] == "InputLayer"
        rows.insert(0, [first["config"]["name"], "InputLayer", [int(d) for d in model.inputs[0].shape[1:]], 0])
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    return {"layers": rows, "total": int(model.count_params()), "trainable": trainable}


def config_json_of(model):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.keras")
        model.save(path)
        with zipfile.ZipFile(path) as z:
                cfg, meta = z.read("config.json"), z.read("metadata.json")
        with open(path, "rb") as f:
            return cfg, meta, f.read()


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


# ---- Keras 2 `model_config` strings (Keras 2.x layout, written by hand) -------------------------

def k2_layer(cls, name, **cfg):
    return {"class_name": cls, "config": dict(name=name, trainable=True, dtype="float32", **cfg)}


def k2_conv(name, filters, k, strides=(1, 1), padding="valid", act="linear", bias=True, **extra):
    return k2_layer("Conv2D", name, filters=filters, kernel_size=list(k), strides=list(strides), padding=padding,
                    data_format="channels_last", dilation_rate=[1, 1], activation=act, use_bias=bias,
                    kernel_initializer={"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
                    bias_initializer={"class_name": "Zeros", "config": {}}, kernel_regularizer=None,
                    bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **extra)


def k2_bn(name, axis=-1):
    return k2_layer("BatchNormalization", name, axis=axis, momentum=0.99, epsilon=0.001, center=True, scale=True,
                    beta_initializer={"class_name": "Zeros", "config": {}}, gamma_initializer={"class_name": "Ones", "config": {}},
                    moving_mean_initializer={"class_name": "Zeros", "config": {}},
                    moving_variance_initializer={"class_name": "Ones", "config": {}},
                    beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None)


def k2_pool(name, cls="MaxPooling2D"):
    return k2_layer(cls, name, pool_size=[2, 2], padding="valid", strides=[2, 2], data_format="channels_last")


def k2_dense(name, units, act):
    return k2_layer("Dense", name, units=units, activation=act, use_bias=True,
                    kernel_initializer={"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
                    bias_initializer={"class_name": "Zeros", "config": {}}, kernel_regularizer=None,
                    bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None)


def keras2_seed000_functional():
    """seed000 as a Keras 2.2 functional model (what `model.to_json()` and the .h5 hold)."""
    body = [
        k2_layer("ZeroPadding2D", "zero_padding2d_1", padding=[[2, 2], [2, 2]], data_format="channels_last"),
        k2_conv("conv2d_1", 32, (7, 7), bias=False), k2_bn("batch_normalization_1", axis=3),
        k2_pool("max_pooling2d_1"), k2_layer("Activation", "activation_1", activation="relu"),
        k2_conv("conv2d_2", 64, (5, 5), bias=False), k2_bn("batch_normalization_2", axis=3),
        k2_layer("Activation", "activation_2", activation="relu"),
        k2_conv("conv2d_3", 128, (3, 3), strides=(2, 2), bias=False), k2_bn("batch_normalization_3", axis=3),
        k2_pool("max_pooling2d_2"), k2_layer("Activation", "activation_3", activation="relu"),
        k2_layer("Flatten", "flatten_1", data_format="channels_last"), k2_dense("dense_1", 512, "relu"),
        k2_layer("Dropout", "dropout_1", rate=0.5, noise_shape=None, seed=None), k2_dense("dense_2", 10, "softmax"),
    ]
    layers = [{"name": "input_1", "class_name": "InputLayer",
               "config": {"batch_input_shape": [None, 28, 28, 1], "dtype": "float32", "sparse": False, "name": "input_1"},
               "inbound_nodes": []}]
    prev = "input_1"
    for l in body:
        l = dict(l, name=l["config"]["name"], inbound_nodes=[[[prev, 0, 0, {}]]])
        layers.append(l)
        prev = l["name"]
    return {"class_name": "Model", "config": {"name": "model_1", "layers": layers,
                                               "input_layers": [["input_1", 0, 0]], "output_layers": [[prev, 0, 0]]},
            "keras_version": "2.2.4", "backend": "tensorflow"}


def keras2_seed002_sequential():
    """seed002 without its Lambda as a Keras 2.3 Sequential (dict form, batch_input_shape on the first layer)."""
    layers = []
    k = 0
    for filters, convs in [(32, 2), (64, 2), (128, 1), (64, 1)]:
        for _ in range(convs):
            k += 1
            c = k2_conv(f"conv2d_{k}", filters, (3, 3), padding="same")
            if k == 1:
                c["config"]["batch_input_shape"] = [None, 28, 28, 1]
            layers += [c, k2_bn(f"batch_normalization_{k}"), k2_layer("LeakyReLU", f"leaky_re_lu_{k}", alpha=0.30000001192092896)]
        p = len([l for l in layers if l["class_name"] == "MaxPooling2D"]) + 1
        layers += [k2_pool(f"max_pooling2d_{p}"), k2_layer("Dropout", f"dropout_{p}", rate=0.25, noise_shape=None, seed=None)]
    layers += [k2_layer("Flatten", "flatten_1", data_format="channels_last"), k2_bn("batch_normalization_7"),
               k2_layer("Dropout", "dropout_5", rate=0.25, noise_shape=None, seed=None),
               k2_dense("dense_1", 256, "linear"), k2_layer("LeakyReLU", "leaky_re_lu_7", alpha=0.30000001192092896),
               k2_layer("Dropout", "dropout_6", rate=0.5, noise_shape=None, seed=None),
               k2_dense("dense_2", 128, "linear"), k2_layer("LeakyReLU", "leaky_re_lu_8", alpha=0.30000001192092896),
               k2_layer("Dropout", "dropout_7", rate=0.5, noise_shape=None, seed=None), k2_dense("dense_3", 10, "softmax")]
    return {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": layers},
            "keras_version": "2.3.1", "backend": "tensorflow"}


def keras2_seed004_list():
    """seed004 in the Keras 2.0/2.1 Sequential list form (`config` is the list of layers)."""
    layers = []
    for i, (f, k) in enumerate([(32, 5), (32, 5), (64, 3), (64, 3)], start=1):
        c = k2_conv(f"conv2d_{i}", f, (k, k), padding="same", act="relu")
        if i == 1:
            c["config"]["batch_input_shape"] = [None, 28, 28, 1]
        layers += [c, k2_bn(f"batch_normalization_{i}")]
        if i % 2 == 0:
            layers += [k2_pool(f"max_pooling2d_{i // 2}"), k2_layer("Dropout", f"dropout_{i // 2}", rate=0.25, noise_shape=None, seed=None)]
    layers += [k2_layer("Flatten", "flatten_1", data_format="channels_last"), k2_dense("dense_1", 256, "relu"),
               k2_layer("Dropout", "dropout_3", rate=0.5, noise_shape=None, seed=None), k2_dense("dense_2", 10, "softmax")]
    return {"class_name": "Sequential", "config": layers, "keras_version": "2.1.6", "backend": "tensorflow"}


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--only":
        # one Keras 3 case rewritten (its config and its expected.json entry), the rest kept
        path = os.path.join(HERE, "expected.json")
        with open(path) as f:
            expected = json.load(f)
        for name in sys.argv[2:]:
            model = KERAS3[name]()
            cfg, _, _ = config_json_of(model)
            write(f"{name}.config.json", cfg)
            expected[name] = expectation(model, cfg)
        write("expected.json", (json.dumps(expected, indent=1) + "\n").encode())
        return
    expected = {}
    for name, make in KERAS3.items():
        model = make()
        cfg, _, _ = config_json_of(model)
        write(f"{name}.config.json", cfg)
        expected[name] = expectation(model, cfg)
    m = tiny_mlp()
    m.layers[0].set_weights([w * 0 + 0.25 for w in m.layers[0].get_weights()])
    cfg, _, whole = config_json_of(m)
    write("tiny_mlp.keras", whole)
    expected["tiny_mlp"] = expectation(m, cfg)
    c = tiny_cnn()
    cfg, meta, _ = config_json_of(c)
    with zipfile.ZipFile(os.path.join(HERE, "tiny_cnn_noweights.keras"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("metadata.json", meta)
        z.writestr("config.json", cfg)
    expected["tiny_cnn"] = expectation(c, cfg)
    for name, make in [("keras2_seed000_functional", keras2_seed000_functional),
                       ("keras2_seed002_sequential", keras2_seed002_sequential),
                       ("keras2_seed004_list", keras2_seed004_list)]:
        write(f"{name}.json", json.dumps(make()).encode())
    write("expected.json", (json.dumps(expected, indent=1) + "\n").encode())


if __name__ == "__main__":
    main()

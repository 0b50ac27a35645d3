#!/usr/bin/env python3
"""Keras 3 reference fixtures for the sequence layers (SimpleRNN, LSTM, GRU, Embedding), made
once by hand like make_fixtures.py's (CI never runs this):

    KERAS_BACKEND=tensorflow python3 Tests/Fixtures/numerics/make_sequence_fixtures.py

It reuses make_fixtures.py's machinery (float32 summary table, float64 model on float32
weights and inputs, results rounded to float32) and writes, per case, model.md, weights.npz
and io.npz in the same format. Differences:
  - weights: recurrent_kernel U(+-sqrt(3/units)), embeddings U(-1, 1), biases U(-0.3, 0.3);
  - an Embedding model's input is token ids (whole numbers in 0..<vocab, stored as float32)
    and has no grad_input (ids have no gradient);
  - every result is cross-checked against a plain numpy implementation of the cells
    (`numpy_forward`), printed as "sanity ok/MISMATCH".
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import make_fixtures as mf  # noqa: E402
from make_fixtures import L, keras  # noqa: E402

CASES = {}


def case(name, input_shape, batch, note, *ls, vocab=None, masked=None, annotations=()):
    CASES[name] = dict(build=mf.seq(name, input_shape, *ls), input_shape=input_shape, batch=batch,
                       annotations=list(annotations), note=note, seed_file=None, backend=None, vocab=vocab, masked=masked)


# One model for every cell, so that the committed generated code stays small: token ids into
# an Embedding, then every recurrent form; the Embedding's gradient checks the input gradients
# of the whole stack.
case("sequence_stack", (5,), 3,
     "Embedding 7 x 4 on token ids, LSTM 4 return_sequences, GRU 3 reset_after=False return_sequences, "
     "SimpleRNN 3 return_sequences, GRU 4 reset_after=True (the Keras 3 default) return_sequences, "
     "Bidirectional(GRU 2 return_sequences) merge mul, GRU 4 reset_after=True (the Keras 3 default) "
     "return_sequences, Bidirectional(LSTM 3) merge concat (last states)",
     lambda: L.Embedding(7, 4, name="embedding"),
     lambda: L.LSTM(4, return_sequences=True, name="lstm"),
     lambda: L.GRU(3, reset_after=False, return_sequences=True, name="gru"),
     lambda: L.SimpleRNN(3, return_sequences=True, name="simple_rnn"),
     lambda: L.Bidirectional(L.GRU(2, return_sequences=True, name="gru"), merge_mode="mul", name="bidirectional"),
     lambda: L.GRU(4, return_sequences=True, name="gru_1"),
     lambda: L.Bidirectional(L.LSTM(3, name="lstm"), name="bidirectional_1"),
     vocab=7)


# TimeDistributed around Flatten and Dense (shared over the steps), a Dense straight on a
# sequence (Keras applies it to the last axis), into recurrent layers.
case("time_distributed", (5, 2, 3), 3,
     "TimeDistributed(Flatten) of (5, 2, 3) steps, TimeDistributed(Dense 4 tanh), LSTM 3 return_sequences, "
     "Dense 2 on the sequence (last axis), GRU 3, Dense 2",
     lambda: L.TimeDistributed(L.Flatten(), name="time_distributed"),
     lambda: L.TimeDistributed(L.Dense(4, activation="tanh"), name="time_distributed_1"),
     lambda: L.LSTM(3, return_sequences=True, name="lstm"),
     lambda: L.Dense(2, name="dense"),
     lambda: L.GRU(3, name="gru"),
     lambda: L.Dense(2, name="dense_1"))


# TimeDistributed around image layers on a (steps, H, W, C) input, as in video and OCR models:
# Conv2D 'same' (tanh), MaxPooling2D, AveragePooling2D 'same' (the padded cell excluded from the
# average), GlobalAveragePooling2D, into an LSTM. The weights are shared over the steps.
case("time_distributed_conv", (3, 6, 6, 2), 3,
     "TimeDistributed(Conv2D 3 3x3 same tanh) of (3, 6, 6, 2) steps, TimeDistributed(MaxPooling2D 2), "
     "TimeDistributed(AveragePooling2D 2 same), TimeDistributed(GlobalAveragePooling2D), LSTM 2, Dense 2",
     lambda: L.TimeDistributed(L.Conv2D(3, 3, padding="same", activation="tanh"), name="time_distributed"),
     lambda: L.TimeDistributed(L.MaxPooling2D(2), name="time_distributed_1"),
     lambda: L.TimeDistributed(L.AveragePooling2D(2, padding="same"), name="time_distributed_2"),
     lambda: L.TimeDistributed(L.GlobalAveragePooling2D(), name="time_distributed_3"),
     lambda: L.LSTM(2, name="lstm"),
     lambda: L.Dense(2, name="dense"))


# Masking (mask_value -1; the steps set to -1 below: a first, a last and two middle steps,
# one sample unmasked), through TimeDistributed(Dense) to an LSTM (masked steps repeat the
# previous output), a Bidirectional GRU (masked steps output zeros) and a SimpleRNN (the state
# of the last kept step), each skipping the masked steps.
case("masking", (6, 3), 3,
     "Masking(mask_value=-1) with masked steps (sample 0: steps 0 and 3; sample 1: steps 4 and 5), "
     "TimeDistributed(Dense 4 tanh), LSTM 3 return_sequences, Bidirectional(GRU 2 return_sequences) concat, "
     "SimpleRNN 3, Dense 2",
     lambda: L.Masking(mask_value=-1.0, name="masking"),
     lambda: L.TimeDistributed(L.Dense(4, activation="tanh"), name="time_distributed"),
     lambda: L.LSTM(3, return_sequences=True, name="lstm"),
     lambda: L.Bidirectional(L.GRU(2, return_sequences=True, name="gru"), name="bidirectional"),
     lambda: L.SimpleRNN(3, name="simple_rnn"),
     lambda: L.Dense(2, name="dense"),
     masked=(-1.0, [(0, 0), (0, 3), (1, 4), (1, 5)]))


# Hard sigmoid gates (recurrent_activation="hard_sigmoid": Keras 3's relu6(x + 3) / 6), which a
# table does not print: annotated. Keras 2.2.5 and earlier made them the default (slope 0.2).
case("hard_sigmoid_gates", (5,), 3,
     "Embedding 7 x 4 on token ids, LSTM 4 return_sequences, GRU 3 reset_after=False return_sequences, "
     "GRU 3 reset_after=True (last state), every gate hard_sigmoid (annotated)",
     lambda: L.Embedding(7, 4, name="embedding"),
     lambda: L.LSTM(4, recurrent_activation="hard_sigmoid", return_sequences=True, name="lstm"),
     lambda: L.GRU(3, recurrent_activation="hard_sigmoid", reset_after=False, return_sequences=True, name="gru"),
     lambda: L.GRU(3, recurrent_activation="hard_sigmoid", name="gru_1"),
     vocab=7, annotations=["layer lstm: recurrent_activation=hard_sigmoid", "layer gru: recurrent_activation=hard_sigmoid",
                           "layer gru_1: recurrent_activation=hard_sigmoid"])


# Keras's in-cell dropout in training, which a table does not print: annotated. The training
# forward draws modelc's masks (`modelc_masks`, patched into Keras's cells for the reference):
# an LSTM with recurrent_dropout (Keras 3.8+ forces implementation=1: a mask per gate, input and
# state) whose 3 steps x 2 inputs are fewer than its 8 units, a GRU reset_after with both (the
# candidate's state gradient through r), a GRU reset_after with input dropout only (one shared
# mask), a Bidirectional GRU reset_before with both (each direction its own masks; the
# candidate's r (h' * m) U), an LSTM with implementation=1 and input dropout only (a mask per
# gate; use_cudnn=False, as Keras 3's fused path takes one mask), and a SimpleRNN with both (one
# mask each). Inference ignores them.
case("cell_dropout", (3, 2), 3,
     "TimeDistributed(Dense 2 tanh), LSTM 8 dropout 0.25 recurrent_dropout 0.5 return_sequences, "
     "GRU 3 dropout 0.5 recurrent_dropout 0.25 return_sequences, GRU 3 dropout 0.5 return_sequences, "
     "Bidirectional(GRU 2 reset_after=False dropout 0.25 recurrent_dropout 0.25 return_sequences) concat, "
     "LSTM 3 implementation=1 dropout 0.3 return_sequences, SimpleRNN 3 dropout 0.5 recurrent_dropout 0.5, Dense 2; "
     "training with modelc's masks",
     lambda: L.TimeDistributed(L.Dense(2, activation="tanh"), name="time_distributed"),
     lambda: L.LSTM(8, dropout=0.25, recurrent_dropout=0.5, return_sequences=True, name="lstm"),
     lambda: L.GRU(3, dropout=0.5, recurrent_dropout=0.25, return_sequences=True, name="gru"),
     lambda: L.GRU(3, dropout=0.5, return_sequences=True, name="gru_1"),
     lambda: L.Bidirectional(L.GRU(2, reset_after=False, dropout=0.25, recurrent_dropout=0.25, return_sequences=True, name="gru"),
                             name="bidirectional"),
     lambda: L.LSTM(3, implementation=1, use_cudnn=False, dropout=0.3, return_sequences=True, name="lstm_1"),
     lambda: L.SimpleRNN(3, dropout=0.5, recurrent_dropout=0.5, name="simple_rnn"),
     lambda: L.Dense(2, name="dense"),
     annotations=["layer lstm: dropout=0.25 recurrent_dropout=0.5", "layer gru: dropout=0.5 recurrent_dropout=0.25",
                  "layer gru_1: dropout=0.5", "layer bidirectional: dropout=0.25 recurrent_dropout=0.25",
                  "layer lstm_1: dropout=0.3 implementation=1", "layer simple_rnn: dropout=0.5 recurrent_dropout=0.5"])
CASES["cell_dropout"]["dropout_seed"] = 5
# the layers' positions in modelc's IR (the salt of their masks' seeds)
CASES["cell_dropout"]["ir_index"] = {"lstm": 2, "gru": 3, "gru_1": 4, "bidirectional": 5, "lstm_1": 6, "simple_rnn": 7}


# The same masks on a masked sequence (Masking(-1): masked steps keep the state, and the masks
# still multiply the kept steps' projections): an LSTM with both dropouts (a mask per gate), a
# Bidirectional GRU with both (masked steps output zeros), a SimpleRNN with both.
case("cell_dropout_masking", (5, 3), 3,
     "Masking(mask_value=-1) with masked steps (sample 0: steps 0 and 3; sample 2: step 4), LSTM 4 dropout 0.25 "
     "recurrent_dropout 0.5 return_sequences, Bidirectional(GRU 2 dropout 0.5 recurrent_dropout 0.25 return_sequences) "
     "concat, SimpleRNN 3 dropout 0.25 recurrent_dropout 0.25, Dense 2; training with modelc's masks",
     lambda: L.Masking(mask_value=-1.0, name="masking"),
     lambda: L.LSTM(4, dropout=0.25, recurrent_dropout=0.5, return_sequences=True, name="lstm"),
     lambda: L.Bidirectional(L.GRU(2, dropout=0.5, recurrent_dropout=0.25, return_sequences=True, name="gru"), name="bidirectional"),
     lambda: L.SimpleRNN(3, dropout=0.25, recurrent_dropout=0.25, name="simple_rnn"),
     lambda: L.Dense(2, name="dense"),
     masked=(-1.0, [(0, 0), (0, 3), (2, 4)]),
     annotations=["layer lstm: dropout=0.25 recurrent_dropout=0.5", "layer bidirectional: cell=GRU dropout=0.5 recurrent_dropout=0.25",
                  "layer simple_rnn: dropout=0.25 recurrent_dropout=0.25"])
CASES["cell_dropout_masking"]["dropout_seed"] = 11
CASES["cell_dropout_masking"]["ir_index"] = {"lstm": 2, "bidirectional": 3, "simple_rnn": 4}


M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


# A cell's activation="relu" (Keras's forecasting examples write it; tf2onnx and nn.RNN's
# nonlinearity="relu" give ONNX activations Relu), which a table does not print: annotated.
case("relu_cells", (5,), 3,
     "Embedding 7 x 4 on token ids, LSTM 4 relu return_sequences, GRU 3 relu reset_after=False return_sequences, "
     "SimpleRNN 3 relu return_sequences, GRU 3 relu reset_after=True (last state), every activation relu (annotated)",
     lambda: L.Embedding(7, 4, name="embedding"),
     lambda: L.LSTM(4, activation="relu", return_sequences=True, name="lstm"),
     lambda: L.GRU(3, activation="relu", reset_after=False, return_sequences=True, name="gru"),
     lambda: L.SimpleRNN(3, activation="relu", return_sequences=True, name="simple_rnn"),
     lambda: L.GRU(3, activation="relu", name="gru_1"),
     vocab=7, annotations=["layer lstm: activation=relu", "layer gru: activation=relu", "layer simple_rnn: activation=relu",
                           "layer gru_1: activation=relu"])
CASES["relu_cells"]["bias_range"] = (0.1, 0.5)
CASES["relu_cells"]["seed"] = 1803   # a draw whose every gradient is mostly non-zero (some draws close a cell for good)


def splitmix_float(state):
    """SplitMix64's first output for `state`, as modelc's nextFloat: its top 24 bits in [0, 1)."""
    z = (state + GOLDEN) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return ((z ^ (z >> 31)) >> 40) / 16777216.0


def modelc_masks(seed, index, reverse, recurrent, n, count, features, rate):
    """The masks modelc's training forward draws (Kernels/RecurrentDropout.swift): [count, n, features]."""
    s = seed ^ ((index * GOLDEN) & M64)
    if reverse:
        s ^= 0x5851F42D4C957F2D
    if recurrent:
        s ^= 0xD1B54A32D192ED03
    keep = float(np.float32(1) / (np.float32(1) - np.float32(rate)))
    m = np.zeros((count, n, features))
    for b in range(n):
        for q in range(count):
            for i in range(features):
                u = splitmix_float((s + (b * count + q) * features + i) & M64)
                m[q, b, i] = keep if u >= np.float32(rate) else 0.0
    return m


class ModelcMasks:
    """Within the block, Keras's recurrent cells draw modelc's masks for `seed`."""
    def __init__(self, model, seed, ir_index):
        from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell
        self.cls, self.seed, self.cells = DropoutRNNCell, seed, {}
        for ly in model.layers:
            if isinstance(ly, L.Bidirectional):
                self.cells[id(ly.forward_layer.cell)] = (ir_index[ly.name], False)
                self.cells[id(ly.backward_layer.cell)] = (ir_index[ly.name], True)
            elif hasattr(ly, "cell"):
                self.cells[id(ly.cell)] = (ir_index[ly.name], False)

    def mask(self, cell, step_input, recurrent):
        rate = cell.recurrent_dropout if recurrent else cell.dropout
        if rate == 0:
            return None
        index, reverse = self.cells[id(cell)]
        count = getattr(cell, "dropout_mask_count", None)
        m = modelc_masks(self.seed, index, reverse, recurrent, step_input.shape[0], count or 1, step_input.shape[-1], rate)
        ts = [mf.ops.convert_to_tensor(q, dtype=step_input.dtype) for q in m]
        return ts if count else ts[0]

    def __enter__(self):
        self.saved = (self.cls.get_dropout_mask, self.cls.get_recurrent_dropout_mask)
        this = self
        self.cls.get_dropout_mask = lambda cell, x: this.mask(cell, x, False)
        self.cls.get_recurrent_dropout_mask = lambda cell, h: this.mask(cell, h, True)

    def __exit__(self, *exc):
        self.cls.get_dropout_mask, self.cls.get_recurrent_dropout_mask = self.saved


def sequential(name, input_shape, *ls):
    """A Sequential build: a functional model's summary lists the mask's NotEqual/Any ops as rows."""
    def build():
        m = keras.Sequential(name=f"fx_{name}")
        m.add(keras.Input(input_shape))
        for f in ls:
            m.add(f())
        return m
    return build


CASES["masking"]["build"] = sequential("masking", (6, 3), *[
    lambda: L.Masking(mask_value=-1.0, name="masking"),
    lambda: L.TimeDistributed(L.Dense(4, activation="tanh"), name="time_distributed"),
    lambda: L.LSTM(3, return_sequences=True, name="lstm"),
    lambda: L.Bidirectional(L.GRU(2, return_sequences=True, name="gru"), name="bidirectional"),
    lambda: L.SimpleRNN(3, name="simple_rnn"),
    lambda: L.Dense(2, name="dense")])
CASES["cell_dropout_masking"]["build"] = sequential("cell_dropout_masking", (5, 3), *[
    lambda: L.Masking(mask_value=-1.0, name="masking"),
    lambda: L.LSTM(4, dropout=0.25, recurrent_dropout=0.5, return_sequences=True, name="lstm"),
    lambda: L.Bidirectional(L.GRU(2, dropout=0.5, recurrent_dropout=0.25, return_sequences=True, name="gru"), name="bidirectional"),
    lambda: L.SimpleRNN(3, dropout=0.25, recurrent_dropout=0.25, name="simple_rnn"),
    lambda: L.Dense(2, name="dense")])


def key_name(layer, var, plain=mf.key_name):
    """A Bidirectional layer's tensors: `<layer>/forward_<inner>/<var>` as in the Keras 3
    variable path `<layer>/forward_<inner>/<inner>_cell/<var>` (modelc keeps the direction)."""
    if isinstance(layer, L.Bidirectional):
        direction = next(p for p in var.path.split("/") if p.startswith(("forward_", "backward_")))
        return f"{layer.name}/{direction}/{var.name}"
    if isinstance(layer, L.TimeDistributed):
        return f"{layer.name}/{var.name}"
    return plain(layer, var)


mf.key_name = key_name


def random_weights(model, rng, bias_range=(-0.3, 0.3)):
    w = {}
    for k, v in mf.named_vars(model):
        shape = tuple(v.shape)
        role = k.split("/")[-1]
        if role == "kernel":
            a = np.sqrt(3.0 / shape[0])
            val = rng.uniform(-a, a, shape)
        elif role == "recurrent_kernel":
            a = np.sqrt(3.0 / shape[0])
            val = rng.uniform(-a, a, shape)
        elif role == "bias":
            val = rng.uniform(*bias_range, shape)
        elif role == "embeddings":
            val = rng.uniform(-1.0, 1.0, shape)
        else:
            raise ValueError(k)
        w[k] = val.astype(np.float32)
    return w


def make_case(name, spec, seed):
    rng = np.random.default_rng(seed)
    d = os.path.join(mf.HERE, name)
    os.makedirs(d, exist_ok=True)
    m32 = mf.build(spec["build"], "float32")
    m64 = mf.build(spec["build"], "float64")
    anns = [f"model: name=fx_{name}"] + [f"layer {ly.name}: activation={ly.activation.__name__}"
                                         for ly in m32.layers if isinstance(ly, L.Dense)]
    anns += [f"layer {ly.name}: activation={ly.layer.activation.__name__}" for ly in m32.layers
             if isinstance(ly, L.TimeDistributed) and isinstance(ly.layer, L.Dense)]
    anns += [f"layer {ly.name}: mask_value={ly.mask_value}" for ly in m32.layers if isinstance(ly, L.Masking)]
    # a TimeDistributed Conv2D's activation, and the pools the table cannot tell from max / global average
    anns += [f"layer {ly.name}: activation={ly.layer.activation.__name__}" for ly in m32.layers
             if isinstance(ly, L.TimeDistributed) and isinstance(ly.layer, L.Conv2D)]
    anns += [f"layer {ly.name}: layer={type(ly.layer).__name__}" for ly in m32.layers
             if isinstance(ly, L.TimeDistributed) and isinstance(ly.layer, (L.AveragePooling2D, L.GlobalMaxPooling2D))]
    # sum, mul and ave print the same shapes and counts: the table cannot tell them apart
    anns += [f"layer {ly.name}: merge={ly.merge_mode}" for ly in m32.layers
             if isinstance(ly, L.Bidirectional) and ly.merge_mode != "concat"]
    anns += spec["annotations"]
    header = f"# Fixture `{name}`\n\n{spec['note']}.\n\nKeras 3 `model.summary()`:\n\n"
    with open(os.path.join(d, "model.md"), "w") as fh:
        fh.write(header + "```\n" + mf.summary_text(m32) + "```\n\n" + mf.annotation_block(anns))
    w = random_weights(m64, rng, spec.get("bias_range", (-0.3, 0.3)))
    mf.load_weights(m64, w)
    np.savez(os.path.join(d, "weights.npz"), **w)

    n = spec["batch"]
    if spec["vocab"]:
        x = rng.integers(0, spec["vocab"], (n,) + spec["input_shape"]).astype(np.float32)
    else:
        x = rng.uniform(-1.0, 1.0, (n,) + spec["input_shape"]).astype(np.float32)
    if spec.get("masked"):
        value, steps = spec["masked"]
        for i, t in steps:
            x[i, t] = value
    up = rng.standard_normal((n,) + tuple(m64.output_shape[1:])).astype(np.float32)
    io = {"input": x, "output_inference": mf.f32(m64(mf.to64(x), training=False)), "upstream": up}
    tv = [(mf.key_name(ly, v), v) for ly in m64.layers for v in ly.trainable_weights]

    def objective(xt):
        y = m64(xt, training=True)
        return mf.ops.sum(y * mf.to64(up)), y

    import tensorflow as tf
    import contextlib
    xt = tf.constant(np.asarray(x, np.float64))
    seed = spec.get("dropout_seed")
    masks = ModelcMasks(m64, seed, spec["ir_index"]) if seed is not None else contextlib.nullcontext()
    with tf.GradientTape() as tape, masks:
        tape.watch(xt)
        _, y = objective(xt)
        loss = _
    if seed is not None:
        io["dropout_seed"] = np.array([seed], np.float32)   # the training forward's seed, dropout on
    # an Embedding's gradient comes as IndexedSlices: made dense here
    grads = [None if g is None else mf.f64(tf.convert_to_tensor(g))
             for g in tape.gradient(loss, [xt] + [v.value for _, v in tv])]
    io["output_training"] = mf.f32(y)
    if not spec["vocab"]:
        io["grad_input"] = mf.f32(grads[0])
    for (k, _), g in zip(tv, grads[1:]):
        io["grad/" + k] = mf.f32(g)
    np.savez(os.path.join(d, "io.npz"), **io)
    return w, io, m32


# ---- numpy cells (Keras semantics), for the sanity check -----------------------------------

def sig(v):
    return 1 / (1 + np.exp(-v))


def hard_sig(v):
    return np.clip(v / 6 + 0.5, 0, 1)   # Keras 3's hard_sigmoid, relu6(x + 3) / 6


def run_cell(layer, w, x, prefix=None, mask=None, zero_out=False):
    """One recurrent layer in numpy; `mask` [n, steps] (True: kept): a masked step keeps the
    state, and outputs it again (or zeros with `zero_out`, as inside Bidirectional)."""
    cfg = layer.get_config()
    prefix = prefix or layer.name
    k, u = w[f"{prefix}/kernel"].astype(np.float64), w[f"{prefix}/recurrent_kernel"].astype(np.float64)
    b = w[f"{prefix}/bias"].astype(np.float64)
    units = cfg["units"]
    sig = hard_sig if cfg.get("recurrent_activation") == "hard_sigmoid" else globals()["sig"]
    act = (lambda v: np.maximum(v, 0)) if cfg.get("activation") == "relu" else np.tanh
    n, steps = x.shape[0], x.shape[1]
    h = np.zeros((n, units))
    c = np.zeros((n, units))
    out = []
    for t in range(steps):
        xt = x[:, t]
        h0, c0 = h, c
        if isinstance(layer, L.LSTM):
            z = xt @ k + h @ u + b
            i, f, g, o = (z[:, j * units:(j + 1) * units] for j in range(4))
            c = sig(f) * c + sig(i) * act(g)
            h = sig(o) * act(c)
        elif isinstance(layer, L.GRU):
            bx, bh = (b[0], b[1]) if cfg["reset_after"] else (b, np.zeros_like(b))
            xz = xt @ k + bx
            if cfg["reset_after"]:
                hz = h @ u + bh
                z, r = sig(xz[:, :units] + hz[:, :units]), sig(xz[:, units:2 * units] + hz[:, units:2 * units])
                hh = act(xz[:, 2 * units:] + r * hz[:, 2 * units:])
            else:
                hz = h @ u[:, :2 * units]
                z, r = sig(xz[:, :units] + hz[:, :units]), sig(xz[:, units:2 * units] + hz[:, units:])
                hh = act(xz[:, 2 * units:] + (r * h) @ u[:, 2 * units:])
            h = z * h + (1 - z) * hh
        else:
            h = act(xt @ k + h @ u + b)
        if mask is None:
            out.append(h)
            continue
        keep = mask[:, t][:, None]
        h, c = np.where(keep, h, h0), np.where(keep, c, c0)
        out.append(np.where(keep, h, 0.0) if zero_out else h)
    return np.stack(out, 1) if cfg["return_sequences"] else h


def numpy_forward(model, w, x):
    y = x.astype(np.float64)
    mask = None
    for ly in model.layers:
        if isinstance(ly, L.Masking):
            mask = (y != ly.mask_value).reshape(y.shape[0], y.shape[1], -1).any(-1)
            y = y * mask.reshape(mask.shape + (1,) * (y.ndim - 2))
        elif isinstance(ly, L.Embedding):
            y = w[f"{ly.name}/embeddings"].astype(np.float64)[y.astype(int)]
        elif isinstance(ly, (L.LSTM, L.GRU, L.SimpleRNN)):
            y = run_cell(ly, w, y, mask=mask)
            mask = mask if ly.return_sequences else None
        elif isinstance(ly, L.Bidirectional):
            inner = ly.forward_layer
            seqs = inner.get_config()["return_sequences"]
            f = run_cell(inner, w, y, f"{ly.name}/{ly.forward_layer.name}", mask=mask, zero_out=seqs)
            b = run_cell(inner, w, y[:, ::-1], f"{ly.name}/{ly.backward_layer.name}",
                         mask=None if mask is None else mask[:, ::-1], zero_out=seqs)
            mask = mask if seqs else None
            if inner.get_config()["return_sequences"]:
                b = b[:, ::-1]
            y = {"concat": lambda: np.concatenate([f, b], -1), "sum": lambda: f + b, "mul": lambda: f * b,
                 "ave": lambda: (f + b) / 2}[ly.merge_mode]()
        elif isinstance(ly, L.Dense):
            y = y @ w[f"{ly.name}/kernel"] + w[f"{ly.name}/bias"]
        elif isinstance(ly, L.TimeDistributed) and isinstance(ly.layer, L.Flatten):
            y = y.reshape(y.shape[0], y.shape[1], -1)
        elif isinstance(ly, L.TimeDistributed) and isinstance(ly.layer, (L.Conv2D, L.MaxPooling2D, L.AveragePooling2D,
                                                                     L.GlobalAveragePooling2D)):
            # the plain Keras image layer (its own weights: the TimeDistributed's) on the N*T images
            n, t = y.shape[:2]
            if isinstance(ly.layer, L.Conv2D):
                ly.layer.set_weights([w[f"{ly.name}/kernel"], w[f"{ly.name}/bias"]])
            z = np.asarray(ly.layer(y.reshape((n * t,) + y.shape[2:]).astype(np.float32)), np.float64)
            y = z.reshape((n, t) + z.shape[1:])
        elif isinstance(ly, L.TimeDistributed) and isinstance(ly.layer, L.Dense):
            y = y @ w[f"{ly.name}/kernel"] + w[f"{ly.name}/bias"]
            y = np.tanh(y) if ly.layer.activation.__name__ == "tanh" else y
    return y


def main():
    assert mf.BACKEND == mf.WRITER, "run with KERAS_BACKEND=tensorflow"
    names = sys.argv[1:] or list(CASES)
    for i, name in enumerate(CASES):
        if name not in names:
            continue
        w, io, m32 = make_case(name, CASES[name], CASES[name].get("seed", 1700 + i))
        print(f"wrote {name}", flush=True)
        r = mf.rel(numpy_forward(m32, w, io["input"]), io["output_inference"].astype(np.float64))
        print(f"sanity {'ok' if r < 1e-5 else 'MISMATCH'}: {name} numpy forward: max rel diff {r:.2e}")


if __name__ == "__main__":
    main()

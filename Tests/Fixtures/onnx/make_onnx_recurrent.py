"""Makes the recurrent ONNX fixtures of Tests/Fixtures/onnx once (CI never runs this; the Swift
tests read the committed files). expected_recurrent.json holds onnxruntime's class probabilities
and each model's parameter count (as PyTorch or Keras counts it).

Image-row models read the KMNIST fixture images (pixels / 255) as 28 steps of 28 features:
- lstm_rows: nn.LSTM(batch_first) -> out[:, -1] -> Linear (torch.onnx, TorchScript exporter, opset 13)
- gru_bi2_rows: a 2-layer bidirectional nn.GRU -> torch.cat((h_n[-2], h_n[-1]), 1) -> ReLU -> Linear
  (TorchScript exporter: Transpose + Reshape between the layers, Concat of the Y_h, Gathers)
- rnn_relu_rows: nn.RNN(nonlinearity="relu") -> h_n[-1] -> Linear (activations Relu)
- rnn_rows: nn.RNN -> h_n[-1] -> Linear (TorchScript exporter; the dynamo exporter unrolls an
  nn.RNN into per-step MatMuls, which modelc does not read back as a recurrent layer)
- lstm2_rows_dynamo: a 2-layer nn.LSTM -> out[:, -1] -> Linear (the dynamo exporter)
- bilstm_mean_rows: a bidirectional nn.LSTM -> out.mean(1) (ReduceMean over the steps) -> Linear
- gru_amax_rows_dynamo: nn.GRU -> torch.amax(out, 1) (ReduceMax, axes as an input) -> ReLU -> Linear
- lstm_rows_time_major: nn.LSTM(batch_first=False) exported with one example: the graph input is
  [28, 1, 28], time-major with a batch of 1, read by the LSTM without a Transpose; out[-1] -> Linear
- lstm2_rows_time_major_unfolded: a 2-layer nn.LSTM(batch_first=False), the batch a dynamic axis 1
  ([28, batch, 28]), exported with do_constant_folding=False: the gate blocks reordered by Slice and
  Concat of the 2-D weights, as torch 0.3 to 1.x wrote them; onnxruntime runs all 4 images as one batch
- gru_bi2_rows_dynamo_batch: a 2-layer bidirectional nn.GRU -> cat(h_n[-2], h_n[-1]) -> Linear, the
  dynamo exporter with a dynamic batch (the Reshape between the layers computed from Shape, Slice, Mul)
- linear_lstm_rows: nn.Linear on every row (MatMul + Add on [N, 28, 28]) -> ReLU -> nn.LSTM -> out[:, -1] -> Linear
- gru_linear_flatten_rows: nn.GRU -> nn.Linear on every step -> tanh -> flatten(1) -> Linear
- lstm_flatten_mean_rows: nn.LSTM -> Linear(flatten(out)) + Linear(out.mean(1)) (the mean makes the
  model's 2-D layers 1-D images inside modelc; the flatten stays in steps, features order)
- residual_gru_linear_mean_rows: x + Linear(x) on every row -> nn.GRU -> Linear on every step -> mean(1) -> Linear
- layernorm_lstm_rows, layernorm_lstm_rows_op17: Linear on every row -> nn.LayerNorm -> nn.LSTM ->
  nn.LayerNorm on every step -> mean(1) -> Linear (opset 13: the LayerNorms decomposed into ReduceMean,
  Sub, Pow, ...; opset 17: LayerNormalization nodes)
- lstm2_rows_dynamo_open: a 2-layer nn.LSTM -> out[:, -1] -> Linear, the dynamo exporter with the
  batch and the steps dynamic; lstm2_rows_dynamo_open.onnx.modelc gives `input: shape=28x28`
- keras_lstm_rows: a Keras 3 LSTM (return_sequences) -> LSTM -> Dense softmax, converted by tf2onnx
  (tf2onnx 1.17 writes a Keras 3 GRU as a Loop, which modelc does not read)
- keras_relu_lstm_rows: a Keras LSTM(activation="relu") -> Dense softmax (tf2onnx: activations
  Sigmoid, Relu, Relu)
- keras_bilstm_rows: two Keras Bidirectional LSTMs (tf2onnx: the zero states a Concat of two, the
  directions split by Slice + Squeeze and concatenated again, the final states the forward
  direction's last step and the backward direction's first)
Token-id models read recurrent_ids.npz (x: int64 ids [4, 12], y):
- keras_emb_lstm_ids: Keras Input (float) -> Embedding -> LSTM -> Dense softmax (tf2onnx: a Cast
  of the float ids before the Gather)
- emb_lstm_ids: nn.Embedding -> nn.LSTM -> out[:, -1] -> Linear (TorchScript exporter)
- emb_bigru_ids_dynamo: nn.Embedding -> bidirectional nn.GRU -> cat(h_n[-2], h_n[-1]) -> Linear (dynamo)
- emb_lstm_ids_open_length: nn.Embedding -> nn.LSTM -> out[:, -1] -> Linear (TorchScript exporter,
  dynamic_axes on the batch and the sequence length; emb_lstm_ids_open_length.onnx.modelc gives
  `input: shape=12`)

    PYTHONPATH=DIR ~/.cache/modelc-peers/venv/bin/python Tests/Fixtures/onnx/make_onnx_recurrent.py
    # torch 2.13, keras 3.15 + tensorflow 2.21, onnx 1.23, onnxruntime 1.32; DIR holds tf2onnx 1.17.0
    # (pip install --no-deps --target DIR tf2onnx==1.17.0)
"""
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import torch
import torch.nn as nn
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_onnx import images, INDICES  # noqa: E402


class Rows(nn.Module):
    """A recurrent module over the image rows (or over embedded ids), then a Linear head."""

    def __init__(self, cell, hidden, layers=1, bidirectional=False, mode="last", vocab=None, act=False, relu=False):
        super().__init__()
        self.emb = nn.Embedding(vocab, 8) if vocab else None
        extra = {"nonlinearity": "relu"} if relu else {}
        self.rnn = getattr(nn, cell)(8 if vocab else 28, hidden, **extra, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), 10)
        self.mode, self.cell, self.act = mode, cell, act

    def forward(self, x):
        if self.emb is not None:
            x = self.emb(x)
        out, h = self.rnn(x)
        if self.cell == "LSTM":
            h = h[0]
        if self.mode == "last":
            y = out[:, -1, :]
        elif self.mode == "mean":
            y = out.mean(1)
        elif self.mode == "amax":
            y = torch.amax(out, 1)
        else:
            y = torch.cat((h[-2], h[-1]), 1) if self.rnn.bidirectional else h[-1]
        return self.fc(torch.relu(y) if self.act else y)


class PerStep(nn.Module):
    """A Linear on every step, before the recurrent layer or after it."""

    def __init__(self, before):
        super().__init__()
        self.before = before
        self.enc = nn.Linear(28, 16) if before else nn.Linear(12, 4)
        self.rnn = nn.LSTM(16, 12, batch_first=True) if before else nn.GRU(28, 12, batch_first=True)
        self.fc = nn.Linear(12, 10) if before else nn.Linear(28 * 4, 10)

    def forward(self, x):
        if self.before:
            out, _ = self.rnn(torch.relu(self.enc(x)))
            return self.fc(out[:, -1])
        out, _ = self.rnn(x)
        return self.fc(torch.tanh(self.enc(out)).flatten(1))


class Branches(nn.Module):
    """Sequence layers next to a mean over the steps (modelc lifts such a model's 2-D layers)."""

    def __init__(self, residual):
        super().__init__()
        self.residual = residual
        self.enc = nn.Linear(28, 28) if residual else None
        self.rnn = nn.GRU(28, 12, batch_first=True) if residual else nn.LSTM(28, 12, batch_first=True)
        self.step = nn.Linear(12, 6) if residual else None
        self.fc = nn.Linear(6, 10) if residual else nn.Linear(28 * 12, 10)
        self.fc2 = None if residual else nn.Linear(12, 10)

    def forward(self, x):
        if self.residual:
            out, _ = self.rnn(x + self.enc(x))
            return self.fc(torch.relu(self.step(out)).mean(1))
        out, _ = self.rnn(x)
        return self.fc(out.flatten(1)) + self.fc2(out.mean(1))


class Normed(nn.Module):
    """LayerNorms over each step's features, before and after the recurrent layer."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(28, 16)
        self.norm_in = nn.LayerNorm(16)
        self.rnn = nn.LSTM(16, 12, batch_first=True)
        self.norm_out = nn.LayerNorm(12)
        self.fc = nn.Linear(12, 10)

    def forward(self, x):
        out, _ = self.rnn(self.norm_in(self.enc(x)))
        return self.fc(self.norm_out(out).mean(1))


def torch_model(seed, **kw):
    if "before" in kw:
        return seeded(seed, lambda: PerStep(**kw))
    if "residual" in kw:
        return seeded(seed, lambda: Branches(**kw))
    if "normed" in kw:
        m = seeded(seed, Normed)
        with torch.no_grad():                               # LayerNorms that are not the identity
            for norm in (m.norm_in, m.norm_out):
                norm.weight.copy_(1 + torch.randn(norm.weight.shape) * 0.3)
                norm.bias.copy_(torch.randn(norm.bias.shape) * 0.2)
        return m
    return seeded(seed, lambda: Rows(**kw))


def seeded(seed, make):
    """make() after torch.manual_seed(seed), with non-trivial recurrent biases and a sharper head."""
    torch.manual_seed(seed)
    m = make()
    with torch.no_grad():
        for name, p in m.rnn.named_parameters():   # non-trivial biases, distinct gates
            if name.startswith("bias"):
                p.copy_(torch.randn(p.shape) * 0.3)
        m.fc.weight.mul_(6)
    return m.eval()


def export(m, x, path, dynamo, dynamic_batch=False, open_length=False, opset=13):
    if open_length:                                         # the sizes the graph leaves open, annotated
        with open(path + ".modelc", "w") as f:
            f.write("input: shape=" + "x".join(str(d) for d in x.shape[1:]) + "\n")
    if dynamo:
        dims = {0: torch.export.Dim("batch"), 1: torch.export.Dim("steps", min=2)} if open_length else {0: torch.export.Dim("batch")}
        shapes = {"dynamic_shapes": {"x": dims}} if dynamic_batch or open_length else {}
        example = x[:2] if dynamic_batch or open_length else x[:1]   # (a batch of 1 would be specialized)
        torch.onnx.export(m, (torch.from_numpy(example),), path, dynamo=True, input_names=["x"], output_names=["y"], **shapes)
        proto = onnx.load(path)                             # one self-contained file (no .onnx.data)
        if os.path.exists(path + ".data"):
            os.remove(path + ".data")
        onnx.save(proto, path)
    else:
        axes = {0: "batch", 1: "steps"} if open_length else {0: "batch"}
        torch.onnx.export(m, torch.from_numpy(x[:1]), path, opset_version=opset, dynamo=False, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": axes, "y": {0: "batch"}})
    with torch.no_grad():
        return torch.softmax(m(torch.from_numpy(x)).double(), dim=1).numpy()


def keras_model(path, x, layers, seed, extra_bias):
    """A Keras 3 Sequential model converted by tf2onnx (batch size None); Keras's probabilities and count."""
    import tensorflow as tf
    import keras
    import tf2onnx
    keras.utils.set_random_seed(seed)
    m = keras.Sequential(layers)
    rng = np.random.default_rng(seed + 1)
    for layer in m.layers:                                 # non-zero biases, a sharper head
        ws = layer.get_weights()
        for k, w in enumerate(ws):
            if w.ndim == 1:
                ws[k] = (rng.standard_normal(w.shape) * 0.3).astype(np.float32)
        layer.set_weights(ws)
    head = m.layers[-1].get_weights()
    m.layers[-1].set_weights([head[0] * 6, head[1]])
    spec = (tf.TensorSpec((None,) + x.shape[1:], tf.float32, name="x"),)
    proto, _ = tf2onnx.convert.from_function(tf.function(lambda t: m(t, training=False)), input_signature=spec, opset=13)
    onnx.save(proto, path)
    # tf2onnx writes each LSTM's B with a zero recurrent half (Keras has one bias): 4 x units more per direction.
    return m.predict(x, verbose=0).astype(np.float64), m.count_params() + extra_bias


class TimeMajor(nn.Module):
    """batch_first=False: the graph input is [T, N, F]."""

    def __init__(self, hidden=14, layers=1):
        super().__init__()
        self.rnn = nn.LSTM(28, hidden, num_layers=layers)
        self.fc = nn.Linear(hidden, 10)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[-1])


def export_time_major(path, rows):
    """Exported with one example: the graph input is [28, 1, 28]."""
    m = seeded(719, lambda: TimeMajor())
    x = torch.from_numpy(rows[:1]).transpose(0, 1)          # [28, 1, 28]
    torch.onnx.export(m, x, path, opset_version=13, dynamo=False, input_names=["x"], output_names=["y"])
    with torch.no_grad():
        ref = np.concatenate([torch.softmax(m(torch.from_numpy(rows[i:i + 1]).transpose(0, 1)).double(), dim=1).numpy() for i in range(len(rows))])
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = np.concatenate([sess.run(None, {"x": rows[i:i + 1].transpose(1, 0, 2)})[0] for i in range(len(rows))]).astype(np.float64)
    return softmax(got), ref, sum(p.numel() for p in m.parameters())


def export_time_major_unfolded(path, rows):
    """A dynamic batch on axis 1, constant folding off (the weights' Slice + Concat stay)."""
    m = seeded(721, lambda: TimeMajor(hidden=12, layers=2))
    x = torch.from_numpy(rows).transpose(0, 1)              # [28, 4, 28]
    torch.onnx.export(m, x, path, opset_version=13, dynamo=False, do_constant_folding=False, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {1: "batch"}, "y": {0: "batch"}})
    assert any(n.op_type == "Concat" and any(i.startswith("rnn.") or "weight" in i for i in n.input) or n.op_type == "Slice"
               for n in onnx.load(path).graph.node), "expected the weights' Slice + Concat"
    with torch.no_grad():
        ref = torch.softmax(m(x).double(), dim=1).numpy()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": rows.transpose(1, 0, 2)})[0].astype(np.float64)
    return softmax(got), ref, sum(p.numel() for p in m.parameters())


def run(path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))]).astype(np.float64)


def softmax(v):
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main():
    # --only NAME,NAME: make those models and keep every other entry of expected_recurrent.json
    only = set(sys.argv[sys.argv.index("--only") + 1].split(",")) if "--only" in sys.argv else set()
    rows = images()[:, 0]                                  # [4, 28, 28]
    ids = np.random.default_rng(702).integers(0, 30, (4, 12)).astype(np.int64)
    if not only:
        np.savez(os.path.join(HERE, "recurrent_ids.npz"), x=ids, y=np.arange(4, dtype=np.int64))
    out = {"idx": "Tests/Fixtures/data/kmnist/t10k-images-idx3-ubyte.gz", "indices": INDICES,
           "npz": "Tests/Fixtures/onnx/recurrent_ids.npz", "models": {}}
    if only:
        with open(os.path.join(HERE, "expected_recurrent.json")) as f:
            out = json.load(f)

    def record(name, probs, ref, params, data):
        path = os.path.join(HERE, name + ".onnx")
        onnx.checker.check_model(path)
        assert np.abs(ref - probs).max() < 1e-5, (name, np.abs(ref - probs).max())
        out["models"][name] = {"input": data, "params": int(params),
                               "probabilities": [[round(float(v), 9) for v in row] for row in probs]}
        print(name, os.path.getsize(path), "bytes", [n.op_type for n in onnx.load(path).graph.node if n.op_type != "Constant"])

    specs = [("lstm_rows", 710, False, dict(cell="LSTM", hidden=20)),
             ("gru_bi2_rows", 711, False, dict(cell="GRU", hidden=12, layers=2, bidirectional=True, mode="hidden", act=True)),
             ("rnn_rows", 712, False, dict(cell="RNN", hidden=16, mode="hidden")),
             ("lstm2_rows_dynamo", 713, True, dict(cell="LSTM", hidden=16, layers=2)),
             ("bilstm_mean_rows", 714, False, dict(cell="LSTM", hidden=10, bidirectional=True, mode="mean")),
             ("gru_amax_rows_dynamo", 715, True, dict(cell="GRU", hidden=14, mode="amax", act=True)),
             ("rnn_relu_rows", 720, False, dict(cell="RNN", hidden=16, mode="hidden", relu=True)),
             ("emb_lstm_ids", 716, False, dict(cell="LSTM", hidden=16, vocab=30)),
             ("emb_bigru_ids_dynamo", 717, True, dict(cell="GRU", hidden=10, bidirectional=True, mode="hidden", vocab=30)),
             ("gru_bi2_rows_dynamo_batch", 722, True, dict(cell="GRU", hidden=10, layers=2, bidirectional=True, mode="hidden")),
             ("lstm2_rows_dynamo_open", 723, True, dict(cell="LSTM", hidden=12, layers=2)),
             ("emb_lstm_ids_open_length", 724, False, dict(cell="LSTM", hidden=12, vocab=30)),
             ("linear_lstm_rows", 725, False, dict(before=True)),
             ("gru_linear_flatten_rows", 726, False, dict(before=False)),
             ("lstm_flatten_mean_rows", 727, False, dict(residual=False)),
             ("residual_gru_linear_mean_rows", 728, False, dict(residual=True)),
             ("layernorm_lstm_rows", 729, False, dict(normed=True)),
             ("layernorm_lstm_rows_op17", 729, False, dict(normed=True))]
    for name, seed, dynamo, kw in specs:
        if only and name not in only:
            continue
        m = torch_model(seed, **kw)
        x = ids if "vocab" in kw else rows
        path = os.path.join(HERE, name + ".onnx")
        ref = export(m, x, path, dynamo, dynamic_batch=name.endswith("_batch"), open_length="_open" in name,
                     opset=17 if name.endswith("_op17") else 13)
        record(name, softmax(run(path, x)), ref, sum(p.numel() for p in m.parameters()), "npz" if "vocab" in kw else "idx")
    if not only or "lstm_rows_time_major" in only:
        path = os.path.join(HERE, "lstm_rows_time_major.onnx")
        probs, ref, params = export_time_major(path, rows)
        record("lstm_rows_time_major", probs, ref, params, "idx")
    if not only or "lstm2_rows_time_major_unfolded" in only:
        path = os.path.join(HERE, "lstm2_rows_time_major_unfolded.onnx")
        probs, ref, params = export_time_major_unfolded(path, rows)
        record("lstm2_rows_time_major_unfolded", probs, ref, params, "idx")
    if "--no-keras" not in sys.argv:
        import keras
        L = keras.layers
        keras_specs = [
            ("keras_lstm_rows", rows, "idx", 4 * (12 + 10),
             [keras.Input((28, 28)), L.LSTM(12, return_sequences=True), L.LSTM(10), L.Dense(10, activation="softmax")]),
            ("keras_bilstm_rows", rows, "idx", 2 * 4 * (8 + 6),
             [keras.Input((28, 28)), L.Bidirectional(L.LSTM(8, return_sequences=True)), L.Bidirectional(L.LSTM(6)),
              L.Dense(10, activation="softmax")]),
            ("keras_emb_lstm_ids", ids.astype(np.float32), "npz", 4 * 10,
             [keras.Input((12,)), L.Embedding(30, 8), L.LSTM(10), L.Dense(10, activation="softmax")]),
            ("keras_relu_lstm_rows", rows, "idx", 4 * 12,
             [keras.Input((28, 28)), L.LSTM(12, activation="relu"), L.Dense(10, activation="softmax")])]
        for k, (name, x, data, extra, layers) in enumerate(keras_specs):
            if only and name not in only:
                continue
            path = os.path.join(HERE, name + ".onnx")
            ref, params = keras_model(path, x, layers, 700 + 10 * k, extra)
            record(name, run(path, x), ref, params, data)
    with open(os.path.join(HERE, "expected_recurrent.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

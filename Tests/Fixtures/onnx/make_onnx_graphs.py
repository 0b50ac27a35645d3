"""Makes the ONNX graph fixtures of Tests/Fixtures/onnx once (CI never runs this; the Swift tests
read the committed files). expected_graphs.json holds, as expected.json does for make_onnx.py,
onnxruntime's class probabilities for the first KMNIST fixture images (pixels / 255) and the
number of float initializer elements the `onnx` package counts (external data included).

- branches.onnx: a PyTorch residual block (Add) and an Inception-style block (Concat of 1x1, 3x3
  and 5x5 branches), then Max, Min, Mul and Sub of two branches (torch.onnx.export).
- sum_mean.onnx: Sum and Mean of three branches and a Concat along the height axis, written
  with the onnx helper API (PyTorch exports neither Sum nor Mean).
- keras_nhwc.onnx: a Keras 3 model (NHWC) converted by tf2onnx (tf2onnx.convert.from_function,
  batch size None): a Reshape (or Transpose) to NCHW at the input, a Transpose back to NHWC and
  a Reshape to [N, -1] (Keras's HWC Flatten) before the Dense layers (MatMul + Add).
- external_data.onnx: branches.onnx with every initializer in external_data.onnx.data
  (data_location EXTERNAL, location / offset / length keys).
- derived_weights.onnx: a Conv bias made by ConstantOfShape and a Gemm weight read through an
  Identity of its initializer.

    PYTHONPATH=DIR ~/.cache/modelc-peers/venv/bin/python Tests/Fixtures/onnx/make_onnx_graphs.py
    # torch 2.13, keras 3.15 + tensorflow 2.21, onnx 1.23, onnxruntime 1.32; DIR holds tf2onnx 1.17.0
    # (pip install --no-deps --target DIR tf2onnx==1.17.0: its pinned protobuf is not needed for conversion)
"""
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import torch
import torch.nn as nn
import onnx
from onnx import helper, numpy_helper, TensorProto
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_onnx import images, randomize, INDICES  # noqa: E402


class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.res1 = nn.Conv2d(4, 4, 3, padding=1)
        self.res2 = nn.Conv2d(4, 4, 3, padding=1)
        self.b1 = nn.Conv2d(4, 2, 1)
        self.b3 = nn.Conv2d(4, 3, 3, padding=1)
        self.b5 = nn.Conv2d(4, 2, 5, padding=2)
        self.g1 = nn.Conv2d(7, 7, 1)
        self.g2 = nn.Conv2d(7, 7, 1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(7 * 7 * 7, 10)

    def forward(self, x):
        x = torch.relu(self.bn(self.stem(x)))
        x = torch.relu(x + self.res2(torch.relu(self.res1(x))))          # residual Add
        x = self.pool(x)
        x = torch.cat([self.b1(x), self.b3(x), self.b5(x)], dim=1)         # Inception-style Concat
        a, b = self.g1(x), self.g2(x)
        x = torch.maximum(a, b) - torch.minimum(a, b) * torch.sigmoid(b)   # Max, Min, Mul, Sub
        return self.fc(torch.flatten(self.pool(x), 1))


def export_branches(path, x):
    torch.manual_seed(300)
    model = Branches()
    randomize(model, 301)
    model.eval()
    torch.onnx.export(model, torch.from_numpy(x[:1]), path, opset_version=13, dynamo=False,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(x)).double(), dim=1).numpy()


def conv_node(name, x, cin, cout, k, rng, inits, pad):
    w = (rng.standard_normal((cout, cin, k, k)) * 0.4).astype(np.float32)
    b = (rng.standard_normal(cout) * 0.1).astype(np.float32)
    inits += [numpy_helper.from_array(w, name + ".weight"), numpy_helper.from_array(b, name + ".bias")]
    return helper.make_node("Conv", [x, name + ".weight", name + ".bias"], [name + "_out"], name="/" + name + "/Conv",
                            kernel_shape=[k, k], pads=[pad] * 4)


def make_model(nodes, inits, name):
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_onnx_graphs.py")
    m.ir_version = 8
    return m


def sum_mean():
    rng = np.random.default_rng(400)
    inits, nodes = [], []
    for n in ("a", "b", "c"):
        nodes.append(conv_node(n, "input", 1, 3, 3, rng, inits, 1))
    nodes += [helper.make_node("Sum", ["a_out", "b_out", "c_out"], ["s"], name="/sum/Sum"),
              helper.make_node("Relu", ["s"], ["r"], name="/relu/Relu"),
              helper.make_node("Mean", ["r", "a_out", "b_out"], ["m"], name="/mean/Mean"),
              helper.make_node("MaxPool", ["m"], ["p"], name="/pool1/MaxPool", kernel_shape=[2, 2], strides=[2, 2])]
    nodes.append(conv_node("d", "p", 3, 3, 1, rng, inits, 0))
    w = (rng.standard_normal((10, 3 * 14 * 7)) * 0.3).astype(np.float32)
    inits += [numpy_helper.from_array(w, "fc.weight"), numpy_helper.from_array(np.zeros(10, np.float32) + 0.05, "fc.bias")]
    nodes += [helper.make_node("Concat", ["p", "d_out"], ["cat"], name="/cat/Concat", axis=2),      # along H
              helper.make_node("MaxPool", ["cat"], ["q"], name="/pool2/MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
              helper.make_node("Flatten", ["q"], ["f"], name="/flatten/Flatten", axis=1),
              helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["output"], name="/fc/Gemm", transB=1)]
    return make_model(nodes, inits, "sum_mean")


def derived_weights():
    rng = np.random.default_rng(500)
    inits, nodes = [], []
    w = (rng.standard_normal((4, 1, 3, 3)) * 0.5).astype(np.float32)
    inits.append(numpy_helper.from_array(w, "conv.weight"))
    fill = helper.make_tensor("value", TensorProto.FLOAT, [1], [0.25])
    nodes += [helper.make_node("Constant", [], ["bias_shape"], name="/conv/Constant",
                               value=helper.make_tensor("v", TensorProto.INT64, [1], [4])),
              helper.make_node("ConstantOfShape", ["bias_shape"], ["conv.bias"], name="/conv/ConstantOfShape", value=fill),
              helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv", kernel_shape=[3, 3], strides=[2, 2]),
              helper.make_node("Relu", ["c"], ["r"], name="/relu/Relu"),
              helper.make_node("Flatten", ["r"], ["f"], name="/flatten/Flatten", axis=1)]
    fw = (rng.standard_normal((10, 4 * 13 * 13)) * 0.2).astype(np.float32)
    inits += [numpy_helper.from_array(fw, "fc.weight"), numpy_helper.from_array((rng.standard_normal(10) * 0.1).astype(np.float32), "fc.bias")]
    nodes += [helper.make_node("Identity", ["fc.weight"], ["tied_weight"], name="/fc/Identity"),
              helper.make_node("Gemm", ["f", "tied_weight", "fc.bias"], ["output"], name="/fc/Gemm", transB=1)]
    return make_model(nodes, inits, "derived_weights")


def keras_nhwc(path, x):
    import tensorflow as tf
    import keras
    import tf2onnx
    keras.utils.set_random_seed(600)
    m = keras.Sequential([keras.Input((28, 28, 1)),
                          keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
                          keras.layers.MaxPooling2D(2),
                          keras.layers.Conv2D(6, 3, strides=2, activation="relu"),
                          keras.layers.Flatten(),
                          keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
    for layer in m.layers:   # non-zero biases, a sharper head
        ws = layer.get_weights()
        if len(ws) == 2:
            ws[1] = np.random.default_rng(601).standard_normal(ws[1].shape).astype(np.float32) * 0.2
            layer.set_weights(ws)
    head = m.layers[-1].get_weights()
    m.layers[-1].set_weights([head[0] * 4, head[1]])
    spec = (tf.TensorSpec((None, 28, 28, 1), tf.float32, name="input"),)
    proto, _ = tf2onnx.convert.from_function(tf.function(lambda t: m(t, training=False)), input_signature=spec, opset=13)
    proto.graph.output[0].name   # noqa: B018 (the output keeps tf2onnx's name)
    onnx.save(proto, path)
    return m.predict(np.transpose(x, (0, 2, 3, 1)), verbose=0).astype(np.float64)


def run(path, x, nhwc=False):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feed = np.transpose(x, (0, 2, 3, 1)) if nhwc else x
    return sess.run(None, {sess.get_inputs()[0].name: feed})[0].astype(np.float64)


def softmax(v):
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def float_elements(path):
    proto = onnx.load(path)   # loads external data too
    return sum(int(np.prod(t.dims)) for t in proto.graph.initializer if t.data_type == TensorProto.FLOAT)


def filled_elements(path):
    """Elements of the weights ConstantOfShape nodes make (their shape is a Constant node's value)."""
    proto = onnx.load(path)
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in proto.graph.node if n.op_type == "Constant"}
    return sum(int(np.prod(consts[n.input[0]])) for n in proto.graph.node if n.op_type == "ConstantOfShape")


def main():
    x = images()
    out = {"idx": "Tests/Fixtures/data/kmnist/t10k-images-idx3-ubyte.gz", "indices": INDICES, "models": {}}

    def record(name, probs, ref=None):
        path = os.path.join(HERE, name + ".onnx")
        onnx.checker.check_model(path)
        if ref is not None:
            assert np.abs(ref - probs).max() < 1e-5, name
        out["models"][name] = {"opset": 13, "float_initializer_elements": float_elements(path),
                               "filled_weight_elements": filled_elements(path),
                               "probabilities": [[round(float(v), 9) for v in row] for row in probs]}
        print(name, os.path.getsize(path), "bytes", [n.op_type for n in onnx.load(path).graph.node])

    path = os.path.join(HERE, "branches.onnx")
    ref = export_branches(path, x)
    record("branches", softmax(run(path, x)), ref)

    for name, make in (("sum_mean", sum_mean), ("derived_weights", derived_weights)):
        path = os.path.join(HERE, name + ".onnx")
        onnx.save(make(), path)
        record(name, softmax(run(path, x)))

    ext = os.path.join(HERE, "external_data.onnx")
    proto = onnx.load(os.path.join(HERE, "branches.onnx"))
    if os.path.exists(ext + ".data"):
        os.remove(ext + ".data")
    onnx.save_model(proto, ext, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="external_data.onnx.data", size_threshold=64)
    record("external_data", softmax(run(ext, x)))

    if "--no-keras" not in sys.argv:
        path = os.path.join(HERE, "keras_nhwc.onnx")
        ref = keras_nhwc(path, x)
        record("keras_nhwc", run(path, x, nhwc=True), ref)
    with open(os.path.join(HERE, "expected_graphs.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

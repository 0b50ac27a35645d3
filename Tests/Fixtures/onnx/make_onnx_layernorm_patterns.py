"""Makes the decomposed-LayerNorm ONNX fixtures of Tests/Fixtures/onnx once (CI never runs this;
the Swift tests read the committed files). expected_layernorm_patterns.json holds, as expected.json
does for make_onnx.py, onnxruntime's class probabilities for the first KMNIST fixture images
(pixels / 255) and the number of float initializer elements the `onnx` package counts.

- ln_decomposed_opset13.onnx: torch.onnx.export (TorchScript exporter, dynamo=False) at opset 13,
  where nn.LayerNorm has no ONNX operator and is written as ReduceMean, Sub, Pow, ReduceMean,
  Add, Sqrt, Div, Mul, Add: a LayerNorm over a whole [C, H, W] image and one over a vector
  (eps 1e-3).
- ln_decomposed_opset14.onnx: the same exporter at opset 14: LayerNorm(elementwise_affine=False)
  (no Mul, no Add) and LayerNorm(bias=False) (no Add).
- ln_decomposed_reciprocal.onnx: written with the onnx helper API in the form tf2onnx and
  keras2onnx use: ReduceMean with its axes as an input (opset 18) and positive, Mul(d, d) for the
  square, Reciprocal then Mul instead of Div, gamma and beta of dims [1, C], operands swapped.
- ln_decomposed_tf2onnx.onnx: a Keras 3 model (NHWC input) converted by tf2onnx at opset 13: its
  LayerNormalization (eps 1e-3) in the scaled form Keras computes: Reciprocal(Sqrt(var + eps))
  times gamma, then Add(Mul(x, inv), Mul(Neg(mean), inv) + beta).

The script checks that each export really is decomposed (no LayerNormalization node) and that
onnxruntime agrees with PyTorch within 1e-5.

    PYTHONPATH=DIR ~/.cache/modelc-peers/venv/bin/python Tests/Fixtures/onnx/make_onnx_layernorm_patterns.py
    # torch 2.13, keras 3.15 + tensorflow 2.21, onnx 1.23, onnxruntime 1.32; DIR holds tf2onnx 1.17.0
    # (pip install --no-deps --target DIR tf2onnx==1.17.0, as for make_onnx_graphs.py)
"""
import json, os, sys
import numpy as np
import torch
import torch.nn as nn
import onnx
from onnx import helper, numpy_helper, TensorProto
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_onnx import images, INDICES  # noqa: E402


def opset13():
    return nn.Sequential(
        nn.Conv2d(1, 4, 5, stride=3), nn.LayerNorm([4, 8, 8]), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64, 16), nn.LayerNorm(16, eps=1e-3), nn.Tanh(), nn.Linear(16, 10))


def opset14():
    return nn.Sequential(
        nn.AvgPool2d(4), nn.Flatten(), nn.Linear(49, 16), nn.LayerNorm(16, elementwise_affine=False), nn.ReLU(),
        nn.Linear(16, 16), nn.LayerNorm(16, bias=False), nn.Tanh(), nn.Linear(16, 10))


def randomize(model, seed):
    # Non-trivial gamma and beta (make_onnx.randomize assumes every LayerNorm has them), a sharper head.
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.LayerNorm) and m.weight is not None:
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.rand(m.bias.shape, generator=g) - 0.5)
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    last.weight.data *= 8


def export(name, make, opset, seed, x):
    torch.manual_seed(seed)
    model = make()
    randomize(model, seed + 1)
    model.eval()
    path = os.path.join(HERE, name + ".onnx")
    torch.onnx.export(model, torch.from_numpy(x[:1]), path, opset_version=opset, dynamo=False,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(x)).double(), dim=1).numpy()


def reciprocal_form():
    rng = np.random.default_rng(700)
    f = lambda *s: (rng.standard_normal(s) * 0.4).astype(np.float32)   # noqa: E731
    inits = [numpy_helper.from_array(f(49, 16), "dense.kernel"), numpy_helper.from_array(f(16) * 0.5, "dense.bias"),
             numpy_helper.from_array(rng.uniform(0.5, 1.5, (1, 16)).astype(np.float32), "ln.gamma"),
             numpy_helper.from_array(rng.uniform(-0.5, 0.5, (1, 16)).astype(np.float32), "ln.beta"),
             numpy_helper.from_array(np.array([1], np.int64), "ln.axes"),
             numpy_helper.from_array(np.array(1e-5, np.float32), "ln.eps"),
             numpy_helper.from_array(f(16, 10) * 4, "head.kernel"), numpy_helper.from_array(f(10) * 0.5, "head.bias")]
    n = helper.make_node
    nodes = [n("AveragePool", ["input"], ["p"], name="/pool/AveragePool", kernel_shape=[4, 4], strides=[4, 4]),
             n("Flatten", ["p"], ["flat"], name="/flatten/Flatten", axis=1),
             n("MatMul", ["flat", "dense.kernel"], ["mm"], name="/dense/MatMul"),
             n("Add", ["mm", "dense.bias"], ["h"], name="/dense/Add"),
             n("ReduceMean", ["h", "ln.axes"], ["mean"], name="/ln/ReduceMean"),
             n("Sub", ["h", "mean"], ["d"], name="/ln/Sub"),
             n("Mul", ["d", "d"], ["sq"], name="/ln/Square"),
             n("ReduceMean", ["sq", "ln.axes"], ["var"], name="/ln/ReduceMean_1"),
             n("Add", ["ln.eps", "var"], ["ve"], name="/ln/Add"),
             n("Sqrt", ["ve"], ["s"], name="/ln/Sqrt"),
             n("Reciprocal", ["s"], ["inv"], name="/ln/Reciprocal"),
             n("Mul", ["inv", "d"], ["nrm"], name="/ln/Mul"),
             n("Mul", ["ln.gamma", "nrm"], ["g"], name="/ln/Mul_1"),
             n("Add", ["ln.beta", "g"], ["y"], name="/ln/Add_1"),
             n("Relu", ["y"], ["r"], name="/relu/Relu"),
             n("MatMul", ["r", "head.kernel"], ["mm2"], name="/head/MatMul"),
             n("Add", ["mm2", "head.bias"], ["output"], name="/head/Add")]
    g = helper.make_graph(nodes, "ln_decomposed_reciprocal",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)], producer_name="make_onnx_layernorm_patterns.py")
    m.ir_version = 8
    return m


def reciprocal_reference(x):
    """The reciprocal-form graph computed with numpy (float64), as nn.LayerNorm would."""
    p = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in reciprocal_form().graph.initializer}
    pooled = x.astype(np.float64).reshape(-1, 7, 4, 7, 4).mean(axis=(2, 4)).reshape(-1, 49)
    h = pooled @ p["dense.kernel"] + p["dense.bias"]
    y = (h - h.mean(1, keepdims=True)) / np.sqrt(h.var(1, keepdims=True) + 1e-5) * p["ln.gamma"] + p["ln.beta"]
    logits = np.maximum(y, 0) @ p["head.kernel"] + p["head.bias"]
    return softmax(logits)


def keras_tf2onnx(path, x):
    """A Keras LayerNormalization converted by tf2onnx; returns Keras's class probabilities."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import keras
    import tf2onnx
    keras.utils.set_random_seed(900)
    m = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.AveragePooling2D(4), keras.layers.Flatten(),
                          keras.layers.Dense(16), keras.layers.LayerNormalization(epsilon=1e-3),
                          keras.layers.Activation("relu"), keras.layers.Dense(10)])
    rng = np.random.default_rng(901)
    ln = m.layers[3]
    ln.set_weights([rng.uniform(0.5, 1.5, 16).astype(np.float32), rng.uniform(-0.5, 0.5, 16).astype(np.float32)])
    head = m.layers[-1].get_weights()
    m.layers[-1].set_weights([head[0] * 4, rng.standard_normal(10).astype(np.float32) * 0.2])
    spec = (tf.TensorSpec((None, 28, 28, 1), tf.float32, name="input"),)
    proto, _ = tf2onnx.convert.from_function(tf.function(lambda t: m(t, training=False)), input_signature=spec, opset=13)
    onnx.save(proto, path)
    return softmax(m.predict(np.transpose(x, (0, 2, 3, 1)), verbose=0).astype(np.float64))


def softmax(v):
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main():
    x = images()
    out = {"idx": "Tests/Fixtures/data/kmnist/t10k-images-idx3-ubyte.gz", "indices": INDICES, "models": {}}
    refs = {"ln_decomposed_opset13": (13, export("ln_decomposed_opset13", opset13, 13, 800, x)),
            "ln_decomposed_opset14": (14, export("ln_decomposed_opset14", opset14, 14, 810, x))}
    onnx.save(reciprocal_form(), os.path.join(HERE, "ln_decomposed_reciprocal.onnx"))
    refs["ln_decomposed_reciprocal"] = (18, reciprocal_reference(x))
    refs["ln_decomposed_tf2onnx"] = (13, keras_tf2onnx(os.path.join(HERE, "ln_decomposed_tf2onnx.onnx"), x))
    for name, (opset, ref) in refs.items():
        path = os.path.join(HERE, name + ".onnx")
        proto = onnx.load(path)
        onnx.checker.check_model(proto)
        ops = [n.op_type for n in proto.graph.node]
        assert "LayerNormalization" not in ops and "ReduceMean" in ops, (name, ops)
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        feed = np.transpose(x, (0, 2, 3, 1)) if name == "ln_decomposed_tf2onnx" else x   # Keras: NHWC
        probs = softmax(sess.run(None, {sess.get_inputs()[0].name: feed})[0].astype(np.float64))
        assert np.abs(ref - probs).max() < 1e-5, (name, np.abs(ref - probs).max())
        # Parameters: the float initializers but the scalars (eps and the exponent 2 are 0-d).
        floats = sum(int(np.prod(t.dims)) for t in proto.graph.initializer if t.data_type == TensorProto.FLOAT and len(t.dims) > 0)
        out["models"][name] = {"opset": opset, "float_initializer_elements": floats,
                               "probabilities": [[round(float(v), 9) for v in row] for row in probs]}
        print(name, os.path.getsize(path), "bytes,", floats, "initializer floats,", ops)
    with open(os.path.join(HERE, "expected_layernorm_patterns.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

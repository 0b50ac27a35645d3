"""Makes scalar_maps.onnx and expected_scalar_maps.json once (CI never runs this; the Swift tests
read the committed files): a PyTorch model whose forward normalizes its input and rescales a
feature map with Python numbers, which torch.onnx writes as Sub, Div, Mul and Add nodes with a
one-value constant (and `1.0 - x`, a Sub of the computed tensor from a constant):

    x = (x - 0.1307) / 0.3081; x = relu(conv(x)) * 2.0 + 0.5; x = 1.0 - x / -3.0; fc(flatten(x))

expected_scalar_maps.json holds onnxruntime's class probabilities for the KMNIST fixture images
(pixels / 255), as expected.json does for make_onnx.py.

    ~/.cache/modelc-peers/venv/bin/python Tests/Fixtures/onnx/make_onnx_scalar_maps.py   # torch 2.13, onnxruntime 1.32
"""
import json, os, sys
import numpy as np
import torch
import torch.nn as nn
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_onnx import images, INDICES  # noqa: E402


class ScalarMaps(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, stride=2)
        self.fc = nn.Linear(4 * 13 * 13, 10)

    def forward(self, x):
        x = (x - 0.1307) / 0.3081
        x = torch.relu(self.conv(x)) * 2.0 + 0.5
        x = 1.0 - x / -3.0
        return self.fc(x.flatten(1))


def main():
    torch.manual_seed(730)
    m = ScalarMaps().eval()
    x = images()
    path = os.path.join(HERE, "scalar_maps.onnx")
    torch.onnx.export(m, torch.from_numpy(x[:1]), path, opset_version=13, dynamo=False, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    onnx.checker.check_model(path)
    ops = [n.op_type for n in onnx.load(path).graph.node if n.op_type != "Constant"]
    assert ops.count("Sub") == 2 and ops.count("Div") == 2 and "Mul" in ops and "Add" in ops, ops
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    logits = np.concatenate([sess.run(None, {"x": x[i:i + 1]})[0] for i in range(len(x))]).astype(np.float64)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    with torch.no_grad():
        ref = torch.softmax(m(torch.from_numpy(x)).double(), dim=1).numpy()
    assert np.abs(ref - probs).max() < 1e-5
    out = {"idx": "Tests/Fixtures/data/kmnist/t10k-images-idx3-ubyte.gz", "indices": INDICES,
           "models": {"scalar_maps": {"params": sum(p.numel() for p in m.parameters()),
                                      "probabilities": [[round(float(v), 9) for v in row] for row in probs]}}}
    with open(os.path.join(HERE, "expected_scalar_maps.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("scalar_maps", os.path.getsize(path), "bytes", ops)


if __name__ == "__main__":
    main()

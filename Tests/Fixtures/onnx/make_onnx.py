"""Makes the ONNX fixtures of Tests/Fixtures/onnx once (CI never runs this; the Swift tests read
the committed files). Each model is a small PyTorch network of layers modelc compiles, exported
with torch.onnx.export (TorchScript exporter, dynamo=False, dynamic batch axis); expected.json
holds onnxruntime's class probabilities for the first images of Tests/Fixtures/data/kmnist
(pixels / 255, as modelc's default input scaling) and the number of float initializer elements
the `onnx` package counts in each file.

    ~/.cache/modelc-peers/venv/bin/python Tests/Fixtures/onnx/make_onnx.py   # torch 2.13, onnx 1.23, onnxruntime 1.32
"""
import gzip, json, os, sys
import numpy as np
import torch
import torch.nn as nn
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
IDX = os.path.join(ROOT, "Tests/Fixtures/data/kmnist/t10k-images-idx3-ubyte.gz")
INDICES = [0, 1, 2, 3]


def cnn_bn():
    # Conv+BN (folded into the Conv by the exporter), ReLU then BN (kept), pools, Linear.
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, stride=2), nn.ReLU(), nn.BatchNorm2d(8), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(8 * 3 * 3, 10))


def mlp():
    # Gemm, BatchNorm1d, LeakyReLU, Dropout (removed by the eval export), Tanh, Softmax head.
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 24), nn.BatchNorm1d(24), nn.LeakyReLU(0.1), nn.Dropout(0.2),
        nn.Linear(24, 16), nn.Tanh(), nn.Linear(16, 10), nn.Softmax(dim=1))


def decoder_ops():
    # ELU, ConvTranspose, Sigmoid, Upsample (nearest), asymmetric zero padding, dilation,
    # GlobalAveragePool, MatMul without bias (Linear(bias=False) exports as MatMul).
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ELU(0.5), nn.ConvTranspose2d(4, 4, 2, stride=2),
        nn.Sigmoid(), nn.MaxPool2d(2), nn.Upsample(scale_factor=2, mode="nearest"), nn.ZeroPad2d((1, 0, 1, 0)),
        nn.Conv2d(4, 6, 3, dilation=2), nn.Tanh(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 10, bias=False))


def depthwise():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3, groups=4, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * 13 * 13, 10))


def seed000_small():
    # models/seed000_kmnist_cnn.md with channels 32/64/128 -> 4/8/8 and Dense 512 -> 32.
    return nn.Sequential(
        nn.ZeroPad2d(2), nn.Conv2d(1, 4, 7), nn.BatchNorm2d(4), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(4, 8, 5, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=2, bias=False), nn.BatchNorm2d(8), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(), nn.Linear(32, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10))


def seed002_small():
    # models/seed002_mnist_cnn.md with channels 32/64/128/64 -> 4/8/8/8 and Dense 256/128 -> 16/16.
    def block(i, o):
        return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.LeakyReLU(0.3)]
    return nn.Sequential(
        *block(1, 4), *block(4, 4), nn.MaxPool2d(2), nn.Dropout(0.25),
        *block(4, 8), *block(8, 8), nn.MaxPool2d(2), nn.Dropout(0.25),
        *block(8, 8), nn.MaxPool2d(2), nn.Dropout(0.25),
        *block(8, 8), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.BatchNorm1d(8), nn.Dropout(0.25), nn.Linear(8, 16), nn.LeakyReLU(0.3), nn.Dropout(0.25),
        nn.Linear(16, 16), nn.LeakyReLU(0.3), nn.Dropout(0.25), nn.Linear(16, 10))


def layernorm():
    # LayerNormalization (opset 17): with a bias, and without (bias=False: no B input).
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 32), nn.LayerNorm(32), nn.ReLU(), nn.Linear(32, 16),
        nn.LayerNorm(16, eps=1e-3, bias=False), nn.Tanh(), nn.Linear(16, 10))


def padded_pools():
    # ResNet's stem pool MaxPool2d(3, 2, 1) on signed values (the BatchNorm is folded into the
    # Conv), ReLU6 (exported as Clip(0, 6)), AvgPool2d(3, 2, 1, ceil_mode=True) counting its
    # padding (12 -> 7, floor would give 6), AvgPool2d(3, 1, 1, count_include_pad=False),
    # MaxPool2d(2, ceil_mode=True) (7 -> 4, not 3).
    m = nn.Sequential(
        nn.Conv2d(1, 4, 5), nn.BatchNorm2d(4), nn.MaxPool2d(3, 2, 1), nn.ReLU6(),
        nn.AvgPool2d(3, 2, 1, ceil_mode=True), nn.AvgPool2d(3, 1, 1, count_include_pad=False),
        nn.MaxPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(4 * 4 * 4, 10))
    with torch.no_grad():
        m[0].weight.mul_(8)       # 5% of the ReLU6 inputs past 6, so that the cap is met,
        m[-1].weight.mul_(0.125)  # and randomize()'s sharper head undone: probabilities not saturated
    return m


def smooth():
    # The smooth activations of published models (modelc reads the patterns the exporters write):
    # SiLU after Conv + BatchNorm (Sigmoid, Mul), GELU tanh (the cubic written out), Mish,
    # Hardswish (HardSigmoid, Mul below opset 14; HardSwish above), GELU (Div, Erf, Add, Mul,
    # Mul), Hardsigmoid, SELU, Softplus (Softplus, Greater, Where from the dynamo exporter),
    # Softsign (Abs, Add, Div). Exported twice: "smooth" by the TorchScript exporter at opset 13,
    # "smooth_dynamo" by the dynamo exporter at opset 18.
    m = nn.Sequential(
        nn.Conv2d(1, 4, 3, 2), nn.BatchNorm2d(4), nn.SiLU(), nn.Conv2d(4, 8, 3, 2), nn.GELU(approximate="tanh"),
        nn.Flatten(), nn.Linear(8 * 6 * 6, 16), nn.Mish(), nn.Linear(16, 16), nn.Hardswish(), nn.GELU(),
        nn.Linear(16, 16), nn.Hardsigmoid(), nn.Linear(16, 16), nn.SELU(), nn.Softplus(), nn.Softsign(), nn.Linear(16, 10))
    with torch.no_grad():
        for k, scale in ((3, 4), (8, 8), (11, 6), (13, 4)):   # values past Hardswish's and Hardsigmoid's +-3
            m[k].weight.mul_(scale)
    return m


class SqueezeExcitation(nn.Module):
    # torchvision's: x * hardsigmoid(fc2(relu(fc1(avgpool(x))))), the scale [N, C, 1, 1] broadcast over x.
    def __init__(self, c, r):
        super().__init__()
        self.avgpool, self.fc1, self.fc2 = nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, r, 1), nn.Conv2d(r, c, 1)
        self.activation, self.scale_activation = nn.ReLU(), nn.Hardsigmoid()

    def forward(self, x):
        return x * self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))


class InvertedResidual(nn.Module):
    # MobileNetV3's block: expand 1x1, depthwise 3x3, squeeze-and-excitation, project 1x1; the
    # input added when the block keeps its shape (stride 1).
    def __init__(self, c, e, stride):
        super().__init__()
        self.expand = nn.Sequential(nn.Conv2d(c, e, 1, bias=False), nn.BatchNorm2d(e), nn.Hardswish())
        self.dw = nn.Sequential(nn.Conv2d(e, e, 3, stride, 1, groups=e, bias=False), nn.BatchNorm2d(e), nn.Hardswish())
        self.se = SqueezeExcitation(e, 8)
        self.project = nn.Sequential(nn.Conv2d(e, c, 1, bias=False), nn.BatchNorm2d(c))
        self.residual = stride == 1

    def forward(self, x):
        y = self.project(self.se(self.dw(self.expand(x))))
        return x + y if self.residual else y


def se_residual():
    # A MobileNetV3-style network: Hardswish stem, two inverted residual blocks with
    # squeeze-and-excitation (a Mul broadcasting [N, C, 1, 1] over [N, C, H, W]), the first with
    # its residual Add, global average pooling, a Hardswish head.
    return nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish(),
                         InvertedResidual(16, 32, 1), InvertedResidual(16, 48, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(16, 64), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(64, 10))


MODELS = [("cnn_bn", cnn_bn, 13), ("mlp", mlp, 17), ("decoder_ops", decoder_ops, 13),
          ("depthwise", depthwise, 17), ("seed000_small", seed000_small, 13), ("seed002_small", seed002_small, 17),
          ("layernorm", layernorm, 17), ("padded_pools", padded_pools, 17), ("smooth", smooth, 13),
          ("smooth_dynamo", smooth, 18), ("se_residual", se_residual, 17)]


def images():
    raw = gzip.open(IDX).read()
    n, h, w = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    x = np.frombuffer(raw[16:16 + n * h * w], dtype=np.uint8).reshape(n, 1, h, w)
    return x[INDICES].astype(np.float32) / np.float32(255)


def randomize(model, seed):
    # Non-trivial BatchNorm statistics and affine parameters, so that folding and import are tested.
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.rand(m.bias.shape, generator=g) - 0.5)
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.copy_(torch.rand(c, generator=g) * 0.6 - 0.3)
            m.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(c, generator=g) - 0.5)
    # A sharper head than the default initialization gives, so that the probabilities differ.
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    last.weight.data *= 8


def main():
    x = images()
    expected = {"idx": "Tests/Fixtures/data/kmnist/t10k-images-idx3-ubyte.gz", "indices": INDICES, "models": {}}
    only = sys.argv[1:]   # model names: only those rewritten, the other entries of expected.json kept
    if only:
        with open(os.path.join(HERE, "expected.json")) as f:
            expected = json.load(f)
    for i, (name, make, opset) in enumerate(MODELS):
        if only and name not in only:
            continue
        torch.manual_seed(100 + i)
        model = make()
        randomize(model, 200 + i)
        model.eval()
        path = os.path.join(HERE, name + ".onnx")
        if name.endswith("_dynamo"):
            torch.onnx.export(model, (torch.from_numpy(x[:1]),), path, opset_version=opset, dynamo=True,
                              input_names=["input"], output_names=["output"],
                              dynamic_shapes=({0: torch.export.Dim("batch")},), external_data=False)
        else:
            torch.onnx.export(model, torch.from_numpy(x[:1]), path, opset_version=opset, dynamo=False,
                              input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        proto = onnx.load(path)
        onnx.checker.check_model(proto)
        out = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0].astype(np.float64)
        if name != "mlp":   # the mlp ends in Softmax; the others output logits
            out = np.exp(out - out.max(axis=1, keepdims=True))
            out /= out.sum(axis=1, keepdims=True)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).double()
        ref = ref if name == "mlp" else torch.softmax(ref, dim=1)
        assert np.abs(ref.numpy() - out).max() < 1e-5, name
        # The dynamo exporter writes an activation pattern's scalars (0.5, 1, 3, ...) as initializers too: not parameters.
        params = set(model.state_dict())
        floats = sum(int(np.prod(t.dims)) for t in proto.graph.initializer if t.data_type == onnx.TensorProto.FLOAT
                     and not (name.endswith("_dynamo") and int(np.prod(t.dims)) == 1 and t.name not in params))
        expected["models"][name] = {"opset": opset, "float_initializer_elements": floats,
                                    "torch_parameters": sum(p.numel() for p in model.parameters()),
                                    "probabilities": [[round(float(v), 9) for v in row] for row in out]}
        print(name, os.path.getsize(path), "bytes,", floats, "initializer floats,",
              [(n.op_type) for n in proto.graph.node])
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

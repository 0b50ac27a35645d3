#!/usr/bin/env python3
"""PyTorch weight files for modelc's .pt/.pth and .safetensors readers (run once by hand, never by CI):

    python3 Tests/Fixtures/pytorch_files/make_torch_files.py      # needs torch (CPU) and numpy

Writes, next to this script:
  conv_bn.pth              torch.save(model.state_dict()) of the ConvBn network of
                           Tests/Fixtures/numerics/pytorch_conv_bn (modelc model fx_pytorch_conv_bn),
                           fresh weights (seed 21) with non-trivial BatchNorm statistics;
                           num_batches_tracked included, as torch saves it
  conv_bn.safetensors      the same state_dict in the safetensors format, written by the few lines
                           of `save_safetensors` below (the `safetensors` package is not installed
                           here; the layout follows it: tensors sorted by dtype then name, header
                           padded with spaces to 8 bytes, __metadata__ {"format": "pt"})
  conv_bn_checkpoint.pt    a training checkpoint dict {'epoch', 'model_state_dict',
                           'optimizer_state_dict' (Adam after one step), 'loss'} holding the same weights
  conv_bn_probs.npz        input [N, 8, 8, 1] (NHWC) and PyTorch's eval-mode softmax probabilities
                           (computed in float64 from the float32 weights)
  conv1d_gap_torch.pth     the state_dict of a PyTorch network equivalent to the Keras fixture
                           Tests/Fixtures/numerics/conv1d_gap (model fx_conv1d_gap), with that
                           fixture's weights in PyTorch names (net.0.weight, ...) and layouts
                           ([out, in, k]); modelc matches it by order and shape
  conv1d_gap_probs.npz     input [N, 12, 2] (NLC) and the PyTorch network's softmax probabilities
  views.pt                 a dict of tensors that are views (transposed, strided slices, an offset
                           into a shared storage) and of other dtypes (float16, bfloat16, float64,
                           int64, bool)
  views.npz                the same tensors as contiguous numpy arrays (half types as float32)
  evil_os_system.pth       torch.save of an object whose pickle calls os.system (GLOBAL posix system
                           + REDUCE); modelc must refuse it without running anything
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
NUMERICS = os.path.join(HERE, "..", "numerics")
sys.path.insert(0, NUMERICS)
from make_pytorch_fixtures import ConvBn, nontrivial_batchnorm  # noqa: E402  (ConvBn: fx_pytorch_conv_bn's network)


class Conv1dGap(nn.Module):
    """Keras fx_conv1d_gap: Conv1D(20, 5, same, relu), Conv1D(3, 1), MaxPooling1D(2),
    GlobalAveragePooling1D, Dense(3). 'same' with k=5, stride 1 is symmetric padding 2."""
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(2, 20, 5, padding=2), nn.ReLU(), nn.Conv1d(20, 3, 1), nn.MaxPool1d(2))
        self.head = nn.Linear(3, 3)

    def forward(self, x):
        return self.head(self.net(x).mean(dim=2))


DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
          torch.bool: "BOOL"}


def save_safetensors(tensors, path):
    """The safetensors layout: u64 header length, JSON header, data sorted by (dtype size desc, name)."""
    items = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, blobs, pos = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in items:
        raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [pos, pos + len(raw)]}
        blobs.append(raw)
        pos += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def probabilities(model, x):
    m64 = model.double().eval()
    with torch.no_grad():
        p = torch.softmax(m64(torch.tensor(x, dtype=torch.float64)), dim=1).numpy().astype(np.float32)
    model.float()
    return p


def conv_bn():
    torch.manual_seed(21)
    rng = np.random.default_rng(21)
    model = ConvBn()
    sd = model.state_dict()
    nontrivial_batchnorm(sd, rng)
    for k in sd:
        if k.endswith("num_batches_tracked"):
            sd[k] = torch.tensor(7)
    model.load_state_dict(sd)
    torch.save(model.state_dict(), os.path.join(HERE, "conv_bn.pth"))
    save_safetensors(model.state_dict(), os.path.join(HERE, "conv_bn.safetensors"))
    x = rng.uniform(-1, 1, (4, 1, 8, 8)).astype(np.float32)
    probs = probabilities(model, x)
    # A training checkpoint: the same weights, with optimizer state from one Adam step on a copy.
    copy = ConvBn()
    copy.load_state_dict(model.state_dict())
    opt = torch.optim.Adam(copy.parameters(), lr=1e-3)
    copy(torch.tensor(x)).sum().backward()
    opt.step()
    torch.save({"epoch": 2, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
                "loss": 0.25}, os.path.join(HERE, "conv_bn_checkpoint.pt"))
    np.savez(os.path.join(HERE, "conv_bn_probs.npz"), input=np.ascontiguousarray(x.transpose(0, 2, 3, 1)),
             probabilities=probs)


def conv1d_gap():
    """The Keras fixture's weights, carried into the equivalent PyTorch network."""
    w = np.load(os.path.join(NUMERICS, "conv1d_gap", "weights.npz"))
    io = np.load(os.path.join(NUMERICS, "conv1d_gap", "io.npz"))
    model = Conv1dGap()
    sd = {"net.0.weight": w["conv1d/kernel"].transpose(2, 1, 0), "net.0.bias": w["conv1d/bias"],
          "net.2.weight": w["conv1d_1/kernel"].transpose(2, 1, 0), "net.2.bias": w["conv1d_1/bias"],
          "head.weight": w["dense/kernel"].T, "head.bias": w["dense/bias"]}
    model.load_state_dict({k: torch.tensor(np.ascontiguousarray(v)) for k, v in sd.items()})
    torch.save(model.state_dict(), os.path.join(HERE, "conv1d_gap_torch.pth"))
    x = io["input"]                                     # [N, L, C] as modelc feeds it
    probs = probabilities(model, np.ascontiguousarray(x.transpose(0, 2, 1)))
    keras = io["output_inference"].astype(np.float64)
    keras = np.exp(keras - keras.max(1, keepdims=True)); keras /= keras.sum(1, keepdims=True)
    assert np.abs(probs - keras).max() < 1e-6, "the PyTorch twin does not reproduce the Keras fixture"
    np.savez(os.path.join(HERE, "conv1d_gap_probs.npz"), input=x, probabilities=probs)


def views():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8
    shared = torch.arange(10, dtype=torch.float32)
    t = {"transposed": base.t(), "strided": base[1:, ::2], "offset": shared[3:7], "whole": shared,
         "half": torch.tensor([0.5, -2.0, 65504.0, 6e-8], dtype=torch.float16),
         "bfloat": torch.tensor([1.5, -3.0, 1e30], dtype=torch.bfloat16),
         "double": torch.tensor([[1.25, 2.5]], dtype=torch.float64),
         "long": torch.tensor([3, -4], dtype=torch.int64), "flag": torch.tensor([True, False]),
         "scalar": torch.tensor(2.5), "empty": torch.zeros(0, 3)}
    torch.save(t, os.path.join(HERE, "views.pt"))
    np.savez(os.path.join(HERE, "views.npz"),
             **{k: (v.float() if v.dtype in (torch.float16, torch.bfloat16) else v).contiguous().numpy() for k, v in t.items()})


class Evil:
    def __reduce__(self):
        return (os.system, ("echo modelc-should-never-run-this",))


if __name__ == "__main__":
    torch.set_num_threads(1)
    conv_bn()
    conv1d_gap()
    views()
    torch.save({"x": Evil()}, os.path.join(HERE, "evil_os_system.pth"))
    for f in sorted(os.listdir(HERE)):
        print(f, os.path.getsize(os.path.join(HERE, f)))

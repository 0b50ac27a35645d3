#!/usr/bin/env python3
"""PyTorch reference fixtures for modelc's PyTorch semantics (run by hand, never by CI):

    python3 Tests/Fixtures/numerics/make_pytorch_fixtures.py      # needs torch (CPU wheel)

For each case directory (pytorch_*/model.md holds the print(model) repr modelc compiles) writes
  weights.npz  the state_dict: PyTorch names and layouts (conv OIHW, linear [out, in]), float32,
               BatchNorm buffers included (num_batches_tracked, an int64 counter, left out)
  io.npz       input      [N, H, W, C] float32 (C = 1 here, so identical to NCHW)
               output_inference  logits in eval mode (before log_softmax)
               output_training   logits in train mode (BatchNorm batch statistics)
               upstream          dL/dlogits for L = sum(output_training * upstream)
               grad/<key>        dL/d<param> in the state_dict layout
               moving_after/<key> BatchNorm running_mean / running_var after that train forward
Computed in float64 from the float32 weights.
"""
import os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.abspath(__file__))


class MnistNet(nn.Module):
    """pytorch/examples mnist/main.py Net, dropout p=0."""
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.0)
        self.dropout2 = nn.Dropout(0.0)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return self.fc2(x)          # log_softmax omitted: modelc outputs logits


class ConvBn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.act1 = nn.LeakyReLU()
        self.conv2 = nn.Conv2d(4, 6, 3, 2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(6)
        self.fc = nn.Linear(24, 5)

    def forward(self, x):
        x = F.max_pool2d(self.act1(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


def make(name, model, shape, batch, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = model()                                     # PyTorch default (Kaiming-uniform) init
    sd = model.state_dict()
    for k, v in sd.items():                             # non-trivial BatchNorm state and affine
        if k.endswith("running_mean"):
            sd[k] = torch.tensor(rng.uniform(-0.2, 0.2, v.shape), dtype=torch.float32)
        elif k.endswith("running_var"):
            sd[k] = torch.tensor(rng.uniform(0.5, 1.5, v.shape), dtype=torch.float32)
        elif k.startswith("bn") and k.endswith("weight"):
            sd[k] = torch.tensor(rng.uniform(0.5, 1.5, v.shape), dtype=torch.float32)
        elif k.startswith("bn") and k.endswith("bias"):
            sd[k] = torch.tensor(rng.uniform(-0.3, 0.3, v.shape), dtype=torch.float32)
    model.load_state_dict(sd)
    weights = {k: v.numpy().astype(np.float32) for k, v in model.state_dict().items()
               if not k.endswith("num_batches_tracked")}
    m64 = model.double()
    c, h, w = shape
    x = rng.uniform(-1, 1, (batch, c, h, w)).astype(np.float32)
    xt = torch.tensor(x, dtype=torch.float64)
    io = {"input": np.ascontiguousarray(x.transpose(0, 2, 3, 1))}
    m64.eval()
    with torch.no_grad():
        io["output_inference"] = m64(xt).numpy().astype(np.float32)
    m64.train()
    out = m64(xt)
    up = rng.uniform(-1, 1, out.shape)
    io["output_training"] = out.detach().numpy().astype(np.float32)
    io["upstream"] = up.astype(np.float32)
    (out * torch.tensor(io["upstream"], dtype=torch.float64)).sum().backward()
    for k, p in m64.named_parameters():
        io["grad/" + k] = p.grad.numpy().astype(np.float32)
    for k, b in m64.named_buffers():
        if k.endswith("running_mean") or k.endswith("running_var"):
            io["moving_after/" + k] = b.numpy().astype(np.float32)
    d = os.path.join(ROOT, name)
    np.savez(os.path.join(d, "weights.npz"), **weights)
    np.savez(os.path.join(d, "io.npz"), **io)
    print(name, {k: list(v.shape) for k, v in weights.items()})


if __name__ == "__main__":
    torch.set_num_threads(1)
    make("pytorch_mnist_net", MnistNet, (1, 28, 28), 2, 11)
    make("pytorch_conv_bn", ConvBn, (1, 8, 8), 5, 12)

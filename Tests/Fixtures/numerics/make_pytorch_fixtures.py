#!/usr/bin/env python3
"""PyTorch reference fixtures for modelc's PyTorch semantics (run by hand, never by CI):

    python3 Tests/Fixtures/numerics/make_pytorch_fixtures.py [CASE...]   # needs torch (CPU wheel)

For each case directory (pytorch_*/model.md holds the print(model) repr modelc compiles) writes
  weights.npz  the state_dict: PyTorch names and layouts (conv OIHW, linear [out, in]), float32,
               BatchNorm buffers included (num_batches_tracked, an int64 counter, left out)
  io.npz       input      [N, H, W, C] float32 (NCHW transposed; a sequence's [N, C, L] as [N, L, C])
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
    """Conv2d, BatchNorm2d, LeakyReLU, a strided depthwise Conv2d (groups=4, 2 filters per
    channel, no bias), and padded pools: max_pool2d(3, 2, 1) on signed values (-inf padding),
    AvgPool2d(3, 1, 1, count_include_pad=False), AvgPool2d(3, 2, 1, ceil_mode=True) (a last
    window reaching into the counted padding: 2x2, not 1x1)."""
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.act1 = nn.LeakyReLU()
        self.pool1 = nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        self.conv2 = nn.Conv2d(4, 8, 3, 2, padding=1, groups=4, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.pool2 = nn.AvgPool2d(3, 2, 1, ceil_mode=True)
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        x = self.pool1(F.max_pool2d(self.act1(self.bn1(self.conv1(x))), 3, 2, 1))
        x = self.pool2(F.relu(self.bn2(self.conv2(x))))
        return self.fc(torch.flatten(x, 1))


class Conv1dNet(nn.Module):
    """Conv1d (padding 1) + BatchNorm1d + ReLU + MaxPool1d (ceil mode: 17 -> 9, a clipped last
    window), a strided bias-free Conv1d (weights x 8, so that outputs pass 6) + ReLU6, flatten of
    [C, L], Linear."""
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(2, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm1d(6)
        self.pool = nn.MaxPool1d(2, ceil_mode=True)
        self.conv2 = nn.Conv1d(6, 5, 4, stride=2, bias=False)
        with torch.no_grad():
            self.conv2.weight.mul_(8)
        self.act2 = nn.ReLU6()
        self.fc = nn.Linear(15, 3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.act2(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


class ConvTransposeNet(nn.Module):
    """ConvTranspose2d with padding and output padding, ReLU, Upsample (nearest), a bias-free
    ConvTranspose2d with non-square kernel and stride, sigmoid; the output is the image."""
    def __init__(self):
        super().__init__()
        self.deconv1 = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.deconv2 = nn.ConvTranspose2d(4, 2, (2, 3), stride=(2, 1), padding=(0, 1), bias=False)

    def forward(self, x):
        x = self.up(F.relu(self.deconv1(x)))
        return torch.sigmoid(self.deconv2(x))


class ResizeNet(nn.Module):
    """Conv2d, Upsample(size=(11, 5), mode='bilinear') from 7x9 (up 11/7, down 5/9: no whole
    factor, so a resize with align_corners=False), tanh, Conv2d, tanh, flatten, Linear."""
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1)
        self.up = nn.Upsample(size=(11, 5), mode="bilinear")
        self.conv2 = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 9 * 3, 3)

    def forward(self, x):
        x = torch.tanh(self.conv2(torch.tanh(self.up(self.conv1(x)))))
        return self.fc(torch.flatten(x, 1))


class SmoothNet(nn.Module):
    """The smooth activations of published models: a strided Conv2d + BatchNorm2d + SiLU
    (EfficientNet's), then Linear layers with GELU(tanh) and F.mish (a forward call, no module),
    Hardswish + GELU, Hardsigmoid (MobileNetV3's), SELU + Softplus + Softsign. Some weights are
    scaled up (`SCALES`) so that values reach GELU's tails and pass Hardswish's and
    Hardsigmoid's +-3."""
    SCALES = {"fc1": 16, "fc2": 6, "fc3": 2, "fc4": 10}

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.act1 = nn.SiLU(inplace=True)
        self.fc1 = nn.Linear(64, 12)
        self.act2 = nn.GELU(approximate="tanh")
        self.fc2 = nn.Linear(12, 10)
        self.act3 = nn.Hardswish()
        self.act4 = nn.GELU()
        self.fc3 = nn.Linear(10, 8)
        self.act5 = nn.Hardsigmoid()
        self.fc4 = nn.Linear(8, 8)
        self.act6 = nn.SELU()
        self.act7 = nn.Softplus()
        self.act8 = nn.Softsign()
        self.fc5 = nn.Linear(8, 5)
        with torch.no_grad():
            for name, k in self.SCALES.items():
                getattr(self, name).weight.mul_(k)

    def forward(self, x):
        x = torch.flatten(self.act1(self.bn1(self.conv1(x))), 1)
        x = F.mish(self.act2(self.fc1(x)))
        x = self.act5(self.fc3(self.act4(self.act3(self.fc2(x)))))
        return self.fc5(self.act8(self.act7(self.act6(self.fc4(x)))))


MODEL_MD = {
    "pytorch_conv_bn": ("Conv2d with explicit padding, BatchNorm2d (eps 1e-5, momentum 0.1, unbiased running variance), "
                        "LeakyReLU (default slope 0.01), max_pool2d(3, 2, 1) on signed values, AvgPool2d(3, 1, 1, "
                        "count_include_pad=False), a strided bias-free depthwise conv (groups=4, 8 filters), "
                        "AvgPool2d(3, 2, 1, ceil_mode=True), NCHW "
                        "flatten, Linear. AvgPool2d's repr prints neither ceil_mode nor count_include_pad: the "
                        "annotations say them.", "input: shape=1x8x8 scale=1 offset=0",
                        "forward: conv1 bn1 act1 maxpool(3,2,1) pool1 conv2 bn2 relu pool2 flatten fc\n"
                        "layer pool1: count_include_pad=false\nlayer pool2: ceil_mode=true"),
    "pytorch_conv1d": ("Conv1d with explicit padding, BatchNorm1d on a sequence (eps 1e-5, momentum 0.1, unbiased "
                       "running variance), ReLU, MaxPool1d (ceil mode), a strided bias-free Conv1d, ReLU6, flatten of [C, L] "
                       "(channel-major), Linear.", "input: shape=2x17 scale=1 offset=0",
                       "forward: conv1 bn1 relu pool conv2 act2 flatten fc"),
    "pytorch_conv_transpose": ("ConvTranspose2d 3x3 stride 2 padding 1 output_padding 1, ReLU, Upsample(scale_factor=2, "
                               "nearest), ConvTranspose2d 2x3 stride (2, 1) padding (0, 1) without bias, sigmoid; the "
                               "output is the [2, 24, 16] image (NCHW order).", "input: shape=3x3x4 scale=1 offset=0",
                               "forward: deconv1 relu up deconv2 sigmoid"),
    "pytorch_resize": ("Conv2d, Upsample(size=(11, 5), mode='bilinear') from 7x9 (no whole factor: a bilinear resize, "
                       "align_corners=False), tanh, Conv2d, tanh, NCHW flatten, Linear.", "input: shape=2x7x9 scale=1 offset=0",
                       "forward: conv1 up tanh conv2 tanh flatten fc"),
    "pytorch_smooth": ("A strided Conv2d, BatchNorm2d, SiLU; NCHW flatten; Linear layers followed by GELU(approximate="
                       "'tanh') and F.mish (a forward call), Hardswish and GELU, Hardsigmoid, SELU, Softplus and Softsign.",
                       "input: shape=1x8x8 scale=1 offset=0",
                       "forward: conv1 bn1 act1 flatten fc1 act2 mish fc2 act3 act4 fc3 act5 fc4 act6 act7 act8 fc5"),
}


def write_model_md(name, model):
    """model.md: the print(model) repr and the annotation block."""
    note, input_line, forward_line = MODEL_MD[name]
    text = (f"# Fixture `{name}` (PyTorch semantics)\n\n{note}\nReference values from `make_pytorch_fixtures.py` "
            f"(torch, float64).\n\n```\n{model}\n```\n\n```modelc\nmodel: name=fx_{name}\n{input_line}\n{forward_line}\n```\n")
    with open(os.path.join(ROOT, name, "model.md"), "w") as fh:
        fh.write(text)


def nontrivial_batchnorm(sd, rng):
    """Non-trivial BatchNorm state and affine (modules named bn*) in a state_dict, drawn from rng."""
    for k, v in sd.items():
        if k.endswith("running_mean"):
            sd[k] = torch.tensor(rng.uniform(-0.2, 0.2, v.shape), dtype=torch.float32)
        elif k.endswith("running_var"):
            sd[k] = torch.tensor(rng.uniform(0.5, 1.5, v.shape), dtype=torch.float32)
        elif k.startswith("bn") and k.endswith("weight"):
            sd[k] = torch.tensor(rng.uniform(0.5, 1.5, v.shape), dtype=torch.float32)
        elif k.startswith("bn") and k.endswith("bias"):
            sd[k] = torch.tensor(rng.uniform(-0.3, 0.3, v.shape), dtype=torch.float32)


def make(name, model, shape, batch, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = model()                                     # PyTorch default (Kaiming-uniform) init
    sd = model.state_dict()
    nontrivial_batchnorm(sd, rng)
    model.load_state_dict(sd)
    weights = {k: v.numpy().astype(np.float32) for k, v in model.state_dict().items()
               if not k.endswith("num_batches_tracked")}
    m64 = model.double()
    x = rng.uniform(-1, 1, (batch,) + tuple(shape)).astype(np.float32)
    xt = torch.tensor(x, dtype=torch.float64)
    channels_last = (0, 2, 3, 1) if len(shape) == 3 else (0, 2, 1)     # NCHW -> NHWC, NCL -> NLC
    io = {"input": np.ascontiguousarray(x.transpose(channels_last))}
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
    os.makedirs(d, exist_ok=True)
    if name in MODEL_MD:
        write_model_md(name, model.float())
    np.savez(os.path.join(d, "weights.npz"), **weights)
    np.savez(os.path.join(d, "io.npz"), **io)
    print(name, {k: list(v.shape) for k, v in weights.items()})


CASES = [("pytorch_mnist_net", MnistNet, (1, 28, 28), 2, 11),
         ("pytorch_conv_bn", ConvBn, (1, 8, 8), 5, 12),
         ("pytorch_conv1d", Conv1dNet, (2, 17), 4, 13),
         ("pytorch_conv_transpose", ConvTransposeNet, (3, 3, 4), 3, 14),
         ("pytorch_smooth", SmoothNet, (1, 8, 8), 6, 15),
         ("pytorch_resize", ResizeNet, (2, 7, 9), 3, 16),
         ]

if __name__ == "__main__":
    import sys
    torch.set_num_threads(1)
    for case in CASES:
        if len(sys.argv) < 2 or case[0] in sys.argv[1:]:   # names given: only those cases
            make(*case)

#!/usr/bin/env python3
"""PyTorch reference for a module that forward() calls twice (shared weights; run by hand, never by CI):

    python3 Tests/Fixtures/numerics/make_pytorch_shared_fixture.py      # needs torch (CPU wheel)

Writes pytorch_shared_call/ in make_pytorch_fixtures.py's format (model.md with the repr and the
annotations, weights.npz = the state_dict, io.npz): Linear 6 -> 5, tanh, the same Linear 5 -> 5
module `hidden` twice with a tanh after each, Linear 5 -> 3. The repr lists `hidden` once; the
`forward:` annotation calls it twice, so its weight gradient is the sum of both calls'. io.npz:
input, output_inference, output_training, upstream, grad/<state_dict key> for
L = sum(output * upstream), grad_input. Computed in float64 from float32 values.
"""
import os
import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.abspath(__file__))
NAME = "pytorch_shared_call"
N = 5


class TiedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(6, 5)
        self.hidden = nn.Linear(5, 5)
        self.out = nn.Linear(5, 3)

    def forward(self, x):
        x = torch.tanh(self.inp(x))
        x = torch.tanh(self.hidden(x))
        x = torch.tanh(self.hidden(x))
        return self.out(x)


MODEL_MD = """# Fixture `{name}` (PyTorch semantics)

One Linear module, `hidden`, called twice by `forward()` (shared weights), between an input and
an output Linear, with tanh after each call. Reference values from `make_pytorch_shared_fixture.py`
(torch, float64).

```
{repr}
```

```modelc
model: name=fx_{name}
input: shape=6 scale=1 offset=0
forward: inp tanh hidden tanh hidden tanh out
```
"""


def main():
    torch.manual_seed(29)
    rng = np.random.default_rng(29)
    model = TiedNet()
    weights = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    d = os.path.join(ROOT, NAME)
    m64 = model.double()
    x = rng.uniform(-1, 1, (N, 6)).astype(np.float32)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    io = {"input": x}
    with torch.no_grad():
        io["output_inference"] = m64(torch.tensor(x, dtype=torch.float64)).numpy().astype(np.float32)
    out = m64(xt)
    io["output_training"] = out.detach().numpy().astype(np.float32)
    io["upstream"] = rng.uniform(-1, 1, tuple(out.shape)).astype(np.float32)
    (out * torch.tensor(io["upstream"], dtype=torch.float64)).sum().backward()
    for k, p in m64.named_parameters():
        io["grad/" + k] = p.grad.numpy().astype(np.float32)
    io["grad_input"] = xt.grad.numpy().astype(np.float32)
    # numpy cross-check of the forward
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    h = np.tanh(x @ w["inp.weight"].T + w["inp.bias"])
    for _ in range(2):
        h = np.tanh(h @ w["hidden.weight"].T + w["hidden.bias"])
    err = np.abs(h @ w["out.weight"].T + w["out.bias"] - io["output_inference"]).max()
    assert err < 1e-5, err
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.md"), "w") as fh:
        fh.write(MODEL_MD.format(name=NAME, repr=model))
    np.savez(os.path.join(d, "weights.npz"), **weights)
    np.savez(os.path.join(d, "io.npz"), **io)
    print(NAME, {k: list(v.shape) for k, v in weights.items()}, f"numpy check {err:.2e}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()

#!/usr/bin/env python3
"""PyTorch references for nn.Embedding(padding_idx) and nn.EmbeddingBag (run by hand, never by CI):

    python3 Tests/Fixtures/numerics/make_pytorch_embedding_fixtures.py      # needs torch (CPU wheel)

Writes
  embedding_kernels/cases.npz   the kernels alone (Tests/RuntimeTests/EmbeddingBagKernelTests.swift):
      for each case <c>: <c>/ids [N, T] (token ids as float32), <c>/table [vocab, dim],
      <c>/upstream [N, T, dim] or [N, dim], <c>/output, <c>/grad (d sum(output * upstream) / d table),
      <c>/config = [vocab, dim, padding_idx or -1, mode (0 sum, 1 mean, 2 max, -1 Embedding)].
      Every table's padding row is NOT zero (as after loading trained weights), so the tests see
      that an Embedding outputs it and an EmbeddingBag leaves it out; its gradient must be zero.
  pytorch_embedding_bag/        a model in make_pytorch_fixtures.py's format (model.md with the
      repr and the annotations, weights.npz = the state_dict, weights.pth, io.npz): an
      EmbeddingBag(mode='mean', padding_idx=0) into a Linear, the tutorial's text classifier.
Computed in float64 from float32 values; the bags include repeated ids and one all-padding bag.
"""
import os
import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.abspath(__file__))
MODES = {"sum": 0, "mean": 1, "max": 2}

IDS = np.array([[3, 1, 4, 1, 5, 6],      # a repeated id
                [2, 0, 6, 0, 0, 2],      # padding entries (id 0), a repeated id
                [0, 0, 0, 0, 0, 0],      # all padding: zeros in every mode
                [5, 5, 5, 5, 5, 5]])     # one id six times


def kernel_case(rng, name, vocab, dim, padding, mode, out):
    table = rng.uniform(-1, 1, (vocab, dim)).astype(np.float32)
    ids = IDS % vocab
    if mode is None:
        m = nn.Embedding(vocab, dim, padding_idx=padding)
    else:
        m = nn.EmbeddingBag(vocab, dim, mode=mode, padding_idx=padding)
    m = m.double()
    with torch.no_grad():
        m.weight.copy_(torch.tensor(table, dtype=torch.float64))   # a loaded table: padding row not zero
    y = m(torch.tensor(ids, dtype=torch.long))
    up = rng.uniform(-1, 1, tuple(y.shape)).astype(np.float32)
    (y * torch.tensor(up, dtype=torch.float64)).sum().backward()
    g = m.weight.grad.numpy()
    if padding is not None:
        assert np.all(g[padding % vocab] == 0), name
    out[name + "/ids"] = ids.astype(np.float32)
    out[name + "/table"] = table
    out[name + "/upstream"] = up
    out[name + "/output"] = y.detach().numpy().astype(np.float32)
    out[name + "/grad"] = g.astype(np.float32)
    out[name + "/config"] = np.array([vocab, dim, -1 if padding is None else padding % vocab,
                                      -1 if mode is None else MODES[mode]], dtype=np.float32)
    print(name, "output", list(y.shape))


class BagNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.EmbeddingBag(9, 4, mode="mean", padding_idx=0)
        self.fc = nn.Linear(4, 3)

    def forward(self, ids):
        return self.fc(self.embedding(ids))


MODEL_MD = """# Fixture `pytorch_embedding_bag` (PyTorch semantics)

nn.EmbeddingBag(mode='mean', padding_idx=0) over 6 token ids per sample (one bag each) into a
Linear, as the PyTorch text-classification tutorial's model with fixed-length inputs. The
padding row holds loaded values that no bag may use. Reference values from
`make_pytorch_embedding_fixtures.py` (torch, float64).

```
{repr}
```

```modelc
model: name=fx_pytorch_embedding_bag
input: shape=6 scale=1 offset=0
```
"""


def model_fixture(rng):
    torch.manual_seed(17)
    model = BagNet()
    with torch.no_grad():
        model.embedding.weight[0] = torch.tensor(rng.uniform(-1, 1, 4), dtype=torch.float32)
    weights = {k: v.numpy().astype(np.float32) for k, v in model.state_dict().items()}
    d = os.path.join(ROOT, "pytorch_embedding_bag")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.md"), "w") as fh:
        fh.write(MODEL_MD.format(repr=model))
    torch.save(model.state_dict(), os.path.join(d, "weights.pth"))
    m64 = model.double()
    ids = IDS % 9
    it = torch.tensor(ids, dtype=torch.long)
    io = {"input": ids.astype(np.float32)}
    with torch.no_grad():
        io["output_inference"] = m64(it).numpy().astype(np.float32)
    out = m64(it)
    io["output_training"] = out.detach().numpy().astype(np.float32)
    io["upstream"] = rng.uniform(-1, 1, out.shape).astype(np.float32)
    (out * torch.tensor(io["upstream"], dtype=torch.float64)).sum().backward()
    for k, p in m64.named_parameters():
        io["grad/" + k] = p.grad.numpy().astype(np.float32)
    assert np.all(io["grad/embedding.weight"][0] == 0)
    np.savez(os.path.join(d, "weights.npz"), **weights)
    np.savez(os.path.join(d, "io.npz"), **io)
    print("pytorch_embedding_bag", {k: list(v.shape) for k, v in weights.items()})


def main():
    rng = np.random.default_rng(17)
    out = {}
    kernel_case(rng, "embedding_padding", 7, 3, 2, None, out)
    kernel_case(rng, "embedding_negative_padding", 7, 3, -1, None, out)
    for mode in MODES:
        kernel_case(rng, f"bag_{mode}_padding", 7, 3, 0, mode, out)
        kernel_case(rng, f"bag_{mode}", 7, 3, None, mode, out)
    d = os.path.join(ROOT, "embedding_kernels")
    os.makedirs(d, exist_ok=True)
    np.savez(os.path.join(d, "cases.npz"), **out)
    model_fixture(rng)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()

#!/usr/bin/env python3
"""PyTorch reference fixture for nn.Embedding, nn.LSTM, nn.RNN and nn.GRU (run by hand, never by CI):

    python3 Tests/Fixtures/numerics/make_pytorch_sequence_fixtures.py      # needs torch (CPU wheel)

Writes pytorch_recurrent/ in make_pytorch_fixtures.py's format (model.md with the repr and the
annotations, weights.npz = the state_dict, io.npz) plus weights.pth, the same state_dict saved
by torch.save (what `--weights model.pth` reads). Differences from the image fixtures:
  - the input is token ids (whole numbers in 0..<9 stored as float32; a LongTensor for torch),
    so io.npz has no input gradient;
  - the weights are PyTorch's default init (U(+-1/sqrt(hidden_size)), embeddings N(0, 1));
  - outputs are also cross-checked against a plain numpy implementation of the cells with
    PyTorch's gate orders (LSTM i, f, g, o; GRU r, z, n with b_hn inside r * (...)), printed as
    "sanity ok/MISMATCH".
Computed in float64 from the float32 weights.
"""
import os
import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.abspath(__file__))
NAME = "pytorch_recurrent"


class RecurrentNet(nn.Module):
    """Embedding, a 2-layer bidirectional LSTM (whole sequence), an RNN (whole sequence), a
    bidirectional GRU whose final states (h_n) feed a Linear."""
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(9, 4)
        self.lstm = nn.LSTM(4, 5, num_layers=2, batch_first=True, bidirectional=True)
        self.rnn = nn.RNN(10, 4, batch_first=True)
        self.gru = nn.GRU(4, 3, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(6, 3)

    def forward(self, ids):
        x = self.embed(ids)
        x, _ = self.lstm(x)
        x, _ = self.rnn(x)
        _, h = self.gru(x)
        return self.fc(torch.cat((h[-2], h[-1]), 1))


MODEL_MD = """# Fixture `pytorch_recurrent` (PyTorch semantics)

nn.Embedding on token ids, a 2-layer bidirectional nn.LSTM (its whole output sequence), an nn.RNN
(whole sequence), a bidirectional nn.GRU whose final states `torch.cat((h_n[-2], h_n[-1]), 1)`
feed a Linear. Reference values from `make_pytorch_sequence_fixtures.py` (torch, float64).

```
{repr}
```

```modelc
model: name=fx_pytorch_recurrent
input: shape=6 scale=1 offset=0
layer gru: output=hidden
```
"""


def sig(v):
    return 1 / (1 + np.exp(-v))


def numpy_forward(sd, ids):
    """The same network in numpy with PyTorch's equations (float64)."""
    w = {k: v.astype(np.float64) for k, v in sd.items()}
    x = w["embed.weight"][ids.astype(int)]

    def run(kind, prefix, x, reverse):
        n, t, _ = x.shape
        wi, wh, bi, bh = (w[f"{prefix[0]}.{a}_l{prefix[1]}{'_reverse' if reverse else ''}"]
                          for a in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        u = wh.shape[1]
        h = np.zeros((n, u)); c = np.zeros((n, u)); out = np.zeros((n, t, u))
        for s in range(t):
            ts = t - 1 - s if reverse else s
            gi = x[:, ts] @ wi.T + bi; gh = h @ wh.T + bh
            if kind == "lstm":
                i, f, g, o = np.split(gi + gh, 4, axis=1)
                c = sig(f) * c + sig(i) * np.tanh(g); h = sig(o) * np.tanh(c)
            elif kind == "gru":
                ir, iz, inn = np.split(gi, 3, axis=1); hr, hz, hn = np.split(gh, 3, axis=1)
                r = sig(ir + hr); z = sig(iz + hz); nn_ = np.tanh(inn + r * hn)
                h = (1 - z) * nn_ + z * h
            else:
                h = np.tanh(gi + gh)
            out[:, ts] = h
        return out, h

    for layer in (0, 1):
        f, _ = run("lstm", ("lstm", layer), x, False); b, _ = run("lstm", ("lstm", layer), x, True)
        x = np.concatenate([f, b], axis=2)
    x, _ = run("rnn", ("rnn", 0), x, False)
    _, hf = run("gru", ("gru", 0), x, False); _, hb = run("gru", ("gru", 0), x, True)
    return np.concatenate([hf, hb], axis=1) @ w["fc.weight"].T + w["fc.bias"]


def main():
    torch.manual_seed(21)
    rng = np.random.default_rng(21)
    model = RecurrentNet()
    weights = {k: v.numpy().astype(np.float32) for k, v in model.state_dict().items()}
    d = os.path.join(ROOT, NAME)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.md"), "w") as fh:
        fh.write(MODEL_MD.format(repr=model))
    torch.save(model.state_dict(), os.path.join(d, "weights.pth"))
    m64 = model.double()
    ids = rng.integers(0, 9, (3, 6))
    it = torch.tensor(ids, dtype=torch.long)
    io = {"input": ids.astype(np.float32)}
    m64.eval()
    with torch.no_grad():
        io["output_inference"] = m64(it).numpy().astype(np.float32)
    m64.train()
    out = m64(it)
    io["output_training"] = out.detach().numpy().astype(np.float32)
    io["upstream"] = rng.uniform(-1, 1, out.shape).astype(np.float32)
    (out * torch.tensor(io["upstream"], dtype=torch.float64)).sum().backward()
    for k, p in m64.named_parameters():
        io["grad/" + k] = p.grad.numpy().astype(np.float32)
    ref = numpy_forward(weights, ids)
    err = np.abs(ref - io["output_inference"]).max() / np.abs(ref).max()
    print(NAME, "sanity", "ok" if err < 1e-6 else "MISMATCH", f"{err:.2e}")
    np.savez(os.path.join(d, "weights.npz"), **weights)
    np.savez(os.path.join(d, "io.npz"), **io)
    print(NAME, {k: list(v.shape) for k, v in weights.items()})


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()

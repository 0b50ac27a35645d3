#!/usr/bin/env python3
"""Issue 20 probe: how much of a seed 002 model's test accuracy do its BatchNorm moving statistics
cost? Loads a modelc-exported seed 002 `.npz` (`BIN export --weights w.npz --checkpoint c.ckpt`) into
peer_bench's PyTorch network, evaluates the MNIST test set with the stored moving statistics, then
recomputes every BatchNorm's statistics over the 60,000 training images in one pass (cumulative
average, Dropout off) and evaluates again. Not run by CI:

    ~/.cache/modelc-peers/venv/bin/python Tests/Peers/bn_recalibration.py w.npz DIR

`time_to_accuracy.py --recal` runs the same recalibration on both frameworks' final weights
(PyTorch's model directly, modelc's through its exported `.npz`), with the functions below.
"""
import copy
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def load_modelc_npz(model, path):
    """Copies a modelc seed 002 export (Keras keys and layouts) into peer_bench's PyTorch network."""
    import numpy as np
    import torch
    w = np.load(path)
    convs = [x for x in model if isinstance(x, torch.nn.Conv2d)]
    bns = [x for x in model if isinstance(x, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d))]
    lins = [x for x in model if isinstance(x, torch.nn.Linear)]
    with torch.no_grad():
        for i, c in enumerate(convs, 1):
            c.weight.copy_(torch.from_numpy(w[f'conv2d_{i}/kernel'].transpose(3, 2, 0, 1).copy()))
            c.bias.copy_(torch.from_numpy(w[f'conv2d_{i}/bias']))
        for i, b in enumerate(bns, 1):
            p = f'batch_normalization_{i}/'
            b.weight.copy_(torch.from_numpy(w[p + 'gamma'])); b.bias.copy_(torch.from_numpy(w[p + 'beta']))
            b.running_mean.copy_(torch.from_numpy(w[p + 'moving_mean']))
            b.running_var.copy_(torch.from_numpy(w[p + 'moving_variance']))
        for i, lin in enumerate(lins, 1):
            lin.weight.copy_(torch.from_numpy(w[f'dense_{i}/kernel'].T.copy()))
            lin.bias.copy_(torch.from_numpy(w[f'dense_{i}/bias']))


def evaluate(model, xte, yte):
    """(test accuracy, test loss) in eval mode."""
    import torch
    model.eval()
    with torch.inference_mode():
        out = torch.cat([model(xte[k:k + 1000]) for k in range(0, len(xte), 1000)])
        loss = torch.nn.functional.cross_entropy(out, yte).item()
    return (out.argmax(1) == yte).float().mean().item(), loss


def recalibrated(model, xtr):
    """A copy of `model` whose BatchNorm statistics are the population statistics of xtr under its
    final weights (one pass in batches of 128, cumulative average, Dropout off)."""
    import torch
    m = copy.deepcopy(model)
    for b in m.modules():
        if isinstance(b, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d)):
            b.reset_running_stats()
            b.momentum = None
    m.train()
    for mod in m.modules():
        if isinstance(mod, torch.nn.Dropout):
            mod.p = 0.0
    with torch.no_grad():
        for k in range(0, len(xtr), 128):
            m(xtr[k:k + 128])
    return m


def main():
    import gzip
    import struct
    import numpy as np
    import torch
    import peer_bench
    os.environ['OMP_NUM_THREADS'] = '1'
    torch.set_num_threads(1)

    def idx(p):
        b = gzip.open(p).read(); nd = b[3]; dims = struct.unpack('>' + 'I' * nd, b[4:4 + 4 * nd])
        return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)
    d = sys.argv[2]
    xtr = torch.from_numpy(idx(d + '/train-images-idx3-ubyte.gz').astype(np.float32).reshape(-1, 1, 28, 28) / 255)
    xte = torch.from_numpy(idx(d + '/t10k-images-idx3-ubyte.gz').astype(np.float32).reshape(-1, 1, 28, 28) / 255)
    yte = torch.from_numpy(idx(d + '/t10k-labels-idx1-ubyte.gz').astype(np.int64))
    m = peer_bench.torch_model('seed002')
    load_modelc_npz(m, sys.argv[1])
    print('moving statistics as trained:', evaluate(m, xte, yte))
    print('recalibrated (population statistics of the final weights, dropout off):', evaluate(recalibrated(m, xtr), xte, yte))


if __name__ == '__main__':
    main()

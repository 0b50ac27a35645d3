#!/usr/bin/env python3
"""Issue 20 probe: how much of a seed 002 model's test accuracy do its BatchNorm moving statistics
cost? Loads a modelc-exported seed 002 `.npz` (`BIN export --weights w.npz --checkpoint c.ckpt`) into
peer_bench's PyTorch network, evaluates the MNIST test set with the stored moving statistics, then
recomputes every BatchNorm's statistics over the 60,000 training images in one pass (cumulative
average, Dropout off) and evaluates again. Not run by CI:

    ~/.cache/modelc-peers/venv/bin/python Tests/Peers/bn_recalibration.py w.npz DIR
"""
import sys, os, gzip, struct, numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ['OMP_NUM_THREADS'] = '1'
import torch, peer_bench
torch.set_num_threads(1)
def idx(p):
    b = gzip.open(p).read(); nd = b[3]; dims = struct.unpack('>' + 'I' * nd, b[4:4 + 4 * nd])
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)
D = sys.argv[2]
xtr = torch.from_numpy(idx(D + '/train-images-idx3-ubyte.gz').astype(np.float32).reshape(-1, 1, 28, 28) / 255)
xte = torch.from_numpy(idx(D + '/t10k-images-idx3-ubyte.gz').astype(np.float32).reshape(-1, 1, 28, 28) / 255)
yte = torch.from_numpy(idx(D + '/t10k-labels-idx1-ubyte.gz').astype(np.int64))
w = np.load(sys.argv[1])
m = peer_bench.torch_model('seed002')
convs = [x for x in m if isinstance(x, torch.nn.Conv2d)]
bns = [x for x in m if isinstance(x, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d))]
lins = [x for x in m if isinstance(x, torch.nn.Linear)]
with torch.no_grad():
    for i, c in enumerate(convs, 1):
        c.weight.copy_(torch.from_numpy(w[f'conv2d_{i}/kernel'].transpose(3, 2, 0, 1).copy())); c.bias.copy_(torch.from_numpy(w[f'conv2d_{i}/bias']))
    for i, b in enumerate(bns, 1):
        p = f'batch_normalization_{i}/'
        b.weight.copy_(torch.from_numpy(w[p + 'gamma'])); b.bias.copy_(torch.from_numpy(w[p + 'beta']))
        b.running_mean.copy_(torch.from_numpy(w[p + 'moving_mean'])); b.running_var.copy_(torch.from_numpy(w[p + 'moving_variance']))
    for i, l in enumerate(lins, 1):
        l.weight.copy_(torch.from_numpy(w[f'dense_{i}/kernel'].T.copy())); l.bias.copy_(torch.from_numpy(w[f'dense_{i}/bias']))
def acc():
    m.eval()
    with torch.no_grad():
        out = torch.cat([m(xte[k:k + 1000]) for k in range(0, 10000, 1000)])
        loss = torch.nn.functional.cross_entropy(out, yte).item()
    return (out.argmax(1) == yte).float().mean().item(), loss
print('moving statistics as trained:', acc())
for b in bns: b.reset_running_stats(); b.momentum = None   # cumulative average
m.train()
for mod in m:
    if isinstance(mod, torch.nn.Dropout): mod.p = 0.0
with torch.no_grad():
    for k in range(0, 60000, 128): m(xtr[k:k + 128])
for mod in m:
    if isinstance(mod, torch.nn.Dropout): mod.p = 0.25
print('recalibrated (population statistics of the final weights, dropout off):', acc())

"""Reference values for OptimizerTests.testTorchEpsilonPlacement (PyTorch models' Adam and
RMSprop): w = 1, constant gradient 0.5, lr 0.1, epsilon 0.1 (large, so that where the epsilon
goes shows in the result), two steps, in float64. Run once with torch installed; the test holds
the printed values. Not run by CI."""
import torch


def steps(make, n=2):
    w = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = make([w])
    out = []
    for _ in range(n):
        opt.zero_grad()
        w.grad = torch.tensor([0.5], dtype=torch.float64)
        opt.step()
        out.append(w.item())
    return out


print("adam", steps(lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.9, 0.999), eps=0.1)))
print("rmsprop", steps(lambda p: torch.optim.RMSprop(p, lr=0.1, alpha=0.99, eps=0.1)))

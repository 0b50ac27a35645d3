"""Reference values for OptimizerTests.testTorchEpsilonPlacement (PyTorch models' Adam and
RMSprop: w = 1, constant gradient 0.5, lr 0.1, epsilon 0.1, large so that where the epsilon
goes shows in the result, two steps) and testTorchMomentumUnderASchedule (SGD momentum and
Nesterov with lr 0.1 then 0.05), in float64. Run once with torch installed; the tests hold the
printed values. Not run by CI."""
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


def steps_lr(make, lrs):
    """SGD with momentum where the learning rate changes between steps (a schedule)."""
    w = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = make([w])
    out = []
    for lr in lrs:
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        w.grad = torch.tensor([0.5], dtype=torch.float64)
        opt.step()
        out.append(w.item())
    return out


print("momentum lr 0.1, 0.05", steps_lr(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), [0.1, 0.05]))
print("nesterov lr 0.1, 0.05", steps_lr(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), [0.1, 0.05]))

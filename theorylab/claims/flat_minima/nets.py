"""Models of the flat_minima claim: an mLeNet-sized convnet for 8x8 digits images and a
two-layer ReLU MLP trained for many seeds/solutions at once.

The convnet (Wu, Zhu & E 2017's mLeNet has 3,781 parameters for 28x28 MNIST; this one has
3,770 for scikit-learn's 8x8 digits): conv 3x3 (1 -> c1) valid, ReLU, 2x2 max-pool, conv 2x2
(c1 -> c2) valid, ReLU, fully connected c2*4 -> hidden, ReLU, -> 10. Convolutions are written
as one gather of the image patches and a matrix product (a precomputed index of the 3x3 /
2x2 windows): in float64 on the CPU that is several times faster than ``F.conv2d``/``unfold``
for these tiny images, and every Hessian-vector product of the claim goes through it.
Initialisation N(0, 2/fan_in) for weights, zero biases (He et al. 2015), from the run's seeded
stream.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...runtime import Context


def _windows(size: int, k: int) -> torch.Tensor:
    """(L, k*k) flat indices of the k x k windows of a size x size image (valid, stride 1)."""
    out = size - k + 1
    rows = [
        [(i + a) * size + (j + b) for a in range(k) for b in range(k)]
        for i in range(out)
        for j in range(out)
    ]
    return torch.tensor(rows, dtype=torch.long)


class PatchConv(nn.Module):
    """Valid k x k convolution of (n, c_in, size*size) maps as gather + matmul."""

    def __init__(self, c_in: int, c_out: int, k: int, size: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(c_out, c_in * k * k))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.register_buffer("index", _windows(size, k), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        patches = x[:, :, self.index]  # (n, c_in, L, k*k)
        patches = patches.permute(0, 2, 1, 3).reshape(n, self.index.shape[0], -1)
        return (patches @ self.weight.T + self.bias).transpose(1, 2)  # (n, c_out, L)


class LeNet(nn.Module):
    """mLeNet-sized convnet for 8x8 images (inputs (n, 64))."""

    def __init__(self, c1: int = 6, c2: int = 16, hidden: int = 44, classes: int = 10):
        super().__init__()
        self.c1, self.c2 = c1, c2
        self.conv1 = PatchConv(1, c1, 3, 8)  # 8x8 -> 6x6
        self.conv2 = PatchConv(c1, c2, 2, 3)  # pooled 3x3 -> 2x2
        self.fc1 = nn.Linear(c2 * 4, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        h = F.relu(self.conv1(x.reshape(n, 1, 64))).reshape(n, self.c1, 6, 6)
        h = F.max_pool2d(h, 2).reshape(n, self.c1, 9)
        h = F.relu(self.conv2(h))
        return self.fc2(F.relu(self.fc1(h.flatten(1))))


def he_init_(module: nn.Module, gen: torch.Generator) -> nn.Module:
    """Weights N(0, 2/fan_in) (fan_in = the weight's second dimension), biases 0, in
    ``named_parameters`` order from ``gen``."""
    with torch.no_grad():
        for _, p in module.named_parameters():
            if p.dim() > 1:
                draw = torch.randn(p.shape, generator=gen, dtype=torch.float64)
                p.copy_(draw * math.sqrt(2.0 / p.shape[1]))
            else:
                p.zero_()
    return module


def lenet(ctx: Context, stream: str, c1: int, c2: int, hidden: int) -> LeNet:
    return he_init_(LeNet(c1, c2, hidden).to(torch.float64), ctx.generator(stream))


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class StackedMLP:
    """M two-layer ReLU MLPs d -> h -> c held as stacked tensors, trained in one loop.

    ``W1`` (M, h, d), ``b1`` (M, h), ``W2`` (M, c, h), ``b2`` (M, c); ``logits(X)`` for X
    (M, n, d) or (n, d); :meth:`module` returns model m as an ``nn.Sequential`` for the
    landscape toolkit.
    """

    def __init__(self, models: int, d: int, h: int, c: int, gen: torch.Generator):
        def draw(*shape, fan_in):
            w = torch.randn(models, *shape, generator=gen, dtype=torch.float64)
            return (w * math.sqrt(2.0 / fan_in)).requires_grad_(True)

        self.W1 = draw(h, d, fan_in=d)
        self.b1 = torch.zeros(models, h, dtype=torch.float64, requires_grad=True)
        self.W2 = draw(c, h, fan_in=h)
        self.b2 = torch.zeros(models, c, dtype=torch.float64, requires_grad=True)

    @property
    def params(self) -> list[torch.Tensor]:
        return [self.W1, self.b1, self.W2, self.b2]

    def logits(self, X: torch.Tensor) -> torch.Tensor:
        if X.dim() == 2:
            hidden = torch.einsum("nd,mhd->mnh", X, self.W1)
        else:
            hidden = torch.einsum("mnd,mhd->mnh", X, self.W1)
        hidden = F.relu(hidden + self.b1[:, None, :])
        return torch.einsum("mnh,mch->mnc", hidden, self.W2) + self.b2[:, None, :]

    def module(self, m: int) -> nn.Sequential:
        h, d = self.W1.shape[1:]
        c = self.W2.shape[1]
        net = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, c)).to(torch.float64)
        with torch.no_grad():
            net[0].weight.copy_(self.W1[m])
            net[0].bias.copy_(self.b1[m])
            net[2].weight.copy_(self.W2[m])
            net[2].bias.copy_(self.b2[m])
        return net


def per_sample_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(M, n) losses for logits (M, n, c) and labels y (n,) or (M, n)."""
    labels = y.expand(logits.shape[0], -1) if y.dim() == 1 else y
    picked = logits.gather(2, labels[..., None]).squeeze(-1)
    return torch.logsumexp(logits, dim=2) - picked

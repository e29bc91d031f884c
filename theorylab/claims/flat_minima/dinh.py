"""reparametrization_changes_sharpness (Dinh, Pascanu, Bengio & Bengio, ICML 2017): the
non-negative rescaling T_a: (W1, b1, W2, b2) -> (a W1, a b1, W2 / a, b2) of a two-layer ReLU
network changes no output, while its Hessian becomes S^{-1} H S^{-1}
(:mod:`theorylab.theory.dinh2017`) and lambda_max changes accordingly: sharpness depends on the
parametrisation. Every statement of this claim that compares sharpness (the other
sub-experiments) fixes the parametrisation: the networks as trained, from N(0, 2/fan_in).

Measured: a ReLU MLP trained briefly on digits (full-batch GD with momentum), its dense Hessian
H at theta and H' at T_a(theta) (two independent dense computations through the landscape
toolkit), the largest output change, and lambda_max of H, H' and of the prediction
S^{-1} H S^{-1}.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ... import curvature
from ...landscape import ModelLoss
from ...runtime import Context
from ...theory import dinh2017
from .common import CLASSES, Split
from .nets import he_init_


@dataclass
class DinhMeasurement:
    scale: float
    output_change: float  # max |f'(x) - f(x)| / max |f(x)| over the data
    lambda_max: float
    lambda_max_rescaled: float
    hessian: torch.Tensor  # H at theta (P, P)
    hessian_rescaled: torch.Tensor  # H' at T_a(theta), computed on its own
    groups: list[str]


def groups_of(net: torch.nn.Sequential) -> list[str]:
    """Per-parameter group in ``named_parameters`` order: first layer, W2, b2."""
    out = []
    for (_, p), group in zip(net.named_parameters(), _param_groups(net), strict=True):
        out += [group] * p.numel()
    return out


def rescaled(net: torch.nn.Sequential, a: float) -> torch.nn.Sequential:
    """T_a applied to a copy: parameters multiplied by dinh2017.parameter_scale."""
    copy = deepcopy(net)
    with torch.no_grad():
        for (_, p), group in zip(copy.named_parameters(), _param_groups(copy), strict=True):
            p.mul_(dinh2017.parameter_scale(a, group))
    return copy


def _param_groups(net) -> list[str]:
    names = [name for name, _ in net.named_parameters()]
    return [
        "first" if n.startswith("0.") else ("second" if n == "2.weight" else "bias2") for n in names
    ]


def measure(p, ctx: Context, data: Split) -> DinhMeasurement:
    X, y = data.X_train[: p.dinh_n], data.y_train[: p.dinh_n]
    net = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], p.dinh_width),
        torch.nn.ReLU(),
        torch.nn.Linear(p.dinh_width, CLASSES),
    ).to(torch.float64)
    he_init_(net, ctx.generator("dinh_init"))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    for _ in range(p.dinh_steps):
        opt.zero_grad()
        F.cross_entropy(net(X), y).backward()
        opt.step()
    other = rescaled(net, p.dinh_scale)
    with torch.no_grad():
        f, g = net(X), other(X)
    change = float((g - f).abs().max() / f.abs().max())
    ml, ml2 = ModelLoss(net, (X, y)), ModelLoss(other, (X, y))
    H = curvature.dense_hessian(ml.loss, ml.theta0)
    H2 = curvature.dense_hessian(ml2.loss, ml2.theta0)
    return DinhMeasurement(
        scale=p.dinh_scale,
        output_change=change,
        lambda_max=float(torch.linalg.eigvalsh(H)[-1]),
        lambda_max_rescaled=float(torch.linalg.eigvalsh(H2)[-1]),
        hessian=H,
        hessian_rescaled=H2,
        groups=groups_of(net),
    )

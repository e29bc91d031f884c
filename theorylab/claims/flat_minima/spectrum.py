"""spectrum_bulk_and_outliers: the full Hessian of an mLeNet-sized convnet at a solution with
100% training accuracy (Wu, Zhu & E 2017, Fig. 1; Sagun et al. 2017): a bulk of eigenvalues near
zero and a few outliers, about as many as there are classes.

The dense Hessian (3,770 x 3,770 at the defaults) comes from vectorised Hessian-vector products
(:func:`theorylab.curvature.dense_hessian`) through the landscape toolkit's
:class:`~theorylab.landscape.ModelLoss`; the same run checks two of the toolkit's estimators
against it: Lanczos' top eigenvalues (exact up to its 1e-12 tolerance) and Hutchinson's trace
(within its standard errors), and draws the stochastic Lanczos quadrature density over the exact
spectrum for the figure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ... import curvature
from ...landscape import ModelLoss, hutchinson_trace, slq_density
from ...runtime import Context
from .common import Split
from .nets import count_params, lenet

MOMENTUM = 0.9
LANCZOS_K = 5
HUTCHINSON_PROBES = 30
SLQ_PROBES, SLQ_STEPS = 8, 80


@dataclass
class SpectrumMeasurement:
    eigenvalues: list[float]  # descending
    num_params: int
    steps: int
    train_loss: float
    train_accuracy: float
    test_accuracy: float
    hessian_seconds: float
    lanczos_values: list[float]
    lanczos_products: int
    hutchinson_value: float
    hutchinson_se: float
    slq: dict


def train_lenet(net, X, y, lr: float, max_steps: int, loss_target: float):
    """Full-batch GD with heavy-ball momentum until 100% training accuracy and loss <= target.
    Returns (steps, loss, accuracy)."""
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=MOMENTUM)
    loss, acc = float("nan"), 0.0
    for step in range(1, max_steps + 1):
        opt.zero_grad()
        out = net(X)
        value = F.cross_entropy(out, y)
        loss = float(value.detach())
        acc = float((out.argmax(1) == y).double().mean())
        if not np.isfinite(loss):
            from ...errors import Inconclusive

            raise Inconclusive("the convnet's training loss is not finite", step=step)
        if acc == 1.0 and loss <= loss_target:
            return step - 1, loss, acc
        value.backward()
        opt.step()
    return max_steps, loss, acc


def measure(p, ctx: Context, data: Split) -> SpectrumMeasurement:
    X, y = data.X_train[: p.n_train], data.y_train[: p.n_train]
    net = lenet(ctx, "spectrum_init", p.conv1, p.conv2, p.hidden)
    steps, loss, acc = train_lenet(net, X, y, p.lenet_lr, p.max_steps, p.loss_target)
    with torch.no_grad():
        test_acc = float((net(data.X_test).argmax(1) == data.y_test).double().mean())
    ml = ModelLoss(net, (X, y), loss="cross_entropy")
    start = time.perf_counter()
    H = curvature.dense_hessian(ml.loss, ml.theta0)
    seconds = time.perf_counter() - start
    eig = torch.linalg.eigvalsh(H).flip(0)
    top = curvature.hessian_eigenpairs(ml.loss, ml.theta0, k=LANCZOS_K)
    hutch = hutchinson_trace(
        lambda V: V @ H, H.shape[0], HUTCHINSON_PROBES, ctx.generator("spectrum_hutchinson")
    )
    density = slq_density(
        lambda v: H @ v, H.shape[0], SLQ_PROBES, SLQ_STEPS, ctx.generator("spectrum_slq")
    )
    return SpectrumMeasurement(
        eigenvalues=eig.tolist(),
        num_params=count_params(net),
        steps=steps,
        train_loss=loss,
        train_accuracy=acc,
        test_accuracy=test_acc,
        hessian_seconds=seconds,
        lanczos_values=top.values,
        lanczos_products=top.products,
        hutchinson_value=hutch.value,
        hutchinson_se=hutch.se,
        slq=density.as_series(),
    )

"""trained_net_peak and trained_net_noise_raises_peak (qualitative): small two-layer ReLU nets
trained (full-batch Adam, mean squared error) on digit parity with label noise peak near the
first interpolating width, and higher with label noise than without (Nakkiran et al. 2019,
"Deep double descent", arXiv:1912.02292).

Binary task (digit parity, +-1 targets) on the top NET_PCA principal components of digits, so
a width-w net has 10 w + 1 parameters and the threshold sits near w ~ n / 10. Every (label
set, initialisation, width) net is one block of a padded bank trained at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...errors import Inconclusive
from ...registry import Comparison
from ...report import Hypothesis, Statement
from .common import require_finite

if TYPE_CHECKING:
    from ...runtime import Context

NET_N, NET_TEST, NET_PCA = 100, 800, 8
NET_WIDTHS = (1, 2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 32, 48)
NET_STEPS, NET_LR, NET_INITS = 1500, 0.02, 3
NET_INTERPOLATED = 1e-2  # mean squared training error (targets +-1) counted as interpolation


@dataclass
class TrainedNetMeasurement:
    """Final mean squared errors, (label set, init, width) with label set 0 = noisy training
    labels, 1 = clean ones; the test error is always against clean test labels."""

    widths: list[int]
    label_noise: float
    train: np.ndarray  # (2, inits, len(widths))
    test: np.ndarray


def _parity_digits(ctx: Context):
    """Digits projected on their top NET_PCA principal components (each standardised), with the
    parity of the digit as a +-1 target; rows in a seeded random order."""
    import torch

    from .interpolation_threshold import digits

    X, labels = digits(ctx, "net/data")
    X = X - X.mean(dim=0)
    _u, _s, Vh = torch.linalg.svd(X, full_matrices=False)
    Z = X @ Vh[:NET_PCA].T
    return Z / Z.std(dim=0), (labels % 2).to(torch.float64) * 2 - 1


def simulate(p, ctx: Context) -> TrainedNetMeasurement:
    import torch

    X, y = _parity_digits(ctx)
    Xtr, Xte, ytr, yte = X[:NET_N], X[NET_N : NET_N + NET_TEST], y[:NET_N], y[NET_N:][:NET_TEST]
    flip = torch.rand(NET_N, generator=ctx.generator("net/flip")) < p.label_noise
    noisy = torch.where(flip, -ytr, ytr)
    # one bank: (label set, init, width), trained together
    nets = [(s, i, w) for s in range(2) for i in range(NET_INITS) for w in NET_WIDTHS]
    targets = torch.stack([(noisy, ytr)[s] for s, _i, _w in nets])
    train, test = _train_bank(ctx, Xtr, targets, Xte, yte, [w for _s, _i, w in nets])
    shape = (2, NET_INITS, len(NET_WIDTHS))
    return TrainedNetMeasurement(
        list(NET_WIDTHS), p.label_noise, np.asarray(train).reshape(shape),
        np.asarray(test).reshape(shape),
    )  # fmt: skip


def _train_bank(ctx, Xtr, targets, Xte, yte, widths):
    """Train one two-layer ReLU net per entry of ``widths`` at once, full-batch Adam.

    Net g is f_g(x) = w2_g . relu(W1_g x + b1_g) with ``widths[g]`` hidden units; ``targets``
    (G, n) are its +-1 labels. Loss: mean squared error over samples, summed over nets (the
    nets do not interact). Returns (final training loss per net, test loss per net against the
    clean test labels ``yte``).

    The initial weights are drawn as a padded (G, max width) bank (the first ``widths[g]``
    units of row g are net g's); only those units are trained, as one flat layer of
    sum(widths) units whose outputs are summed per net. Adam is coordinate-wise, so this is
    the padded bank with its masked units left out (they would have zero gradients and never
    move). Gradients are written out by hand (:func:`_loss_and_gradient`, tested against
    autograd) and Adam (Kingma & Ba 2015, torch's default constants) updates one flat vector.
    """
    import torch

    dev, dt = ctx.torch_device, ctx.torch_dtype
    G, H, dim = len(widths), max(widths), Xtr.shape[1]
    gen = ctx.generator("net/init")
    W1 = torch.randn(G, H, dim, generator=gen, dtype=torch.float64) / math.sqrt(dim)
    w2 = torch.randn(G, H, generator=gen, dtype=torch.float64)
    w2 = w2 / torch.tensor(widths, dtype=torch.float64).sqrt()[:, None]
    active = torch.arange(H)[None, :] < torch.tensor(widths)[:, None]  # (G, H)
    owner = torch.arange(G)[:, None].expand(G, H)[active].to(dev)  # net of each unit
    U = int(active.sum())
    theta = torch.cat([W1[active].reshape(-1), torch.zeros(U, dtype=torch.float64),
                       w2[active]]).to(dev, dt)  # fmt: skip
    Xtr, Xte = Xtr.to(dev, dt), Xte.to(dev, dt)
    Ytr, Yte = targets.to(dev, dt), yte.to(dev, dt)[None].expand(G, -1)
    first, second = torch.zeros_like(theta), torch.zeros_like(theta)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(NET_STEPS):
        per_net, grad = _loss_and_gradient(theta, Xtr, Ytr, owner, U, dim)
        if not bool(torch.isfinite(per_net).all()):
            raise Inconclusive(f"trained net diverged at step {step}", step=step)
        first.mul_(beta1).add_(grad, alpha=1 - beta1)
        second.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        t = step + 1
        denom = (second.sqrt() / math.sqrt(1 - beta2**t)).add_(eps)
        theta.addcdiv_(first, denom, value=-NET_LR / (1 - beta1**t))
    train = _loss_and_gradient(theta, Xtr, Ytr, owner, U, dim, gradient=False)[0]
    test = _loss_and_gradient(theta, Xte, Yte, owner, U, dim, gradient=False)[0]
    return train.double().cpu().tolist(), test.double().cpu().tolist()


def _loss_and_gradient(theta, X, Y, owner, U, dim, gradient=True):
    """Per-net mean squared error of the flat bank ``theta`` = (W1 (U, dim), b1 (U), w2 (U))
    on inputs X (n, dim) against targets Y (G, n), and the gradient of their sum.

    out[g, i] = sum over units u of net g of w2_u relu(W1_u . x_i + b1_u); with r = out - Y
    and D = 2 r / n (G, n), the unit gradients are dw2_u = sum_i D[g(u), i] h_iu,
    dpre_iu = D[g(u), i] w2_u 1[pre_iu > 0], dW1 = dpre^T X, db1 = sum_i dpre_iu.
    """
    import torch

    W1 = theta[: U * dim].view(U, dim)
    b1, w2 = theta[U * dim : U * dim + U], theta[U * dim + U :]
    pre = torch.addmm(b1, X, W1.T)  # (n, U)
    hidden = pre.clamp_min(0.0)
    G, n = Y.shape
    out = torch.zeros(n, G, dtype=theta.dtype, device=theta.device)
    out.index_add_(1, owner, hidden * w2)
    residual = out.T - Y  # (G, n)
    per_net = torch.linalg.vector_norm(residual, dim=1).square_().div_(n)
    if not gradient:
        return per_net, None
    back = residual.T.index_select(1, owner).mul_(2.0 / n)  # (n, U): D[g(u), i]
    grad_w2 = (back * hidden).sum(dim=0)
    grad_pre = back.mul_(w2).mul_(pre > 0)
    grad_W1 = grad_pre.T @ X
    return per_net, torch.cat([grad_W1.reshape(-1), grad_pre.sum(dim=0), grad_w2])


def compare(m: TrainedNetMeasurement, p) -> Comparison:
    """The two qualitative statements, the interpolation hypothesis and the series."""
    require_finite("trained-net training errors", m.train)
    require_finite("trained-net test errors", m.test)
    widths = m.widths
    train = np.median(m.train, axis=1)  # median over inits
    test = np.median(m.test, axis=1)
    peaks = {}
    for k, name in enumerate(("noisy", "clean")):
        interp = [w for w, t in zip(widths, train[k], strict=True) if t <= NET_INTERPOLATED]
        peaks[name] = (widths[int(np.argmax(test[k]))], interp[0] if interp else None,
                       float(test[k].max()))  # fmt: skip
    peak_w, first_w, peak_noisy = peaks["noisy"]
    out = Comparison(statements=[])
    out.hypotheses.append(
        Hypothesis(
            "trained_net_interpolates",
            f"some width fits the noisy training set (mean squared error <= {NET_INTERPOLATED:g})",
            first_w is not None,
            f"first interpolating width {first_w}" if first_w else "no width interpolated",
            required=True,
        )
    )  # fmt: skip
    ratio_log = math.log2(peak_w / first_w) if first_w else math.nan
    statement = Statement.within(
        "trained_net_peak",
        "QUALITATIVE: log2(width at the median test-error peak / first interpolating width) "
        "in [-1, 1] with label noise (Nakkiran et al. 2019)",
        ratio_log, (-1.0, 1.0),
        detail=f"peak at width {peak_w}, first interpolating width {first_w}, label noise "
        f"{m.label_noise}, median of {m.train.shape[1]} inits",
    )  # fmt: skip
    if first_w is None:
        statement.mark_not_evaluable("no width interpolated the noisy training set")
    out.statements.append(statement)
    out.statements.append(
        Statement.at_least(
            "trained_net_noise_raises_peak",
            "QUALITATIVE: peak median test error with label noise / peak without > 1",
            peak_noisy / peaks["clean"][2], 1.0, strict=True, power="sanity",
        )
    )  # fmt: skip
    out.series["trained_net"] = {
        "width": list(widths), "label_noise": m.label_noise, "inits": m.train.shape[1],
        "train_noisy": train[0].tolist(), "test_noisy": test[0].tolist(),
        "train_clean": train[1].tolist(), "test_clean": test[1].tolist(),
    }  # fmt: skip
    return out

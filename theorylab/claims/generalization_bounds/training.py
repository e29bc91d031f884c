"""Batched full-batch training of many two-layer ReLU networks f(x) = V relu(U x) at once.

``G`` groups (one training set each: a seed, a label-noise level, an independent draw) times
``K`` widths: the hidden units of the K networks of a group are concatenated into one
(M, d) first-layer matrix, M = sum of the widths, so one step is four batched matmuls over the
groups whatever the number of widths. The readout is block-diagonal: unit j of network k feeds
only network k's c outputs (``V`` holds each unit's outgoing weights, (G, M, c)).

No biases: callers append a constant input coordinate, so the hidden biases are part of U and
the function class is exactly {x -> V relu(U x)} of Neyshabur et al. (ICLR 2019).

Loss: mean cross-entropy over the group's training points, per network. Optimiser: gradient
descent with heavy-ball momentum (full-batch SGD with momentum, the optimiser of Neyshabur et
al. Sec. 2), gradients derived by hand (checked against autograd in the tests). A network stops
(its parameters and momentum frozen) at the first step its loss is <= ``target_loss``.

Initialisation: u_j ~ N(0, 2/d I) (He), v_j ~ N(0, 1/h I) for a network of width h.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ...errors import Inconclusive


@dataclass
class TwoLayerNets:
    """G x K two-layer networks; parameters of group g, network k are the rows ``units(k)``."""

    widths: tuple[int, ...]
    U0: torch.Tensor  # (G, M, d) initial first layer
    U: torch.Tensor  # (G, M, d)
    V: torch.Tensor  # (G, M, c): row j = outgoing weights of unit j

    @property
    def groups(self) -> int:
        return self.U.shape[0]

    @property
    def classes(self) -> int:
        return self.V.shape[2]

    @property
    def offsets(self) -> list[int]:
        return [0, *itertools.accumulate(self.widths)]

    def units(self, k: int) -> slice:
        off = self.offsets
        return slice(off[k], off[k + 1])

    def unit_net(self) -> torch.Tensor:
        """(M,) index of the network each unit belongs to."""
        return torch.repeat_interleave(
            torch.arange(len(self.widths), device=self.U.device),
            torch.tensor(self.widths, device=self.U.device),
        )

    def readout(self, V: torch.Tensor | None = None) -> torch.Tensor:
        """Block-diagonal readout (G, M, K c): unit j writes only to its own network's outputs."""
        V = self.V if V is None else V
        G, M, c = V.shape
        K = len(self.widths)
        block = torch.nn.functional.one_hot(self.unit_net(), K).to(V.dtype)  # (M, K)
        return (block[None, :, :, None] * V[:, :, None, :]).reshape(G, M, K * c)

    def logits(self, X: torch.Tensor, U: torch.Tensor | None = None) -> torch.Tensor:
        """Outputs (G, n, K, c) on inputs X (G, n, d) (or (n, d), shared by every group)."""
        U = self.U if U is None else U
        X = _batched(X, self.groups)
        H = torch.relu(torch.bmm(X, U.transpose(1, 2)))
        out = torch.bmm(H, self.readout())
        return out.reshape(X.shape[0], X.shape[1], len(self.widths), self.classes)

    def network(self, g: int, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(U, U0, V) of one network in Neyshabur et al.'s shapes: (h, d), (h, d), (c, h)."""
        s = self.units(k)
        return self.U[g, s], self.U0[g, s], self.V[g, s].T


def _batched(X: torch.Tensor, groups: int) -> torch.Tensor:
    return X.expand(groups, *X.shape) if X.dim() == 2 else X


def init_nets(
    groups: int, widths, d: int, classes: int, generator: torch.Generator, dtype, device
) -> TwoLayerNets:
    """He-initialised first layers, N(0, 1/h) readouts; drawn on the CPU from ``generator``."""
    widths = tuple(int(w) for w in widths)
    M = sum(widths)
    U0 = torch.randn(groups, M, d, generator=generator, dtype=torch.float64) * math.sqrt(2.0 / d)
    V = torch.randn(groups, M, classes, generator=generator, dtype=torch.float64)
    scale = torch.cat([torch.full((w,), w**-0.5, dtype=torch.float64) for w in widths])
    V = V * scale[None, :, None]
    U0 = U0.to(dtype=dtype, device=device)
    return TwoLayerNets(widths, U0, U0.clone(), V.to(dtype=dtype, device=device))


@dataclass
class TrainResult:
    steps: torch.Tensor  # (G, K) first step whose loss (or accuracy) reached the target (-1: never)
    loss: torch.Tensor  # (G, K) training loss at the last step


def loss_and_gradients(nets: TwoLayerNets, X: torch.Tensor, y: torch.Tensor):
    """Per-network mean cross-entropy (G, K) and its gradients with respect to U and V.

    With Z = X U^T, H = relu(Z), logits F = H R (R the block readout), P = softmax(F) and
    D = (P - onehot(y)) / n: dV_j = sum_i H_ij D_i,k(j); dU = ((D R^T) * 1{Z > 0})^T X.
    Returns (loss, gU, gV, logits F (G, n, K, c)).
    """
    G, n, _ = X.shape
    K, c = len(nets.widths), nets.classes
    Z = torch.bmm(X, nets.U.transpose(1, 2))
    H = torch.relu(Z)
    R = nets.readout()
    F = torch.bmm(H, R).reshape(G, n, K, c)
    logp = torch.log_softmax(F, dim=-1)
    onehot = torch.nn.functional.one_hot(y, c).to(F.dtype)[:, :, None, :]
    loss = -(logp * onehot).sum(-1).mean(1)  # (G, K)
    D = ((logp.exp() - onehot) / n).reshape(G, n, K * c)
    gR = torch.bmm(H.transpose(1, 2), D).reshape(G, -1, K, c)
    unit_net = nets.unit_net()
    gV = gR[:, torch.arange(unit_net.numel(), device=unit_net.device), unit_net, :]
    gH = torch.bmm(D, R.transpose(1, 2))
    gU = torch.bmm((gH * (Z > 0)).transpose(1, 2), X)
    return loss, gU, gV, F


def train(
    nets: TwoLayerNets,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    lr: float,
    momentum: float,
    max_steps: int,
    target_loss: float | None = None,
    target_accuracy: float | None = None,
    callback: Callable[[int, torch.Tensor], None] | None = None,
) -> TrainResult:
    """Full-batch heavy-ball GD on every network until its loss <= ``target_loss`` or its
    training accuracy >= ``target_accuracy`` (whichever is given), or ``max_steps``.

    X: (G, n, d) or (n, d); y: (G, n) class indices. ``callback(step, logits)`` sees the training
    logits (G, n, K, c) before every update (and at the last step). Raises Inconclusive when a
    loss becomes non-finite.
    """
    X = _batched(X, nets.groups)
    G, K = nets.groups, len(nets.widths)
    unit_net = nets.unit_net()
    active = torch.ones(G, K, dtype=torch.bool, device=X.device)
    steps = torch.full((G, K), -1, dtype=torch.long)
    bU, bV = torch.zeros_like(nets.U), torch.zeros_like(nets.V)
    loss = None
    for step in range(max_steps + 1):
        loss, gU, gV, F = loss_and_gradients(nets, X, y)
        if not bool(torch.isfinite(loss).all()):
            g, k = (int(i) for i in torch.nonzero(~torch.isfinite(loss))[0])
            raise Inconclusive(
                f"training loss is not finite at step {step} (group {g}, width "
                f"{nets.widths[k]}): lower the learning rate",
                step=step,
            )
        reached = torch.zeros_like(active)
        if target_loss is not None:
            reached |= loss <= target_loss
        if target_accuracy is not None:
            accuracy = (F.argmax(-1) == y[:, :, None]).to(loss.dtype).mean(1)
            reached |= accuracy >= target_accuracy
        reached &= active
        steps[reached.cpu()] = step
        active &= ~reached
        last = step == max_steps or not bool(active.any())
        if callback is not None:
            callback(step, F)
        if last:
            break
        unit_active = active[:, unit_net].to(X.dtype)[:, :, None]  # (G, M, 1)
        bU.mul_(momentum).add_(gU).mul_(unit_active)
        bV.mul_(momentum).add_(gV).mul_(unit_active)
        nets.U.sub_(bU, alpha=lr)
        nets.V.sub_(bV, alpha=lr)
    return TrainResult(steps, loss.detach())

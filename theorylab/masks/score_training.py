"""Train masks, not weights: edge-popup and Bernoulli supermasks on a frozen random population.

Every network p of a :class:`~theorylab.sparse.masked_mlp.MaskedStack` keeps its weights W^p
fixed; a real score s_ij per weight is trained instead, and the forward pass uses
W^p * m(s^p):

- ``edge_popup`` (Ramanujan, Wortsman, Kembhavi, Farhadi, Rastegari, CVPR 2020, Alg. 1):
  m = the top ``keep_fraction`` of |s| in each layer (k is the fraction KEPT); the backward pass
  hands the gradient of the mask to |s| unchanged (straight-through), so
  ds_ij = sign(s_ij) dL/d(W_ij m_ij) W_ij. Scores start Kaiming-uniform, U(-sqrt(6/fan_in),
  sqrt(6/fan_in)), as in the paper.
- ``bernoulli`` (Zhou, Lan, Liu, Yosinski, NeurIPS 2019, Sec. 5, "learned supermasks"): m is
  sampled m_ij ~ Bernoulli(sigmoid(s_ij)) at every step, with the straight-through gradient of
  the sample taken as the gradient of sigmoid(s_ij); scores start at 0 plus a small uniform
  jitter (p = 1/2 for every weight). At evaluation the mask is deterministic,
  m_ij = 1[sigmoid(s_ij) > 1/2], so accuracy does not depend on a sample; its density is
  whatever training made it.

All P networks train at once (one Adam over stacked score tensors: each coordinate's update
depends on its own gradient only, so this equals P separate optimisations), reading minibatch
t of their seed's data order. The structural mask of each network (a narrow network embedded
in a wider stack) is respected: weights outside it are never kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import Inconclusive
from ..sparse.datasets import Split
from ..sparse.masked_mlp import MaskedStack, forward
from .topk import straight_through_topk

METHODS = ("edge_popup", "bernoulli")


def edge_popup_rank(scores: torch.Tensor) -> torch.Tensor:
    """What edge-popup ranks: |s| (Ramanujan et al. 2020, Alg. 1 and their code)."""
    return scores.abs()


BERNOULLI_JITTER = 0.01


@dataclass(frozen=True)
class ScoreConfig:
    method: str = "edge_popup"
    steps: int = 600
    lr: float = 0.05
    batch_size: int = 60
    eval_every: int = 100

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")


@dataclass
class ScoreResult:
    masks: list[torch.Tensor]  # final evaluation masks, (P, out, in) 0/1 in the weights' dtype
    test_acc: torch.Tensor  # (P,) test accuracy of W * mask at the end
    train_acc: torch.Tensor  # (P,) training accuracy at the end
    density: torch.Tensor  # (P,) fraction of live weights kept, all layers together


def init_scores(stack: MaskedStack, method: str, generators) -> list[torch.Tensor]:
    """Scores per layer, drawn per network from its own generator (CPU float64, then cast)."""
    out = []
    for W in stack.weights:
        fan_in = W.shape[2]
        draws = []
        for g in generators:
            u = torch.rand(W.shape[1:], generator=g, dtype=torch.float64) * 2 - 1
            bound = (6.0 / fan_in) ** 0.5 if method == "edge_popup" else BERNOULLI_JITTER
            draws.append(u * bound)
        out.append(torch.stack(draws).to(dtype=W.dtype, device=W.device))
    return out


def _masks(scores, stack: MaskedStack, method: str, keep_fraction, sample: bool, generator):
    if method == "edge_popup":
        return [
            straight_through_topk(edge_popup_rank(s), keep_fraction, live) * live
            for s, live in zip(scores, stack.masks, strict=True)
        ]
    out = []
    for s, live in zip(scores, stack.masks, strict=True):
        p = torch.sigmoid(s)
        if sample:
            u = torch.rand(p.shape, generator=generator, dtype=torch.float64).to(p)
            hard = (u < p.detach()).to(p.dtype)
            out.append((hard + p - p.detach()) * live)
        else:
            out.append((p > 0.5).to(p.dtype) * live)
    return out


def _accuracy(stack: MaskedStack, masks, X, y) -> torch.Tensor:
    weights = [W * m for W, m in zip(stack.weights, masks, strict=True)]
    logits = forward(stack, X, weights)
    return (logits.argmax(dim=2) == y).to(torch.float64).mean(dim=1).cpu()


def train_scores(
    stack: MaskedStack,
    data: Split,
    orders: torch.Tensor,
    order_index: torch.Tensor,
    config: ScoreConfig,
    generators,
    keep_fraction: float | torch.Tensor = 0.5,
    sample_generator: torch.Generator | None = None,
) -> ScoreResult:
    """Train the masks of every network of ``stack`` (weights frozen) for ``config.steps``.

    ``orders`` is ``(n_orders, steps, batch)`` training indices and ``order_index`` ``(P,)``
    picks each network's order; ``keep_fraction`` (edge-popup only) is a float or ``(P,)``.
    A non-finite loss raises :class:`~theorylab.errors.Inconclusive` naming the step.
    """
    if orders.shape[1] < config.steps:
        raise ValueError(f"orders hold {orders.shape[1]} steps, {config.steps} needed")
    scores = [s.requires_grad_(True) for s in init_scores(stack, config.method, generators)]
    opt = torch.optim.Adam(scores, lr=config.lr, foreach=True)
    rows = torch.arange(stack.members)
    member_orders = orders[order_index.cpu()]
    sample_generator = sample_generator or torch.Generator().manual_seed(0)
    X, y = data.X_train, data.y_train
    for t in range(config.steps):
        masks = _masks(scores, stack, config.method, keep_fraction, True, sample_generator)
        weights = [W * m for W, m in zip(stack.weights, masks, strict=True)]
        idx = member_orders[rows, t].to(X.device)
        logits = forward(stack, X[idx], weights)
        C = logits.shape[-1]
        loss = F.cross_entropy(logits.reshape(-1, C), y[idx].reshape(-1), reduction="sum")
        if not torch.isfinite(loss):
            raise Inconclusive(f"mask training loss is not finite at step {t}", step=t)
        opt.zero_grad(set_to_none=True)
        (loss / config.batch_size).backward()
        opt.step()
    with torch.no_grad():
        masks = [m.detach() for m in _masks(scores, stack, config.method, keep_fraction, False,
                                             None)]  # fmt: skip
        live = sum(float(0) + m.flatten(1).sum(1) for m in stack.masks)
        kept = sum(m.flatten(1).sum(1) for m in masks)
        return ScoreResult(
            masks=masks,
            test_acc=_accuracy(stack, masks, data.X_test, data.y_test),
            train_acc=_accuracy(stack, masks, data.X_train, data.y_train),
            density=(kept / live).to(torch.float64).cpu(),
        )

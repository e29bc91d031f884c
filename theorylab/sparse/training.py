"""Train a whole population of masked MLPs at once (Adam or SGD), with early stopping.

Every member p minimises its own mean cross-entropy over its minibatch,

    L_p(theta_p) = (1/B) sum_{i in batch_p(t)} CE(f^p(x_i), y_i),

and the trainer minimises sum_p L_p: the gradient with respect to member p's weights is
dL_p/dtheta_p, because no weight is shared between members. Adam (Kingma & Ba 2015) and SGD
with momentum update each coordinate from that coordinate's gradient history alone, so one
optimiser over the stacked ``(P, ...)`` tensors performs exactly the P separate optimisations
(tests/sparse/test_training.py checks this against one optimiser per member). Masked weights
get a zero gradient (the forward multiplies by the mask), so Adam's moments and the weights
stay zero there.

Member p reads minibatch t from ``orders[order_index[p], order_offset[p] + t]``: networks of one
seed (ticket and controls) share an order; a rewound network continues its order at step k.

Every ``eval_every`` steps (and at steps 0 and ``steps``) the validation loss and accuracy are
recorded. The early-stopping iteration is the step of minimum validation loss (Frankle & Carbin,
ICLR 2019, Sec. 2; the first such step on ties, :func:`early_stop_index`, applied to the record
so far after every evaluation); the weights at that step are kept, and the test accuracy
reported for the early-stopping iteration is theirs (the test split is evaluated twice per
network: at the early-stopping weights and at the final weights). The convergence iteration
(:func:`converged_index`) is the first step at which the validation loss comes within a factor
1 + tolerance of its minimum: a measure of learning speed that, unlike the argmin, does not
wander along a flat validation plateau.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import Inconclusive
from .datasets import Split
from .masked_mlp import MaskedStack, forward

OPTIMIZERS = ("adam", "sgd")
# Frankle & Carbin (2019), Fig. 2: Adam, learning rate 1.2e-3, minibatch 60 for LeNet-300-100.
# Convergence iteration: first step with validation loss <= (1 + CONVERGED_TOLERANCE) x minimum.
CONVERGED_TOLERANCE = 0.2
ADAM_LR = 1.2e-3
BATCH_SIZE = 60
SGD_MOMENTUM = 0.9


@dataclass(frozen=True)
class TrainConfig:
    optimizer: str = "adam"
    lr: float = ADAM_LR
    steps: int = 400
    batch_size: int = BATCH_SIZE
    eval_every: int = 10
    momentum: float = SGD_MOMENTUM  # SGD only
    snapshot_step: int | None = None  # keep a copy of the weights after this many steps

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")

    @property
    def eval_steps(self) -> list[int]:
        """0, eval_every, 2 eval_every, ..., and ``steps`` itself."""
        points = list(range(0, self.steps + 1, self.eval_every))
        return points if points[-1] == self.steps else [*points, self.steps]


@dataclass
class TrainResult:
    final: MaskedStack  # weights after ``steps`` steps
    eval_steps: list[int]
    val_loss: torch.Tensor  # (E, P), float64
    val_acc: torch.Tensor  # (E, P)
    early_stop_step: torch.Tensor  # (P,) long: step of minimum validation loss
    converged_step: torch.Tensor  # (P,) long: first step within CONVERGED_TOLERANCE of it
    early: MaskedStack  # weights at the early-stopping step
    test_acc_early: torch.Tensor  # (P,): test accuracy at the early-stopping step
    test_acc_final: torch.Tensor  # (P,): test accuracy after the last step
    snapshot: MaskedStack | None  # weights after ``snapshot_step`` steps


def early_stop_index(val_loss: torch.Tensor) -> torch.Tensor:
    """(P,) index of the first minimum of each column of ``val_loss`` (E, P).

    >>> early_stop_index(torch.tensor([[3.0, 1.0], [2.0, 1.0], [2.0, 5.0]])).tolist()
    [1, 0]
    """
    return torch.argmin(val_loss, dim=0)  # torch returns the first minimal index


def converged_index(val_loss: torch.Tensor, tolerance: float = CONVERGED_TOLERANCE) -> torch.Tensor:
    """(P,) index of the first entry of each column of ``val_loss`` (E, P) at most
    (1 + tolerance) times the column's minimum (losses are positive).

    >>> converged_index(torch.tensor([[3.0, 1.0], [1.1, 0.9], [1.0, 0.5]]), 0.2).tolist()
    [1, 2]
    """
    threshold = (1 + tolerance) * val_loss.min(dim=0).values
    return (val_loss <= threshold).to(torch.int8).argmax(dim=0)  # argmax: first maximal index


@torch.no_grad()
def evaluate(stack: MaskedStack, X: torch.Tensor, y: torch.Tensor):
    """(mean cross-entropy, accuracy) per member on shared inputs X, both ``(P,)`` float64."""
    logits = forward(stack, X).transpose(1, 2)  # (P, C, N), contiguous
    P, _C, N = logits.shape
    ce = F.cross_entropy(logits, y.expand(P, N), reduction="none")  # (P, N)
    loss = ce.mean(dim=1).to(torch.float64)
    acc = (logits.argmax(dim=1) == y).to(torch.float64).mean(dim=1)
    return loss, acc


def make_optimizer(params: list[torch.Tensor], config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, fused=True)
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, fused=True)


def train(stack: MaskedStack, data: Split, orders: torch.Tensor, order_index: torch.Tensor,
          order_offset: torch.Tensor, config: TrainConfig,
          grad_masks: list[torch.Tensor] | None = None) -> TrainResult:  # fmt: skip
    """Train every member of ``stack`` (left unchanged) for ``config.steps`` steps.

    ``orders`` is ``(n_orders, length, B)`` of training indices (:func:`datasets.data_order`);
    ``order_index`` and ``order_offset`` are ``(P,)``. A non-finite validation loss raises
    :class:`~theorylab.errors.Inconclusive` naming the step.

    ``grad_masks`` (optional, one 0/1 tensor per layer shaped like the weights) multiplies
    each weight gradient: weights where it is 0 are used by the forward pass but frozen at
    their starting values (Zhou et al., NeurIPS 2019, Sec. 3: pruned weights "frozen at
    init" instead of set to zero). Their gradient is exactly zero from the first step, so
    Adam's moments and SGD's momentum stay zero there and the weights never move.
    """
    P = stack.members
    steps_needed = int(order_offset.max()) + config.steps if P else 0
    if orders.shape[1] < steps_needed:
        raise ValueError(f"orders hold {orders.shape[1]} steps, {steps_needed} needed")
    work = stack.clone()
    params = [p.requires_grad_(True) for p in work.weights + work.biases]
    L = work.layers
    if grad_masks is not None:
        for W, g in zip(params[:L], grad_masks, strict=True):
            W.register_hook(_times(g.to(W)))
    opt = make_optimizer(params, config)
    member_orders = orders[order_index.cpu()]  # (P, length, B)
    offset = order_offset.cpu()
    rows = torch.arange(P)
    evals = set(config.eval_steps)
    records: list[tuple[torch.Tensor, torch.Tensor]] = []
    snapshot = None
    best = _detached(work)
    X, y = data.X_train, data.y_train
    for t in range(config.steps + 1):
        if t in evals:
            records.append(_record(work, data, t))
            index = early_stop_index(torch.stack([r[0] for r in records]))
            _keep_where(best, work, index == len(records) - 1)
        if config.snapshot_step is not None and t == config.snapshot_step:
            snapshot = _detached(work)
        if t == config.steps:
            break
        idx = member_orders[rows, offset + t].to(X.device)  # (P, B)
        logits = forward(work, X[idx], params[:L], params[L:])  # (P, B, C)
        loss = F.cross_entropy(logits.transpose(1, 2), y[idx], reduction="sum")
        opt.zero_grad(set_to_none=True)
        (loss / config.batch_size).backward()
        opt.step()
    val_loss = torch.stack([r[0] for r in records])
    val_acc = torch.stack([r[1] for r in records])
    index = early_stop_index(val_loss)
    steps = torch.tensor(config.eval_steps, dtype=torch.long)
    final = _detached(work)
    return TrainResult(
        final=final,
        eval_steps=config.eval_steps,
        val_loss=val_loss,
        val_acc=val_acc,
        early_stop_step=steps[index.cpu()],
        converged_step=steps[converged_index(val_loss).cpu()],
        early=best,
        test_acc_early=evaluate(best, data.X_test, data.y_test)[1].cpu(),
        test_acc_final=evaluate(final, data.X_test, data.y_test)[1].cpu(),
        snapshot=snapshot,
    )


def _times(factor: torch.Tensor):
    """A gradient hook multiplying the gradient by ``factor``."""
    return lambda grad: grad * factor


def _record(work: MaskedStack, data: Split, t: int):
    val_loss, val_acc = evaluate(work, data.X_val, data.y_val)
    if not bool(torch.isfinite(val_loss).all()):
        bad = int((~torch.isfinite(val_loss)).nonzero()[0, 0])
        raise Inconclusive(f"validation loss of network {bad} is not finite at step {t} "
                           "(training diverged: lower the learning rate)", step=t)  # fmt: skip
    return val_loss.cpu(), val_acc.cpu()


@torch.no_grad()
def _keep_where(best: MaskedStack, work: MaskedStack, chosen: torch.Tensor) -> None:
    """Copy the members ``chosen`` ((P,) bool) of ``work`` into ``best``, in place."""
    if not bool(chosen.any()):
        return
    chosen = chosen.to(best.weights[0].device)
    for dst, src in zip(best.weights + best.biases, work.weights + work.biases, strict=True):
        shape = (-1,) + (1,) * (dst.dim() - 1)
        dst.copy_(torch.where(chosen.reshape(shape), src.detach(), dst))


def _detached(work: MaskedStack) -> MaskedStack:
    return MaskedStack([w.detach().clone() for w in work.weights],
                       [b.detach().clone() for b in work.biases],
                       [m.clone() for m in work.masks])  # fmt: skip


def steps_per_epoch(n_train: int, batch_size: int) -> float:
    return n_train / batch_size if batch_size else math.nan

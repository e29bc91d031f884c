"""Any ``torch.nn.Module`` as a function of one flat parameter vector, with its loss and data.

:class:`ModelLoss` turns (module, loss, data) into what :mod:`theorylab.curvature` works on:
``theta`` (P,), the mean loss L(theta) = (1/n) sum_i f_i(theta) over the whole data set, and
per-sample losses f_i. The module is evaluated with ``torch.func.functional_call`` on
parameters unflattened from ``theta`` (buffers as they are), in ``eval()`` mode (dropout off,
batch-norm running statistics), converted to the requested dtype (float64 by default).

Losses (mean reduction over the data, the normalisation ``torch.nn.functional`` uses, so the
curvature is that of the loss a PyTorch training loop with the default reduction minimises):

- ``"cross_entropy"``: f_i = -log softmax(f(x_i))_{y_i}, integer targets;
- ``"mse"``: f_i = mean over output coordinates of (f(x_i) - y_i)^2 (``F.mse_loss``'s mean:
  no factor 1/2, divided by the output size);
- ``"auto"``: cross_entropy for integer targets, mse otherwise;
- or any callable ``loss(outputs, targets) -> per-sample losses (n,)``.

Data: tensors ``(X, y)`` or an iterable of ``(X_b, y_b)`` batches (a DataLoader); with batches
the loss is sum_b (n_b / n) mean_b, the mean over all samples (sampled batches would make the
Hessian random: pass a DataLoader with ``shuffle=False`` and no dropped batch).

Example (a linear model with the mse loss has H = 2 X^T X / n for one output):
    >>> import torch
    >>> X = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    >>> ml = ModelLoss(torch.nn.Linear(2, 1, bias=False), (X, torch.zeros(2)), loss="mse")
    >>> ml.num_params, ml.loss_name, ml.n
    (2, 'mse', 2)
    >>> from theorylab.curvature import dense_hessian
    >>> dense_hessian(ml.loss, ml.theta0).tolist()
    [[1.0, 0.0], [0.0, 4.0]]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch.func import functional_call, vmap

from ..errors import Inconclusive, UsageError

LOSSES = ("auto", "mse", "cross_entropy")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class ModelLoss:
    """(module, loss, data) as functions of the flat parameter vector ``theta``.

    Attributes: ``theta0`` (the module's current parameters, flat), ``names``/``shapes`` of the
    trainable parameters in ``named_parameters()`` order, ``n`` samples, ``num_params`` P,
    ``loss_name``. Methods: :meth:`loss` (mean loss), :meth:`sample_losses` (f_i at one
    theta, for a batch), :meth:`outputs`, :meth:`unflatten`, :meth:`batches`.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        data: tuple[torch.Tensor, torch.Tensor] | Iterable[Any],
        loss: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = "auto",
        dtype: torch.dtype = torch.float64,
        device: str | torch.device = "cpu",
    ):
        if not isinstance(module, torch.nn.Module):
            raise UsageError(f"expected a torch.nn.Module, got {type(module).__name__}")
        self.dtype, self.device = dtype, torch.device(device)
        self.module = module.to(device=self.device, dtype=dtype).eval()
        named = [(k, p) for k, p in self.module.named_parameters() if p.requires_grad]
        if not named:
            raise UsageError("the model has no trainable parameters")
        self.names = [k for k, _ in named]
        self.shapes = [tuple(p.shape) for _, p in named]
        self.sizes = [p.numel() for _, p in named]
        self.buffers = dict(self.module.named_buffers())
        self.theta0 = torch.cat([p.detach().reshape(-1) for _, p in named]).clone()
        self._batches = self._as_batches(data)
        self.n = sum(int(X.shape[0]) for X, _ in self._batches)
        if self.n == 0:
            raise UsageError("the data set is empty")
        self.integer_targets = all(not torch.is_floating_point(y) for _, y in self._batches)
        if callable(loss):
            self.loss_name, self._per_sample = getattr(loss, "__name__", "custom"), loss
        else:
            if loss not in LOSSES:
                raise UsageError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
            name = loss if loss != "auto" else ("cross_entropy" if self.integer_targets else "mse")
            self.loss_name = name
            self._per_sample = _cross_entropy if name == "cross_entropy" else _mse
        self._check_fit()

    # data --------------------------------------------------------------------------------
    def _as_batches(self, data) -> list[tuple[torch.Tensor, torch.Tensor]]:
        if isinstance(data, tuple) and len(data) == 2 and torch.is_tensor(data[0]):
            pairs = [data]
        else:
            try:
                pairs = [tuple(batch) for batch in data]
            except TypeError as exc:
                raise UsageError(f"data must be (X, y) tensors or batches: {exc}") from None
        out = []
        for pair in pairs:
            if len(pair) != 2:
                raise UsageError(f"each batch must be (X, y), got {len(pair)} items")
            X, y = (torch.as_tensor(t) for t in pair)
            if X.shape[0] != y.shape[0]:
                raise UsageError(f"X has {X.shape[0]} samples but y has {y.shape[0]}")
            if torch.is_floating_point(X):
                X = X.to(self.dtype)
            if torch.is_floating_point(y):
                y = y.to(self.dtype)
            if torch.is_floating_point(X) and not bool(torch.isfinite(X).all()):
                raise UsageError("the inputs X contain NaN or infinite values")
            out.append((X.to(self.device), y.to(self.device)))
        return out

    def batches(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return list(self._batches)

    def full_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All batches concatenated (X, y)."""
        if len(self._batches) == 1:
            return self._batches[0]
        return (torch.cat([X for X, _ in self._batches]), torch.cat([y for _, y in self._batches]))

    def _check_fit(self) -> None:
        """Run the module on the first two samples: data that does not fit is bad input."""
        X, y = self._batches[0]
        try:
            with torch.no_grad():
                out = self.outputs(self.theta0, X[:2])
        except Exception as exc:  # any shape/dtype error inside the user's forward
            raise UsageError(
                f"the data does not fit the model: input of shape {tuple(X.shape)} gives "
                f"{_first_line(exc)}"
            ) from None
        if not torch.is_tensor(out):
            raise UsageError(f"the model must return a tensor, got {type(out).__name__}")
        _validate_targets(self.loss_name, out, [t for _, t in self._batches])
        try:
            with torch.no_grad():
                value = self._per_sample(out, y[:2])
        except UsageError:
            raise
        except Exception as exc:
            raise UsageError(
                f"the targets do not fit the model's outputs ({self.loss_name} loss, outputs "
                f"{tuple(out.shape)}, targets {tuple(y[:2].shape)}): {_first_line(exc)}"
            ) from None
        if value.shape != (out.shape[0],):
            raise UsageError(
                f"the loss must give one value per sample, got shape {tuple(value.shape)}"
            )

    # parameters --------------------------------------------------------------------------
    @property
    def num_params(self) -> int:
        return int(self.theta0.numel())

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        parts = torch.split(theta, self.sizes)
        params = {k: p.view(s) for k, p, s in zip(self.names, parts, self.shapes, strict=True)}
        return {**self.buffers, **params}

    def outputs(self, theta: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
        return functional_call(self.module, self.unflatten(theta), (X,))

    # losses ------------------------------------------------------------------------------
    def sample_losses(self, theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor):
        """f_i(theta) for the samples of one batch (n_b,)."""
        return self._per_sample(self.outputs(theta, X), y)

    def loss(self, theta: torch.Tensor) -> torch.Tensor:
        """L(theta) = (1/n) sum_i f_i(theta), the mean over every sample of every batch."""
        total = None
        for X, y in self._batches:
            part = self.sample_losses(theta, X, y).sum()
            total = part if total is None else total + part
        return total / self.n

    def value(self, theta: torch.Tensor | None = None) -> float:
        """L(theta) as a float; a non-finite loss is Inconclusive (exit 3)."""
        with torch.no_grad():
            value = float(self.loss(self.theta0 if theta is None else theta))
        if value != value or value in (float("inf"), float("-inf")):
            raise Inconclusive(f"the loss at the given weights is not finite ({value})")
        return value

    def rowwise_losses(self, X: torch.Tensor, y: torch.Tensor):
        """Theta (m, P) -> (m,): f_i at row i of Theta for sample i of (X, y) (m samples), by
        ``torch.func.vmap`` over single-sample calls (the per-sample curvature products)."""

        def one(t, x, target):
            return self._per_sample(self.outputs(t, x[None]), target[None])[0]

        return vmap(one, in_dims=(0, 0, 0))

    def accuracy(self, theta: torch.Tensor | None = None) -> float | None:
        """Fraction of argmax predictions equal to integer targets (None for real targets)."""
        if not self.integer_targets:
            return None
        theta = self.theta0 if theta is None else theta
        right = 0
        with torch.no_grad():
            for X, y in self._batches:
                right += int((self.outputs(theta, X).argmax(dim=-1) == y).sum())
        return right / self.n


def _validate_targets(name: str, out: torch.Tensor, targets: list[torch.Tensor]) -> None:
    """One-line UsageErrors for targets that the built-in losses cannot take."""
    if name == "cross_entropy":
        if any(torch.is_floating_point(y) for y in targets):
            raise UsageError("cross_entropy needs integer class labels as targets")
        if out.dim() != 2:
            shape = tuple(out.shape)
            raise UsageError(f"cross_entropy needs outputs of shape (n, classes), got {shape}")
        classes = out.shape[1]
        for y in targets:
            if y.dim() != 1 or (y.numel() and (int(y.min()) < 0 or int(y.max()) >= classes)):
                raise UsageError(f"cross_entropy targets must be labels in 0..{classes - 1}")
    elif name == "mse":
        y = targets[0]
        if y.dim() == 1 and out.dim() == 2 and out.shape[1] == 1:
            return
        if tuple(out.shape[1:]) != tuple(y.shape[1:]):
            raise UsageError(
                f"mse needs targets shaped like the outputs: outputs {tuple(out.shape)}, "
                f"targets {tuple(y.shape)}"
            )


def _cross_entropy(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # log-softmax written out: torch.func's forward-over-reverse accepts it everywhere
    return torch.logsumexp(out, dim=1) - out.gather(1, y[:, None].long())[:, 0]


def _mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if y.dim() == 1 and out.dim() == 2 and out.shape[1] == 1:
        y = y[:, None]
    diff = out - y.to(out.dtype)
    # written out instead of F.mse_loss: torch 2.13's forward-over-reverse fails on F.mse_loss
    # with a constant target ("ZeroTensors are immutable")
    return (diff * diff).reshape(diff.shape[0], -1).mean(dim=1)


__all__ = ["LOSSES", "ModelLoss"]

"""Classification data for the sparsity claims: digits and MNIST-1D with seeded splits.

Both are small-scale stand-ins for MNIST (the data set of Frankle & Carbin's LeNet-300-100
experiments), chosen because a population of networks trains on them in seconds on 2 CPU cores:

- ``digits``: scikit-learn's 1797 8x8 handwritten digits (64 inputs, 10 classes), shipped offline
  (:func:`theorylab.data.digits_images`);
- ``mnist1d``: Greydanus (2020)'s MNIST-1D, 40-sample 1-D signals of the ten digit templates
  (:func:`theorylab.data.mnist1d_arrays`, generated procedurally, 4000 signals). It is harder
  than digits for an MLP (test accuracy well below 100%), so sparsity costs accuracy sooner.

The split (test, validation, train fractions below) is one random permutation drawn from the
run's ``split`` stream; inputs are standardised with the training split's per-feature mean and
standard deviation (features constant on the training split are only centred). The validation
split gives the early-stopping iteration (Frankle & Carbin 2019, Sec. 2: the iteration of minimum
validation loss); accuracies are reported on the test split.

``load(name, ctx, shift=generator)`` is the transfer target of the lottery-ticket claim: the
same examples re-rendered with random small translations and noise (:func:`shifted_inputs`) and
standardised by their own training split, a second data set with the same input layout and
classes (a reflection would not do: an MLP's input-layer mask is tied to pixel positions).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import data
from ..runtime import Context

DATASETS = ("digits", "mnist1d")
TEST_FRACTION, VAL_FRACTION = 0.2, 0.1
MNIST1D_SAMPLES = 4000
# Noise of the shifted transfer target, in standard deviations of each (standardised) feature.
SHIFT_NOISE = 0.5
CLASSES = 10


@dataclass
class Split:
    """Train / validation / test tensors in the run's dtype and device (labels long)."""

    name: str
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    image_shape: tuple[int, ...]

    @property
    def d(self) -> int:
        return self.X_train.shape[1]

    @property
    def classes(self) -> int:
        return CLASSES

    @property
    def n_train(self) -> int:
        return self.X_train.shape[0]


def input_dim(name: str) -> int:
    """Input size of a data set without loading it."""
    return {"digits": 64, "mnist1d": 40}[name]


def split_sizes(n: int) -> tuple[int, int, int]:
    """(train, validation, test) counts for n examples.

    >>> split_sizes(1797)
    (1258, 180, 359)
    """
    test = round(TEST_FRACTION * n)
    val = round(VAL_FRACTION * n)
    return n - test - val, val, test


def raw(name: str) -> tuple[torch.Tensor, torch.Tensor, tuple[int, ...]]:
    """All examples of a data set (float64 inputs, long labels) and the shape of one input."""
    if name == "digits":
        X, y = data.digits_images("the sparse-training data set digits")
        return X, y, (8, 8)
    if name == "mnist1d":
        X, y = data.mnist1d_arrays(MNIST1D_SAMPLES, purpose="the sparse-training data set mnist1d")
        return X, y, (X.shape[1],)
    raise ValueError(f"unknown data set {name!r} (known: {', '.join(DATASETS)})")


def load(name: str, ctx: Context, stream: str = "split",
         shift: torch.Generator | None = None) -> Split:  # fmt: skip
    """The seeded split of data set ``name``, standardised by its training split. With
    ``shift`` (a generator), the raw inputs are first re-rendered by :func:`shifted_inputs`:
    the same examples in the same split, a covariate-shifted sibling data set."""
    X, y, shape = raw(name)
    if shift is not None:
        X = shifted_inputs(X, shape, shift)
        name = f"{name}_shifted"
    return split(name, X, y, shape, ctx, stream)


def split(name: str, X: torch.Tensor, y: torch.Tensor, shape: tuple[int, ...], ctx: Context,
          stream: str = "split") -> Split:  # fmt: skip
    n_train, n_val, _n_test = split_sizes(X.shape[0])
    order = torch.randperm(X.shape[0], generator=ctx.generator(stream))
    tr, va, te = order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]
    mean = X[tr].mean(dim=0)
    std = X[tr].std(dim=0)
    std = torch.where(std > 0, std, torch.ones_like(std))

    def prep(rows):
        return ctx.to((X[rows] - mean) / std)

    def labels(rows):
        return y[rows].to(torch.long).to(ctx.torch_device)

    return Split(name, prep(tr), labels(tr), prep(va), labels(va), prep(te), labels(te), shape)


def shifted_inputs(
    X: torch.Tensor,
    shape: tuple[int, ...],
    generator: torch.Generator,
    max_shift: int | None = None,
    noise: float = SHIFT_NOISE,
) -> torch.Tensor:
    """Raw inputs re-rendered: every example translated by an independent random offset of at
    most ``max_shift`` positions along each axis (zero fill, the background of both data sets;
    default 1 pixel for 8x8 images, 3 samples for 1-D signals), plus N(0, (noise sd(X))^2) per
    feature, sd(X) the standard deviation of all raw values. Labels are unchanged.

    This builds the transfer target of the lottery-ticket claim (:func:`load` with
    ``shift``): for MNIST-1D another generation setting (more translation and noise than the
    generator's), for digits the same kind of re-rendering. Example (no shift, no noise):

    >>> X = torch.arange(8.0).reshape(2, 4)
    >>> torch.equal(shifted_inputs(X, (4,), torch.Generator(), max_shift=0, noise=0.0), X)
    True
    """
    if max_shift is None:
        max_shift = 1 if len(shape) == 2 else 3
    n = X.shape[0]
    images = X.reshape(n, *shape).to(torch.float64)
    out = torch.zeros_like(images)
    axes = len(shape)
    offsets = torch.randint(-max_shift, max_shift + 1, (n, axes), generator=generator)
    for i in range(n):
        src, dst = [slice(None)] * axes, [slice(None)] * axes
        for a in range(axes):
            o, size = int(offsets[i, a]), shape[a]
            src[a] = slice(max(0, -o), size - max(0, o))
            dst[a] = slice(max(0, o), size - max(0, -o))
        out[i][tuple(dst)] = images[i][tuple(src)]
    out = out.reshape(n, -1)
    scale = noise * float(X.to(torch.float64).std())
    return out + scale * torch.randn(out.shape, generator=generator, dtype=torch.float64)


def data_order(n_train: int, batch_size: int, steps: int,
               generator: torch.Generator) -> torch.Tensor:  # fmt: skip
    """``(steps, batch_size)`` training indices: epochs of fresh random permutations read in
    consecutive minibatches (a batch may straddle two epochs). One order per seed keeps every
    network of that seed (ticket and controls) on the same examples in the same order.

    >>> g = torch.Generator().manual_seed(0)
    >>> order = data_order(10, 4, 5, g)
    >>> order.shape, sorted(order.flatten()[:10].tolist()) == list(range(10))
    (torch.Size([5, 4]), True)
    """
    total = steps * batch_size
    epochs = -(-total // n_train)
    stream = torch.cat([torch.randperm(n_train, generator=generator) for _ in range(epochs)])
    return stream[:total].reshape(steps, batch_size)

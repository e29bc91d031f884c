"""Mask criteria of Zhou, Lan, Liu, Yosinski, "Deconstructing Lottery Tickets: Zeros, Signs,
and the Supermask" (NeurIPS 2019), Sec. 2 and Fig. 2.

A criterion scores each weight from its initial value w_i and its trained value w_f; the mask
keeps the largest scores per layer (:func:`theorylab.masks.topk.layerwise_masks`):

==========================  ====================================  ===========================
criterion                   score                                 region kept in (w_i, w_f)
==========================  ====================================  ===========================
large_final                 |w_f|                                 |w_f| > t (Frankle-Carbin)
small_final                 -|w_f|                                |w_f| < t
large_init                  |w_i|                                 |w_i| > t
small_init                  -|w_i|                                |w_i| < t
magnitude_increase          |w_f| - |w_i|                         |w_f| - |w_i| > t
movement                    |w_f - w_i|                           |w_f - w_i| > t
large_init_large_final      min(|w_i|, |w_f|)                     |w_i| > t and |w_f| > t
random                      U(0, 1), independent of the weights   -
==========================  ====================================  ===========================

``<name>_same_sign`` keeps only weights whose sign did not change (sign(w_i) = sign(w_f)):
their score is the base score, every other weight scores -inf and is kept only if the layer
has fewer same-sign weights than the kept count.

Example (magnitude_increase keeps the weight that grew most):
    >>> import torch
    >>> w_i, w_f = torch.tensor([[1.0, -0.25]]), torch.tensor([[1.5, -1.0]])
    >>> scores(["magnitude_increase"], [w_i], [w_f])[0][0].tolist()
    [[0.5, 0.75]]
"""

from __future__ import annotations

import torch

BASE_CRITERIA = (
    "large_final",
    "small_final",
    "large_init",
    "small_init",
    "magnitude_increase",
    "movement",
    "large_init_large_final",
    "random",
)
CRITERIA = BASE_CRITERIA + tuple(f"{c}_same_sign" for c in BASE_CRITERIA if c != "random")


def base_score(name: str, w_i: torch.Tensor, w_f: torch.Tensor, generator=None) -> torch.Tensor:
    if name == "large_final":
        return w_f.abs()
    if name == "small_final":
        return -w_f.abs()
    if name == "large_init":
        return w_i.abs()
    if name == "small_init":
        return -w_i.abs()
    if name == "magnitude_increase":
        return w_f.abs() - w_i.abs()
    if name == "movement":
        return (w_f - w_i).abs()
    if name == "large_init_large_final":
        return torch.minimum(w_i.abs(), w_f.abs())
    if name == "random":
        u = torch.rand(w_i.shape, generator=generator, dtype=torch.float64)
        return u.to(device=w_i.device, dtype=w_i.dtype)
    raise ValueError(f"unknown mask criterion {name!r} (known: {', '.join(CRITERIA)})")


def score(name: str, w_i: torch.Tensor, w_f: torch.Tensor, generator=None) -> torch.Tensor:
    """Scores of one layer (any shape) under criterion ``name`` (see the module table)."""
    if name.endswith("_same_sign"):
        base = base_score(name.removesuffix("_same_sign"), w_i, w_f, generator)
        same = torch.sign(w_i) == torch.sign(w_f)
        return torch.where(same, base, torch.full_like(base, -torch.inf))
    return base_score(name, w_i, w_f, generator)


def scores(
    names: list[str], w_init: list[torch.Tensor], w_final: list[torch.Tensor], generator=None
) -> list[list[torch.Tensor]]:
    """``scores(names, ...)[c][l]``: criterion c's scores of layer l."""
    for name in names:
        if name not in CRITERIA:
            raise ValueError(f"unknown mask criterion {name!r} (known: {', '.join(CRITERIA)})")
    return [
        [score(n, wi, wf, generator) for wi, wf in zip(w_init, w_final, strict=True)] for n in names
    ]


def signed_constant(w: torch.Tensor) -> torch.Tensor:
    """sign(w) times the layer's standard deviation (Zhou et al. Sec. 4, "signed constant"),
    per batch index over the last two dimensions."""
    std = w.flatten(-2).std(dim=-1, unbiased=False)[..., None, None]
    return torch.sign(w) * std

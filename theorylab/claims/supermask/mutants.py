"""Planted mistakes for the power audit of supermask (see the claim's ``mutants``)."""

from __future__ import annotations

import torch

from ...masks import criteria, topk

# The true base score, captured when this module is first imported (before any patch).
_BASE_SCORE = criteria.base_score


def magnitude_increase_reversed(name, w_i, w_f, generator=None):
    if name == "magnitude_increase":
        return w_i.abs() - w_f.abs()
    return _BASE_SCORE(name, w_i, w_f, generator)


def layerwise_smallest(scores, keep_fraction):
    fractions = keep_fraction if isinstance(keep_fraction, list) else [keep_fraction] * len(scores)
    return [topk.layer_mask(-s, f) for s, f in zip(scores, fractions, strict=True)]


def fresh_signs(fresh: torch.Tensor, w_i: torch.Tensor) -> torch.Tensor:
    return fresh


def unit_signed_constant(w: torch.Tensor) -> torch.Tensor:
    return torch.sign(w)

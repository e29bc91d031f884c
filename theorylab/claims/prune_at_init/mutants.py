"""Planted mistakes for the power audit of prune_at_init (see the claim's ``mutants``)."""

from __future__ import annotations

import torch


def identity(scores: torch.Tensor) -> torch.Tensor:
    return scores


def snip_smallest(loss, weights):
    grads = torch.func.grad(loss)(weights)
    return [-(w * g).abs() for w, g in zip(weights, grads, strict=True)]


def grasp_flipped(loss, weights):
    grad_fn = torch.func.grad(loss)
    g = [t.detach() for t in grad_fn(weights)]
    _, hg = torch.func.jvp(grad_fn, (weights,), (g,))
    return [-w * h for w, h in zip(weights, hg, strict=True)]

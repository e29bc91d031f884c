"""Pruning at initialisation from one batch: SNIP and GraSP saliencies.

Both take ``loss(weights) -> scalar`` for one network (a list of weight tensors; biases are not
scored) and return one score tensor per weight; the masks keep the largest scores globally
(:func:`theorylab.masks.topk.global_masks`). Batch over seeds with ``torch.func.vmap``.

- SNIP (Lee, Ajanthan, Torr, ICLR 2019, eq. 6): s_j = |w_j dL/dw_j| (the connection
  sensitivity; its global normalisation by the sum does not change the ranking).
- GraSP (Wang, Zhang, Grosse, ICLR 2020, eq. 8): S(-w) = -w . (H g), with g = dL/dw treated as
  a constant and H the Hessian of L, so that removing weights with the *largest* S preserves
  the gradient flow g^T H g best; here the returned score is -S = w . (H g), so that keeping the
  largest returned scores removes the largest S. H g is a Hessian-vector product
  (forward-over-reverse, torch.func.jvp of torch.func.grad). The authors divide the logits by a
  temperature (200) before the loss; pass a loss that does so.

Example (a quadratic loss L = 1/2 w^T A w: g = A w, H g = A A w):
    >>> import torch
    >>> A = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    >>> loss = lambda ws: 0.5 * ws[0] @ A @ ws[0]
    >>> w = [torch.tensor([1.0, -3.0], dtype=torch.float64)]
    >>> snip(loss, w)[0].tolist(), grasp(loss, w)[0].tolist()
    ([2.0, 9.0], [4.0, 9.0])
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def snip(loss: Callable, weights: list[torch.Tensor]) -> list[torch.Tensor]:
    """|w * dL/dw| per weight (Lee et al. 2019)."""
    grads = torch.func.grad(loss)(weights)
    return [(w * g).abs() for w, g in zip(weights, grads, strict=True)]


def grasp(loss: Callable, weights: list[torch.Tensor]) -> list[torch.Tensor]:
    """w * (H g) per weight, g the (constant) gradient: keep the largest (Wang et al. 2020)."""
    grad_fn = torch.func.grad(loss)
    g = [t.detach() for t in grad_fn(weights)]
    _, hg = torch.func.jvp(grad_fn, (weights,), (g,))
    return [w * h for w, h in zip(weights, hg, strict=True)]

"""The random target: a depth-L ReLU network with operator norm at most 1 per layer.

    f(x) = W_L relu(W_{L-1} ... relu(W_1 x)),   W_i: (d_i, d_{i-1}),   ||W_i||_2 = norm <= 1,

no biases, inputs in the unit ball (Malach et al. 2020 Thm 2.1 and Pensia et al. 2020 Thm 1
assume bounded weights and ||x|| <= 1). Each W_i is a Gaussian matrix rescaled to spectral norm
``norm``, so ||z_i(x)||_2 <= ||x||_2 <= 1 for every hidden activation z_i. Both f and every
pruned network are positively homogeneous (f(a x) = a f(x) for a >= 0, no biases), so a
supremum of |f_hat - f| over the unit ball is attained on the unit sphere.

Example (a 1-dimensional target with W_1 = [[1]] is relu-free at the last layer):
    >>> import torch
    >>> t = TargetNetwork([torch.tensor([[1.0]], dtype=torch.float64)])
    >>> t(torch.tensor([[-0.5]], dtype=torch.float64)).item()
    -0.5
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..runtime import Context


@dataclass
class TargetNetwork:
    weights: list[torch.Tensor]

    @property
    def depth(self) -> int:
        return len(self.weights)

    @property
    def dims(self) -> list[int]:
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]

    @property
    def n_weights(self) -> int:
        return sum(w.numel() for w in self.weights)

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[z_0 = x, z_1, ..., z_{L-1}, f(x)]: inputs of each layer, then the output."""
        zs = [x]
        for i, w in enumerate(self.weights):
            z = zs[-1] @ w.T
            zs.append(torch.relu(z) if i < self.depth - 1 else z)
        return zs

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.activations(x)[-1]


def target_dims(input_dim: int, width: int, depth: int, outputs: int = 1) -> list[int]:
    """[d, h, ..., h, outputs] with depth L weight layers."""
    return [input_dim] + [width] * (depth - 1) + [outputs]


def random_target(dims: list[int], ctx: Context, stream: str = "target", norm: float = 1.0):
    """Gaussian layers rescaled to spectral norm ``norm`` (so ||W_i||_2 <= 1 for norm <= 1)."""
    gen = ctx.generator(stream)
    weights = []
    for i in range(len(dims) - 1):
        w = torch.randn(dims[i + 1], dims[i], generator=gen, dtype=torch.float64)
        w = w * (norm / torch.linalg.matrix_norm(w, ord=2))
        weights.append(ctx.to(w))
    return TargetNetwork(weights)

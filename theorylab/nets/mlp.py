"""Smooth-activation multilayer perceptrons as pure functions of one flat parameter vector.

The model (scalar output, ``L`` affine layers, activation phi applied between them):

    h_0 = x,   h_l = phi(W_l h_{l-1} + b_l)  (l < L),   f(x; theta) = W_L h_{L-1} + b_L,

with theta = concat(vec(W_1), b_1, ..., vec(W_L), b_L) (row-major W_l of shape (out, in)).
Smooth activations only (tanh, softplus, sigmoid): the curvature checks need second
derivatives everywhere (Wu, Ma & E 2018 and Cohen et al. 2021 use tanh/softplus-type nets).

Every function takes ``theta`` of shape (P,) or (G, P): a leading batch axis evaluates G
independent networks with one batched matmul per layer, and ``torch.func`` transforms
(``grad``, ``jvp``, ``vmap``) apply directly because nothing is stored in modules.

Initialisation (LeCun normal): W_l entries ~ N(0, 1/fan_in), b_l entries ~ N(0, 1/fan_in),
drawn from a named seeded stream of the run's :class:`~theorylab.runtime.Context`.

Example (one hidden tanh unit, all parameters 1: f(x) = tanh(x + 1) + 1):
    >>> import math, torch
    >>> spec = MLPSpec((1, 1, 1))
    >>> float(forward(spec, torch.ones(spec.num_params, dtype=torch.float64),
    ...               torch.tensor([[0.0]], dtype=torch.float64))[0]) == math.tanh(1.0) + 1
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import UsageError
from ..runtime import Context

ACTIVATIONS = {
    "tanh": torch.tanh,
    "softplus": torch.nn.functional.softplus,
    "sigmoid": torch.sigmoid,
}


def _derivative(name: str, z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """phi'(z) given z and h = phi(z): tanh' = 1 - h^2, softplus' = sigmoid(z),
    sigmoid' = h(1 - h)."""
    if name == "tanh":
        return 1.0 - h * h
    if name == "softplus":
        return torch.sigmoid(z)
    return h * (1.0 - h)


def _second_derivative(name: str, z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """phi''(z): tanh'' = -2h(1 - h^2), softplus'' = sigma(1 - sigma), sigmoid'' = h(1-h)(1-2h)."""
    if name == "tanh":
        return -2.0 * h * (1.0 - h * h)
    if name == "softplus":
        sig = torch.sigmoid(z)
        return sig * (1.0 - sig)
    return h * (1.0 - h) * (1.0 - 2.0 * h)


@dataclass(frozen=True)
class MLPSpec:
    """Layer sizes (d_in, h_1, ..., h_{L-1}, 1) and the activation name.

    ``num_params`` = sum_l (in_l + 1) out_l. Example: (2, 3, 1) has 3*2 + 3 + 1*3 + 1 = 13.
    """

    sizes: tuple[int, ...]
    activation: str = "tanh"

    def __post_init__(self):
        if len(self.sizes) < 2 or any(int(s) < 1 for s in self.sizes):
            raise UsageError(f"MLP sizes must be >= 2 positive integers, got {self.sizes}")
        if self.sizes[-1] != 1:
            raise UsageError(f"MLP output size must be 1 (scalar output), got {self.sizes[-1]}")
        if self.activation not in ACTIVATIONS:
            known = ", ".join(ACTIVATIONS)
            raise UsageError(f"activation must be one of {known}, got {self.activation!r}")

    @property
    def layer_shapes(self) -> list[tuple[int, int]]:
        """(out, in) of every affine layer."""
        return list(zip(self.sizes[1:], self.sizes[:-1], strict=True))

    @property
    def num_params(self) -> int:
        return sum((fan_in + 1) * out for out, fan_in in self.layer_shapes)


def unflatten(spec: MLPSpec, theta: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Views (W_l, b_l) into ``theta`` (..., P): W_l (..., out, in), b_l (..., out)."""
    if theta.shape[-1] != spec.num_params:
        raise ValueError(f"theta has {theta.shape[-1]} entries, spec needs {spec.num_params}")
    batch = theta.shape[:-1]
    layers, start = [], 0
    for out, fan_in in spec.layer_shapes:
        W = theta[..., start : start + out * fan_in].reshape(*batch, out, fan_in)
        start += out * fan_in
        b = theta[..., start : start + out]
        start += out
        layers.append((W, b))
    return layers


def forward(spec: MLPSpec, theta: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Outputs f(x_i; theta): theta (P,) -> (n,); theta (G, P) -> (G, n). X is (n, d_in)."""
    phi = ACTIVATIONS[spec.activation]
    layers = unflatten(spec, theta)
    h = X
    for index, (W, b) in enumerate(layers):
        h = h @ W.transpose(-1, -2) + b.unsqueeze(-2)
        if index < len(layers) - 1:
            h = phi(h)
    return h.squeeze(-1)


def half_mse(spec: MLPSpec, theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor):
    """The *mean* loss of Wu et al. and Cohen et al.: L = (1/n) sum_i 1/2 (f(x_i) - y_i)^2.

    (theta (G, P) gives G losses.) Its Hessian at an interpolating minimum is the Gauss-Newton
    matrix (1/n) sum_i grad f_i grad f_i^T.
    """
    return 0.5 * (forward(spec, theta, X) - y).pow(2).mean(dim=-1)


def weighted_loss_and_gradient(
    spec: MLPSpec, theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor, weights: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Loss sum_i w_i 1/2 (f(x_i) - y_i)^2, its gradient in theta, and the residuals, by
    hand-written backpropagation for a batch of networks (the training loops' hot path).

    ``theta`` (G, P); ``weights`` (G, n) or (n,): 1/n for the mean loss (GD), 1/B on the batch
    and 0 elsewhere for SGD. Returns (loss (G,), gradient (G, P), residuals f - y (G, n)).
    The chain rule: delta_L = w (f - y); dW_l = delta_l^T h_{l-1}, db_l = sum_i delta_l;
    delta_{l-1} = (delta_l W_l) * phi'(z_{l-1}). The tests compare it with torch.func.grad.
    """
    phi = ACTIVATIONS[spec.activation]
    layers = unflatten(spec, theta)
    hidden, pre = [X if X.dim() == 3 else X.expand(theta.shape[0], *X.shape)], []
    for index, (W, b) in enumerate(layers):
        z = hidden[-1] @ W.transpose(-1, -2) + b.unsqueeze(-2)
        if index < len(layers) - 1:
            pre.append(z)
            hidden.append(phi(z))
        else:
            output = z.squeeze(-1)
    residual = output - y
    loss = 0.5 * (weights * residual * residual).sum(dim=-1)
    delta = (weights * residual).unsqueeze(-1)  # (G, n, 1)
    grads = []
    for index in range(len(layers) - 1, -1, -1):
        W, _ = layers[index]
        grads.append(delta.sum(dim=-2))
        grads.append((delta.transpose(-1, -2) @ hidden[index]).flatten(-2))
        if index > 0:
            delta = (delta @ W) * _derivative(spec.activation, pre[index - 1], hidden[index])
    return loss, torch.cat(grads[::-1], dim=-1), residual


def output_jacobian(spec: MLPSpec, theta: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """J (n, P), row i = grad_theta f(x_i; theta), by the hand-written backpropagation of
    :func:`weighted_loss_and_gradient`: sample i is network i with the one input x_i, weight
    1 and label f(x_i) - 1, so its residual is 1 and its loss gradient is grad f(x_i)."""
    n = X.shape[0]
    Xs = X.unsqueeze(-2)  # (n, 1, d)
    with torch.no_grad():
        outputs = forward(spec, theta, X)
    ones = torch.ones(n, 1, dtype=X.dtype, device=X.device)
    _, rows, _ = weighted_loss_and_gradient(
        spec, theta.expand(n, -1), Xs, (outputs - 1.0).unsqueeze(-1), ones
    )
    return rows


def weighted_hvp(
    spec: MLPSpec,
    theta: torch.Tensor,
    X: torch.Tensor,
    y: torch.Tensor,
    weights: torch.Tensor,
    tangent: torch.Tensor,
) -> torch.Tensor:
    """Hessian-vector products of sum_i w_i 1/2 (f(x_i) - y_i)^2 for a batch of networks.

    Forward-over-reverse written out (Pearlmutter's R-operator, 1994): the tangent R{.} of
    every quantity of :func:`weighted_loss_and_gradient` along ``tangent`` V = (V_l, c_l):

        R z_l = R h_{l-1} W_l^T + h_{l-1} V_l^T + c_l,   R h_l = phi'(z_l) R z_l,
        R delta_L = w R f,   R dW_l = R delta_l^T h_{l-1} + delta_l^T R h_{l-1},
        R delta_{l-1} = (R delta_l W_l + delta_l V_l) phi'(z_{l-1})
                        + (delta_l W_l) phi''(z_{l-1}) R z_{l-1},

    so R{grad L} = H V exactly, at about the cost of two gradients and without torch.func's
    per-call overhead. ``theta``, ``tangent`` (G, P); X (n, d) shared or (G, n_g, d) per
    network; ``weights`` and ``y`` broadcast against (G, n_g). Returns (G, P). The tests compare
    it with torch.func's jvp of grad and the dense Hessian.
    """
    phi, name = ACTIVATIONS[spec.activation], spec.activation
    layers, directions = unflatten(spec, theta), unflatten(spec, tangent)
    h = X if X.dim() == 3 else X.expand(theta.shape[0], *X.shape)
    hidden, r_hidden, pre, r_pre = [h], [torch.zeros_like(h)], [], []
    for index, ((W, b), (V, c)) in enumerate(zip(layers, directions, strict=True)):
        z = hidden[-1] @ W.transpose(-1, -2) + b.unsqueeze(-2)
        rz = (r_hidden[-1] @ W.transpose(-1, -2) + hidden[-1] @ V.transpose(-1, -2)
              + c.unsqueeze(-2))  # fmt: skip
        if index < len(layers) - 1:
            a = phi(z)
            pre.append(z)
            r_pre.append(rz)
            hidden.append(a)
            r_hidden.append(_derivative(name, z, a) * rz)
        else:
            output, r_output = z.squeeze(-1), rz.squeeze(-1)
    delta = (weights * (output - y)).unsqueeze(-1)
    r_delta = (weights * r_output).unsqueeze(-1)
    grads = []
    for index in range(len(layers) - 1, -1, -1):
        W, _ = layers[index]
        V, _ = directions[index]
        grads.append(r_delta.sum(dim=-2))
        grads.append(
            (r_delta.transpose(-1, -2) @ hidden[index]
             + delta.transpose(-1, -2) @ r_hidden[index]).flatten(-2)
        )  # fmt: skip
        if index > 0:
            z, a = pre[index - 1], hidden[index]
            back = delta @ W
            slope = _derivative(name, z, a)
            curvature = _second_derivative(name, z, a)
            r_delta = (r_delta @ W + delta @ V) * slope + back * curvature * r_pre[index - 1]
            delta = back * slope
    return torch.cat(grads[::-1], dim=-1)


def mean_hvp_fn(spec: MLPSpec, theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor):
    """v (P,) -> H v, H the Hessian of the mean loss (1/n) sum_i 1/2 (f(x_i) - y_i)^2."""
    weights = torch.full((X.shape[0],), 1.0 / X.shape[0], dtype=X.dtype, device=X.device)
    return lambda v: weighted_hvp(spec, theta[None], X, y, weights, v[None])[0]


def per_sample_hvp_fn(spec: MLPSpec, theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor):
    """W (n, P) (or v (P,), broadcast) -> rows H_i W_i, H_i the Hessian of 1/2 (f(x_i) - y_i)^2:
    all samples in one batched R-operator pass (sample i is network i with the one input x_i)."""
    n = X.shape[0]
    Theta, Xs, ys = theta.expand(n, -1), X.unsqueeze(-2), y.unsqueeze(-1)
    ones = torch.ones(n, 1, dtype=X.dtype, device=X.device)

    def apply(W):
        W = W.expand(n, -1) if W.dim() == 1 else W
        return weighted_hvp(spec, Theta, Xs, ys, ones, W)

    return apply


def sample_losses(spec: MLPSpec, Theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor):
    """f_i(Theta_i) = 1/2 (f(x_i; Theta_i) - y_i)^2 with one parameter row per sample
    (Theta (n, P)): the per-sample losses that curvature.per_sample_hvp_fn differentiates."""
    return 0.5 * (forward(spec, Theta, X.unsqueeze(-2)).squeeze(-1) - y).pow(2)


def init_params(
    spec: MLPSpec, ctx: Context, stream: str, count: int | None = None, scale: float = 1.0
):
    """Parameters ~ N(0, scale^2 / fan_in) from ``stream``: (P,), or (count, P) draws.

    scale = 1 is LeCun normal; scale = 1/sqrt(3) matches the variance of PyTorch's default
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) layers (the setting of Cohen et al. 2021).
    """
    rows = 1 if count is None else count
    gen = ctx.generator(stream)
    z = torch.randn(rows, spec.num_params, generator=gen, dtype=torch.float64)
    std = torch.cat([torch.full(((i + 1) * o,), scale * i**-0.5) for o, i in spec.layer_shapes]).to(
        torch.float64
    )
    theta = ctx.to(z * std)
    return theta[0] if count is None else theta


def train(
    spec: MLPSpec,
    theta: torch.Tensor,
    X: torch.Tensor,
    y: torch.Tensor,
    etas: torch.Tensor,
    batch_sizes: list[int],
    max_steps: int,
    generator: torch.Generator,
    loss_tol: float = 0.0,
    record_every: int = 1,
    divergence_factor: float = 1e6,
    stop_when_reached: bool = True,
):
    """SGD on G MLPs at once (:func:`theorylab.train.sgd` with the hand-written gradient of
    :func:`weighted_loss_and_gradient`): theta_g <- theta_g - eta_g (1/B_g) sum_{i in batch}
    grad f_i, batches of B_g drawn uniformly without replacement; B_g = n is full-batch GD on
    the mean loss (1/n) sum_i 1/2 (f(x_i) - y_i)^2. Returns a
    :class:`theorylab.train.TrainResult`; divergence raises Inconclusive naming the step."""
    from ..train import sgd

    def gradient(params, weights):
        _, grad, residual = weighted_loss_and_gradient(spec, params, X, y, weights)
        return grad, residual

    return sgd(
        gradient, theta, X.shape[0], etas, batch_sizes, max_steps, generator, loss_tol=loss_tol,
        record_every=record_every, divergence_factor=divergence_factor,
        stop_when_reached=stop_when_reached,
    )  # fmt: skip

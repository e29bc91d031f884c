"""Shallow networks of the no-bad-minima literature, as pure functions of flat parameters.

Every model here takes its parameters as one flat tensor ``theta`` of shape (..., P) (any
leading batch dimensions: one row per independent run) and returns per-run losses (...,), so
a batch of runs is optimised and differentiated as one computation (torch.func friendly: no
in-place updates, no Python branching on values). Losses are stated with their normalisation.

Models:

- :func:`noisy_leaky_relu_net` (Soudry & Carmon 2016, arXiv 1605.08361): one hidden layer,
  leaky ReLU, a fixed multiplicative "dropout-like" noise realisation eps (one factor per
  sample and hidden unit), single output, no biases:

      f(x_n) = sum_r z_r eps_nr sigma(w_r . x_n),  sigma(t) = max(t, leak t).

- :func:`smooth_pyramidal_net` (Nguyen & Hein 2017, ICML): fully connected with biases and an
  analytic strictly increasing activation (softplus or tanh), widths d0 -> n1 -> ... -> 1.
- :func:`relu_sum` and :func:`teacher_student_population_loss` (Safran & Shamir 2018, ICML):
  f_W(x) = sum_j relu(w_j . x) with output weights fixed to 1, x ~ N(0, I_d), and the *exact*
  population loss 1/2 E_x[(f_W(x) - f_V(x))^2] through the degree-1 arc-cosine kernel
  (Cho & Saul 2009):

      E[relu(u.x) relu(v.x)] = ||u|| ||v|| (sqrt(1 - rho^2) + (pi - arccos rho) rho) / (2 pi),

  rho = cos angle(u, v). Its value at rho = 1 is ||u||^2 / 2 and at rho = 0 is ||u|| ||v|| / (2 pi).

Example (a two-unit student equal to its teacher has zero population loss):
    >>> V = torch.eye(2, dtype=torch.float64)
    >>> float(teacher_student_population_loss(V.reshape(-1), V))
    0.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

SMOOTH_ACTIVATIONS = ("softplus", "tanh")
# Keeps asin's derivative finite for exactly opposite units (t = pi); the angle changes by
# ~sqrt(2 * 1e-16) there, where the kernel's shape factor is (pi - t)^3 / 3-flat.
ASIN_MARGIN = 1e-16


@dataclass(frozen=True)
class Layout:
    """Names and shapes of the blocks of a flat parameter vector, in order.

    Example:
        >>> lay = Layout((("W", (2, 3)), ("z", (2,))))
        >>> lay.size
        8
        >>> [t.shape for t in lay.split(torch.zeros(5, 8))]
        [torch.Size([5, 2, 3]), torch.Size([5, 2])]
    """

    blocks: tuple[tuple[str, tuple[int, ...]], ...]

    @property
    def size(self) -> int:
        return sum(math.prod(shape) for _, shape in self.blocks)

    def split(self, theta: torch.Tensor) -> list[torch.Tensor]:
        """Views of theta (..., P) as the blocks, each (..., *shape)."""
        out, start = [], 0
        lead = theta.shape[:-1]
        for _, shape in self.blocks:
            count = math.prod(shape)
            out.append(theta[..., start : start + count].reshape(*lead, *shape))
            start += count
        return out

    def slice(self, name: str) -> slice:
        """Positions of block ``name`` in the flat vector."""
        start = 0
        for block, shape in self.blocks:
            count = math.prod(shape)
            if block == name:
                return slice(start, start + count)
            start += count
        raise KeyError(name)


# Soudry & Carmon ------------------------------------------------------------------------------


def noisy_leaky_relu_layout(d0: int, d1: int) -> Layout:
    """W (d1, d0) first layer, z (d1,) output weights: P = d1 (d0 + 1)."""
    return Layout((("W", (d1, d0)), ("z", (d1,))))


def leaky_relu(t: torch.Tensor, leak: float) -> torch.Tensor:
    """sigma(t) = t for t > 0, leak * t otherwise (0 <= leak < 1); derivative leak at t = 0.

    ``torch.nn.functional.leaky_relu``: the same values and derivatives as
    ``torch.where(t > 0, t, leak * t)``, one fused kernel (about 20x faster on the claim's
    batches).
    """
    return torch.nn.functional.leaky_relu(t, leak)


def noisy_leaky_relu_net(
    theta: torch.Tensor, X: torch.Tensor, noise: torch.Tensor, leak: float
) -> torch.Tensor:
    """Outputs f(x_n) = sum_r z_r eps_nr sigma(w_r . x_n) of every run: (..., N).

    theta (..., d1 (d0 + 1)) in :func:`noisy_leaky_relu_layout`; X (..., N, d0); noise eps
    (..., N, d1), a fixed realisation (Soudry & Carmon's dropout-like noise).

    Example (one unit, leak 0.1, no noise: f = z sigma(w.x)):
        >>> theta = torch.tensor([2.0, 3.0])  # W = [[2]], z = [3]
        >>> noisy_leaky_relu_net(theta, torch.tensor([[1.0], [-1.0]]), torch.ones(2, 1), 0.1)
        tensor([ 6.0000, -0.6000])
    """
    d0, d1 = X.shape[-1], noise.shape[-1]
    W, z = noisy_leaky_relu_layout(d0, d1).split(theta)
    preact = X @ W.transpose(-1, -2)  # (..., N, d1)
    return ((leaky_relu(preact, leak) * noise) @ z.unsqueeze(-1)).squeeze(-1)


def noisy_leaky_relu_loss(theta, X, y, noise, leak) -> torch.Tensor:
    """Mean squared error 1/(2N) sum_n (f(x_n) - y_n)^2 per run: (...,)."""
    residual = noisy_leaky_relu_net(theta, X, noise, leak) - y
    return 0.5 * residual.pow(2).mean(-1)


def noisy_leaky_relu_value_and_grad(theta, X, y, noise, leak):
    """Losses (...,) and gradients (..., P) of :func:`noisy_leaky_relu_loss`, in closed form:
    with a_nr = w_r . x_n, r_n = f(x_n) - y_n,

        dL/dz_r = (1/N) sum_n r_n eps_nr sigma(a_nr),
        dL/dW_r = (1/N) sum_n r_n z_r eps_nr sigma'(a_nr) x_n,   sigma'(a) = 1 (a > 0), leak,

    the convention of :func:`leaky_relu` under autograd (the leak branch at a = 0). A unit with
    z_r = 0 and w_r = 0 has zero gradient: padding a batch with such units changes nothing.
    """
    d0, d1, N = X.shape[-1], noise.shape[-1], X.shape[-2]
    W, z = noisy_leaky_relu_layout(d0, d1).split(theta)
    preact = X @ W.transpose(-1, -2)  # (..., N, d1)
    features = leaky_relu(preact, leak) * noise
    residual = (features @ z.unsqueeze(-1)).squeeze(-1) - y
    loss = 0.5 * residual.pow(2).mean(-1)
    grad_z = (features.transpose(-1, -2) @ residual.unsqueeze(-1)).squeeze(-1) / N
    # r_n z_r eps_nr sigma'(a_nr), sigma' applied by leaky ReLU's own backward kernel
    back = torch.ops.aten.leaky_relu_backward(
        residual.unsqueeze(-1) * z.unsqueeze(-2) * noise, preact, leak, False
    )  # (..., N, d1)
    grad_w = back.transpose(-1, -2) @ X / N  # (..., d1, d0)
    return loss, torch.cat([grad_w.flatten(-2), grad_z], dim=-1)


def khatri_rao_design(
    theta: torch.Tensor, X: torch.Tensor, noise: torch.Tensor, leak: float
) -> torch.Tensor:
    """Rows a_n (x) x_n of the design G (..., N, d1 d0), a_nr = z_r eps_nr sigma'(w_r . x_n).

    Inside one activation region f(x_n) = G_n . vec(W) (the output is linear in the d0 d1
    entries of W), so the gradient of the sum loss 1/2 ||f - y||^2 in W is G^T (f - y): if G
    has rank N, a critical point has f = y (the mechanism of Soudry & Carmon 2016).
    """
    d0, d1 = X.shape[-1], noise.shape[-1]
    W, z = noisy_leaky_relu_layout(d0, d1).split(theta)
    preact = X @ W.transpose(-1, -2)
    slope = torch.where(preact > 0, torch.ones_like(preact), torch.full_like(preact, leak))
    a = z.unsqueeze(-2) * noise * slope  # (..., N, d1)
    return (a.unsqueeze(-1) * X.unsqueeze(-2)).flatten(-2)  # (..., N, d1 * d0), W row-major


def kink_margin(theta: torch.Tensor, X: torch.Tensor, d1: int) -> torch.Tensor:
    """min_{n, r} |w_r . x_n| / (||w_r|| ||x_n||) per run: the cosine distance to the nearest
    kink of the leaky ReLU; the loss is differentiable at theta iff it is > 0."""
    d0 = X.shape[-1]
    W, _ = noisy_leaky_relu_layout(d0, d1).split(theta)
    preact = X @ W.transpose(-1, -2)
    scale = X.norm(dim=-1, keepdim=True) * W.norm(dim=-1).unsqueeze(-2)
    return (preact.abs() / scale.clamp_min(1e-300)).flatten(-2).amin(-1)


# Nguyen & Hein --------------------------------------------------------------------------------


def pyramidal_layout(d0: int, widths: tuple[int, ...]) -> Layout:
    """W1 (d0, n1), b1 (n1,), ..., W_L (n_{L-1}, 1), b_L (1,): layers act as F W + b."""
    blocks, fan_in = [], d0
    for i, width in enumerate((*widths, 1), start=1):
        blocks += [(f"W{i}", (fan_in, width)), (f"b{i}", (width,))]
        fan_in = width
    return Layout(tuple(blocks))


def smooth_activation(t: torch.Tensor, name: str) -> torch.Tensor:
    """softplus(t) = log(1 + e^t) or tanh(t): analytic and strictly increasing."""
    if name == "softplus":
        return torch.nn.functional.softplus(t)
    if name == "tanh":
        return torch.tanh(t)
    raise ValueError(f"unknown activation {name!r}")


def smooth_pyramidal_features(
    theta: torch.Tensor, X: torch.Tensor, widths: tuple[int, ...], activation: str
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Hidden feature matrices [F_1, ..., F_{L-1}] (each (..., N, n_l)) and outputs (..., N).

    F_l = activation(F_{l-1} W_l + b_l), F_0 = X; output = F_{L-1} W_L + b_L (linear).
    """
    parts = pyramidal_layout(X.shape[-1], widths).split(theta)
    features, F = [], X
    for i in range(len(widths)):
        W, b = parts[2 * i], parts[2 * i + 1]
        F = smooth_activation(F @ W + b.unsqueeze(-2), activation)
        features.append(F)
    W, b = parts[-2], parts[-1]
    return features, (F @ W).squeeze(-1) + b


def smooth_pyramidal_loss(theta, X, y, widths, activation) -> torch.Tensor:
    """Mean squared error 1/(2N) sum_n (f(x_n) - y_n)^2 per run: (...,)."""
    _, out = smooth_pyramidal_features(theta, X, widths, activation)
    return 0.5 * (out - y).pow(2).mean(-1)


def smooth_pyramidal_value_and_grad(theta, X, y, widths, activation):
    """Losses (...,) and gradients (..., P) of :func:`smooth_pyramidal_loss` by hand-written
    backpropagation: Delta_L = (f - y) / N, Delta_l = (Delta_{l+1} W_{l+1}^T) * sigma'(G_l),
    grad W_l = F_{l-1}^T Delta_l, grad b_l = sum_n Delta_l (sigma' = 1 - F^2 for tanh, the
    logistic function of G for softplus)."""
    parts = pyramidal_layout(X.shape[-1], widths).split(theta)
    inputs, pre, F = [X], [], X
    for i in range(len(widths)):
        G = F @ parts[2 * i] + parts[2 * i + 1].unsqueeze(-2)
        F = smooth_activation(G, activation)
        pre.append(G)
        inputs.append(F)
    out = (F @ parts[-2]).squeeze(-1) + parts[-1]
    residual = out - y
    loss = 0.5 * residual.pow(2).mean(-1)
    delta = residual.unsqueeze(-1) / X.shape[-2]  # (..., N, 1)
    grads = []
    for i in range(len(widths), -1, -1):
        grads.append(delta.sum(-2))  # b_{i+1}
        grads.append((inputs[i].transpose(-1, -2) @ delta).flatten(-2))  # W_{i+1}
        if i > 0:
            if activation == "tanh":
                slope = 1 - inputs[i].pow(2)
            else:
                slope = torch.sigmoid(pre[i - 1])
            delta = (delta @ parts[2 * i].transpose(-1, -2)) * slope
    return loss, torch.cat(grads[::-1], dim=-1)


# Safran & Shamir ------------------------------------------------------------------------------


def relu_sum(W: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """f_W(x_n) = sum_j relu(w_j . x_n) for W (..., k, d), X (..., N, d): (..., N)."""
    return torch.relu(X @ W.transpose(-1, -2)).sum(-1)


def arccos_kernel(U: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """E_{x ~ N(0, I)}[relu(u_i . x) relu(v_j . x)] for rows of U (..., a, d), V (..., b, d).

    = ||u|| ||v|| (sin t + (pi - t) cos t) / (2 pi), t = angle(u, v) (Cho & Saul 2009, degree
    1). The angle is computed as t = 2 asin(||u/||u|| - v/||v|||| / 2), accurate near t = 0
    where arccos(cosine) loses half the digits (a student unit that matches a teacher unit).

    Example (u = v = e_1: E[relu(x_1)^2] = 1/2; orthogonal units: 1/(2 pi)):
        >>> e = torch.eye(2, dtype=torch.float64)
        >>> [[round(x, 12) for x in row] for row in (arccos_kernel(e, e) * 2 * math.pi).tolist()]
        [[3.14159265359, 1.0], [1.0, 3.14159265359]]
    """
    nu, nv, _, angle = _angles(U, V)
    shape = torch.sin(angle) + (math.pi - angle) * torch.cos(angle)
    return nu.unsqueeze(-1) * nv.unsqueeze(-2) * shape / (2 * math.pi)


def _angles(U: torch.Tensor, V: torch.Tensor):
    """(||u_i||, ||v_j||, u_i/||u_i||, angles (..., a, b)): the chord between the unit vectors,
    t = 2 asin(chord / 2). clamp_min keeps the gradient of the norm finite at coincident
    directions (where the kernel's angular derivative -(pi - t) sin t vanishes anyway); the asin
    argument stays below 1 so its derivative is finite at opposite directions."""
    nu, nv = U.norm(dim=-1), V.norm(dim=-1)
    u_hat = U / nu.clamp_min(1e-300).unsqueeze(-1)
    v_hat = V / nv.clamp_min(1e-300).unsqueeze(-1)
    diff = u_hat.unsqueeze(-2) - v_hat.unsqueeze(-3)
    chord = torch.sqrt(diff.pow(2).sum(-1).clamp_min(1e-300))
    return nu, nv, u_hat, 2 * torch.asin((chord / 2).clamp(max=1 - ASIN_MARGIN))


def arccos_kernel_and_gradient(U: torch.Tensor, V: torch.Tensor):
    """sum_ij K(u_i, v_j) (...,) and its gradient in U (..., a, d), in closed form:

        grad_u K(u, v) = ((pi - t) v + ||v|| sin t u/||u||) / (2 pi),   t = angle(u, v)

    (differentiate ||u|| ||v|| (sin t + (pi - t) cos t) / (2 pi) with dt/du = -(v/||v|| - cos t
    u/||u||) / (||u|| sin t): the 1/sin t cancels). For K(u, u) = ||u||^2 / 2 the same formula
    at t = 0 gives u / 2, half the derivative, as the symmetric double sum needs.
    """
    nu, nv, u_hat, angle = _angles(U, V)
    sin, weight = torch.sin(angle), (math.pi - angle) / (2 * math.pi)
    shape = sin + (math.pi - angle) * torch.cos(angle)
    kernel = nu.unsqueeze(-1) * nv.unsqueeze(-2) * shape / (2 * math.pi)  # as arccos_kernel
    radial = (sin @ nv.unsqueeze(-1)) / (2 * math.pi)  # (..., a, 1): sum_j ||v_j|| sin t_ij
    gradient = weight @ V + radial * u_hat
    return kernel.sum((-1, -2)), gradient


def teacher_student_value_and_grad(theta: torch.Tensor, V: torch.Tensor):
    """Losses (...,) and gradients (..., n d) of :func:`teacher_student_population_loss` in
    closed form: grad_{w_j} L = sum_j' g(w_j, w_j') - sum_i g(w_j, v_i), g = grad_u K(u, v) of
    :func:`arccos_kernel_and_gradient` (the j' = j term gives w_j / 2 + w_j / 2 = w_j, the
    derivative of K(w_j, w_j) = ||w_j||^2 / 2, once the symmetric double sum counts it)."""
    d = V.shape[-1]
    W = theta.reshape(*theta.shape[:-1], -1, d)
    ww, g_ww = arccos_kernel_and_gradient(W, W)
    wv, g_wv = arccos_kernel_and_gradient(W, V)
    vv = arccos_kernel(V, V).sum((-1, -2))
    return 0.5 * (ww - 2 * wv + vv), (g_ww - g_wv).flatten(-2)


def teacher_student_population_loss(theta: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """1/2 E_x[(sum_j relu(w_j.x) - sum_i relu(v_i.x))^2] exactly, per run: (...,).

    theta (..., n d) holds the student's rows w_j; V (k, d) the teacher's. Expanding the square,
    L = 1/2 (sum_jj' K(w_j, w_j') - 2 sum_ji K(w_j, v_i) + sum_ii' K(v_i, v_i')), K the
    arc-cosine kernel (:func:`arccos_kernel`).
    """
    d = V.shape[-1]
    W = theta.reshape(*theta.shape[:-1], -1, d)
    ww = arccos_kernel(W, W).sum((-1, -2))
    wv = arccos_kernel(W, V).sum((-1, -2))
    vv = arccos_kernel(V, V).sum((-1, -2))
    return 0.5 * (ww - 2 * wv + vv)

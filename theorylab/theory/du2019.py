"""Du, Zhai, Poczos, Singh, "Gradient Descent Provably Optimizes Over-parameterized Neural
Networks", ICLR 2019 (arXiv:1810.02054); and Arora, Du, Hu, Li, Wang, "Fine-Grained Analysis of
Optimization and Generalization for Overparameterized Two-Layer Neural Networks", ICML 2019.

Setting: f(x) = m^{-1/2} sum_r a_r relu(w_r . x), ||x_i|| = 1, w_r(0) ~ N(0, I), a_r = +-1
fixed, loss L = 1/2 sum_i (u_i - y_i)^2 (the *sum*), GD with step eta on W only.

Closed forms (sympy expressions; numeric versions lambdified from them):

- ``COACTIVATION``: P_w(w.x >= 0, w.x' >= 0) = (pi - theta) / (2 pi), theta = angle(x, x').
- ``H_INF_ENTRY``: H_inf_ij = x_i.x_j (pi - arccos(x_i.x_j)) / (2 pi)  (Sec. 3; H_inf_ii = 1/2).
- ``RESIDUAL_BOUND``: ||y - u(k)||^2 <= (1 - eta lambda_0 / 2)^k ||y - u(0)||^2  (Thm 4.1).
- ``DISTANCE_BOUND_GD``: R' = 4 sqrt(n) ||y - u(0)|| / (sqrt(m) lambda_0)  (Cor 4.1);
  ``DISTANCE_BOUND_FLOW`` has 2 in place of 4 (Thm 3.2's proof).
- ``STABILITY_RADIUS``: R = c delta lambda_0 / n^2 with c = sqrt(2 pi)/16 (Lemma 3.2's Markov
  argument); ``WIDTH_REQUIREMENT`` is the m solving R' = R, i.e. the width past which R' < R.
- ``STEP_SIZE_SCALE``: lambda_0 / n^2, the scale of Thm 4.1's step size eta = O(lambda_0/n^2);
  its constant is not explicit, so the report shows eta / (lambda_0/n^2) as a number only.

Example (H_inf on the diagonal is 1/2):
    >>> float(H_INF_ENTRY.subs(rho, 1))
    0.5
"""

from __future__ import annotations

import math

import sympy as sp
import torch

rho = sp.Symbol("rho", real=True)  # cosine between two unit inputs
theta = sp.Symbol("theta", nonnegative=True)  # angle between them
n, m, lam0, eta, k, residual0, delta = sp.symbols(
    "n m lambda_0 eta k residual_0 delta", positive=True
)

STABILITY_CONSTANT = sp.sqrt(2 * sp.pi) / 16

COACTIVATION = (sp.pi - theta) / (2 * sp.pi)
H_INF_ENTRY = rho * COACTIVATION.subs(theta, sp.acos(rho))
LINEAR_RATE = 1 - eta * lam0 / 2
RESIDUAL_BOUND = LINEAR_RATE**k * residual0**2
DISTANCE_BOUND_GD = 4 * sp.sqrt(n) * residual0 / (sp.sqrt(m) * lam0)
DISTANCE_BOUND_FLOW = 2 * sp.sqrt(n) * residual0 / (sp.sqrt(m) * lam0)
STABILITY_RADIUS = STABILITY_CONSTANT * delta * lam0 / n**2
WIDTH_REQUIREMENT = sp.solve(sp.Eq(DISTANCE_BOUND_GD, STABILITY_RADIUS), m)[0]
STEP_SIZE_SCALE = lam0 / n**2

_coactivation = sp.lambdify(theta, COACTIVATION, modules=[{"pi": math.pi}, "numpy"])
_linear_rate = sp.lambdify((eta, lam0), LINEAR_RATE, modules="math")
_distance_bound = sp.lambdify((n, m, lam0, residual0), DISTANCE_BOUND_GD, modules="math")
_stability_radius = sp.lambdify((n, lam0, delta), STABILITY_RADIUS, modules="math")
_width_requirement = sp.lambdify((n, lam0, residual0, delta), WIDTH_REQUIREMENT, modules="math")


def coactivation(cosines: torch.Tensor) -> torch.Tensor:
    """P(w.x_i >= 0, w.x_j >= 0) for w ~ N(0, I), from the cosines x_i.x_j (clipped to [-1, 1])."""
    angles = torch.arccos(cosines.clamp(-1.0, 1.0))
    return torch.as_tensor(_coactivation(angles.cpu().numpy()), dtype=cosines.dtype).to(
        cosines.device
    )


def h_inf(X: torch.Tensor) -> torch.Tensor:
    """H_inf for unit-norm rows of X: (X X^T) * coactivation(X X^T)."""
    gram = X @ X.T
    return gram * coactivation(gram)


def linear_rate(eta_value: float, lambda_0: float) -> float:
    return float(_linear_rate(eta_value, lambda_0))


def distance_bound(n_value, m_value, lambda_0, residual_0) -> float:
    """R' of Cor 4.1 (GD): 4 sqrt(n) ||y - u(0)|| / (sqrt(m) lambda_0)."""
    return float(_distance_bound(n_value, m_value, lambda_0, residual_0))


def stability_radius(n_value, lambda_0, delta_value) -> float:
    return float(_stability_radius(n_value, lambda_0, delta_value))


def width_requirement(n_value, lambda_0, residual_0, delta_value) -> float:
    """Smallest m with R' < R (Du et al.'s over-parameterization condition, explicit c)."""
    return float(_width_requirement(n_value, lambda_0, residual_0, delta_value))


def kernel_residual_prediction(
    eigenvalues: torch.Tensor, eigenvectors: torch.Tensor, r0: torch.Tensor, eta_value: float,
    steps: int,
) -> torch.Tensor:  # fmt: skip
    """Arora et al. (2019) Thm 4.1 picture: r(k) = (I - eta H_inf)^k r(0), all k at once.

    ``r0`` is (n, G) (G runs); returns (steps + 1, n, G).
    """
    coeffs = eigenvectors.T @ r0  # (n, G) in the eigenbasis
    powers = (1 - eta_value * eigenvalues)[None, :] ** torch.arange(
        steps + 1, dtype=eigenvalues.dtype, device=eigenvalues.device
    )[:, None]  # (K, n)
    return torch.einsum("ij,kj,jg->kig", eigenvectors, powers, coeffs)

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
_step_size_scale = sp.lambdify((n, lam0), STEP_SIZE_SCALE, modules="math")


def coactivation_of_angle(angles: torch.Tensor) -> torch.Tensor:
    """(pi - theta) / (2 pi): P(w.x >= 0, w.x' >= 0) for w ~ N(0, I) and angle theta(x, x').

    >>> coactivation_of_angle(torch.tensor([0.0, math.pi / 2, math.pi])).tolist()
    [0.5, 0.25, 0.0]
    """
    return torch.as_tensor(_coactivation(angles.cpu().numpy()), dtype=angles.dtype).to(
        angles.device
    )


def coactivation(cosines: torch.Tensor) -> torch.Tensor:
    """P(w.x_i >= 0, w.x_j >= 0) for w ~ N(0, I), from the cosines x_i.x_j (clipped to [-1, 1])."""
    return coactivation_of_angle(torch.arccos(cosines.clamp(-1.0, 1.0)))


def pairwise_cosines_and_angles(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosines x_i.x_j and angles theta_ij between the unit rows of X, accurate when nearly
    parallel.

    arccos(x_i.x_j) loses half the digits near theta = 0 or pi: a Gram diagonal that rounds to
    1 - 3e-16 gives theta ~ 2e-8 instead of 0. Where |x_i.x_j| > 1/2 (the diagonal, and any
    nearly parallel pair) Kahan's form theta = 2 atan2(||x_i - x_j||, ||x_i + x_j||), with the
    distances computed from the differences themselves, is used instead, and the cosine is
    cos(theta); so theta_ii = 0 and cos(theta_ii) = 1 exactly. Elsewhere arccos is accurate
    to a few ulps and both are as before.

    >>> X = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    >>> cosines, angles = pairwise_cosines_and_angles(X)
    >>> (angles / math.pi).tolist()
    [[0.0, 0.5], [0.5, 0.0]]
    """
    cosines = (X @ X.T).clamp(-1.0, 1.0)
    angles = torch.arccos(cosines)
    i, j = torch.nonzero(cosines.abs() > 0.5, as_tuple=True)
    apart = (X[i] - X[j]).norm(dim=1)
    together = (X[i] + X[j]).norm(dim=1)
    close = 2.0 * torch.atan2(apart, together)
    angles[i, j] = close
    cosines[i, j] = torch.cos(close)
    return cosines, angles


def h_inf(X: torch.Tensor) -> torch.Tensor:
    """H_inf for unit-norm rows of X: x_i.x_j (pi - theta_ij) / (2 pi) (``H_INF_ENTRY``).

    Angles and cosines come from :func:`pairwise_cosines_and_angles`, so the diagonal is
    exactly 1/2.

    >>> gen = torch.Generator().manual_seed(0)
    >>> X = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    >>> X = X / X.norm(dim=1, keepdim=True)
    >>> torch.diagonal(h_inf(X)).tolist()
    [0.5, 0.5, 0.5, 0.5, 0.5]
    """
    cosines, angles = pairwise_cosines_and_angles(X)
    return cosines * coactivation_of_angle(angles)


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


def step_size_scale(n_value, lambda_0) -> float:
    """lambda_0 / n^2, the scale of Thm 4.1's step size (its constant is not explicit)."""
    return float(_step_size_scale(n_value, lambda_0))


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


def kernel_movement(
    X: torch.Tensor, patterns: torch.Tensor, cumulative_residual: torch.Tensor, step_scale: float
) -> torch.Tensor:
    """Kernel-regime movement of each unit: ||w_r(K) - w_r(0)|| with patterns frozen at init.

    GD moves w_r by -step a_r s(m) sum_i r_i(k) 1{w_r.x_i > 0} x_i per step (the sum loss); with
    the pattern D_r = diag(1{w_r(0).x_i > 0}) frozen (the kernel regime, Arora et al. 2019) the
    steps add up to -step s(m) a_r X^T D_r S_r, S_r = sum_{k<K} r(k) of the unit's network.
    ``patterns`` (n, M) holds D_r's diagonals, ``cumulative_residual`` (n, M) each unit's S_r,
    ``step_scale`` = step * s(m) (eta m^{-1/2} for Du et al.'s scaling). Returns (M,).

    Example (one unit active on both inputs, e_1 and e_2, S = (3, 4): ||(3, 4)|| = 5):
        >>> X = torch.eye(2, dtype=torch.float64)
        >>> kernel_movement(X, torch.ones(2, 1), torch.tensor([[3.0], [4.0]]), 0.5).tolist()
        [2.5]
    """
    return step_scale * (X.T.to(patterns.dtype) @ (patterns * cumulative_residual)).norm(dim=0)


# ---------------------------------------------------------------------------------------------
# Appended for the derivation checks (proofs_checks/du2019_*.py, gd_quadratic_stability.py).
# Every expression below is verified symbolically there; the names above are unchanged.
#
# - ``FLOW_RESIDUAL_BOUND``: ||y - u(t)||^2 <= exp(-lambda_0 t) ||y - u(0)||^2 (Thm 3.2, gradient
#   flow); integrating its square root gives ``DISTANCE_BOUND_FLOW``.
# - ``MODE_CONTRACTION``: GD with step eta on the quadratic 1/2 lambda x^2 maps x to
#   (1 - eta lambda) x; on the kernel dynamics r(k+1) = (I - eta H_inf) r(k) (Arora et al. 2019)
#   this is the factor of the eigen-mode with eigenvalue lambda. ``STABLE_STEP_MAX`` = 2/lambda:
#   |1 - eta lambda| <= 1 iff 0 <= eta <= 2/lambda.
# - ``INIT_RESIDUAL_SQ_MEAN``: E ||y - u(0)||^2 = ||y||^2 + n/2 over w_r(0) ~ N(0, I),
#   a_r = +-1 (E u_i = 0 and E u_i^2 = E relu(z)^2 = 1/2 for unit x_i).
# - ``WIDTH_REQUIREMENT_BOUNDED_LABELS``: ``WIDTH_REQUIREMENT`` with ||y - u(0)||^2 replaced by
#   its Markov bound E||y - u(0)||^2 / delta and ||y||^2 <= n C^2 (|y_i| <= C); it equals
#   2048 (C^2 + 1/2) n^6 / (pi lambda_0^4 delta^3), Du et al.'s m = Omega(n^6/(lambda_0^4 delta^3))
#   with its constant made explicit (the two delta-events together hold w.p. >= 1 - 2 delta).
# ---------------------------------------------------------------------------------------------

t = sp.Symbol("t", nonnegative=True)  # gradient-flow time
lam = sp.Symbol("lambda", positive=True)  # one eigenvalue (curvature) of a quadratic
label_norm_sq = sp.Symbol("y_norm_sq", nonnegative=True)  # ||y||^2
label_bound = sp.Symbol("C", positive=True)  # |y_i| <= C

FLOW_RESIDUAL_BOUND = sp.exp(-lam0 * t) * residual0**2
MODE_CONTRACTION = 1 - eta * lam
STABLE_STEP_MAX = 2 / lam
INIT_RESIDUAL_SQ_MEAN = label_norm_sq + n / 2
WIDTH_REQUIREMENT_BOUNDED_LABELS = sp.simplify(
    WIDTH_REQUIREMENT.subs(
        residual0, sp.sqrt(INIT_RESIDUAL_SQ_MEAN.subs(label_norm_sq, n * label_bound**2) / delta)
    )
)

_stable_step_max = sp.lambdify(lam, STABLE_STEP_MAX, modules="math")
_init_residual_sq_mean = sp.lambdify((label_norm_sq, n), INIT_RESIDUAL_SQ_MEAN, modules="math")
_width_requirement_bounded_labels = sp.lambdify(
    (n, lam0, label_bound, delta), WIDTH_REQUIREMENT_BOUNDED_LABELS, modules="math"
)


def stable_step_max(curvature: float) -> float:
    """Largest GD step that does not amplify a mode of curvature lambda > 0: 2 / lambda.

    GD on 1/2 lambda x^2 multiplies x by 1 - eta lambda each step, and |1 - eta lambda| <= 1
    iff 0 <= eta <= 2 / lambda. Example:

        >>> stable_step_max(4.0)
        0.5
    """
    return float(_stable_step_max(curvature))


def expected_initial_residual_sq(label_norm_sq_value: float, n_value: int) -> float:
    """E ||y - u(0)||^2 = ||y||^2 + n/2 at Du et al.'s initialisation (any width m).

    u_i(0) = m^{-1/2} sum_r a_r relu(w_r . x_i) has mean 0 and variance E relu(z)^2 = 1/2 for
    z ~ N(0, 1), so the labels' squared norm gains n/2. Example:

        >>> expected_initial_residual_sq(3.0, 4)
        5.0
    """
    return float(_init_residual_sq_mean(label_norm_sq_value, n_value))


def width_requirement_bounded_labels(n_value, lambda_0, label_bound_value, delta_value) -> float:
    """Width past which R' < R holds for every draw in the Markov event, labels |y_i| <= C:

        m* = 2048 (C^2 + 1/2) n^6 / (pi lambda_0^4 delta^3).

    Example (n = 1, lambda_0 = 1, C = 1, delta = 1 gives 3072/pi):
        >>> round(width_requirement_bounded_labels(1, 1.0, 1.0, 1.0) * math.pi, 9)
        3072.0
    """
    return float(
        _width_requirement_bounded_labels(n_value, lambda_0, label_bound_value, delta_value)
    )

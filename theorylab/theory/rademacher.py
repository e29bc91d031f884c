"""Rademacher complexity of norm-bounded classes, the margin bound built on it, and the VC bound.

Empirical Rademacher complexity of a class F on S = (x_1, ..., x_n) (Bartlett & Mendelson, JMLR
2002; Mohri, Rostamizadeh & Talwalkar, *Foundations of Machine Learning*, 2nd ed. 2018, Def. 3.1):

    R_S(F) = E_sigma sup_{f in F} (1/n) sum_i sigma_i f(x_i),   sigma_i = +-1 fair coins.

- Norm-bounded linear class F_B = {x -> w.x : ||w||_2 <= B}: the supremum is attained at
  w = B s / ||s||, s = sum_i sigma_i x_i (Cauchy-Schwarz), so R_S(F_B) = (B/n) E||s||. Since
  E||s||^2 = sum_i ||x_i||^2 (E sigma_i sigma_j = 1[i = j]), Jensen gives the upper end and the
  Khintchine-Kahane inequality with its best constant 1/sqrt(2) (Szarek 1976 for scalars;
  Latala & Oleszkiewicz, Studia Math. 1994, in any normed space) the lower end of

      B sqrt(sum ||x_i||^2) / (sqrt(2) n) <= R_S(F_B) <= B sqrt(sum ||x_i||^2) / n.

  Both ends are attained: n = 1 (upper), two equal points (lower; proofs_checks/
  rademacher_linear_bracket.py).
- Two-layer ReLU class F = {x -> sum_j v_j relu(u_j.x) : sum_j |v_j| ||u_j|| <= B}: by positive
  homogeneity F is B times the symmetric convex hull of G = {relu(u.x) : ||u|| <= 1}, so
  R_S(F) <= 2 B R_S(G) (G contains 0) <= 2 B R_S(F_1) (Talagrand's contraction, relu is
  1-Lipschitz with relu(0) = 0; Mohri et al. Lemma 5.7), hence R_S(F) <= 2 B sqrt(sum||x_i||^2)/n.
- Margin bound (Koltchinskii & Panchenko, Ann. Statist. 2002; Mohri et al. Thm 5.8): for a
  fixed rho > 0, with probability at least 1 - delta over n i.i.d. points, for all f in F,

      P(y f(x) <= 0) <= (1/n) sum_i 1[y_i f(x_i) < rho] + (2/rho) R_S(F)
                        + 3 sqrt(log(2/delta)/(2n)).

  Data-dependent B and rho: applied to f / rho at margin 1, the bound depends on (B, rho) only
  through B / rho, and holds simultaneously for every point of a grid of B / rho values fixed in
  advance when each gets delta / (grid size) (a union bound); a measured B / rho is rounded up
  to the grid, which only loosens the bound.
- VC bound (Mohri et al. Cor. 3.18 with Sauer's lemma, Thm 3.17): for a class of VC dimension D,
  P(err) <= train error + sqrt(2 log Pi(n) / n) + sqrt(log(1/delta) / (2n)) with
  log Pi(n) <= min(n log 2, D log(e n / D)).

Example (one point: the bracket's two ends are 1/sqrt(2) and 1 times B ||x|| / n):
    >>> lo, hi = linear_bracket(sq_norm_sum=4.0, n=1, B=1.0)
    >>> round(lo * math.sqrt(2), 12), hi
    (2.0, 2.0)
"""

from __future__ import annotations

import math

import sympy as sp
import torch

B, S, n, rho, delta, D = sp.symbols("B S n rho delta D", positive=True)

# Khintchine-Kahane's best constant for Rademacher sums: E||s|| >= KHINTCHINE (E||s||^2)^{1/2}.
KHINTCHINE = 1 / sp.sqrt(2)
LINEAR_UPPER = B * sp.sqrt(S) / n
LINEAR_LOWER = KHINTCHINE * LINEAR_UPPER
TWO_LAYER_UPPER = 2 * B * sp.sqrt(S) / n
CONFIDENCE_TERM = 3 * sp.sqrt(sp.log(2 / delta) / (2 * n))
# The margin bound's complexity term (2/rho) R_S; rho appears as a symbol, R_S as "R".
R = sp.Symbol("R", nonnegative=True)
COMPLEXITY_TERM = 2 / rho * R
VC_GROWTH_LOG = D * sp.log(sp.E * n / D)  # Sauer: log Pi(n) <= D log(e n / D) for n >= D
VC_DEVIATION = sp.sqrt(2 * VC_GROWTH_LOG / n) + sp.sqrt(sp.log(1 / delta) / (2 * n))

_linear_upper = sp.lambdify((B, S, n), LINEAR_UPPER, modules="math")
_linear_lower = sp.lambdify((B, S, n), LINEAR_LOWER, modules="math")
_two_layer_upper = sp.lambdify((B, S, n), TWO_LAYER_UPPER, modules="math")
_confidence = sp.lambdify((n, delta), CONFIDENCE_TERM, modules="math")

# Data-dependent scale: the bound for f / rho at margin 1 depends on (B, rho) only through the
# normalised path norm B / rho, made uniform over the grid 2^(k / GRID_RESOLUTION), k in
# GRID_EXPONENTS (fixed in advance: 2^-40 ... 2^40 in steps of 2^(1/4), so rounding a measured
# B / rho up to the grid loosens the complexity term by less than 19%).
GRID_RESOLUTION = 4
GRID_EXPONENTS = range(-160, 161)


def linear_bracket(sq_norm_sum: float, n: int, B: float = 1.0) -> tuple[float, float]:
    """(lower, upper) = (B sqrt(S) / (sqrt(2) n), B sqrt(S) / n), S = sum_i ||x_i||^2: the
    Khintchine-Kahane and Jensen ends of R_S of the norm-bounded linear class."""
    return float(_linear_lower(B, sq_norm_sum, n)), float(_linear_upper(B, sq_norm_sum, n))


def rademacher_sum_norms(X: torch.Tensor, signs: torch.Tensor) -> torch.Tensor:
    """||sum_i sigma_i x_i|| for each row sigma of ``signs`` (M, n) and points X (n, d)."""
    return (signs.to(X.dtype) @ X).norm(dim=-1)


def linear_rademacher_exact(X: torch.Tensor, B: float = 1.0) -> float:
    """R_S(F_B) = (B/n) E||sum sigma_i x_i|| by enumerating all 2^n sign vectors (n <= 20)."""
    n_pts = X.shape[0]
    if n_pts > 20:
        raise ValueError(f"exact enumeration needs n <= 20, got {n_pts}")
    codes = torch.arange(2**n_pts)
    bits = (codes[:, None] >> torch.arange(n_pts)[None, :]) & 1
    signs = 2 * bits - 1
    return float(B * rademacher_sum_norms(X, signs).mean() / n_pts)


def two_layer_rademacher(path_norm: float, sq_norm_sum: float, n: int) -> float:
    """2 B sqrt(sum ||x_i||^2) / n for the class sum_j |v_j| ||u_j|| <= B (``path_norm`` = B)."""
    return float(_two_layer_upper(path_norm, sq_norm_sum, n))


def confidence_term(n: int, delta: float) -> float:
    """3 sqrt(log(2/delta) / (2n)), the concentration term of the margin bound."""
    return float(_confidence(n, delta))


def kp_margin_bound(
    margin_loss: float, rademacher: float, rho: float, n: int, delta: float, factor: float = 2.0
) -> float:
    """margin_loss + (factor/rho) R_S + 3 sqrt(log(2/delta)/(2n)); ``factor`` = 2 in the theorem
    (0 drops the complexity term: the bound of a single fixed function)."""
    if rho <= 0:
        return math.inf
    return margin_loss + factor / rho * rademacher + confidence_term(n, delta)


def grid_up(value: float) -> float:
    """Smallest grid point 2^(k/4) >= value (k in GRID_EXPONENTS); inf above the grid, the
    smallest grid point for values at or below it (including 0)."""
    lowest = 2.0 ** (GRID_EXPONENTS[0] / GRID_RESOLUTION)
    if not value > lowest:
        return lowest
    k = math.ceil(GRID_RESOLUTION * math.log2(value) - 1e-9)
    while 2.0 ** (k / GRID_RESOLUTION) < value:  # guard against log2 rounding
        k += 1
    return 2.0 ** (k / GRID_RESOLUTION) if k <= GRID_EXPONENTS[-1] else math.inf


def grid_size() -> int:
    """Number of grid points the union bound pays for (delta is split evenly over them)."""
    return len(GRID_EXPONENTS)


def vc_bound(train_error: float, vc_dim: float, n: int, delta: float) -> float:
    """train error + sqrt(2 log Pi(n)/n) + sqrt(log(1/delta)/(2n)), log Pi(n) <= min(n log 2,
    D log(e n/D)) (Sauer's lemma applies for n >= D; n log 2 always)."""
    growth = n * math.log(2)
    if n >= vc_dim:
        growth = min(growth, vc_dim * math.log(math.e * n / vc_dim))
    return train_error + math.sqrt(2 * growth / n) + math.sqrt(math.log(1 / delta) / (2 * n))

"""Belkin, Hsu, Xu, "Two models of double descent for weak features", SIAM J. Math. Data Sci.
2020 (arXiv:1903.07571), Sec. 2 (Gaussian model), Thm 1.

Setting: x ~ N(0, I_D), y = x . beta + sigma eps. The learner sees only a fixed subset T of
p of the D features and fits beta_hat_T = pinv(X_T) y (least squares / least norm); its
prediction is x_T . beta_hat_T. The unseen part x_{T^c} . beta_{T^c} is independent of X_T and
Gaussian with variance ||beta_{T^c}||^2, so it acts exactly like extra label noise:
s2_eff = ||beta_{T^c}||^2 + sigma^2. The full test error (noise included) is then

    E (y - x_T . beta_hat_T)^2 = E ||beta_hat_T - beta_T||^2 + s2_eff,

and the Wishart moments of :mod:`theorylab.theory.wishart` give (``TEST_ERROR_UNDER``,
``TEST_ERROR_OVER``; Thm 1)

    p <= n - 2:  (||beta_{T^c}||^2 + sigma^2) (1 + p / (n - p - 1)),
    p >= n + 2:  ||beta_T||^2 (1 - n/p) + (||beta_{T^c}||^2 + sigma^2) (1 + n / (p - n - 1)),

infinite for |p - n| <= 1. The expressions are built from ``wishart.RISK_UNDER/OVER`` with
s2 -> s2_eff and r2 -> ||beta_T||^2, plus s2_eff; proofs_checks/belkin2019_weak_features.py
checks that this equals Thm 1's printed form.

Example (everything seen, p = n/2, sigma^2 = 1: 1 + 50/49):
    >>> round(full_test_error(n=100, p=50, seen=1.0, unseen=0.0, s2=1.0), 12)
    2.020408163265
"""

from __future__ import annotations

import math

import sympy as sp

from . import wishart

seen, unseen, sigma2 = sp.symbols("seen unseen sigma2", nonnegative=True)  # ||beta_T||^2, ...
n, p = wishart.n, wishart.p

EFFECTIVE_NOISE = unseen + sigma2
_substitution = {wishart.s2: EFFECTIVE_NOISE, wishart.r2: seen}
TEST_ERROR_UNDER = wishart.RISK_UNDER.subs(_substitution) + EFFECTIVE_NOISE
TEST_ERROR_OVER = wishart.RISK_OVER.subs(_substitution) + EFFECTIVE_NOISE
# Thm 1 as printed in the paper, for the proof check of the construction above.
PRINTED_UNDER = (unseen + sigma2) * (1 + p / (n - p - 1))
PRINTED_OVER = seen * (1 - n / p) + (unseen + sigma2) * (1 + n / (p - n - 1))

_under = sp.lambdify((n, p, seen, unseen, sigma2), TEST_ERROR_UNDER, modules="math")
_over = sp.lambdify((n, p, seen, unseen, sigma2), TEST_ERROR_OVER, modules="math")


def full_test_error(n: int, p: int, seen: float, unseen: float, s2: float) -> float:
    """Expected full test error of the weak-features learner (inf for |p - n| <= 1).

    ``seen`` = ||beta_T||^2, ``unseen`` = ||beta_{T^c}||^2, ``s2`` = sigma^2.
    """
    if abs(p - n) <= wishart.INFINITE_RISK_GAP:
        return math.inf
    fn = _under if p < n else _over
    return float(fn(n, p, seen, unseen, s2))

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
checks that this equals Thm 1's printed form. The expressions are built on first access;
:func:`full_test_error` evaluates the same construction in plain floats (through
:func:`theorylab.theory.wishart.risk`), so a run never imports sympy.

Example (everything seen, p = n/2, sigma^2 = 1: 1 + 50/49):
    >>> round(full_test_error(n=100, p=50, seen=1.0, unseen=0.0, s2=1.0), 12)
    2.020408163265
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

from . import wishart


def full_test_error(n: int, p: int, seen: float, unseen: float, s2: float) -> float:
    """Expected full test error of the weak-features learner (inf for |p - n| <= 1).

    ``seen`` = ||beta_T||^2, ``unseen`` = ||beta_{T^c}||^2, ``s2`` = sigma^2: the Wishart risk
    with the unseen part as extra noise, plus that noise.
    """
    if abs(p - n) <= wishart.INFINITE_RISK_GAP:
        return math.inf
    effective_noise = unseen + s2
    return wishart.risk(n, p, seen, effective_noise) + effective_noise


@functools.cache
def symbolic() -> SimpleNamespace:
    """The sympy expressions of this module (built once, on first use)."""
    import sympy as sp

    w = wishart.symbolic()
    seen, unseen, sigma2 = sp.symbols("seen unseen sigma2", nonnegative=True)
    n, p = w.n, w.p
    effective_noise = unseen + sigma2
    substitution = {w.s2: effective_noise, w.r2: seen}
    return SimpleNamespace(
        seen=seen, unseen=unseen, sigma2=sigma2, n=n, p=p, EFFECTIVE_NOISE=effective_noise,
        TEST_ERROR_UNDER=w.RISK_UNDER.subs(substitution) + effective_noise,
        TEST_ERROR_OVER=w.RISK_OVER.subs(substitution) + effective_noise,
        # Thm 1 as printed in the paper, for the proof check of the construction above.
        PRINTED_UNDER=(unseen + sigma2) * (1 + p / (n - p - 1)),
        PRINTED_OVER=seen * (1 - n / p) + (unseen + sigma2) * (1 + n / (p - n - 1)),
    )  # fmt: skip


SYMBOLIC_NAMES = (
    "seen", "unseen", "sigma2", "n", "p", "EFFECTIVE_NOISE", "TEST_ERROR_UNDER",
    "TEST_ERROR_OVER", "PRINTED_UNDER", "PRINTED_OVER",
)  # fmt: skip


def __getattr__(name: str):
    """Symbols and expressions (``belkin2019.TEST_ERROR_OVER``) from :func:`symbolic`."""
    if name not in SYMBOLIC_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(symbolic(), name)

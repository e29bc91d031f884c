"""Step: the finite-n risk of min-norm least squares tends to Hastie et al.'s limit.

Source: Hastie, Montanari, Rosset, Tibshirani 2019 (arXiv:1903.08560), Thm 1 (isotropic);
finite-n forms from the Wishart moments (proofs_checks/wishart_inverse_chi2_moments.py).

With p = gamma n: s2 p/(n - p - 1) -> s2 gamma/(1 - gamma), and
r2 (1 - n/p) + s2 n/(p - n - 1) -> r2 (1 - 1/gamma) + s2/(gamma - 1) as n -> infinity. The
relative finite-n correction of the variance term is exactly 1/(|p - n| - 1) (the bias term
is the same at every n); the claim's asymptotic tolerance uses it.

What is checked: both limits (sympy), and the exact ratio exact/limit of the variance terms.
"""

from __future__ import annotations

import pytest
import sympy as sp

from theorylab.theory import hastie2019, wishart

STEP = "finite_to_asymptotic"


def check_finite_to_asymptotic(
    risk_under=wishart.RISK_UNDER,
    risk_over=wishart.RISK_OVER,
    limit_under=hastie2019.RIDGELESS_UNDER,
    limit_over=hastie2019.RIDGELESS_OVER,
):
    """Verify lim_{n -> oo} finite-n risk at p = gamma n equals the ridgeless limit forms."""
    n, p = wishart.n, wishart.p
    g = hastie2019.gamma
    subs = {wishart.r2: hastie2019.r2, wishart.s2: hastie2019.s2}
    for side, finite, limit in (
        ("under", risk_under, limit_under),
        ("over", risk_over, limit_over),
    ):
        got = sp.limit(finite.subs(subs).subs(p, g * n), n, sp.oo)
        assert sp.simplify(got - limit) == 0, (
            f"{STEP}: {side}: lim finite-n risk = {sp.simplify(got)}, limit form {limit}"
        )
    ratio = sp.simplify(
        wishart.VARIANCE_UNDER / (wishart.s2 * p / (n - p))
    )  # limit form evaluated at gamma = p/n
    assert sp.simplify(ratio - (1 + 1 / (n - p - 1))) == 0, f"{STEP}: correction {ratio}"
    print(f"verified: {STEP}: finite-n risk -> Hastie limit; variance correction 1/(|p-n|-1)")


def test_finite_to_asymptotic():
    check_finite_to_asymptotic()


def test_finite_to_asymptotic_detects_mutation():
    wrong = hastie2019.r2 * (1 - 1 / hastie2019.gamma) + hastie2019.s2 * hastie2019.gamma / (
        hastie2019.gamma - 1
    )
    with pytest.raises(AssertionError, match=STEP):
        check_finite_to_asymptotic(limit_over=wrong)

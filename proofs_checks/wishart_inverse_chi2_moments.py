"""Step: the finite-n variance term of min-norm least squares from inverse chi-square moments.

Source: Hastie, Montanari, Rosset, Tibshirani 2019 (arXiv:1903.08560), Sec. 2 (finite-n
isotropic case); Belkin, Hsu, Xu 2019 (arXiv:1903.07571), proof of Thm 1.

Derivation: for W = X^T X with X (n x p) i.i.d. N(0, 1), p < n, the Schur complement gives
(W^{-1})_jj = 1 / (x_j^T (I - P_{-j}) x_j), where x_j is column j and P_{-j} projects onto the
other p - 1 columns. Given those columns, (I - P_{-j}) x_j is a standard Gaussian in an
(n - p + 1)-dimensional subspace, so the denominator is chi2_k with k = n - p + 1 and
E tr(W^{-1}) = p E[1/chi2_k]. For p > n the same argument on X X^T (n x n, p columns of
dimension n) gives k = p - n + 1 and E tr((X X^T)^{-1}) = n E[1/chi2_k].

What is checked: E[1/chi2_k] = integral x^{-1} f_k(x) dx = 1/(k - 2) and
E[1/chi2_k^2] = 1/((k - 2)(k - 4)) from the chi-square density ``wishart.CHI2_DENSITY``
(sympy integral, symbolic k); then ``wishart.VARIANCE_UNDER`` = s2 p/(n - p - 1) and
``wishart.VARIANCE_OVER`` = s2 n/(p - n - 1) as assembled from them; and that the variance of
1/chi2_k is finite exactly when k > 4 (the Monte-Carlo standard error's requirement).
"""

from __future__ import annotations

import pytest
import sympy as sp

from theorylab.theory import wishart

STEP = "inverse_chi2_moments"


def check_inverse_chi2_moments(
    density=wishart.CHI2_DENSITY,
    inverse_mean=wishart.INVERSE_CHI2_MEAN,
    inverse_second=wishart.INVERSE_CHI2_SECOND_MOMENT,
    variance_under=wishart.VARIANCE_UNDER,
    variance_over=wishart.VARIANCE_OVER,
):
    """Verify E[1/chi2_k], E[1/chi2_k^2] and the two finite-n variance terms."""
    x, k, n, p, s2 = wishart.chi, wishart.k, wishart.n, wishart.p, wishart.s2
    mass = sp.gammasimp(sp.integrate(density, (x, 0, sp.oo), conds="none"))
    assert sp.simplify(mass - 1) == 0, f"{STEP}: the chi-square density integrates to {mass}"
    first = sp.gammasimp(sp.integrate(density / x, (x, 0, sp.oo), conds="none"))
    assert sp.simplify(first - inverse_mean) == 0, (
        f"{STEP}: E[1/chi2_k] = {sp.simplify(first)}, module has {inverse_mean}"
    )
    second = sp.gammasimp(sp.integrate(density / x**2, (x, 0, sp.oo), conds="none"))
    assert sp.simplify(second - inverse_second) == 0, (
        f"{STEP}: E[1/chi2_k^2] = {sp.simplify(second)}, module has {inverse_second}"
    )
    variance = sp.factor(sp.simplify(second - first**2))
    # Var(1/chi2_k) = 2 / ((k - 2)^2 (k - 4)): positive and finite exactly for k > 4.
    assert sp.simplify(variance - 2 / ((k - 2) ** 2 * (k - 4))) == 0, (
        f"{STEP}: Var(1/chi2_k) = {variance}"
    )
    under = s2 * p * first.subs(k, n - p + 1)
    over = s2 * n * first.subs(k, p - n + 1)
    assert sp.simplify(variance_under - under) == 0, (
        f"{STEP}: VARIANCE_UNDER = {variance_under}, Schur complement gives {sp.simplify(under)}"
    )
    assert sp.simplify(variance_over - over) == 0, (
        f"{STEP}: VARIANCE_OVER = {variance_over}, Schur complement gives {sp.simplify(over)}"
    )
    assert sp.simplify(variance_under - s2 * p / (n - p - 1)) == 0, f"{STEP}: printed form"
    print(f"verified: {STEP}: E[1/chi2_k] = 1/(k-2), E tr(W^-1) = p/(n-p-1) and n/(p-n-1)")


def test_inverse_chi2_moments():
    check_inverse_chi2_moments()


def test_inverse_chi2_moments_detects_mutation():
    with pytest.raises(AssertionError, match=STEP):
        check_inverse_chi2_moments(inverse_mean=1 / (wishart.k - 1))
    with pytest.raises(AssertionError, match=STEP):
        check_inverse_chi2_moments(
            variance_over=wishart.s2 * wishart.n / (wishart.p - wishart.n + 1)
        )

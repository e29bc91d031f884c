"""Step: the weak-features test error is the Wishart risk with the unseen signal as noise.

Source: Belkin, Hsu, Xu 2019 (arXiv:1903.07571), Thm 1 (Gaussian model).

Given X_T, the unseen part x_{T^c} . beta_{T^c} of each label is independent N(0, ||beta_{T^c}||^2),
so y = X_T beta_T + noise with effective variance s2_eff = ||beta_{T^c}||^2 + sigma^2; for a test
point, E (y - x_T . beta_hat)^2 = E ||beta_hat - beta_T||^2 + s2_eff. Substituting into the
Wishart risk gives Thm 1's printed form.

What is checked: ``belkin2019.TEST_ERROR_UNDER/OVER`` (assembled from ``wishart.RISK_*``) equal
``PRINTED_UNDER/OVER`` (Thm 1 as printed) identically in n, p and the three variances.
"""

from __future__ import annotations

import pytest
import sympy as sp

from theorylab.theory import belkin2019

STEP = "weak_features"


def check_weak_features(
    under=belkin2019.TEST_ERROR_UNDER,
    over=belkin2019.TEST_ERROR_OVER,
    printed_under=belkin2019.PRINTED_UNDER,
    printed_over=belkin2019.PRINTED_OVER,
):
    """Verify the substitution s2 -> ||beta_Tc||^2 + sigma^2, r2 -> ||beta_T||^2, + s2_eff."""
    for side, built, printed in (("p < n", under, printed_under), ("p > n", over, printed_over)):
        gap = sp.simplify(built - printed)
        assert gap == 0, f"{STEP}: {side}: assembled minus printed Thm 1 = {gap}"
    print(f"verified: {STEP}: Wishart risk with the unseen signal as noise = BHX Thm 1")


def test_weak_features():
    check_weak_features()


def test_weak_features_detects_mutation():
    b = belkin2019
    wrong = b.seen * (1 - b.n / b.p) + b.sigma2 * (1 + b.n / (b.p - b.n - 1))  # unseen dropped
    with pytest.raises(AssertionError, match=STEP):
        check_weak_features(over=wrong)

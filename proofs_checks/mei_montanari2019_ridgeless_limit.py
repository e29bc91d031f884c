"""Step: Mei & Montanari's ridgeless formulas are the lambda -> 0 limit of the ridge ones.

Source: Mei & Montanari 2019 (arXiv:1908.05355), Def. 1 (fixed point nu1, nu2), Def. 2
(chi = nu1 nu2, B = E1/E0, V = E2/E0) and Thm 3 (explicit ridgeless chi and E polynomials).

Thm 3 is derived from Def. 1-2 by letting lambda -> 0. This check solves the fixed point at a
small lambda_bar and compares chi, B and V with the ridgeless expressions on both sides of the
threshold (psi1 < psi2 and psi1 > psi2), for the ReLU zeta. The formulas could not be read
from the paper in this environment; the agreement of the fixed point with the independently
transcribed closed-form chi is what guards them (with the simulation in the claim). Also
checked: CHI_RIDGELESS is the negative root of zeta^2 chi^2 + (psi zeta^2 - zeta^2 - 1) chi - psi,
and below the threshold the ridgeless variance is the least-squares value psi1/(psi2 - psi1).

What is checked: |chi(lambda_bar) - CHI_RIDGELESS| and the relative gaps of B and V are below
1e-4 at lambda_bar = 1e-9 (the approach is linear in sqrt(lambda_bar) or faster).
"""

from __future__ import annotations

import pytest
import sympy as sp

from theorylab.theory import mei_montanari2019 as mm

STEP = "ridgeless_limit"
POINTS = [(0.5, 3.0), (2.0, 3.0), (4.0, 3.0), (3.0, 1.5), (1.2, 0.4)]
LAMBDA_BAR, TOLERANCE = 1e-9, 1e-4


def check_ridgeless_limit(
    chi_ridgeless=mm.CHI_RIDGELESS,
    e1_ridgeless=mm.E1_RIDGELESS,
    e2_ridgeless=mm.E2_RIDGELESS,
    e0_ridgeless=mm.E0_RIDGELESS,
):
    """Verify Thm 3 against the lambda -> 0 limit of Def. 1-2."""
    zeta = float(mm.RELU_ZETA)
    args = (mm.chi, mm.zeta, mm.psi1, mm.psi2)
    chi_fn = sp.lambdify((mm.zeta, mm.psi), chi_ridgeless, modules="math")
    bias_fn = sp.lambdify(args, e1_ridgeless / e0_ridgeless, modules="math")
    var_fn = sp.lambdify(args, e2_ridgeless / e0_ridgeless, modules="math")
    root = sp.simplify(mm.CHI_RIDGELESS_EQUATION.subs(mm.chi, chi_ridgeless))
    assert root == 0, f"{STEP}: CHI_RIDGELESS leaves {root} in its quadratic"
    for psi1, psi2 in POINTS:
        chi_small = mm.solve_chi(zeta, psi1, psi2, LAMBDA_BAR)
        b_small, v_small = mm.bias_variance(zeta, psi1, psi2, LAMBDA_BAR)
        chi0 = chi_fn(zeta, min(psi1, psi2))
        assert abs(chi_small - chi0) < TOLERANCE, (
            f"{STEP}: chi -> {chi_small}, Thm 3 gives {chi0} (psi1 {psi1}, psi2 {psi2})"
        )
        b0, v0 = bias_fn(chi0, zeta, psi1, psi2), var_fn(chi0, zeta, psi1, psi2)
        assert abs(b_small / b0 - 1) < TOLERANCE, f"{STEP}: B -> {b_small}, Thm 3 gives {b0}"
        assert abs(v_small / v0 - 1) < TOLERANCE, f"{STEP}: V -> {v_small}, Thm 3 gives {v0}"
        if psi1 < psi2:
            ols = psi1 / (psi2 - psi1)
            assert abs(v0 / ols - 1) < TOLERANCE, f"{STEP}: ridgeless V = {v0}, OLS gives {ols}"
    print(f"verified: {STEP}: fixed-point chi, B, V at lambda -> 0 equal Thm 3's ridgeless forms")


def test_ridgeless_limit():
    check_ridgeless_limit()


def test_ridgeless_limit_detects_mutation():
    wrong = (
        mm.psi1 * mm.chi**3 * mm.zeta**6
        - mm.psi1 * mm.chi**2 * mm.zeta**4
        + mm.psi1 * (mm.psi2 * mm.chi * mm.zeta**2 - mm.psi2)
    )  # the recalled reduced form that failed
    with pytest.raises(AssertionError, match=STEP):
        check_ridgeless_limit(e2_ridgeless=wrong)

"""Step: gradient descent on a quadratic is stable iff 0 <= eta <= 2/lambda.

Source: the classical linear-stability argument (e.g. Nesterov, "Introductory Lectures on Convex
Optimization", 2004, Sec. 1.2.3); it underlies the 2/eta sharpness threshold of Wu, Ma, E
(NeurIPS 2018) and Cohen et al. (ICLR 2021), and the kernel dynamics
r(k+1) = (I - eta H_inf) r(k) of Arora et al. (ICML 2019) used by the near_init claim.

Derivation: for f(x) = 1/2 lambda x^2 the GD map is x - eta f'(x) = (1 - eta lambda) x, so
x_k = (1 - eta lambda)^k x_0 stays bounded iff |1 - eta lambda| <= 1, i.e. (lambda > 0)
0 <= eta <= 2/lambda; at eta = 2/lambda the factor is -1 (period-2 oscillation) and at
eta = 1/lambda it is 0 (one-step convergence, the near_init default eta = 1/lambda_max). For
f(x) = 1/2 x^T H x with symmetric H, I - eta H has eigenvalues 1 - eta lambda_i(H), so GD is
stable iff eta <= 2/lambda_max (all lambda_i >= 0).

What is checked: the GD map of the symbolic quadratic against ``du2019.MODE_CONTRACTION``; the
solution set of |MODE_CONTRACTION| <= 1 in eta (and of the strict inequality) against
[0, ``du2019.STABLE_STEP_MAX``]; the factors at the two special steps; and the eigenvalues of
I - eta H for a generic symmetric 2 x 2 H.
"""

from __future__ import annotations

import sympy as sp

from theorylab.theory import du2019

STEP = "gd_quadratic_stability"


def check_gd_quadratic_stability(
    mode_contraction=du2019.MODE_CONTRACTION, stable_step_max=du2019.STABLE_STEP_MAX
):
    """Verify x -> (1 - eta lambda) x and {eta : |1 - eta lambda| <= 1} = [0, 2/lambda]."""
    lam, eta_positive = du2019.lam, du2019.eta
    eta = sp.Symbol("eta_real", real=True)  # solve over all real steps, not only eta > 0
    contraction = mode_contraction.subs(eta_positive, eta)
    x = sp.Symbol("x", real=True)

    # The GD map on 1/2 lambda x^2.
    loss = lam * x**2 / 2
    gd_map = x - eta * sp.diff(loss, x)
    assert sp.simplify(gd_map - contraction * x) == 0, (
        f"{STEP}: GD maps x to {sp.factor(gd_map)}, MODE_CONTRACTION says {contraction} x"
    )

    # Stability region in eta: closed for bounded iterates, open for convergence.
    bounded = sp.solve_univariate_inequality(sp.Abs(contraction) <= 1, eta, relational=False)
    expected = sp.Interval(0, stable_step_max)
    assert bounded == expected, f"{STEP}: |{contraction}| <= 1 iff eta in {bounded}, not {expected}"
    converging = sp.solve_univariate_inequality(sp.Abs(contraction) < 1, eta, relational=False)
    assert converging == sp.Interval.open(0, stable_step_max), (
        f"{STEP}: |{contraction}| < 1 iff eta in {converging}"
    )
    edge = sp.simplify(contraction.subs(eta, stable_step_max))
    assert edge == -1, f"{STEP}: factor at eta = STABLE_STEP_MAX is {edge}, expected -1"
    one_step = sp.simplify(contraction.subs(eta, 1 / lam))
    assert one_step == 0, f"{STEP}: factor at eta = 1/lambda is {one_step}, expected 0"

    # Several directions: eigenvalues of I - eta H are the per-mode factors.
    a, c = sp.symbols("a c", positive=True)
    b = sp.Symbol("b", real=True)
    H = sp.Matrix([[a, b], [b, c]])
    factors = list((sp.eye(2) - eta * H).eigenvals())
    modes = [contraction.subs(lam, ev) for ev in H.eigenvals()]
    matched = [any(sp.simplify(f - g) == 0 for g in modes) for f in factors]
    assert len(factors) == len(modes) == 2 and all(matched), (
        f"{STEP}: eig(I - eta H) = {factors}, per-mode factors {modes}"
    )
    print(
        f"verified: {STEP}: GD on lambda x^2/2 multiplies x by {mode_contraction}; "
        f"|.| <= 1 iff eta in {bounded}; eig(I - eta H) = 1 - eta eig(H)"
    )


def test_gd_quadratic_stability():
    check_gd_quadratic_stability()


def test_gd_quadratic_stability_detects_mutation():
    import pytest

    lam, eta = du2019.lam, du2019.eta
    with pytest.raises(AssertionError, match=STEP):  # threshold 2/lambda -> 1/lambda
        check_gd_quadratic_stability(stable_step_max=1 / lam)
    with pytest.raises(AssertionError, match=STEP):  # factor 1 - eta lambda -> 1 - eta lambda/2
        check_gd_quadratic_stability(mode_contraction=1 - eta * lam / 2)

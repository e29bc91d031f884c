"""Step: the distance from initialisation R' of Du et al. (2019), Cor 4.1 and Thm 3.2's proof.

Source: Du, Zhai, Poczos, Singh, ICLR 2019 (arXiv:1810.02054), Lemma 3.3 (flow) and Cor 4.1 (GD).
Model f(x) = m^{-1/2} sum_r a_r relu(w_r . x), ||x_i|| = 1, |a_r| = 1, sum loss
1/2 ||u - y||^2.

Derivation (GD, step eta): the gradient for unit r is
dL/dw_r = m^{-1/2} a_r sum_i (u_i - y_i) 1{w_r . x_i >= 0} x_i, so

    ||w_r(k+1) - w_r(k)|| <= eta m^{-1/2} sum_i |u_i - y_i| <= eta sqrt(n/m) ||y - u(k)||

(Cauchy-Schwarz). Thm 4.1 gives ||y - u(k)|| <= q^{k/2} ||y - u(0)|| with q = 1 - eta lambda_0/2.
Summing over k, sum_k q^{k/2} = 1/(1 - sqrt(q)) = (1 + sqrt(1 - x))/x <= 2/x with
x = 1 - q = eta lambda_0 / 2 in (0, 1], hence

    ||w_r(K) - w_r(0)|| <= eta sqrt(n/m) ||y - u(0)|| * 4/(eta lambda_0) = R'_GD.

Gradient flow: ||y - u(t)|| <= exp(-lambda_0 t / 2) ||y - u(0)|| (Thm 3.2) and
integral_0^oo exp(-lambda_0 t / 2) dt = 2 / lambda_0 give R'_flow with 2 in place of 4.

What is checked: the Cauchy-Schwarz step as Lagrange's identity n sum c_i^2 - (sum c_i)^2 =
sum_{i<j} (c_i - c_j)^2 for n = 2..6 (c_i = |u_i - y_i| >= 0); the square root of
``du2019.RESIDUAL_BOUND``; the geometric sum, its bound and that the bound's constant 2 is
tight as eta lambda_0 -> 0; the assembled R' against ``du2019.DISTANCE_BOUND_GD``; and the
flow integral of ``du2019.FLOW_RESIDUAL_BOUND`` against ``du2019.DISTANCE_BOUND_FLOW``.
"""

from __future__ import annotations

import itertools

import sympy as sp

from theorylab.theory import du2019

STEP = "distance_bound"
LAGRANGE_SIZES = range(2, 7)


def check_distance_bound(
    linear_rate=du2019.LINEAR_RATE,
    residual_bound=du2019.RESIDUAL_BOUND,
    distance_bound_gd=du2019.DISTANCE_BOUND_GD,
    flow_residual_bound=du2019.FLOW_RESIDUAL_BOUND,
    distance_bound_flow=du2019.DISTANCE_BOUND_FLOW,
):
    """Verify R'_GD = 4 sqrt(n)||y-u(0)||/(sqrt(m) lambda_0) and R'_flow (constant 2)."""
    n, m, eta, k, r0, t = du2019.n, du2019.m, du2019.eta, du2019.k, du2019.residual0, du2019.t

    # Cauchy-Schwarz: (sum_i c_i)^2 <= n sum_i c_i^2, as an exact sum-of-squares identity.
    for size in LAGRANGE_SIZES:
        c = sp.symbols(f"c0:{size}", nonnegative=True)
        gap = size * sum(ci**2 for ci in c) - sum(c) ** 2
        squares = sum((ci - cj) ** 2 for ci, cj in itertools.combinations(c, 2))
        assert sp.expand(gap - squares) == 0, f"{STEP}: Lagrange identity fails at n = {size}"
    step_movement = eta * sp.sqrt(n) / sp.sqrt(m)  # per unit of ||y - u(k)||

    # Residual norm at step k from Thm 4.1's squared bound: q^{k/2} ||y - u(0)||.
    q = sp.Symbol("q", positive=True)
    norm_at_k = sp.sqrt(residual_bound.subs(linear_rate, q))
    assert sp.simplify(norm_at_k - q ** (k / 2) * r0) == 0, (
        f"{STEP}: sqrt(RESIDUAL_BOUND) = {norm_at_k}, expected q^(k/2) ||y-u(0)|| with "
        f"q = {linear_rate}"
    )

    # Geometric sum of q^{k/2} = s^k with s = sqrt(q) < 1, and the bound 1/(1 - s) <= 2/x.
    s, x = sp.Symbol("s", positive=True), sp.Symbol("x", positive=True)
    step_index = sp.Symbol("j", integer=True, nonnegative=True)
    series = sp.summation(s**step_index, (step_index, 0, sp.oo))
    if isinstance(series, sp.Piecewise):  # keep the branch that holds for 0 < s < 1
        half = sp.Rational(1, 2)
        series = next(e for e, cond in series.args if cond.subs(s, half) is sp.true)
    assert sp.simplify(series - 1 / (1 - s)) == 0, f"{STEP}: geometric sum gave {series}"
    series_x = series.subs(s, sp.sqrt(1 - x))  # q = 1 - x
    assert sp.simplify(series_x - (1 + sp.sqrt(1 - x)) / x) == 0, (
        f"{STEP}: 1/(1 - sqrt(1-x)) != (1 + sqrt(1-x))/x"
    )
    # 2/x - (1 + sqrt(1-x))/x = (1 - sqrt(1-x))/x >= 0 on (0, 1]; the constant 2 is the limit.
    slack = sp.simplify(2 / x - series_x - (1 - sp.sqrt(1 - x)) / x)
    assert slack == 0, f"{STEP}: 2/x - sum != (1 - sqrt(1-x))/x (left {slack})"
    constant = sp.limit(x * series_x, x, 0, "+")
    assert constant == 2, f"{STEP}: lim x sum = {constant}, expected 2"
    x_value = sp.simplify(1 - linear_rate)
    series_bound = constant / x_value  # sum_k ||y - u(k)|| / ||y - u(0)|| <= this

    derived_gd = sp.simplify(step_movement * r0 * series_bound)
    assert sp.simplify(derived_gd - distance_bound_gd) == 0, (
        f"{STEP}: the geometric sum gives R' = {derived_gd}, DISTANCE_BOUND_GD = "
        f"{distance_bound_gd}"
    )

    # Gradient flow: integrate sqrt(n/m) ||y - u(t)|| over t in [0, oo).
    flow_norm = sp.sqrt(flow_residual_bound)
    flow_integral = sp.integrate(flow_norm, (t, 0, sp.oo))
    derived_flow = sp.simplify(sp.sqrt(n) / sp.sqrt(m) * flow_integral)
    assert sp.simplify(derived_flow - distance_bound_flow) == 0, (
        f"{STEP}: the flow integral gives R' = {derived_flow}, DISTANCE_BOUND_FLOW = "
        f"{distance_bound_flow}"
    )
    print(
        f"verified: {STEP}: GD sum_k (1 - eta lambda_0/2)^(k/2) <= 4/(eta lambda_0) gives "
        f"R' = {distance_bound_gd}; gradient flow gives R' = {distance_bound_flow}"
    )


def test_distance_bound():
    check_distance_bound()


def test_distance_bound_detects_mutation():
    import pytest

    n, m, lam0, r0, eta = du2019.n, du2019.m, du2019.lam0, du2019.residual0, du2019.eta
    with pytest.raises(AssertionError, match=STEP):  # constant 4 -> 2 in R' for GD
        check_distance_bound(distance_bound_gd=2 * sp.sqrt(n) * r0 / (sp.sqrt(m) * lam0))
    with pytest.raises(AssertionError, match=STEP):  # constant 2 -> 4 in R' for the flow
        check_distance_bound(distance_bound_flow=4 * sp.sqrt(n) * r0 / (sp.sqrt(m) * lam0))
    with pytest.raises(AssertionError, match=STEP):  # rate eta lambda_0/2 -> eta lambda_0
        rate = 1 - eta * lam0
        check_distance_bound(linear_rate=rate, residual_bound=rate**du2019.k * r0**2)

"""Step: Du et al.'s width requirement, R' < R solved for m, with its exponents and constant.

Source: Du, Zhai, Poczos, Singh, ICLR 2019 (arXiv:1810.02054), Lemma 3.2 (stability radius),
Thm 3.2 / Thm 4.1 (m = Omega(n^6 / (lambda_0^4 delta^3))), and the Markov bound on
||y - u(0)||^2 used in their proofs.

Derivation.
(a) Lemma 3.2: with A_ir = {|w_r(0).x_i| <= R}, P(A_ir) <= 2R/sqrt(2 pi) (the N(0,1) density is
    at most 1/sqrt(2 pi)); |H_ij - H_ij(0)| <= (1/m) sum_r (1{A_ir} + 1{A_jr}) when every unit
    moved less than R, so E sum_ij |H_ij - H_ij(0)| <= 4 n^2 R / sqrt(2 pi), and by Markov, with
    probability 1 - delta, ||H - H(0)||_2 <= sum_ij |.| <= 4 n^2 R / (sqrt(2 pi) delta). This is
    <= lambda_0/4 for R = c delta lambda_0 / n^2 with c = sqrt(2 pi)/16.
(b) R'_GD = 4 sqrt(n) ||y-u(0)|| / (sqrt(m) lambda_0) decreases in m, so R' < R iff
    m > m* = 16 n^5 ||y-u(0)||^2 / (c^2 delta^2 lambda_0^4) = 2048 n^5 ||y-u(0)||^2 /
    (pi delta^2 lambda_0^4).
(c) At this initialisation E u_i(0) = 0 and E u_i(0)^2 = E relu(z)^2 = 1/2 (z ~ N(0, 1)), so
    E ||y - u(0)||^2 = ||y||^2 + n/2; Markov: ||y-u(0)||^2 <= (||y||^2 + n/2)/delta w.p. 1 - delta.
(d) With |y_i| <= C (||y||^2 <= n C^2): m* <= 2048 (C^2 + 1/2) n^6 / (pi lambda_0^4 delta^3):
    exponents n^6, lambda_0^-4, delta^-3 (Du et al.'s Omega), constant 2048 (C^2 + 1/2)/pi.

What is checked: each of (a)-(d) symbolically against ``du2019.STABILITY_RADIUS``,
``WIDTH_REQUIREMENT``, ``INIT_RESIDUAL_SQ_MEAN`` and ``WIDTH_REQUIREMENT_BOUNDED_LABELS``; the
expectation in (c) by exact averaging over every sign vector a in {-1, 1}^m for m = 1..4 and
symbolic Gaussian integrals.
"""

from __future__ import annotations

import itertools

import sympy as sp

from theorylab.theory import du2019

STEP = "width_requirement"
SIGN_WIDTHS = range(1, 5)


def check_width_requirement(
    stability_radius=du2019.STABILITY_RADIUS,
    distance_bound=du2019.DISTANCE_BOUND_GD,
    width_requirement=du2019.WIDTH_REQUIREMENT,
    init_residual_sq_mean=du2019.INIT_RESIDUAL_SQ_MEAN,
    width_requirement_bounded_labels=du2019.WIDTH_REQUIREMENT_BOUNDED_LABELS,
):
    """Verify R, the width m* solving R' = R, E||y-u(0)||^2 and m*'s exponents and constant."""
    n, m, lam0, delta, r0 = du2019.n, du2019.m, du2019.lam0, du2019.delta, du2019.residual0
    y_sq, C = du2019.label_norm_sq, du2019.label_bound
    z = sp.Symbol("z", real=True)
    R = sp.Symbol("R", positive=True)
    gaussian = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)

    # (a) Anti-concentration P(|z| <= R) <= 2R/sqrt(2 pi): equal at R = 0, and the gap's
    # derivative (2/sqrt(2 pi)) (1 - exp(-R^2/2)) is >= 0.
    small = sp.integrate(gaussian, (z, -R, R))
    gap = 2 * R / sp.sqrt(2 * sp.pi) - small
    assert sp.simplify(gap.subs(R, 0)) == 0, f"{STEP}: anti-concentration gap at 0 is not 0"
    derivative = sp.simplify(sp.diff(gap, R) - 2 / sp.sqrt(2 * sp.pi) * (1 - sp.exp(-(R**2) / 2)))
    assert derivative == 0, f"{STEP}: d/dR of the anti-concentration gap is off by {derivative}"
    per_entry = 2 * (2 * R / sp.sqrt(2 * sp.pi))  # E|H_ij - H_ij(0)|: units near x_i or x_j
    markov_sum = n**2 * per_entry / delta  # sum_ij |H_ij - H_ij(0)|, prob. 1 - delta
    radius = sp.solve(sp.Eq(markov_sum, lam0 / 4), R)[0]
    assert sp.simplify(radius - stability_radius) == 0, (
        f"{STEP}: Lemma 3.2's Markov argument gives R = {radius}, STABILITY_RADIUS = "
        f"{stability_radius}"
    )

    # (b) R' is decreasing in m, so R' < R exactly past the root of R' = R.
    assert sp.diff(distance_bound, m).is_negative, f"{STEP}: R' is not decreasing in m"
    root = sp.solve(sp.Eq(distance_bound, stability_radius), m)
    assert len(root) == 1 and sp.simplify(root[0] - width_requirement) == 0, (
        f"{STEP}: R' = R solves to m = {root}, WIDTH_REQUIREMENT = {width_requirement}"
    )
    explicit = 2048 * n**5 * r0**2 / (sp.pi * delta**2 * lam0**4)
    assert sp.simplify(width_requirement - explicit) == 0, (
        f"{STEP}: WIDTH_REQUIREMENT = {width_requirement}, hand derivation {explicit}"
    )

    # (c) E ||y - u(0)||^2: relu(z)^2 has mean 1/2; the signs a_r average out cross terms.
    relu_sq_mean = sp.integrate(z**2 * gaussian, (z, 0, sp.oo))
    assert relu_sq_mean == sp.Rational(1, 2), f"{STEP}: E relu(z)^2 = {relu_sq_mean}"
    means = set()
    for width in SIGN_WIDTHS:
        h = sp.symbols(f"h0:{width}", real=True)  # relu(w_r . x_i), one per unit
        signs = list(itertools.product((-1, 1), repeat=width))
        outputs = [sum(a * hr for a, hr in zip(sign, h, strict=True)) / sp.sqrt(width)
                   for sign in signs]  # fmt: skip
        mean = sp.expand(sum(outputs) / len(signs))
        second = sp.expand(sum(u**2 for u in outputs) / len(signs))
        assert mean == 0, f"{STEP}: E_a u = {mean} at m = {width}"
        means.add(mean)
        assert sp.expand(second - sum(hr**2 for hr in h) / width) == 0, (
            f"{STEP}: E_a u^2 = {second} at m = {width}, expected (1/m) sum_r h_r^2"
        )
    # E u_i^2 = (1/m) sum_r E relu(w_r . x_i)^2 = relu_sq_mean (w_r . x_i ~ N(0, 1) for unit x_i).
    (u_mean,) = means
    y_i = sp.Symbol("y_i", real=True)
    per_coordinate = sp.expand(y_i**2 - 2 * y_i * u_mean + relu_sq_mean)  # E (y_i - u_i)^2
    summed = n * per_coordinate.subs(y_i, 0) + y_sq  # sum_i y_i^2 = ||y||^2
    assert sp.simplify(init_residual_sq_mean - summed) == 0, (
        f"{STEP}: E||y - u(0)||^2 = {summed}, INIT_RESIDUAL_SQ_MEAN = {init_residual_sq_mean}"
    )

    # (d) Markov bound, |y_i| <= C, and the resulting exponents and constant.
    markov_sq = init_residual_sq_mean.subs(y_sq, n * C**2) / delta
    bounded = sp.simplify(width_requirement.subs(r0, sp.sqrt(markov_sq)))
    assert sp.simplify(bounded - width_requirement_bounded_labels) == 0, (
        f"{STEP}: Markov substitution gives m* = {bounded}, WIDTH_REQUIREMENT_BOUNDED_LABELS = "
        f"{width_requirement_bounded_labels}"
    )
    exponents = {
        str(symbol): sp.simplify(symbol * sp.diff(sp.log(bounded), symbol))
        for symbol in (n, lam0, delta)
    }
    expected_exponents = {str(n): 6, str(lam0): -4, str(delta): -3}
    assert exponents == expected_exponents, (
        f"{STEP}: exponents {exponents}, Du et al. state {expected_exponents}"
    )
    constant = sp.simplify(bounded * lam0**4 * delta**3 / n**6)
    expected_constant = 2048 * (C**2 + sp.Rational(1, 2)) / sp.pi
    assert sp.simplify(constant - expected_constant) == 0, (
        f"{STEP}: constant {constant}, expected {expected_constant}"
    )
    print(
        f"verified: {STEP}: R = {stability_radius} (Lemma 3.2 Markov), R' < R iff m > "
        f"{width_requirement}; E||y-u(0)||^2 = {init_residual_sq_mean}; "
        f"m* = {constant} n^6/(lambda_0^4 delta^3)"
    )


def test_width_requirement():
    check_width_requirement()


def test_width_requirement_detects_mutation():
    import pytest

    n, delta = du2019.n, du2019.delta
    with pytest.raises(AssertionError, match=STEP):  # c = sqrt(2 pi)/16 -> sqrt(2 pi)/8
        check_width_requirement(stability_radius=2 * du2019.STABILITY_RADIUS)
    with pytest.raises(AssertionError, match=STEP):  # E||y-u(0)||^2 with n in place of n/2
        check_width_requirement(init_residual_sq_mean=du2019.label_norm_sq + n)
    with pytest.raises(AssertionError, match=STEP):  # delta^-2 in place of delta^-3
        check_width_requirement(
            width_requirement_bounded_labels=du2019.WIDTH_REQUIREMENT_BOUNDED_LABELS * delta
        )
    with pytest.raises(AssertionError, match=STEP):  # m* solved from the flow bound
        flow = sp.solve(sp.Eq(du2019.DISTANCE_BOUND_FLOW, du2019.STABILITY_RADIUS), du2019.m)[0]
        check_width_requirement(width_requirement=flow)

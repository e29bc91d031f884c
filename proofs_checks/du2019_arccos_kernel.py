"""Step: the co-activation probability of a Gaussian unit and the closed form of H_inf.

Source: Du, Zhai, Poczos, Singh, ICLR 2019, Sec. 3 (H_inf_ij = E_w[x_i.x_j 1{w.x_i >= 0,
w.x_j >= 0}]); Cho & Saul, NeurIPS 2009 (arc-cosine kernel of degree 0, 1 - theta/pi).

Claim: for w ~ N(0, I_2), x = (1, 0) and x' = (cos theta, sin theta) with theta in [0, pi],

    P(w.x >= 0, w.x' >= 0) = (pi - theta) / (2 pi).

By rotational invariance of N(0, I_d), the component of w in span(x, x') is N(0, I_2), so the
same holds in every dimension d >= 2 (the Monte-Carlo test in tests/theory/test_du2019.py checks
d > 2). Derivation in polar coordinates w = r (cos phi, sin phi), density e^{-r^2/2} r/(2 pi):
w.x >= 0 iff cos phi >= 0, w.x' >= 0 iff cos(phi - theta) >= 0; the two half-circles meet in
the arc [theta - pi/2, pi/2] of length pi - theta; the radial integral is 1. Hence
H_inf_ij = rho (pi - arccos rho) / (2 pi), rho = x_i.x_j, and H_inf_ii = 1/2.

What is checked:
1. the double integral over the arc, for symbolic theta, equals ``du2019.COACTIVATION``;
2. ``du2019.H_INF_ENTRY`` = rho * COACTIVATION(arccos rho), with H_inf_ii = 1/2 and the
   antipodal entry 0;
3. the arc is the whole intersection: for six angles (0, pi/3, pi/2, 5 pi/6, pi and 5/2
   radians) sympy solves both trigonometric inequalities on [0, 2 pi) and the measure of the
   intersection over 2 pi equals ``COACTIVATION`` exactly.
"""

from __future__ import annotations

import sympy as sp

from theorylab.theory import du2019

STEP = "arccos_kernel"
TEST_ANGLES = [sp.Integer(0), sp.pi / 3, sp.pi / 2, 5 * sp.pi / 6, sp.pi, sp.Rational(5, 2)]


def check_arccos_kernel(coactivation=du2019.COACTIVATION, h_inf_entry=du2019.H_INF_ENTRY):
    """Verify P(w.x >= 0, w.x' >= 0) = coactivation(theta) and H_inf from it (see module)."""
    theta, rho = du2019.theta, du2019.rho
    phi = sp.Symbol("phi", real=True)
    r = sp.Symbol("r", positive=True)
    density = sp.exp(-(r**2) / 2) * r / (2 * sp.pi)  # N(0, I_2) in polar coordinates

    # 1. The radial integral is 1, so the probability is the arc length over 2 pi.
    radial = sp.integrate(density * 2 * sp.pi, (r, 0, sp.oo))
    assert sp.simplify(radial - 1) == 0, f"{STEP}: radial mass {radial} != 1"
    arc = (theta - sp.pi / 2, sp.pi / 2)
    # The arc's ends are the zeros of the two constraints (step 3 checks it is the whole set).
    for end, constraint in ((arc[0], sp.cos(phi - theta)), (arc[1], sp.cos(phi))):
        assert sp.simplify(constraint.subs(phi, end)) == 0, f"{STEP}: arc end {end} not a zero"
    probability = sp.integrate(density, (r, 0, sp.oo), (phi, *arc))
    assert sp.simplify(probability - coactivation) == 0, (
        f"{STEP}: polar integral gives {sp.simplify(probability)}, closed form says {coactivation}"
    )

    # 2. H_inf entries: rho times the probability at theta = arccos(rho).
    from_kernel = rho * coactivation.subs(theta, sp.acos(rho))
    assert sp.simplify(h_inf_entry - from_kernel) == 0, (
        f"{STEP}: H_INF_ENTRY {h_inf_entry} != rho * P(theta = arccos rho) = {from_kernel}"
    )
    diagonal = sp.simplify(h_inf_entry.subs(rho, 1))
    assert diagonal == sp.Rational(1, 2), f"{STEP}: H_inf_ii = {diagonal}, expected 1/2"
    antipodal = sp.simplify(h_inf_entry.subs(rho, -1))
    assert antipodal == 0, f"{STEP}: antipodal H_inf entry {antipodal}, expected 0"

    # 3. The arc is the exact intersection of the two half-circles, angle by angle.
    circle = sp.Interval.Ropen(0, 2 * sp.pi)
    first = sp.solveset(sp.cos(phi) >= 0, phi, circle)
    for value in TEST_ANGLES:
        second = sp.solveset(sp.cos(phi - value) >= 0, phi, circle)
        fraction = sp.Intersection(first, second).measure / (2 * sp.pi)
        expected = coactivation.subs(theta, value)
        assert sp.simplify(fraction - expected) == 0, (
            f"{STEP}: at theta = {value} the co-active arc has fraction {sp.simplify(fraction)}, "
            f"closed form {expected}"
        )
    print(
        f"verified: {STEP}: P(w.x>=0, w.x'>=0) = {coactivation} (polar integral, "
        f"{len(TEST_ANGLES)} exact arcs); H_inf_ij = {h_inf_entry}, H_inf_ii = {diagonal}"
    )


def test_arccos_kernel():
    check_arccos_kernel()


def test_arccos_kernel_detects_mutation():
    import pytest

    theta = du2019.theta
    with pytest.raises(AssertionError, match=STEP):  # (pi - theta) -> theta
        check_arccos_kernel(coactivation=theta / (2 * sp.pi))
    with pytest.raises(AssertionError, match=STEP):  # H_inf without the cosine factor
        check_arccos_kernel(h_inf_entry=du2019.COACTIVATION.subs(theta, sp.acos(du2019.rho)))

"""Step: the diagonal net's gradient flow ends at beta = 2 alpha^2 sinh(X^T nu), the KKT point
of min Q_alpha s.t. X beta = y, with q(z) = 2 - sqrt(4 + z^2) + z asinh(z/2).

Source: Woodworth et al., COLT 2020, Thm 1 and its proof; ``theorylab.theory.woodworth2020``.

Derivation: for beta = u*u - v*v, L = 1/2||X beta - y||^2 and g = X^T r, the flow is
u' = -2 u g, v' = 2 v g; with G(t) = int_0^t g, u = alpha e^{-2G} and v = alpha e^{2G} solve
it from u(0) = v(0) = alpha, so beta = alpha^2 (e^{-4G} - e^{4G}) = 2 alpha^2 sinh(-4G), and
-4G = X^T nu with nu = -4 int r dt: the LINK. q'(z) = asinh(z/2) and q'' = 1/sqrt(4 + z^2) > 0
(q strictly convex, q(0) = q'(0) = 0), so grad Q_alpha(beta)_i = asinh(beta_i / (2 alpha^2))
and the KKT condition grad Q_alpha(beta) = X^T nu is exactly beta = LINK(X^T nu). The convex
conjugate of alpha^2 q(beta/alpha^2) is attained at beta = LINK(s) and equals
2 alpha^2 (cosh s - 1) = 4 alpha^2 sinh^2(s/2) (the dual objective of the Newton solve).

What is checked: ``Q_DERIVATIVE`` = dQ/dz, q(0) = 0, q'' = 1/sqrt(4 + z^2); LINK(Q_DERIVATIVE)
= alpha^2 z (the KKT map inverts the gradient); the conjugate value at the maximiser against
``CONJUGATE`` (using asinh(sinh s) = s and sqrt(4 + 4 sinh^2 s) = 2 cosh s, valid for real s)
and at 5 numeric points with mpmath; the flow solution and u*u - v*v = LINK(-4G).
"""

from __future__ import annotations

import mpmath
import sympy as sp

from theorylab.theory import woodworth2020 as w

STEP = "woodworth2020_potential"
POINTS = [("-2.5", "0.3"), ("-0.4", "1"), ("0", "2"), ("0.7", "0.05"), ("3.1", "0.8")]  # s, alpha


def check_woodworth2020_potential(
    q=w.Q, q_derivative=w.Q_DERIVATIVE, link=w.LINK, conjugate=w.CONJUGATE
):
    """Verify q' = asinh(z/2), the KKT link, the conjugate and the flow's closed form."""
    z, s, alpha = w.z, w.s_dual, w.alpha
    assert sp.simplify(sp.diff(q, z) - q_derivative) == 0, f"{STEP}: dq/dz != Q_DERIVATIVE"
    assert sp.simplify(q.subs(z, 0)) == 0, f"{STEP}: q(0) = {q.subs(z, 0)}, expected 0"
    assert sp.simplify(sp.diff(q, z, 2) - 1 / sp.sqrt(4 + z**2)) == 0, (
        f"{STEP}: q'' is not 1/sqrt(4 + z^2)"
    )
    inverse = sp.simplify(link.subs(s, q_derivative) - alpha**2 * z)
    assert inverse == 0, f"{STEP}: LINK(q'(z)) - alpha^2 z = {inverse}: KKT is not the link"

    primal = alpha**2 * q.subs(z, link / alpha**2)  # alpha^2 q(beta/alpha^2) at beta = LINK(s)
    value = (link * s - primal).replace(sp.asinh(sp.sinh(s)), s)
    value = value.replace(sp.sqrt(4 * sp.sinh(s) ** 2 + 4), 2 * sp.cosh(s))
    gap = sp.simplify((value - conjugate).rewrite(sp.exp))
    assert gap == 0, f"{STEP}: beta s - f(beta) at the maximiser differs from CONJUGATE ({gap})"
    f_num = sp.lambdify((z, alpha), alpha**2 * q.subs(z, z / alpha**2), modules="mpmath")
    with mpmath.workdps(40):
        for s_text, a_text in POINTS:
            s_val, a_val = mpmath.mpf(s_text), mpmath.mpf(a_text)
            exact = {s: sp.Rational(s_text), alpha: sp.Rational(a_text)}
            # sup_beta beta s - f(beta) by a 1-d maximisation started near the claimed maximiser.
            start = float(link.subs(exact))
            best = mpmath.findroot(
                lambda b, s_val=s_val, a_val=a_val: mpmath.diff(
                    lambda x: x * s_val - f_num(x, a_val), b
                ),
                start + 0.01,
            )
            sup = best * s_val - f_num(best, a_val)
            claimed = conjugate.subs(exact)
            assert abs(sup - mpmath.mpf(str(sp.N(claimed, 40)))) < 1e-25, (
                f"{STEP}: conjugate at s = {s_val}, alpha = {a_val}: sup {sup} vs {claimed}"
            )

    t = sp.Symbol("t", real=True)
    G = sp.Function("G")(t)
    u, v = alpha * sp.exp(-2 * G), alpha * sp.exp(2 * G)
    g = sp.diff(G, t)
    assert sp.simplify(sp.diff(u, t) + 2 * u * g) == 0, f"{STEP}: u = alpha e^(-2G) misses u'"
    assert sp.simplify(sp.diff(v, t) - 2 * v * g) == 0, f"{STEP}: v = alpha e^(2G) misses v'"
    flow_beta = sp.simplify((u**2 - v**2 - link.subs(s, -4 * G)).rewrite(sp.exp))
    assert flow_beta == 0, f"{STEP}: u*u - v*v != LINK(-4G) along the flow ({flow_beta})"
    print(
        f"verified: {STEP}: q' = {q_derivative}, flow beta = u*u - v*v = {link} with "
        f"s = X^T nu = KKT of min Q_alpha; conjugate {conjugate}"
    )


def test_woodworth2020_potential():
    check_woodworth2020_potential()


def test_woodworth2020_potential_detects_mutation():
    import pytest

    z, s, alpha = w.z, w.s_dual, w.alpha
    with pytest.raises(AssertionError, match=STEP):  # constant 3 instead of 2: q(0) != 0
        check_woodworth2020_potential(q=3 - sp.sqrt(4 + z**2) + z * sp.asinh(z / 2))
    with pytest.raises(AssertionError, match=STEP):  # alpha instead of alpha^2 in the link
        check_woodworth2020_potential(link=2 * alpha * sp.sinh(s))
    with pytest.raises(AssertionError, match=STEP):  # conjugate without the -1
        check_woodworth2020_potential(conjugate=2 * alpha**2 * sp.cosh(s))

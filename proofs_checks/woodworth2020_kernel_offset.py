"""Step: the leading-order offset of argmin Q_alpha from the minimum-l2 solution at large alpha.

Source: derived here for the implicit_bias claim's kernel_regime_offset statement from Woodworth
et al. (COLT 2020), Thm 1's Q_alpha(beta) = alpha^2 sum_i q(beta_i / alpha^2),
q(z) = 2 - sqrt(4 + z^2) + z asinh(z/2); ``theorylab.theory.woodworth2020``.

Derivation. Write eps = 1/alpha^2 and beta = beta_l2 + t n with n in null(X) (beta_l2 lies in
row(X), so beta_l2 . n = 0). Along the feasible line the minimiser solves
d/dt Q_alpha = sum_i n_i q'(beta_i eps) = 0. q is even in z's odd derivatives: q'(z) =
q''(0) z + q''''(0) z^3 / 6 + O(z^5). With t = tau eps^2:

    sum_i n_i q'(beta_i eps) = eps q''(0) (n . beta_l2)
                             + eps^3 [q''(0) tau ||n||^2 + q''''(0)/6 (n . beta_l2^3)] + O(eps^5),

the first term vanishes, and the eps^3 term does iff tau = -(q''''(0)/6) (n . beta_l2^3) /
(q''(0) ||n||^2). Summed over an orthonormal basis of null(X), delta = argmin - beta_l2 =
kappa P_null(beta_l2^3) / alpha^4 with kappa = -(q''''(0)/6)/q''(0) = -2 c4/c2 for
q = c2 z^2 + c4 z^4 + ...; c2 = 1/4, c4 = -1/192 give kappa = 1/24
(``KERNEL_OFFSET_COEFFICIENT``).

What is checked: q''(0) = 1/2 and q''''(0) = -1/8 from ``woodworth2020.Q``; the eps-expansion
of the stationarity condition (q' by its Taylor polynomial through z^5) for symbolic
n = (n1, n2), beta_l2 = s (n2, -n1) and tau, its eps and eps^3 coefficients, and the solved
tau against ``KERNEL_OFFSET_COEFFICIENT`` (n . beta_l2^3) / ||n||^2.
"""

from __future__ import annotations

import sympy as sp

from theorylab.theory import woodworth2020 as w

STEP = "woodworth2020_kernel_offset"


def check_woodworth2020_kernel_offset(q=w.Q, coefficient=w.KERNEL_OFFSET_COEFFICIENT):
    """Verify the derivation of the module docstring."""
    z = w.z
    dq = sp.diff(q, z)
    second, fourth = sp.diff(q, z, 2).subs(z, 0), sp.diff(q, z, 4).subs(z, 0)
    assert sp.simplify(second - sp.Rational(1, 2)) == 0, f"{STEP}: q''(0) = {second} != 1/2"
    assert sp.simplify(fourth + sp.Rational(1, 8)) == 0, f"{STEP}: q''''(0) = {fourth} != -1/8"

    eps, tau, s = sp.symbols("epsilon tau s", real=True)
    n1, n2 = sp.symbols("n_1 n_2", real=True)
    n = (n1, n2)
    beta_l2 = (s * n2, -s * n1)  # in row(X) when null(X) is spanned by n
    dq_poly = sp.series(dq, z, 0, 6).removeO()  # through z^5: enough for the eps^3 term
    stationarity = sum(
        n_i * dq_poly.subs(z, (b_i + tau * eps**2 * n_i) * eps)
        for n_i, b_i in zip(n, beta_l2, strict=True)
    )
    series = sp.expand(stationarity)
    first = sp.simplify(series.coeff(eps, 1))
    assert first == 0, f"{STEP}: the O(eps) term {first} does not vanish (beta_l2 . n = 0)"
    third = sp.expand(series.coeff(eps, 3))
    (solved,) = sp.solve(third, tau)
    cube = sum(n_i * b_i**3 for n_i, b_i in zip(n, beta_l2, strict=True))
    expected = coefficient * cube / (n1**2 + n2**2)
    assert sp.simplify(solved - expected) == 0, (
        f"{STEP}: tau = {sp.simplify(solved)}, the coefficient {coefficient} gives "
        f"{sp.simplify(expected)}"
    )
    print(
        f"verified: {STEP}: argmin Q_alpha - beta_l2 = {coefficient} P_null(beta_l2^3)/alpha^4 "
        "+ O(alpha^-8)"
    )


def test_woodworth2020_kernel_offset():
    check_woodworth2020_kernel_offset()


def test_woodworth2020_kernel_offset_detects_mutation():
    import pytest

    with pytest.raises(AssertionError, match=STEP):  # the quartic term read as z^4/384
        check_woodworth2020_kernel_offset(coefficient=sp.Rational(1, 48))
    with pytest.raises(AssertionError, match=STEP):  # asinh(z) instead of asinh(z/2)
        check_woodworth2020_kernel_offset(q=2 - sp.sqrt(4 + w.z**2) + w.z * sp.asinh(w.z))

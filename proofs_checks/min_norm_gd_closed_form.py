"""Step: the GD iterate on an underdetermined consistent least-squares problem, in closed form.

Source: the standard SVD argument (e.g. Zhang et al., ICLR 2017, Sec. 5; Gunasekar et al.,
NeurIPS 2017); ``theorylab.theory.min_norm``.

Derivation: with A = U diag(s) V^T (thin SVD, s_i > 0) and c = V^T x, the GD step
x <- x - eta A^T (A x - b) on 1/2 ||A x - b||^2 reads, per row-space coordinate,
c <- c - eta s (s c - beta) with beta = (U^T b)_i, and leaves null-space coordinates unchanged
(A^T r = V diag(s) U^T r has none). The recurrence is affine with fixed point beta/s, so
c_k = beta/s + (1 - eta s^2)^k (c_0 - beta/s). It converges for every s in (0, s_max] iff
|1 - eta s^2| < 1 for all of them, i.e. 0 < eta < 2/s_max^2; at eta = 2/s_max^2 the top
coordinate oscillates with factor -1 and beyond it diverges.

What is checked: ``ITERATE_COEFFICIENT`` at k = 0 and its one-step recurrence (symbolic k); the
fixed point of the recurrence; that the solution of CONTRACTION(s_max) = -1 is
``STEP_SIZE_LIMIT`` and the factor just above it is below -1.
"""

from __future__ import annotations

import sympy as sp

from theorylab.theory import min_norm

STEP = "min_norm_gd_closed_form"


def check_min_norm_gd_closed_form(
    iterate=min_norm.ITERATE_COEFFICIENT,
    contraction=min_norm.CONTRACTION,
    step_limit=min_norm.STEP_SIZE_LIMIT,
):
    """Verify c_k = beta/s + (1 - eta s^2)^k (c_0 - beta/s) and eta < 2/s_max^2."""
    s, beta, c0, eta, k, s_max = (
        min_norm.s, min_norm.beta, min_norm.c0, min_norm.eta, min_norm.k, min_norm.s_max,
    )  # fmt: skip
    gd_step = sp.Lambda(sp.Symbol("c"), sp.Symbol("c") - eta * s * (s * sp.Symbol("c") - beta))
    assert sp.simplify(gd_step(sp.Symbol("c")) - contraction * sp.Symbol("c")
                       - eta * s * beta) == 0, (
        f"{STEP}: the GD map is not c -> (1 - eta s^2) c + eta s beta with CONTRACTION = "
        f"{contraction}"
    )  # fmt: skip
    start = sp.simplify(iterate.subs(k, 0))
    assert sp.simplify(start - c0) == 0, f"{STEP}: the closed form at k = 0 is {start}, not c_0"
    recurrence = sp.simplify(iterate.subs(k, k + 1) - gd_step(iterate))
    assert sp.simplify(sp.powsimp(sp.expand(recurrence), force=True)) == 0, (
        f"{STEP}: the closed form does not satisfy c_(k+1) = c_k - eta s (s c_k - beta) "
        f"(left {recurrence})"
    )
    fixed = sp.solve(sp.Eq(gd_step(sp.Symbol("c")), sp.Symbol("c")), sp.Symbol("c"))
    assert fixed == [beta / s], f"{STEP}: the fixed point is {fixed}, expected beta/s"
    # The limit is the fixed point exactly when the factor multiplying c_0 - beta/s decays.
    decaying = sp.simplify(iterate - beta / s - contraction**k * (c0 - beta / s))
    assert decaying == 0, f"{STEP}: c_k - beta/s is not CONTRACTION^k (c_0 - beta/s)"
    edge = sp.solve(sp.Eq(contraction.subs(s, s_max), -1), eta)
    assert len(edge) == 1 and sp.simplify(edge[0] - step_limit) == 0, (
        f"{STEP}: CONTRACTION(s_max) = -1 at eta = {edge}, STEP_SIZE_LIMIT = {step_limit}"
    )
    beyond = sp.simplify(contraction.subs({s: s_max, eta: step_limit * sp.Rational(11, 10)}))
    assert beyond < -1, f"{STEP}: just above STEP_SIZE_LIMIT the factor is {beyond}, not < -1"
    print(
        f"verified: {STEP}: c_k = {iterate} solves the GD recurrence; it converges iff "
        f"0 < eta < {step_limit}"
    )


def test_min_norm_gd_closed_form():
    check_min_norm_gd_closed_form()


def test_min_norm_gd_closed_form_detects_mutation():
    import pytest

    s, beta, c0, eta, k, s_max = (
        min_norm.s, min_norm.beta, min_norm.c0, min_norm.eta, min_norm.k, min_norm.s_max,
    )  # fmt: skip
    with pytest.raises(AssertionError, match=STEP):  # exponent k + 1: wrong start
        check_min_norm_gd_closed_form(
            iterate=beta / s + (1 - eta * s**2) ** (k + 1) * (c0 - beta / s)
        )
    with pytest.raises(AssertionError, match=STEP):  # factor 1 - 2 eta s^2: wrong recurrence
        check_min_norm_gd_closed_form(
            iterate=beta / s + (1 - 2 * eta * s**2) ** k * (c0 - beta / s)
        )
    with pytest.raises(AssertionError, match=STEP):  # threshold 1/s_max^2
        check_min_norm_gd_closed_form(step_limit=1 / s_max**2)

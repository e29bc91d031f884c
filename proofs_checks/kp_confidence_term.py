"""kp_confidence_term: the margin bound's 3 sqrt(log(2/delta)/(2n)) is the sum of two McDiarmid
deviations at delta/2 each, one of them doubled by symmetrisation.

Source: Koltchinskii & Panchenko (Ann. Statist. 2002); the assembly of Mohri, Rostamizadeh &
Talwalkar, Foundations of ML (2nd ed. 2018), Thm 3.3: with probability 1 - delta/2,
sup_f (E g - E_S g) <= 2 R_n(G) + sqrt(log(2/delta)/(2n)) (McDiarmid, bounded differences 1/n);
with probability 1 - delta/2, R_n(G) <= R_S(G) + sqrt(log(2/delta)/(2n)) (McDiarmid again).
A union bound over the two events gives 2 R_S(G) + 3 sqrt(log(2/delta)/(2n)), and Talagrand's
contraction R_S(G) <= R_S(F)/rho for the rho-ramp loss turns 2 R_S(G) into (2/rho) R_S(F).

What is checked: rademacher.CONFIDENCE_TERM and COMPLEXITY_TERM equal that assembly, and each
McDiarmid deviation t solves exp(-2 n t^2) = delta/2 (bounded differences c_i = 1/n).
"""

import pytest
import sympy as sp

from theorylab.theory import rademacher

STEP = "kp_confidence_term"


def check_kp_confidence_term(
    confidence=rademacher.CONFIDENCE_TERM, complexity=rademacher.COMPLEXITY_TERM
):
    n, delta, rho, R = rademacher.n, rademacher.delta, rademacher.rho, rademacher.R
    t = sp.Symbol("t", positive=True)
    # McDiarmid: P(Z - EZ >= t) <= exp(-2 t^2 / sum c_i^2), c_i = 1/n -> exp(-2 n t^2).
    mcdiarmid = sp.exp(-2 * t**2 / (n * (1 / n) ** 2))
    deviation = sp.solve(sp.Eq(mcdiarmid, delta / 2), t)
    if len(deviation) != 1:
        raise AssertionError(f"{STEP}: McDiarmid deviation not unique: {deviation}")
    dev = deviation[0]
    assembled = dev + 2 * dev  # first event, plus twice the second (2 R_n <= 2 R_S + 2 dev)
    gap = sp.simplify(sp.expand_log(confidence - assembled, force=True))
    if gap != 0:
        raise AssertionError(f"{STEP}: confidence term minus assembly = {gap}")
    ramp = sp.simplify(complexity - 2 * R / rho)  # 2 R_S(G), R_S(G) <= R_S(F) / rho
    if ramp != 0:
        raise AssertionError(f"{STEP}: complexity term minus 2 R_S(F)/rho = {ramp}")
    print(f"verified: {STEP}: 3 sqrt(log(2/delta)/(2n)) = McDiarmid (delta/2) + 2 x McDiarmid "
          "(delta/2); (2/rho) R_S from symmetrisation and contraction")  # fmt: skip


def test_kp_confidence_term():
    check_kp_confidence_term()


def test_kp_confidence_term_detects_mutation():
    n, delta, rho, R = rademacher.n, rademacher.delta, rademacher.rho, rademacher.R
    with pytest.raises(AssertionError, match=STEP):  # the sqrt(log(2/delta)) term dropped
        check_kp_confidence_term(confidence=sp.Integer(0))
    with pytest.raises(AssertionError, match=STEP):  # log(1/delta) in place of log(2/delta)
        check_kp_confidence_term(confidence=3 * sp.sqrt(sp.log(1 / delta) / (2 * n)))
    with pytest.raises(AssertionError, match=STEP):  # 1/rho in place of 2/rho
        check_kp_confidence_term(complexity=R / rho)

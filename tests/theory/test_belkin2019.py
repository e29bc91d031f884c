"""Belkin, Hsu, Xu (2019) weak features: the closed form and its construction."""

from __future__ import annotations

import math

import pytest

from theorylab.theory import belkin2019, wishart


def test_equals_wishart_risk_with_effective_noise():
    n, p, seen, unseen, s2 = 40, 70, 0.3, 0.7, 0.04
    got = belkin2019.full_test_error(n, p, seen, unseen, s2)
    want = wishart.risk(n, p, seen, unseen + s2) + unseen + s2
    assert got == pytest.approx(want, rel=1e-14)


def test_values_and_threshold():
    assert belkin2019.full_test_error(100, 50, 1.0, 0.0, 1.0) == pytest.approx(1 + 50 / 49)
    assert math.isinf(belkin2019.full_test_error(40, 41, 1.0, 0.0, 1.0))


@pytest.mark.parametrize("n, p", [(40, 5), (40, 30), (40, 60), (100, 400)])
def test_numbers_equal_the_printed_theorem(n, p):
    """full_test_error (built from the Wishart risk with the unseen part as noise) equals Thm 1
    as printed in the paper (the sympy PRINTED_* forms, an independent transcription)."""
    import sympy as sp

    b = belkin2019.symbolic()
    printed = b.PRINTED_UNDER if p < n else b.PRINTED_OVER
    value = printed.subs({b.n: n, b.p: p, b.seen: 0.3, b.unseen: 0.7, b.sigma2: 0.04})
    got = belkin2019.full_test_error(n, p, 0.3, 0.7, 0.04)
    assert got == pytest.approx(float(sp.N(value, 30)), rel=1e-13)

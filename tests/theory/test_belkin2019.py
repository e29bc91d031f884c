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

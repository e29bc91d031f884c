"""Tests of the example claim, written the way a user guards a claim in CI.

They use theorylab's pytest plugin (installed with theorylab): the ``theorylab_claim`` marker
and ``theorylab_report`` fixture run the claim once per session and settings; ``pytest
--theorylab-seeds 8`` runs the marked tests over seeds 0..7 and requires a pass rate.
"""

import math

import pytest

from theorylab.testing import assert_holds, assert_violated

QUICK = {"repeats": 2000}


@pytest.mark.theorylab_claim("hoeffding", **QUICK)
def test_the_bound_holds(theorylab_report):
    assert_holds(theorylab_report)


@pytest.mark.theorylab_claim("hoeffding", block=25, **QUICK)
def test_negative_control_is_violated(theorylab_report):
    # Dependent draws: the measurement still matches its exact tail, the bound does not hold.
    assert_violated(theorylab_report, "hoeffding_bound")
    assert theorylab_report.statement("tail_vs_exact").holds


def test_exact_tail_against_brute_force():
    # Independent route: enumerate all 2^n outcomes of n = 10 fair coins.
    from itertools import product

    from hoeffding_claim import exact_tail

    n, t = 10, 0.2
    far = sum(abs(sum(bits) / n - 0.5) >= t - 1e-12 for bits in product((0, 1), repeat=n))
    assert exact_tail(n, 0.5, t) == pytest.approx(far / 2**n, rel=1e-12)
    assert exact_tail(n, 0.5, t) <= 2 * math.exp(-2 * n * t * t)


def test_slack_has_not_moved(theorylab_run, theorylab_baseline):
    theorylab_baseline.check(theorylab_run("hoeffding", **QUICK))

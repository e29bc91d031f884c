"""Step: the 1-D linear-stability condition of SGD, its critical step, and the two necessary
conditions a <= 2/eta and s <= sqrt(B (n-1) / (n-B)) / eta.

Source: Wu, Ma & E, NeurIPS 2018, linear stability analysis (one-dimensional analysis).

In 1-D, e_{t+1} = (1 - eta h_B) e_t, so E[e_{t+1}^2] = E[(1 - eta h_B)^2] E[e_t^2] with
E[(1 - eta h_B)^2] = 1 - 2 eta a + eta^2 E[h_B^2] = (1 - eta a)^2 + eta^2 c_B s^2 by the sampling
identity (a = mean h_i, s^2 = var h_i). Checked: (i) ``ONE_D_FACTOR`` equals the batch average
of (1 - eta h_B)^2 for symbolic h_1..h_4 and every B; (ii) ``CRITICAL_STEP`` is the positive
root of ONE_D_FACTOR = 1 and the factor is below 1 just under it; (iii) the two necessary
conditions: each term of ONE_D_FACTOR is <= ONE_D_FACTOR, (1 - eta a)^2 <= 1 iff
0 <= eta a <= 2 (i.e. a <= ``SHARPNESS_BOUND``), and eta^2 c_B s^2 <= 1 iff
s <= ``NONUNIFORMITY_BOUND``.
"""

from __future__ import annotations

import itertools

import pytest
import sympy as sp

from theorylab.theory import wu2018

STEP = "one_d_condition"


def check_one_d_condition(
    factor=wu2018.ONE_D_FACTOR,
    critical=wu2018.CRITICAL_STEP,
    sharpness_bound=wu2018.SHARPNESS_BOUND,
    s_bound=wu2018.NONUNIFORMITY_BOUND,
):
    eta, a, s, n, B = wu2018.eta, wu2018.a, wu2018.s, wu2018.n, wu2018.B
    # (i) the factor is the batch average of (1 - eta h_B)^2
    count = 4
    h = sp.symbols(f"h0:{count}", real=True)
    mean = sum(h) / count
    var = sum(x**2 for x in h) / count - mean**2
    for batch in range(1, count + 1):
        combos = list(itertools.combinations(range(count), batch))
        average = sum((1 - eta * sum(h[i] for i in c) / batch) ** 2 for c in combos) / len(combos)
        built = factor.subs({n: count, B: batch}).subs({a: mean, s: sp.sqrt(var)})
        gap = sp.expand(average - built)
        assert gap == 0, f"{STEP}: B={batch}: batch average minus ONE_D_FACTOR = {gap}"
    # (ii) the critical step solves factor = 1 (its other root is eta = 0)
    at_critical = sp.simplify(factor.subs(eta, critical) - 1)
    assert at_critical == 0, f"{STEP}: ONE_D_FACTOR - 1 at CRITICAL_STEP = {at_critical}"
    roots = sp.solve(sp.Eq(factor, 1), eta)
    assert any(sp.simplify(r - critical) == 0 for r in roots), f"{STEP}: roots {roots}"
    sample = {a: 3, s: 2, n: 16, B: 4}
    below = factor.subs(eta, critical * sp.Rational(9, 10)).subs(sample)
    assert below < 1, f"{STEP}: factor {below} >= 1 just below the critical step"
    # (iii) necessary conditions: each term bounds the factor from below ...
    sharp_term = (1 - eta * a) ** 2
    noise_term = sp.expand(factor - sharp_term)
    assert sp.simplify(noise_term - eta**2 * wu2018.BATCH_FACTOR * s**2) == 0, (
        f"{STEP}: ONE_D_FACTOR is not (1 - eta a)^2 + eta^2 c_B s^2"
    )
    # ... (1 - eta a)^2 = 1 exactly at a = sharpness_bound, below 1 between 0 and it ...
    assert sp.simplify(sharp_term.subs(a, sharpness_bound) - 1) == 0, (
        f"{STEP}: (1 - eta a)^2 != 1 at a = SHARPNESS_BOUND"
    )
    assert sharp_term.subs(a, sharpness_bound / 2) < 1, f"{STEP}: (1 - eta a)^2 >= 1 inside"
    # ... and eta^2 c_B s^2 = 1 exactly at s = s_bound (increasing in s).
    at_bound = sp.simplify((eta**2 * wu2018.BATCH_FACTOR * s**2).subs(s, s_bound) - 1)
    assert at_bound == 0, f"{STEP}: eta^2 c_B s^2 - 1 at s = NONUNIFORMITY_BOUND = {at_bound}"
    print(f"verified: {STEP}: (1-eta a)^2 + eta^2 c_B s^2 <= 1, critical step 2a/(a^2 + c_B s^2), "
          "a <= 2/eta, s <= sqrt(B(n-1)/(n-B))/eta")  # fmt: skip


def test_one_d_condition():
    check_one_d_condition()


def test_one_d_condition_detects_mutation():
    w = wu2018
    with pytest.raises(AssertionError, match=STEP):
        check_one_d_condition(s_bound=sp.sqrt(w.B) / w.eta)  # the B << n approximation
    with pytest.raises(AssertionError, match=STEP):
        check_one_d_condition(critical=2 / w.a)  # the GD critical step
    with pytest.raises(AssertionError, match=STEP):
        check_one_d_condition(factor=(1 - w.eta * w.a) ** 2 + w.eta**2 * w.s**2 / w.B)

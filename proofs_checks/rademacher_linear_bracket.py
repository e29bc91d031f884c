"""rademacher_linear_bracket: E||sum sigma_i x_i||^2 = sum ||x_i||^2, and both ends of the bracket
(1/sqrt(2)) sqrt(sum ||x_i||^2) <= E||sum sigma_i x_i|| <= sqrt(sum ||x_i||^2) are attained.

Source: the norm-bounded linear class of Bartlett & Mendelson (JMLR 2002); Jensen for the upper
end; Khintchine-Kahane's best constant 1/sqrt(2) (Szarek 1976; Latala & Oleszkiewicz 1994) for
the lower end. The expressions checked are LINEAR_UPPER, LINEAR_LOWER and KHINTCHINE of
theorylab/theory/rademacher.py, which the generalization_bounds claim's rademacher_linear
statement uses.

What is checked, by exact enumeration of the sign vectors with symbolic points:
- the second moment: for three symbolic points in R^2, the average of ||sum sigma_i x_i||^2 over
  the 8 sign vectors expands to sum ||x_i||^2 (the cross terms cancel: E sigma_i sigma_j = 0);
- the upper end is attained by one point (E||sigma x|| = ||x||);
- the lower end is attained by two equal points x, x: E||sigma_1 x + sigma_2 x|| = ||x||, while
  sqrt(sum ||x_i||^2) = sqrt(2) ||x||, so no constant above 1/sqrt(2) is valid.
"""

import itertools

import pytest
import sympy as sp

from theorylab.theory import rademacher

STEP = "rademacher_linear_bracket"


def _mean_over_signs(points, fn):
    total = 0
    signs = list(itertools.product((-1, 1), repeat=len(points)))
    for sigma in signs:
        s = sp.Matrix.zeros(len(points[0]), 1)
        for sign, x in zip(sigma, points, strict=True):
            s += sign * x
        total += fn(s)
    return total / len(signs)


def check_rademacher_linear_bracket(
    upper=rademacher.LINEAR_UPPER, lower=rademacher.LINEAR_LOWER, khintchine=rademacher.KHINTCHINE
):
    B, S, n = rademacher.B, rademacher.S, rademacher.n
    coords = sp.symbols("a1 a2 b1 b2 c1 c2", real=True)
    points = [sp.Matrix(coords[2 * i : 2 * i + 2]) for i in range(3)]
    second = _mean_over_signs(points, lambda s: (s.T * s)[0])
    gap = sp.expand(second - sum((x.T * x)[0] for x in points))
    if gap != 0:
        raise AssertionError(f"{STEP}: E||sum sigma x||^2 - sum ||x||^2 = {gap}")

    r = sp.Symbol("r", positive=True)  # ||x||
    x = sp.Matrix([r, 0])
    one_point = _mean_over_signs([x], lambda s: sp.sqrt((s.T * s)[0]))
    if sp.simplify(upper.subs({B: 1, S: r**2, n: 1}) - one_point / 1) != 0:
        raise AssertionError(f"{STEP}: upper end {upper} not attained by one point")

    two_equal = _mean_over_signs([x, x], lambda s: sp.sqrt((s.T * s)[0]))
    exact = two_equal / 2  # R_S = (B/n) E||s|| with B = 1, n = 2
    if sp.simplify(lower.subs({B: 1, S: 2 * r**2, n: 2}) - exact) != 0:
        raise AssertionError(f"{STEP}: lower end {lower} is not R_S = {exact} for two equal points")
    if sp.simplify(khintchine - two_equal / sp.sqrt(2 * r**2)) != 0:
        raise AssertionError(f"{STEP}: Khintchine constant {khintchine} is not the attained ratio")
    print(f"verified: {STEP}: second moment identity; upper end attained at n = 1; lower end "
          "(constant 1/sqrt(2)) attained by two equal points")  # fmt: skip


def test_rademacher_linear_bracket():
    check_rademacher_linear_bracket()


def test_rademacher_linear_bracket_detects_mutation():
    B, S, n = rademacher.B, rademacher.S, rademacher.n
    with pytest.raises(AssertionError, match=STEP):  # Khintchine constant 1 instead of 1/sqrt(2)
        check_rademacher_linear_bracket(lower=B * sp.sqrt(S) / n, khintchine=sp.Integer(1))
    with pytest.raises(AssertionError, match=STEP):  # Jensen end off by sqrt(2)
        check_rademacher_linear_bracket(upper=sp.sqrt(2) * B * sp.sqrt(S) / n)

"""Step: the rank of the Soudry-Carmon output map is min(N, d0 d1), not min(N, P).

Source: Soudry & Carmon, arXiv:1605.08361 (2016), model of the one-hidden-layer theorem;
positive homogeneity of the leaky ReLU.

Claim: for f(x_n) = sum_r z_r eps_nr sigma(w_r . x_n) with P = d1 (d0 + 1) parameters, each
unit's rescaling (w_r, z_r) -> (c w_r, z_r / c), c > 0, leaves every output unchanged, so the
Jacobian J = d(f(x_1), ..., f(x_N)) / d theta (N x P) has the d1 null directions
(w_r, -z_r) and rank <= d0 d1 (``soudry2016.EFFECTIVE_DIMENSION``); for generic data, noise and
weights the rank equals min(N, d0 d1). Consequences used by the claim: with d0 d1 < N the
image of the output map has measure zero, so random continuous labels are almost surely not
interpolated (the ``effective_dimension_floor`` statement); the theorem's regime N <= d0 d1
begins exactly where the dimension count allows interpolation.

What is checked, exactly over random rationals (seeded): for every d0 <= 3, d1 <= 3 and
N <= d0 d1 + 2, the Jacobian in the activation region of a random point (slopes from the
actual signs of w_r . x_n) has (1) the rescaling directions in its null space and (2) rank
min(N, EFFECTIVE_DIMENSION).
"""

from __future__ import annotations

import random

import sympy as sp

from theorylab.theory import soudry2016

STEP = "output_rank"
LEAK = sp.Rational(1, 10)


def _random_rational(rng: random.Random) -> sp.Rational:
    while True:
        value = sp.Rational(rng.randint(-40, 40), rng.randint(1, 13))
        if value != 0:
            return value


def check_output_rank(effective_dimension=soudry2016.EFFECTIVE_DIMENSION):
    """Verify the rescaling null directions and rank J = min(N, effective_dimension)."""
    rng = random.Random(1605)
    checked = 0
    for d0 in range(1, 4):
        for d1 in range(1, 4):
            W = sp.Matrix(d1, d0, lambda r, j: sp.Symbol(f"w_{r}{j}"))
            z = sp.Matrix(sp.symbols(f"z0:{d1}"))
            theta = [W[r, j] for r in range(d1) for j in range(d0)] + list(z)
            point = {t: _random_rational(rng) for t in theta}
            for N in range(1, d0 * d1 + 3):
                rows = []
                for _ in range(N):
                    x = sp.Matrix([_random_rational(rng) for _ in range(d0)])
                    eps = [_random_rational(rng) for _ in range(d1)]
                    # the region of this point: slope 1 where w_r . x > 0, LEAK otherwise
                    slopes = [1 if (W[r, :] * x)[0, 0].subs(point) > 0 else LEAK for r in range(d1)]
                    f = sum(z[r] * eps[r] * slopes[r] * (W[r, :] * x)[0, 0] for r in range(d1))
                    rows.append([sp.diff(f, t).subs(point) for t in theta])
                J = sp.Matrix(rows)
                for r in range(d1):  # rescaling direction of unit r: (w_r, -z_r)
                    direction = sp.zeros(len(theta), 1)
                    for j in range(d0):
                        direction[r * d0 + j] = point[W[r, j]]
                    direction[d1 * d0 + r] = -point[z[r]]
                    assert J * direction == sp.zeros(N, 1), (
                        f"{STEP}: unit {r}'s rescaling is not a null direction (d0={d0}, d1={d1})"
                    )
                expected = min(N, int(effective_dimension.subs({soudry2016.d0: d0,
                                                                soudry2016.d1: d1})))  # fmt: skip
                assert J.rank() == expected, (
                    f"{STEP}: N={N}, d0={d0}, d1={d1}: rank J = {J.rank()}, predicted "
                    f"min(N, {effective_dimension}) = {expected}"
                )
                checked += 1
    print(
        f"verified: {STEP}: rank d f / d theta = min(N, {effective_dimension}) on {checked} "
        "random rational points; the d1 rescalings span null directions"
    )


def test_output_rank():
    check_output_rank()


def test_output_rank_detects_mutation():
    import pytest

    d0, d1 = soudry2016.d0, soudry2016.d1
    with pytest.raises(AssertionError, match=STEP):  # the naive count P = d1 (d0 + 1)
        check_output_rank(effective_dimension=d1 * (d0 + 1))

"""Step: the sampling identity E[H_B^2] = H^2 + c_B Sigma, c_B = (n - B) / (B (n - 1)).

Source: Wu, Ma & E, NeurIPS 2018, linear stability analysis (the second moment of the batch
Hessian under uniform sampling of B of n samples without replacement).

For symbolic symmetric 2 x 2 matrices H_1..H_n (three free symbols each), the average of
H_B^2 = ((1/B) sum_{i in batch} H_i)^2 over every one of the C(n, B) batches is expanded and
compared entry by entry with H^2 + c_B Sigma, H = mean H_i, Sigma = mean H_i^2 - H^2, for
n = 2, 3, 4 and every B = 1..n. c_B comes from ``wu2018.BATCH_FACTOR``, the expression the
claim lambdifies.
"""

from __future__ import annotations

import itertools

import pytest
import sympy as sp

from theorylab.theory import wu2018

STEP = "sampling_identity"


def symbolic_hessians(count: int) -> list[sp.Matrix]:
    """count symmetric 2 x 2 matrices of free symbols (non-commuting products in general)."""
    out = []
    for i in range(count):
        p, q, r = sp.symbols(f"p{i} q{i} r{i}", real=True)
        out.append(sp.Matrix([[p, q], [q, r]]))
    return out


def check_sampling_identity(batch_factor=wu2018.BATCH_FACTOR, sizes=(2, 3, 4)):
    """E over all batches of H_B^2 equals H^2 + batch_factor(n, B) Sigma identically."""
    for count in sizes:
        Hs = symbolic_hessians(count)
        H = sum(Hs, sp.zeros(2)) / count
        sigma = sum((h * h for h in Hs), sp.zeros(2)) / count - H * H
        for batch in range(1, count + 1):
            combos = list(itertools.combinations(range(count), batch))
            mean_square = sp.zeros(2)
            for c in combos:
                HB = sum((Hs[i] for i in c), sp.zeros(2)) / batch
                mean_square += HB * HB / len(combos)
            c_b = batch_factor.subs({wu2018.n: count, wu2018.B: batch})
            gap = (mean_square - H * H - c_b * sigma).applyfunc(sp.expand)
            assert gap == sp.zeros(2), (
                f"{STEP}: n={count}, B={batch}: E[H_B^2] - (H^2 + c_B Sigma) = {gap}"
            )
    print(f"verified: {STEP}: E[H_B^2] = H^2 + (n-B)/(B(n-1)) Sigma for n in {sizes}, every B")


def test_sampling_identity():
    check_sampling_identity()


def test_sampling_identity_detects_mutation():
    with pytest.raises(AssertionError, match=STEP):
        check_sampling_identity(batch_factor=1 / wu2018.B)  # the with-replacement-like 1/B

"""Step: Soudry & Carmon's mechanism for "no bad differentiable local minima".

Source: Soudry & Carmon, arXiv:1605.08361 (2016), one hidden layer with leaky-ReLU units and
a fixed dropout-like noise realisation eps; the argument behind their Thm 1 (issue 6, step 8).

Claim:
1. Inside one activation region (slopes s_r in {1, leak} fixed) the output
   f(x) = sum_r z_r eps_r s_r (w_r . x) is *linear* in the d0 d1 entries of W:
   f(x) = (a (x) x) . vec(W) with a_r = z_r eps_r s_r (the Khatri-Rao row), and the gradient of
   f in vec(W) is that row; so the gradient of 1/2 sum_n (f(x_n) - y_n)^2 in W is G^T (f - y)
   with G the N x d0 d1 design of rows a_n (x) x_n.
2. For generic data, noise and weights, rank G = min(N, d0 d1); hence rank G = N exactly when
   N <= d0 d1 (``soudry2016.REGIME``), and then dL/dW = 0 forces f = y.

What is checked:
1. symbolically for d0 = 2, d1 = 3 (every symbol free): f - design_row . vec(W) expands to 0,
   the gradient of f in vec(W) equals design_row, and for N = 2 the gradient of the sum loss
   equals G^T (f - y);
2. exact rank over random rationals (seeded), for every d0 <= 3, d1 <= 4, N <= d0 d1 + 2: the
   design has rank N if and only if REGIME holds at (N, d0, d1).
"""

from __future__ import annotations

import random

import sympy as sp

from theorylab.theory import soudry2016

STEP = "khatri_rao_mechanism"
LEAK = sp.Rational(1, 10)
GRID = [(d0, d1) for d0 in range(1, 4) for d1 in range(1, 5)]


def _random_rational(rng: random.Random) -> sp.Rational:
    while True:
        value = sp.Rational(rng.randint(-60, 60), rng.randint(1, 17))
        if value != 0:
            return value


def check_khatri_rao_mechanism(
    region_output=soudry2016.region_output,
    design_row=soudry2016.design_row,
    regime=soudry2016.REGIME,
):
    """Verify linearity in the region, the gradient identity and the exact-rank threshold."""
    # 1. Linearity and the gradient, every quantity a free symbol.
    d0, d1 = 2, 3
    W = sp.Matrix(d1, d0, lambda r, j: sp.Symbol(f"w_{r}{j}"))
    z = sp.Matrix(sp.symbols(f"z0:{d1}"))
    eps = sp.Matrix(sp.symbols(f"eps0:{d1}"))
    slopes = sp.Matrix(sp.symbols(f"s0:{d1}"))
    vec_w = sp.Matrix([W[r, j] for r in range(d1) for j in range(d0)])
    xs = [sp.Matrix(sp.symbols(f"x{n}_0:{d0}")) for n in range(2)]
    ys = sp.symbols("y0:2")
    for x in xs:
        f = region_output(W, z, eps, slopes, x)
        row = design_row(z, eps, slopes, x)
        assert sp.expand(f - (row * vec_w)[0, 0]) == 0, (
            f"{STEP}: f(x) is not design_row . vec(W) in a fixed region"
        )
        gradient = sp.Matrix([[sp.diff(f, w) for w in vec_w]])
        assert sp.expand(gradient - row) == sp.zeros(1, d0 * d1), (
            f"{STEP}: d f / d vec(W) differs from the design row"
        )
    G = sp.Matrix.vstack(*(design_row(z, eps, slopes, x) for x in xs))
    outputs = [region_output(W, z, eps, slopes, x) for x in xs]
    loss = sum((f - y) ** 2 for f, y in zip(outputs, ys, strict=True)) / 2
    grad_loss = sp.Matrix([sp.diff(loss, w) for w in vec_w])
    residual = sp.Matrix([f - y for f, y in zip(outputs, ys, strict=True)])
    assert sp.expand(grad_loss - G.T * residual) == sp.zeros(d0 * d1, 1), (
        f"{STEP}: grad_W of 1/2 ||f - y||^2 is not G^T (f - y)"
    )

    # 2. Exact rank of the design for random rational data, noise, weights and regions.
    rng = random.Random(20160527)
    checked = 0
    for d0, d1 in GRID:
        for N in range(1, d0 * d1 + 3):
            z = sp.Matrix([_random_rational(rng) for _ in range(d1)])
            rows = []
            for _ in range(N):
                x = sp.Matrix([_random_rational(rng) for _ in range(d0)])
                eps = sp.Matrix([_random_rational(rng) for _ in range(d1)])
                slopes = sp.Matrix([rng.choice([sp.Integer(1), LEAK]) for _ in range(d1)])
                rows.append(design_row(z, eps, slopes, x))
            rank = sp.Matrix.vstack(*rows).rank()
            predicted = bool(regime.subs({soudry2016.N: N, soudry2016.d0: d0, soudry2016.d1: d1}))
            assert (rank == N) == predicted, (
                f"{STEP}: N={N}, d0={d0}, d1={d1}: rank G = {rank}, but the regime "
                f"{regime} says {'full' if predicted else 'deficient'} row rank"
            )
            checked += 1
    print(
        f"verified: {STEP}: f = (a (x) x).vec(W) in a region, grad_W L = G^T (f-y); "
        f"rank G = N iff {regime} on {checked} random rational designs"
    )


def test_khatri_rao_mechanism():
    check_khatri_rao_mechanism()


def test_khatri_rao_mechanism_detects_mutation():
    import pytest

    def row_without_noise(z, eps, slopes, x):  # drops eps from a_r
        return soudry2016.design_row(z, sp.ones(len(z), 1), slopes, x)

    with pytest.raises(AssertionError, match=STEP):
        check_khatri_rao_mechanism(design_row=row_without_noise)
    N, d0, d1 = soudry2016.N, soudry2016.d0, soudry2016.d1
    with pytest.raises(AssertionError, match=STEP):  # threshold d0 + d1 instead of d0 d1
        check_khatri_rao_mechanism(regime=sp.Le(N, d0 + d1))

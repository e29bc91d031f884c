"""Step: the Marchenko-Pastur Stieltjes transform and its analytic derivative.

Source: Hastie, Montanari, Rosset, Tibshirani 2019 (arXiv:1903.08560), Sec. 5 (isotropic ridge:
m(z) is the Stieltjes transform of the Marchenko-Pastur law of X^T X / n, ratio gamma).

m(z) = integral dF(s) / (s - z) solves gamma z m^2 - (1 - gamma - z) m + 1 = 0; the root with
m -> 0 like -1/z as z -> -infinity (total mass one) is
m(z) = (1 - gamma - z - sqrt((1 - gamma - z)^2 - 4 gamma z)) / (2 gamma z).
For gamma > 1 the law has an atom 1 - 1/gamma at 0, so (-z) m(z) -> 1 - 1/gamma as z -> 0-:
m' has a pole of order 2 there and a finite difference at small lambda is wrong.

What is checked: ``hastie2019.STIELTJES`` solves ``MP_EQUATION``; it equals the rationalised form
used for numbers; it has mass one at infinity; its atom at 0 is 1 - 1/gamma for gamma = 2 and 0
for gamma = 1/2; its derivative equals the implicit derivative of the quadratic, and the form
the numbers use, m' = m (1 + gamma m) / sqrt((1 - gamma - z)^2 - 4 gamma z)
(``STIELTJES_DERIVATIVE_FROM_ROOT``: at this root 1 - gamma - z - 2 gamma z m is the square
root, so the implicit derivative's denominator has no cancellation).
"""

from __future__ import annotations

import pytest
import sympy as sp

from theorylab.theory import hastie2019

STEP = "stieltjes_transform"


def check_stieltjes_transform(
    stieltjes=hastie2019.STIELTJES,
    rationalised=hastie2019.STIELTJES_RATIONALISED,
    derivative_from_root=hastie2019.STIELTJES_DERIVATIVE_FROM_ROOT,
):
    """Verify the MP Stieltjes transform, its normalisation, its atom and its derivative."""
    g, z, m = hastie2019.gamma, hastie2019.z, hastie2019.m
    equation = hastie2019.MP_EQUATION
    residual = sp.simplify(equation.subs(m, stieltjes))
    assert residual == 0, f"{STEP}: m(z) leaves {residual} in the Marchenko-Pastur equation"
    assert sp.simplify(stieltjes - rationalised) == 0, f"{STEP}: rationalised form differs"
    for value in (sp.Rational(1, 2), 2):
        mass = sp.limit(-z * stieltjes.subs(g, value), z, -sp.oo)
        assert mass == 1, f"{STEP}: -z m(z) -> {mass} at z -> -oo (gamma = {value}), expected 1"
        atom = sp.limit(-z * stieltjes.subs(g, value), z, 0, "-")
        expected = max(0, 1 - 1 / sp.Integer(1) / value)
        assert sp.simplify(atom - expected) == 0, (
            f"{STEP}: atom at 0 is {atom} for gamma = {value}, expected {expected}"
        )
    implicit = -sp.diff(equation, z) / sp.diff(equation, m)
    gap = sp.simplify(implicit.subs(m, stieltjes) - sp.diff(stieltjes, z))
    assert gap == 0, f"{STEP}: m'(z) differs from the implicit derivative by {gap}"
    gap = sp.simplify(sp.diff(stieltjes, z) - derivative_from_root)
    assert gap == 0, f"{STEP}: m'(z) differs from m (1 + gamma m) / S by {gap}"
    print(f"verified: {STEP}: m solves the MP equation, mass 1, atom 1-1/gamma, m' implicit")


def test_stieltjes_transform():
    check_stieltjes_transform()


def test_stieltjes_transform_detects_mutation():
    g, z = hastie2019.gamma, hastie2019.z
    a = 1 - g - z
    wrong = (a + sp.sqrt(a**2 - 4 * g * z)) / (2 * g * z)  # the other root
    with pytest.raises(AssertionError, match=STEP):
        check_stieltjes_transform(stieltjes=wrong, rationalised=wrong)
    m = hastie2019.STIELTJES
    root = sp.sqrt((1 - g - z) ** 2 - 4 * g * z)
    with pytest.raises(AssertionError, match="m \\(1 \\+ gamma m\\)"):
        check_stieltjes_transform(derivative_from_root=m * (1 - g * m) / root)

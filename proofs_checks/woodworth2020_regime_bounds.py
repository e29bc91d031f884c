"""Step: explicit-constant bounds for the kernel (large alpha) and rich (small alpha) ends of the
diagonal net's path, from elementary bounds on q(z) = 2 - sqrt(4 + z^2) + z asinh(z/2).

Source: derived here for the implicit_bias claim from Woodworth et al. (COLT 2020), Thm 1's
Q_alpha (their Thm 2 states the two limits with other constants); ``theorylab.theory.
woodworth2020``.

Derivation.
(a) q'' = 1/sqrt(4 + z^2) <= 1/2 with q(0) = q'(0) = 0 gives q <= z^2/4 (KERNEL_UPPER).
(b) With w = z^2: where 1/2 - w/16 > 0, q''^2 >= (1/2 - w/16)^2 iff 1 - (4 + w)(1/2 - w/16)^2
    = w^2 (12 - w)/256 >= 0, true for w <= 8; elsewhere the right side is <= 0 < q''. Hence
    q >= z^2/4 - z^4/192 (KERNEL_LOWER).
(c) For t > 0: d/dt [q(t) - (t log t - t)] = asinh(t/2) - log t >= 0 because
    (t/2 + sqrt(1 + t^2/4)) >= t, i.e. (1 + t^2/4) - (t/2)^2 = 1 >= 0; the difference -> 0 as
    t -> 0+: q >= t log t - t (RICH_LOWER).
(d) RICH_UPPER - q = t [log(1 + t) - asinh(t/2)] + [sqrt(4 + t^2) - t], both brackets >= 0:
    (1 + t/2)^2 - (1 + t^2/4) = t >= 0 and (4 + t^2) - t^2 = 4 >= 0.
(e) Kernel end: Q_alpha(b_a) <= Q_alpha(b_2) <= ||b_2||^2/(4 alpha^2) by (a), and
    Q_alpha(b_a) >= ||b_a||^2/(4 alpha^2) - ||b_a||_4^4/(192 alpha^6) by (b); with
    ||b_a||^2 - ||b_2||^2 = ||b_a - b_2||^2 (b_2 in row(X), b_a - b_2 in null(X)):
    ||b_a - b_2||^2 <= ||b_a||_4^4 / (48 alpha^4) (KERNEL_DISTANCE_SQ_BOUND).
(f) Rich end, L = log(1/alpha^2): alpha^2 RICH_UPPER(t/alpha^2) = t log(alpha^2 + t) + L t - t
    + 2 alpha^2 and alpha^2 RICH_LOWER(t/alpha^2) = t log t + L t - t; summing over coordinates
    and Q_alpha(b_a) <= Q_alpha(b_1): (L - 1)(||b_a||_1 - ||b_1||_1) <= S_1 - S_a + 2 d alpha^2
    (L1_EXCESS_BOUND).

What is checked: each algebraic identity above with sympy (second derivatives, the factored
polynomial in (b), the derivative and limit in (c), the bracket identities in (d), the
per-coordinate scalings and the rearrangements in (e) and (f)), plus a grid of 2001 points on
[-50, 50] where every bound must hold to 1e-12.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from theorylab.theory import woodworth2020 as w

STEP = "woodworth2020_regime_bounds"


def check_woodworth2020_regime_bounds(
    q=w.Q,
    kernel_upper=w.KERNEL_UPPER,
    kernel_lower=w.KERNEL_LOWER,
    rich_lower=w.RICH_LOWER,
    rich_upper=w.RICH_UPPER,
    kernel_bound=w.KERNEL_DISTANCE_SQ_BOUND,
    l1_bound=w.L1_EXCESS_BOUND,
):
    """Verify (a)-(f) of the module docstring."""
    z, t, alpha, d = w.z, w.t_abs, w.alpha, w.d_sym
    q2 = sp.diff(q, z, 2)
    # (a) and (b): matching value and slope at 0, then the second derivatives.
    for name, bound in (("KERNEL_UPPER", kernel_upper), ("KERNEL_LOWER", kernel_lower)):
        for order in (0, 1):
            gap = sp.simplify(sp.diff(q - bound, z, order).subs(z, 0))
            assert gap == 0, f"{STEP}: q - {name} has derivative {order} = {gap} at 0"
    assert sp.simplify(sp.diff(kernel_upper, z, 2) - sp.Rational(1, 2)) == 0, (
        f"{STEP}: KERNEL_UPPER'' is not 1/2"
    )
    assert sp.simplify(1 / q2**2 - 4 - z**2) == 0, f"{STEP}: q'' is not 1/sqrt(4 + z^2)"
    wv = sp.Symbol("w", nonnegative=True)
    lower2 = sp.expand(sp.diff(kernel_lower, z, 2)).subs(z, sp.sqrt(wv))
    positive_part = sp.solve(sp.Gt(lower2, 0), wv)
    poly = sp.factor(sp.expand(1 - (4 + wv) * lower2**2))
    negative = sp.solveset(sp.Lt(poly, 0), wv, sp.Interval(0, 8))
    assert negative == sp.S.EmptySet, (
        f"{STEP}: q'' >= KERNEL_LOWER'' fails where KERNEL_LOWER'' > 0 ({positive_part}): "
        f"1 - (4 + w) lower''^2 = {poly} < 0 on {negative}"
    )
    tail = sp.solveset(sp.Gt(lower2, 0), wv, sp.Interval(8, sp.oo))
    assert tail == sp.S.EmptySet, f"{STEP}: KERNEL_LOWER'' > 0 beyond w = 8 ({tail})"
    # (c) rich lower bound.
    qt = q.subs(z, t)
    slope = sp.simplify(sp.diff(qt - rich_lower, t))
    assert sp.simplify(slope - (sp.asinh(t / 2) - sp.log(t))) == 0, (
        f"{STEP}: d/dt (q - RICH_LOWER) = {slope}, expected asinh(t/2) - log t"
    )
    assert sp.simplify((1 + t**2 / 4) - (t / 2) ** 2) == 1, f"{STEP}: asinh(t/2) >= log t"
    start = sp.limit(qt - rich_lower, t, 0, "+")
    assert start == 0, f"{STEP}: q - RICH_LOWER -> {start} at 0+, expected 0"
    # (d) rich upper bound as two non-negative brackets.
    split = rich_upper - qt - t * (sp.log(1 + t) - sp.asinh(t / 2)) - (sp.sqrt(4 + t**2) - t)
    assert sp.simplify(split) == 0, f"{STEP}: RICH_UPPER - q is not the two brackets ({split})"
    assert sp.expand((1 + t / 2) ** 2 - (1 + t**2 / 4)) == t, f"{STEP}: log(1+t) >= asinh(t/2)"
    # Grid sanity check of all four bounds.
    grid = np.linspace(-50, 50, 2001)
    qn = sp.lambdify(z, q, modules="numpy")(grid)
    ku = sp.lambdify(z, kernel_upper, modules="numpy")(grid)
    kl = sp.lambdify(z, kernel_lower, modules="numpy")(grid)
    ta = np.abs(grid[grid != 0])
    rl = sp.lambdify(t, rich_lower, modules="numpy")(ta)
    ru = sp.lambdify(t, rich_upper, modules="numpy")(ta)
    qa = qn[grid != 0]
    on_grid = {
        "KERNEL_UPPER": ku >= qn - 1e-12, "KERNEL_LOWER": kl <= qn + 1e-12,
        "RICH_LOWER": rl <= qa + 1e-12, "RICH_UPPER": ru >= qa - 1e-12,
    }  # fmt: skip
    for name, ok in on_grid.items():
        assert ok.all(), f"{STEP}: {name} fails on the grid ({int((~ok).sum())} points)"
    # (e) kernel end: scale by alpha, then rearrange.
    b = sp.Symbol("b", real=True)
    upper_scaled = sp.simplify(alpha**2 * kernel_upper.subs(z, b / alpha**2))
    assert sp.simplify(upper_scaled - b**2 / (4 * alpha**2)) == 0, f"{STEP}: upper scaling"
    lower_scaled = sp.expand(alpha**2 * kernel_lower.subs(z, b / alpha**2))
    quartic = -lower_scaled.coeff(b, 4)  # ||b||_4^4 coefficient of the deficit
    assert sp.simplify(lower_scaled - (b**2 / (4 * alpha**2) - quartic * b**4)) == 0, (
        f"{STEP}: KERNEL_LOWER scaled is not quadratic minus quartic"
    )
    b4sq = w.beta_4_sq
    derived = sp.simplify(4 * alpha**2 * quartic * b4sq**2)  # (||b_a||^2 - ||b_2||^2) bound
    assert sp.simplify(derived - kernel_bound) == 0, (
        f"{STEP}: the kernel rearrangement gives {derived}, KERNEL_DISTANCE_SQ_BOUND = "
        f"{kernel_bound}"
    )
    # (f) rich end.
    c = sp.Symbol("c", positive=True)
    L = sp.log(1 / alpha**2)
    up = sp.expand_log(alpha**2 * rich_upper.subs(t, c / alpha**2), force=True)
    lo = sp.expand_log(alpha**2 * rich_lower.subs(t, c / alpha**2), force=True)
    up_expected = c * sp.log(alpha**2 + c) + L * c - c + 2 * alpha**2
    lo_expected = c * sp.log(c) + L * c - c
    assert sp.simplify(sp.expand_log(up - up_expected, force=True)) == 0, (
        f"{STEP}: RICH_UPPER scaling"
    )
    assert sp.simplify(sp.expand_log(lo - lo_expected, force=True)) == 0, (
        f"{STEP}: RICH_LOWER scaling"
    )
    n_l1, n_a = sp.symbols("N_1 N_alpha", positive=True)
    # Q(b_a) >= L N_a + S_a - N_a and Q(b_1) <= L N_1 + S_1 - N_1 + 2 d alpha^2: solve for
    # the excess at equality of the two sides.
    excess = sp.Symbol("E", real=True)
    equality = sp.Eq(L * (n_l1 + excess) + w.S_alpha - (n_l1 + excess),
                     L * n_l1 + w.S_l1 - n_l1 + 2 * d * alpha**2)  # fmt: skip
    solved = sp.solve(equality, excess)
    assert len(solved) == 1 and sp.simplify(sp.expand_log(solved[0] - l1_bound, force=True)) == 0, (
        f"{STEP}: the rich rearrangement gives {solved}, L1_EXCESS_BOUND = {l1_bound}"
    )
    print(
        f"verified: {STEP}: z^2/4 - z^4/192 <= q <= z^2/4, |z|log|z| - |z| <= q <= "
        f"|z|log(1+|z|) - |z| + 2; kernel ||b_a - b_2||^2 <= {kernel_bound}; rich excess <= "
        f"{l1_bound}"
    )


def test_woodworth2020_regime_bounds():
    check_woodworth2020_regime_bounds()


def test_woodworth2020_regime_bounds_detects_mutation():
    import pytest

    z, t, alpha = w.z, w.t_abs, w.alpha
    with pytest.raises(AssertionError, match=STEP):  # 1/384: a lower bound above q near 0
        check_woodworth2020_regime_bounds(kernel_lower=z**2 / 4 - z**4 / 384)
    with pytest.raises(AssertionError, match=STEP):  # the +2 dropped from RICH_UPPER
        check_woodworth2020_regime_bounds(rich_upper=t * sp.log(1 + t) - t)
    with pytest.raises(AssertionError, match=STEP):  # 24 instead of 48 in the kernel bound
        check_woodworth2020_regime_bounds(kernel_bound=w.beta_4_sq**2 / (24 * alpha**4))
    with pytest.raises(AssertionError, match=STEP):  # L instead of L - 1 in the rich bound
        check_woodworth2020_regime_bounds(
            l1_bound=(w.S_l1 - w.S_alpha + 2 * w.d_sym * alpha**2) / sp.log(1 / alpha**2)
        )

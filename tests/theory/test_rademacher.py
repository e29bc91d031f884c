"""rademacher: the linear class's bracket against exact enumeration over sign vectors, the
supremum against a brute-force search over directions, the two-layer bound against a grid
search over single ReLU units, the margin bound's coverage for a fixed classifier by
Monte-Carlo, Sauer's lemma against the binomial sum, and the grid."""

import itertools
import math

import numpy as np
import pytest
import torch

from theorylab.theory import rademacher


def _points(n, d, seed):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("n, d, seed", [(1, 3, 0), (5, 2, 1), (9, 4, 2), (12, 30, 3)])
def test_exact_rademacher_lies_in_the_bracket(n, d, seed):
    X = _points(n, d, seed)
    B = 1.7
    exact = rademacher.linear_rademacher_exact(X, B)
    lo, hi = rademacher.linear_bracket(float((X**2).sum()), n, B)
    print(f"n={n}: {lo:.5f} <= {exact:.5f} <= {hi:.5f}")
    assert lo <= exact <= hi * (1 + 1e-12)


def test_enumeration_matches_a_python_loop_and_the_second_moment_identity():
    X = _points(6, 3, 4)
    total, total_sq = 0.0, 0.0
    for sigma in itertools.product((-1.0, 1.0), repeat=6):
        s = sum(sig * X[i] for i, sig in enumerate(sigma))
        total += float(s.norm())
        total_sq += float(s @ s)
    assert rademacher.linear_rademacher_exact(X) == pytest.approx(total / 64 / 6, rel=1e-13)
    assert total_sq / 64 == pytest.approx(float((X**2).sum()), rel=1e-12)


def test_both_ends_of_the_bracket_are_attained():
    x = torch.tensor([[3.0, 4.0]], dtype=torch.float64)
    lo, hi = rademacher.linear_bracket(25.0, 1)
    assert rademacher.linear_rademacher_exact(x) == pytest.approx(hi, rel=1e-15)
    two = torch.cat([x, x])  # E||sigma_1 x + sigma_2 x|| = ||x||: Khintchine's extremal case
    lo, hi = rademacher.linear_bracket(50.0, 2)
    assert rademacher.linear_rademacher_exact(two) == pytest.approx(lo, rel=1e-15)


def test_supremum_over_the_ball_is_the_norm_of_the_rademacher_sum():
    """sup_{||w|| <= 1} w . s = ||s||: a search over 20000 random directions approaches it
    from below."""
    gen = torch.Generator().manual_seed(5)
    X = _points(8, 3, 6)
    signs = torch.randint(0, 2, (4, 8), generator=gen) * 2 - 1
    norms = rademacher.rademacher_sum_norms(X, signs)
    W = torch.randn(20000, 3, generator=gen, dtype=torch.float64)
    W = W / W.norm(dim=1, keepdim=True)
    best = (signs.double() @ X @ W.T).amax(dim=1)
    assert (best <= norms + 1e-12).all()
    assert (best >= norms * 0.999).all()


def test_two_layer_bound_against_a_grid_search_over_relu_units():
    """R_S of {sum_j v_j relu(u_j.x) : sum |v_j| ||u_j|| <= 1} is E max_{||u|| = 1} |sum_i
    sigma_i relu(u.x_i)| / n (the extreme points of the symmetric hull); in d = 2 a dense angle
    grid finds that maximum, which must lie below 2 sqrt(S)/n (and, here, well above half of
    the single-unit value sqrt(S)/n / sqrt(2))."""
    gen = torch.Generator().manual_seed(7)
    n = 12
    X = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    angles = torch.linspace(0, 2 * math.pi, 2001, dtype=torch.float64)
    U = torch.stack([angles.cos(), angles.sin()], 1)
    H = torch.relu(X @ U.T)  # (n, angles)
    signs = (torch.randint(0, 2, (5000, n), generator=gen) * 2 - 1).double()
    sup = (signs @ H).abs().amax(dim=1)
    estimate = float(sup.mean()) / n
    se = float(sup.std()) / math.sqrt(sup.numel()) / n
    S = float((X**2).sum())
    bound = rademacher.two_layer_rademacher(1.0, S, n)
    print(f"grid-search R_S {estimate:.4f} +- {se:.1g}, bound {bound:.4f}")
    assert estimate + 4 * se <= bound
    assert estimate >= 0.25 * bound  # the bound is not vacuously loose here


def test_confidence_term_and_bound_assembly():
    n, delta = 500, 0.05
    term = rademacher.confidence_term(n, delta)
    assert term == pytest.approx(3 * math.sqrt(math.log(40) / 1000), rel=1e-14)
    bound = rademacher.kp_margin_bound(0.1, 0.2, 0.5, n, delta)
    assert bound == pytest.approx(0.1 + 2 / 0.5 * 0.2 + term, rel=1e-14)
    assert rademacher.kp_margin_bound(0.1, 0.2, 0.5, n, delta, factor=0.0) == pytest.approx(
        0.1 + term, rel=1e-14
    )
    assert rademacher.kp_margin_bound(0.0, 0.2, 0.0, n, delta) == math.inf


def test_margin_bound_of_a_fixed_classifier_covers_its_risk():
    """A class of one function (R_S = 0): P(risk > train error + 3 sqrt(log(2/delta)/(2n))) <=
    delta. Monte-Carlo over 20000 samples of n Bernoulli(p) errors: the miss rate is far below
    delta (the bound pays for a whole class); without the term it is about one half."""
    gen = torch.Generator().manual_seed(8)
    n, p, delta = 200, 0.2, 0.05
    errors = (torch.rand(20000, n, generator=gen) < p).double().mean(1)
    bound = torch.tensor([rademacher.kp_margin_bound(float(e), 0.0, 1.0, n, delta)
                          for e in errors[:2000]])  # fmt: skip
    assert float((p > bound).double().mean()) <= delta
    assert float((p > errors).double().mean()) > 0.4


@pytest.mark.parametrize("n, D", [(50, 3), (200, 10), (1000, 40)])
def test_sauer_growth_bound_against_the_binomial_sum(n, D):
    """log sum_{i <= D} C(n, i) <= D log(e n / D) (Sauer-Shelah), the growth term vc_bound uses."""
    exact = math.log(sum(math.comb(n, i) for i in range(D + 1)))
    used = (rademacher.vc_bound(0.0, D, n, 0.5) - math.sqrt(math.log(2) / (2 * n))) ** 2 * n / 2
    assert exact <= used * (1 + 1e-12)


def test_vc_bound_is_vacuous_once_the_dimension_reaches_n():
    for n in (10, 300, 5000):
        assert rademacher.vc_bound(0.0, n, n, 0.5) > 1
        assert rademacher.vc_bound(0.0, 10 * n, n, 0.5) > 1
    assert rademacher.vc_bound(0.0, 5, 100000, 0.05) < 0.05


def test_grid_rounds_up_by_less_than_a_quarter_octave():
    rng = np.random.default_rng(9)
    for value in 10.0 ** rng.uniform(-8, 8, 200):
        up = rademacher.grid_up(value)
        assert value <= up < value * 2**0.25 * (1 + 1e-12)
        k = 4 * math.log2(up)
        assert abs(k - round(k)) < 1e-9
    assert rademacher.grid_up(0.0) == 2.0**-40
    assert rademacher.grid_up(2.0**41) == math.inf
    assert rademacher.grid_size() == 321

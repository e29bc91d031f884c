"""Hoeffding union radius: closed form and a Monte-Carlo check of its coverage."""

import math

import pytest
import torch

from theorylab.theory.hoeffding import union_radius


def test_radius_solves_the_union_bound_equation():
    """t is where events * 2 exp(-2 S t^2) (Hoeffding's tail, union bound) equals delta, and
    the radius shrinks like S^(-1/2)."""
    for samples, events, delta in ((200, 10, 0.05), (20000, 5050, 1e-3), (1, 1, 0.5)):
        t = union_radius(samples, events, delta)
        assert events * 2 * math.exp(-2 * samples * t**2) == pytest.approx(delta, rel=1e-12)
    ratio = union_radius(400, 10, 0.05) / union_radius(100, 10, 0.05)
    assert ratio == pytest.approx(0.5, rel=1e-14)


def test_coverage_is_at_least_one_minus_delta():
    gen = torch.Generator().manual_seed(0)
    samples, events, delta, trials = 100, 20, 0.1, 2000
    draws = torch.rand(trials, events, samples, generator=gen) < 0.5
    deviation = (draws.double().mean(dim=2) - 0.5).abs().amax(dim=1)
    miss_rate = float((deviation >= union_radius(samples, events, delta)).double().mean())
    print(f"miss rate {miss_rate} (allowed {delta})")
    assert miss_rate <= delta

"""Hoeffding union radius: closed form and a Monte-Carlo check of its coverage."""

import math

import torch

from theorylab.theory.hoeffding import union_radius


def test_closed_form():
    assert union_radius(200, 10, 0.05) == math.sqrt(math.log(2 * 10 / 0.05) / 400)


def test_coverage_is_at_least_one_minus_delta():
    gen = torch.Generator().manual_seed(0)
    samples, events, delta, trials = 100, 20, 0.1, 2000
    draws = torch.rand(trials, events, samples, generator=gen) < 0.5
    deviation = (draws.double().mean(dim=2) - 0.5).abs().amax(dim=1)
    miss_rate = float((deviation >= union_radius(samples, events, delta)).double().mean())
    print(f"miss rate {miss_rate} (allowed {delta})")
    assert miss_rate <= delta

"""Trace estimators against the dense Hessian: exact equality for the exact route; for
Hutchinson, unbiasedness and a standard error that covers the error over repeats, checked
against the closed-form variance of a Rademacher probe, Var z^T H z = 2 (||H||_F^2 - sum H_ii^2)
(Avron & Toledo 2011)."""

import math

import pytest
import torch

from theorylab import curvature as cv
from theorylab.landscape import exact_trace, hutchinson_trace, trace


def test_exact_trace_equals_dense_trace(classifier):
    ml = classifier["ml"]
    got = exact_trace(cv.batched_hvp_fn(ml.loss, ml.theta0), ml.num_params, chunk=16)
    assert got.value == pytest.approx(float(classifier["H"].trace()), rel=1e-13)
    assert got.se == 0.0 and got.method == "exact" and got.products == ml.num_params
    auto = trace(cv.batched_hvp_fn(ml.loss, ml.theta0), ml.num_params, 10, torch.Generator())
    assert auto.method == "exact"


def test_probe_variance_matches_rademacher_closed_form(classifier):
    H = classifier["H"]
    predicted = 2 * (float((H * H).sum()) - float((torch.diagonal(H) ** 2).sum()))
    est = hutchinson_trace(lambda V: V @ H, H.shape[0], 4000, torch.Generator().manual_seed(0))
    measured = est.se**2 * est.probes  # sample variance of q
    # sample variance of 4000 draws: relative standard error sqrt(2/3999 + kurtosis term) < 5%;
    # 20% is > 4 of those
    assert measured == pytest.approx(predicted, rel=0.2)
    assert abs(est.value - float(H.trace())) <= 4 * est.se


def test_few_probe_standard_error_covers_the_error_over_repeats(classifier):
    """300 repeats of an 8-probe estimate: the error divided by the reported SE behaves like a
    t statistic with 7 degrees of freedom. P(|t_7| <= 2) = 0.915; the binomial standard deviation
    over 300 repeats is 0.016, so a coverage below 0.85 (4 of them) would mean the SE understates
    the error. The mean SE must also match the spread of the estimates (ratio in [0.8, 1.25])."""
    H = classifier["H"]
    exact = float(H.trace())
    gen = torch.Generator().manual_seed(1)
    estimates = [hutchinson_trace(lambda V: V @ H, H.shape[0], 8, gen) for _ in range(300)]
    errors = torch.tensor([e.value - exact for e in estimates])
    ses = torch.tensor([e.se for e in estimates])
    coverage = float((errors.abs() <= 2 * ses).double().mean())
    assert coverage >= 0.85
    spread = float(errors.std())
    # E[se] is below the true SD by the c4 factor (0.96 at 7 d.o.f.)
    assert 0.8 <= float(ses.mean()) / spread <= 1.25
    assert abs(float(errors.mean())) <= 4 * spread / math.sqrt(300)  # unbiased

"""theorylab.theory.lazy_training against the network code: the scales it states are the ones
theorylab.nets.two_layer computes (autograd), and the exponents are the numbers -1/2 and 0."""

from __future__ import annotations

import pytest
import torch

from theorylab.nets.two_layer import PARAMETERIZATIONS, output_scale, two_layer
from theorylab.theory import lazy_training


def _value(expression, width: int, eta: float = 1.0) -> float:
    return float(expression.subs({lazy_training.m: width, lazy_training.eta: eta}))


@pytest.mark.parametrize("parameterization", PARAMETERIZATIONS)
def test_scales_match_the_network(parameterization):
    """Per-unit gradient norm s(m) on active units (0 on inactive ones), and the function-space
    step eta * (active fraction) for the step the claim uses, by autograd at three widths."""
    assert set(lazy_training.PARAMETERIZATIONS) == set(PARAMETERIZATIONS)
    eta = 0.3
    for width in (4, 64, 1024):
        gen = torch.Generator().manual_seed(width)
        W = torch.randn(width, 5, generator=gen, dtype=torch.float64, requires_grad=True)
        a = 2.0 * torch.randint(0, 2, (width,), generator=gen).to(torch.float64) - 1.0
        x = torch.randn(1, 5, generator=gen, dtype=torch.float64)
        x = x / x.norm()
        scale = output_scale(width, parameterization)
        assert scale == pytest.approx(
            _value(lazy_training.OUTPUT_SCALE[parameterization], width), rel=1e-15
        )
        (gradient,) = torch.autograd.grad(two_layer(W, a, x, scale).sum(), W)
        active = (W.detach() @ x[0] > 0).to(torch.float64)
        per_unit = _value(lazy_training.PER_NEURON_GRADIENT[parameterization], width)
        torch.testing.assert_close(gradient.norm(dim=1), per_unit * active, rtol=1e-14, atol=0)
        kernel = float(gradient.pow(2).sum())  # tangent kernel K(x, x)
        step = _value(lazy_training.STEP_SIZE[parameterization], width, eta)
        expected = _value(lazy_training.FUNCTION_STEP[parameterization], width, eta)
        assert step * kernel == pytest.approx(expected * float(active.mean()), rel=1e-12)


@pytest.mark.parametrize("parameterization", PARAMETERIZATIONS)
def test_neuron_step_is_the_movement_of_one_gd_step(parameterization):
    """One GD step (the claim's per-unit step) on 1/2||f(X) - y||^2 moves unit r by
    neuron_step * ||sum_i r_i 1{w_r.x_i > 0} x_i||: measured with autograd at two widths."""
    eta = 0.3
    for width in (8, 512):
        gen = torch.Generator().manual_seed(width + 1)
        W = torch.randn(width, 4, generator=gen, dtype=torch.float64, requires_grad=True)
        a = 2.0 * torch.randint(0, 2, (width,), generator=gen).to(torch.float64) - 1.0
        X = torch.randn(3, 4, generator=gen, dtype=torch.float64)
        X = X / X.norm(dim=1, keepdim=True)
        y = torch.randn(3, generator=gen, dtype=torch.float64)
        out = two_layer(W, a, X, output_scale(width, parameterization))
        (gradient,) = torch.autograd.grad(0.5 * (out - y).pow(2).sum(), W)
        step = _value(lazy_training.STEP_SIZE[parameterization], width, eta)
        moved = (step * gradient).norm(dim=1)
        residual = (out - y).detach()
        active = (W.detach() @ X.T > 0).to(torch.float64)  # (m, n)
        direction = ((active * residual[None, :]) @ X).norm(dim=1)
        predicted = lazy_training.neuron_step(parameterization, width, eta) * direction
        torch.testing.assert_close(moved, predicted, rtol=1e-12, atol=1e-15)


def test_exponents():
    assert lazy_training.relative_change_exponent("ntk") == -0.5
    assert lazy_training.relative_change_exponent("mean_field") == 0.0
    assert lazy_training.movement_exponent("ntk") == -0.5
    assert lazy_training.movement_exponent("mean_field") == 0.0
    with pytest.raises(ValueError, match="unknown parameterization"):
        lazy_training.relative_change_exponent("standard")


def test_relative_change_values_follow_the_exponent():
    """RELATIVE_CHANGE at widths m and 4m differs by 4^exponent (exactly a power law)."""
    for p in lazy_training.PARAMETERIZATIONS:
        expr = lazy_training.RELATIVE_CHANGE[p].subs(lazy_training.d, 10)
        ratio = _value(expr, 4096) / _value(expr, 1024)
        assert ratio == pytest.approx(4 ** lazy_training.relative_change_exponent(p), rel=1e-14)

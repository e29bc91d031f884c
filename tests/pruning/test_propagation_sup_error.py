"""Error propagation bound and sup-error search."""

import math

import pytest
import torch

from theorylab.pruning import pensia, propagation, two_hop
from theorylab.pruning.masked import random_network
from theorylab.pruning.sup_error import sphere_points, sup_error
from theorylab.pruning.target import random_target, target_dims
from theorylab.runtime import Context
from theorylab.theory import pensia2020


def test_two_layer_uniform_bound_and_tolerance_match_the_closed_form():
    target = random_target(target_dims(5, 3, 2), Context(seed=1))
    c_l1 = float(target.weights[1].abs().sum())
    e = 0.013
    closed = float(pensia2020.TWO_LAYER_UNIFORM_BOUND.subs(
        {pensia2020.e: e, pensia2020.c_l1: c_l1, pensia2020.d: 5, pensia2020.d1: 3}))  # fmt: skip
    assert propagation.uniform_bound(target, [e, e]) == pytest.approx(closed, rel=1e-12)
    tol = propagation.per_weight_tolerance(target, 0.05)
    assert tol == pytest.approx(pensia2020.two_layer_tolerance(0.05, c_l1, 5, 3), rel=1e-10)
    assert propagation.uniform_bound(target, [tol, tol]) == pytest.approx(0.05, rel=1e-10)


def test_two_layer_pointwise_bound_matches_the_closed_form():
    target = random_target(target_dims(4, 6, 2), Context(seed=2))
    x = sphere_points(50, 4, Context(seed=2), "x")
    zs = target.activations(x)
    e = 0.02
    expected = pensia2020.two_layer_bound(e, float(target.weights[1].abs().sum()),
                                          x.abs().sum(1), zs[1].abs().sum(1), 6)  # fmt: skip
    got = propagation.pointwise_bound(target, [e, e], x)
    assert torch.allclose(got, expected, atol=1e-15, rtol=1e-12)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_pointwise_bound_holds_for_pruned_networks(depth):
    """A coarse pruning (few candidates, large errors) stays under the bound at every point."""
    ctx = Context(seed=depth)
    dims = target_dims(3, 3, depth)
    target = random_target(dims, ctx)
    net = random_network(two_hop.pair_widths(dims, 6), "uniform", ctx, "net")
    pairs = two_hop.prune(net, target.weights, 6, pensia.subset_sum_selector())
    errors = [float(r.gadget_error.max()) for r in pairs]
    x = sphere_points(3000, 3, ctx, "x")
    with torch.no_grad():
        err = (net(x) - target(x)).abs()[:, 0]
    bound = propagation.pointwise_bound(target, errors, x)
    assert (err <= bound * (1 + 1e-9)).all(), float((err / bound).max())
    assert float(err.max()) <= propagation.uniform_bound(target, errors) * (1 + 1e-9)


def test_bound_fails_when_an_error_is_understated():
    """Negative control of the bound test above: understating the gadget errors breaks it."""
    ctx = Context(seed=5)
    dims = target_dims(3, 3, 2)
    target = random_target(dims, ctx)
    net = random_network(two_hop.pair_widths(dims, 4), "uniform", ctx, "net")
    pairs = two_hop.prune(net, target.weights, 4, pensia.subset_sum_selector())
    errors = [float(r.gadget_error.max()) / 10 for r in pairs]
    x = sphere_points(3000, 3, ctx, "x")
    with torch.no_grad():
        err = (net(x) - target(x)).abs()[:, 0]
    assert (err > propagation.pointwise_bound(target, errors, x)).any()


def test_sup_error_finds_the_maximum_of_a_linear_difference():
    w = torch.tensor([[0.3, -0.4, 1.2]], dtype=torch.float64)
    res = sup_error(lambda x: x @ w.T, lambda x: 0 * x[:, :1], 3, Context(), 200, 100)
    assert res.value == pytest.approx(float(w.norm()), rel=1e-9)
    assert res.value >= res.test_set_max
    assert math.isclose(float(res.point.norm()), 1.0, rel_tol=1e-12)

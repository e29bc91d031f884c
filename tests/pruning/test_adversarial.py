"""The exact worst case of the propagation lemma against brute force, and the lemma against it."""

import itertools

import pytest
import torch

from theorylab.errors import Inconclusive
from theorylab.pruning import adversarial, propagation
from theorylab.pruning.sup_error import sphere_points
from theorylab.pruning.target import TargetNetwork, random_target, target_dims
from theorylab.runtime import Context
from theorylab.theory import pensia2020


def perturbed_error(target, E1, E2, x):
    """|F(x) - f(x)| for the network with weights W + E1, c + E2 (depth 2), directly."""
    W, c = target.weights
    F = torch.relu(x @ (W + E1).T) @ (c + E2).T
    return (F - target(x)).abs()[:, 0]


def test_depth_two_worst_case_equals_sign_enumeration():
    """Brute force over every sign pattern of the perturbations: the patterns include, for
    every unit, each corner (tau, xi) = (+-e2, +-e1 ||x||_1) the exact search maximises over,
    so the two agree (and no pattern exceeds the exact value)."""
    ctx = Context(seed=4)
    target = random_target(target_dims(2, 2, 2), ctx)
    x = sphere_points(5, 2, ctx, "x")
    e1, e2 = 0.3, 0.2
    best = torch.zeros(5, dtype=torch.float64)
    for signs in itertools.product((-1.0, 1.0), repeat=6):
        E1 = e1 * torch.tensor(signs[:4], dtype=torch.float64).reshape(2, 2)
        E2 = e2 * torch.tensor(signs[4:], dtype=torch.float64).reshape(1, 2)
        best = torch.maximum(best, perturbed_error(target, E1, E2, x))
    exact = adversarial.worst_case_error(target, [e1, e2], x)
    assert torch.all(exact >= best - 1e-15)
    assert torch.allclose(exact, best, rtol=0, atol=1e-14)


def test_random_perturbations_never_exceed_the_worst_case():
    ctx = Context(seed=7)
    target = random_target(target_dims(4, 3, 2), ctx)
    x = sphere_points(64, 4, ctx, "x")
    gen = torch.Generator().manual_seed(0)
    exact = adversarial.worst_case_error(target, [0.5, 0.5], x)
    for _ in range(200):
        E1 = (torch.rand(3, 4, generator=gen, dtype=torch.float64) * 2 - 1) * 0.5
        E2 = (torch.rand(1, 3, generator=gen, dtype=torch.float64) * 2 - 1) * 0.5
        assert torch.all(perturbed_error(target, E1, E2, x) <= exact + 1e-14)


def test_depth_one_worst_case_is_e_times_the_l1_norm():
    target = TargetNetwork([torch.tensor([[0.6, -0.8]], dtype=torch.float64)])
    x = torch.tensor([[0.6, -0.8], [1.0, 0.0]], dtype=torch.float64)
    assert adversarial.worst_case_error(target, [0.1], x).tolist() == pytest.approx(
        [0.14, 0.1], abs=1e-15
    )
    with pytest.raises(ValueError):
        adversarial.worst_case_error(random_target([2, 2, 2, 1], Context()), [0.1] * 3, x)


@pytest.mark.parametrize("seed", range(6))
def test_lemma_holds_and_is_attained_within_half_at_the_all_active_input(seed):
    ctx = Context(seed=seed)
    target = random_target(target_dims(4, 4, 2), ctx)
    active = adversarial.all_active_point(target)
    assert active is not None
    assert bool((target.weights[0] @ active > 0).all())
    assert float(active.norm()) == pytest.approx(1.0, abs=1e-15)
    points = torch.cat([active[None], sphere_points(256, 4, ctx, "x")])
    for e in (0.01, 1.0):
        worst = adversarial.worst_case_error(target, [e, e], points)
        bound = propagation.pointwise_bound(target, [e, e], points)
        assert torch.all(worst <= bound * (1 + 1e-12))
        assert float(worst[0] / bound[0]) >= 0.5


def test_no_all_active_input_for_wide_hidden_layers():
    ctx = Context(seed=1)
    assert adversarial.all_active_point(random_target(target_dims(2, 5, 2), ctx)) is None
    assert adversarial.all_active_point(random_target(target_dims(3, 3, 3), ctx)) is None


def test_a_bound_without_the_weight_term_is_seen_by_the_worst_case(monkeypatch):
    """The mutant the claim declares: dropping (|W| delta)_j makes the bound smaller than the
    error some admissible network reaches, and the propagation code does not crash on it."""
    monkeypatch.setattr(pensia2020, "propagation_step", lambda e, z, d, w: e * (z + d))
    target = random_target(target_dims(4, 4, 2), Context(seed=0))
    x = adversarial.all_active_point(target)[None]
    bound = propagation.pointwise_bound(target, [0.01, 0.01], x)
    assert bound.shape == (1,)
    assert float(adversarial.worst_case_error(target, [0.01, 0.01], x)[0]) > 1.5 * float(bound[0])


def test_tolerance_of_a_bound_with_no_term_in_e_is_inconclusive(monkeypatch):
    monkeypatch.setattr(pensia2020, "propagation_step", lambda e, z, d, w: 0 * z + w)
    target = random_target(target_dims(3, 3, 2), Context(seed=0))
    with pytest.raises(Inconclusive, match="no per-weight tolerance"):
        propagation.per_weight_tolerance(target, 0.05)

import pytest
import torch

from theorylab.masks import criteria
from theorylab.masks.topk import layer_mask


def _weights(seed=0, shape=(6, 8)):
    gen = torch.Generator().manual_seed(seed)
    w_i = torch.randn(*shape, generator=gen, dtype=torch.float64)
    w_f = w_i + 0.7 * torch.randn(*shape, generator=gen, dtype=torch.float64)
    return w_i, w_f


def test_large_init_large_final_keeps_the_intersection_of_two_thresholds():
    # Zhou et al. Fig. 2: the kept region is |w_i| > t and |w_f| > t for one threshold t.
    w_i, w_f = _weights()
    mask = layer_mask(criteria.score("large_init_large_final", w_i, w_f), 0.3)
    t = torch.minimum(w_i.abs(), w_f.abs())[mask].min()
    region = (w_i.abs() >= t) & (w_f.abs() >= t)
    assert torch.equal(mask, region)


def test_same_sign_variant_never_keeps_a_flipped_weight_when_enough_kept_signs():
    w_i, w_f = _weights(1)
    same = torch.sign(w_i) == torch.sign(w_f)
    fraction = 0.5 * same.double().mean().item()
    for name in ("large_final", "magnitude_increase", "movement"):
        mask = layer_mask(criteria.score(f"{name}_same_sign", w_i, w_f), fraction)
        assert not (mask & ~same).any(), name


def test_small_and_large_final_are_complements_without_ties():
    w_i, w_f = _weights(2)
    large = layer_mask(criteria.score("large_final", w_i, w_f), 0.25)
    small = layer_mask(criteria.score("small_final", w_i, w_f), 0.75)
    assert torch.equal(large, ~small)


def test_random_criterion_ignores_the_weights_and_follows_the_generator():
    w_i, w_f = _weights(3)
    a = criteria.score("random", w_i, w_f, torch.Generator().manual_seed(5))
    b = criteria.score("random", -w_i, 3 * w_f, torch.Generator().manual_seed(5))
    assert torch.equal(a, b)


def test_unknown_criterion_is_refused():
    w_i, w_f = _weights()
    with pytest.raises(ValueError, match="unknown mask criterion"):
        criteria.scores(["largest"], [w_i], [w_f])


def test_signed_constant_has_the_layer_std_and_the_signs():
    w = torch.tensor([[[1.0, -3.0], [2.0, -2.0]]], dtype=torch.float64)
    out = criteria.signed_constant(w)
    std = w.std(unbiased=False)
    assert torch.allclose(out.abs(), torch.full_like(w, std.item()), rtol=0, atol=1e-15)
    assert torch.equal(torch.sign(out), torch.sign(w))

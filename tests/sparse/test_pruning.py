"""pruning: IMP's per-layer counts (exactly 0.8^r per hidden layer when the counts are
integers), the cutoff against a sorted reference, global pruning, controls, movement."""

import numpy as np
import pytest
import torch

from theorylab.sparse import masked_mlp as mm
from theorylab.sparse import pruning

# Layers of 625 = 5^4 weights keep exactly 0.8^r of them for r <= 4 (500, 400, 320, 256).
SIZES = (25, 25, 25, 40)


def _stack(P=3, seed=0):
    return mm.init_stack(SIZES, [torch.Generator().manual_seed(seed + i) for i in range(P)])


def _noisy(stack, seed):
    """'Trained' weights: the stack plus noise, inside its masks."""
    g = torch.Generator().manual_seed(seed)
    W = [(w + torch.randn(w.shape, generator=g, dtype=torch.float64)) * m
         for w, m in zip(stack.weights, stack.masks, strict=True)]  # fmt: skip
    return mm.MaskedStack(W, stack.biases, stack.masks)


def test_imp_densities_are_exact_powers_of_the_keep_rate():
    stack = _stack()
    rates = pruning.layer_rates(3)
    assert rates == [0.2, 0.2, 0.1]
    masks = stack.masks
    for r in range(1, 5):
        trained = _noisy(pruning.reset_to(stack, masks), seed=r)
        masks = pruning.prune(trained, "magnitude", "layerwise", rates)
        kept = torch.stack([m.sum(dim=(1, 2)) for m in masks], dim=1)  # (P, L)
        exact = 625 * 4**r // 5**r  # 625 (4/5)^r is an integer for r <= 4
        assert exact == pytest.approx(625 * 0.8**r, abs=1e-9)
        assert kept[:, 0].tolist() == [exact] * 3
        assert kept[:, 1].tolist() == [exact] * 3
        assert kept[:, 2].tolist() == [pruning.remaining_after(1000, 0.1, r)[-1]] * 3
        layer_d, _overall = pruning.densities(masks, stack.masks)
        assert layer_d[:, 0].tolist() == pytest.approx([0.8**r] * 3, abs=1e-15)
    assert pruning.remaining_after(1000, 0.1, 4) == [1000, 900, 810, 729, 656]


def test_cutoff_prunes_exactly_the_smallest_remaining_magnitudes():
    stack = _stack(P=2, seed=3)
    first = _noisy(stack, 4)
    masks = pruning.prune(first, "magnitude", "layerwise", [0.3, 0.3, 0.3])
    second = _noisy(pruning.reset_to(stack, masks), 5)
    new = pruning.prune(second, "magnitude", "layerwise", [0.3, 0.3, 0.3])
    for k in range(3):
        for p in range(2):
            w = second.weights[k][p].flatten().numpy()
            alive = masks[k][p].flatten().numpy() > 0
            n = int(alive.sum())
            prune_k = int(0.3 * n + 0.5)
            order = np.argsort(np.abs(w[alive]), kind="stable")  # sorted reference
            expected = np.zeros_like(w)
            survivors = np.flatnonzero(alive)[order[prune_k:]]
            expected[survivors] = 1
            assert np.array_equal(new[k][p].flatten().numpy(), expected)
            # nested: nothing pruned before comes back
            assert bool((new[k][p] <= masks[k][p]).all())


def test_global_pruning_uses_one_cutoff_across_layers():
    stack = _stack(P=2, seed=6)
    trained = _noisy(stack, 7)
    masks = pruning.prune(trained, "magnitude", "global", [0.5])
    for p in range(2):
        w = torch.cat([t[p].flatten() for t in trained.weights]).abs()
        m = torch.cat([t[p].flatten() for t in masks])
        total = w.numel()
        assert int(m.sum()) == total - int(0.5 * total + 0.5)
        assert float(w[m == 0].max()) <= float(w[m == 1].min())


def test_criteria_random_and_smallest():
    stack = _stack(P=1, seed=8)
    trained = _noisy(stack, 9)
    smallest = pruning.prune(trained, "smallest", "layerwise", [0.5, 0.5, 0.5])
    w = trained.weights[0][0].abs()
    assert float(w[smallest[0][0] == 1].max()) <= float(w[smallest[0][0] == 0].min())
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    r1 = pruning.prune(trained, "random", "layerwise", [0.5] * 3, g1)
    r2 = pruning.prune(trained, "random", "layerwise", [0.5] * 3, g2)
    assert all(torch.equal(a, b) for a, b in zip(r1, r2, strict=True))
    assert int(r1[0].sum()) == int(smallest[0].sum())
    with pytest.raises(ValueError, match="unknown criterion"):
        pruning.scores("largest", trained.weights)


def test_controls_keep_counts_and_draw_fresh_weights():
    stack = _stack(P=3, seed=10)
    masks = pruning.prune(_noisy(stack, 11), "magnitude", "layerwise", [0.6, 0.6, 0.6])
    ticket = pruning.reset_to(stack, masks)
    for w0, w, m in zip(stack.weights, ticket.weights, masks, strict=True):
        assert torch.equal(w, w0 * m)
    gens = [torch.Generator().manual_seed(100 + i) for i in range(3)]
    reinit = pruning.random_reinit(SIZES, masks, gens)
    for w, m, w0 in zip(reinit.weights, masks, stack.weights, strict=True):
        assert torch.equal(w != 0, m > 0)  # same support (Gaussian draws are never 0)
        assert not torch.equal(w, w0 * m)
    rand = pruning.random_masks_like(masks, stack.masks, torch.Generator().manual_seed(12))
    for a, b in zip(rand, masks, strict=True):
        assert torch.equal(a.sum(dim=(1, 2)), b.sum(dim=(1, 2)))
        assert not torch.equal(a, b)


def test_random_masks_are_uniform_over_positions():
    """Monte-Carlo: each of 50 positions is kept with probability 10/50 = 0.2 (5000 draws:
    binomial sd 0.0057 per position; the max over 50 positions stays below 5 sd)."""
    live = [torch.ones(5000, 5, 10, dtype=torch.float64)]
    mask = [live[0] * (torch.arange(50).reshape(5, 10) < 10).double()]
    rand = pruning.random_masks_like(mask, live, torch.Generator().manual_seed(13))
    freq = rand[0].mean(dim=0)
    assert float((freq - 0.2).abs().max()) < 5 * (0.2 * 0.8 / 5000) ** 0.5
    assert torch.equal(rand[0].sum(dim=(1, 2)), torch.full((5000,), 10.0, dtype=torch.float64))


def test_random_masks_stay_inside_a_narrow_members_block():
    big, small = (6, 10, 4), (6, 5, 4)
    stack = mm.init_stack(big, [torch.Generator().manual_seed(1)], live=small)
    masks = pruning.prune(_noisy(stack, 2), "magnitude", "layerwise", [0.5, 0.5])
    rand = pruning.random_masks_like(masks, stack.masks, torch.Generator().manual_seed(3))
    for r, live in zip(rand, stack.masks, strict=True):
        assert bool((r <= live).all())
    _ld, overall = pruning.densities(masks, stack.masks)
    assert float(overall[0]) == pytest.approx((15 + 10) / (30 + 20))


def test_movement_by_hand():
    w0 = [torch.tensor([[[0.0, 1.0, 2.0, 3.0]]], dtype=torch.float64)]
    w1 = [torch.tensor([[[4.0, 1.0, 0.0, 3.5]]], dtype=torch.float64)]
    ones = [torch.ones_like(w0[0])]
    keep = [torch.tensor([[[1.0, 0.0, 1.0, 0.0]]], dtype=torch.float64)]
    bias = [torch.zeros(1, 1)]
    kept, pruned = pruning.movement(mm.MaskedStack(w0, bias, ones), mm.MaskedStack(w1, bias, ones),
                                    keep)  # fmt: skip
    assert kept.tolist() == [[3.0]] and pruned.tolist() == [[0.25]]  # (4 + 2)/2, (0 + 0.5)/2


def test_prune_count_never_empties_a_layer():
    assert pruning.prune_count(1, 0.9) == 0
    assert pruning.prune_count(torch.tensor([1, 2, 10]), 0.9).tolist() == [0, 1, 9]

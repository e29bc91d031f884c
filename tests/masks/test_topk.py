import numpy as np
import pytest
import torch

from theorylab.masks import topk


def _reference_layer_mask(scores: np.ndarray, fraction: float) -> np.ndarray:
    """Brute force: sort each batch entry's flat scores, keep the first k (stable)."""
    out = np.zeros(scores.shape, dtype=bool)
    for b in range(scores.shape[0]):
        flat = scores[b].ravel()
        k = max(1, min(flat.size, round(fraction * flat.size)))
        order = sorted(range(flat.size), key=lambda j: (-flat[j], j))
        keep = np.zeros(flat.size, dtype=bool)
        keep[order[:k]] = True
        out[b] = keep.reshape(scores.shape[1:])
    return out


@pytest.mark.parametrize("fraction", [0.01, 0.2, 0.5, 0.9, 1.0])
def test_layer_mask_matches_sorting_per_seed(fraction):
    gen = torch.Generator().manual_seed(0)
    scores = torch.randn(5, 7, 9, generator=gen, dtype=torch.float64)
    scores[0, 0, :3] = 0.25  # ties resolve by position, as in the reference
    mask = topk.layer_mask(scores, fraction)
    np.testing.assert_array_equal(mask.numpy(), _reference_layer_mask(scores.numpy(), fraction))


def test_global_mask_pools_layers_and_can_collapse_a_layer():
    big = torch.full((2, 4, 4), 10.0, dtype=torch.float64)
    small = torch.full((2, 3, 5), 0.1, dtype=torch.float64)
    masks = topk.global_masks([big, small], keep_fraction=16 / 31)
    assert masks[0].all() and not masks[1].any()
    assert topk.collapsed_layers(masks).tolist() == [[False, True], [False, True]]
    np.testing.assert_allclose(topk.densities(masks).numpy(), [[1.0, 0.0], [1.0, 0.0]])


def test_global_mask_matches_a_flat_reference():
    gen = torch.Generator().manual_seed(1)
    layers = [torch.rand(3, 4, 6, generator=gen), torch.rand(3, 2, 4, generator=gen)]
    masks = topk.global_masks(layers, 0.3)
    flat = torch.cat([s.reshape(3, -1) for s in layers], dim=1).numpy()[:, None, :]
    reference = _reference_layer_mask(flat, 0.3)[:, 0, :]
    got = torch.cat([m.reshape(3, -1) for m in masks], dim=1).numpy()
    np.testing.assert_array_equal(got, reference)


def test_kept_count_refuses_fractions_outside_unit_interval():
    assert topk.kept_count(10, 0.01) == 1
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError):
            topk.kept_count(10, bad)


def test_straight_through_passes_the_gradient_unchanged():
    scores = torch.tensor([[0.3, -2.0], [0.1, 1.0]], requires_grad=True)
    mask = topk.straight_through_topk(scores, 0.5)
    assert mask.tolist() == [[1.0, 0.0], [0.0, 1.0]]  # top-s: 0.3 and 1.0
    upstream = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    (mask * upstream).sum().backward()
    assert torch.equal(scores.grad, upstream)


def test_per_network_fractions_and_live_blocks_match_separate_calls():
    gen = torch.Generator().manual_seed(4)
    scores = torch.randn(3, 6, 5, generator=gen, dtype=torch.float64)
    fractions = torch.tensor([0.1, 0.5, 0.9])
    mask = topk.layer_mask(scores, fractions)
    for b in range(3):
        assert torch.equal(mask[b], topk.layer_mask(scores[b : b + 1], float(fractions[b]))[0])
    live = torch.zeros(3, 6, 5)
    live[:, :3, :2] = 1  # a 3x2 network embedded in the 6x5 layer
    masked = topk.layer_mask(scores, 0.5, live)
    assert not (masked & (live == 0)).any()
    assert masked.flatten(1).sum(1).tolist() == [3, 3, 3]
    for b in range(3):
        block = topk.layer_mask(scores[b : b + 1, :3, :2], 0.5)[0]
        assert torch.equal(masked[b, :3, :2], block)


@pytest.mark.parametrize("seed", range(4))
def test_selection_matches_a_stable_sort_with_many_ties_and_per_row_counts(seed):
    """_top_mask selects by kthvalue and breaks ties by position: the mask of a stable
    descending sort, also when most entries tie and every row keeps its own count."""
    gen = torch.Generator().manual_seed(seed)
    flat = torch.randint(0, 4, (6, 40), generator=gen).to(torch.float64)  # 4 values: ties
    counts = torch.randint(1, 41, (6,), generator=gen)
    got = topk._top_mask(flat, counts)
    for r in range(6):
        order = sorted(range(40), key=lambda j: (-flat[r, j].item(), j))
        expected = torch.zeros(40, dtype=torch.bool)
        expected[order[: int(counts[r])]] = True
        assert torch.equal(got[r], expected), r

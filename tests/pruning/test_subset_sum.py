"""Subset-sum search: exact methods agree with brute force; prefix search matches its definition."""

import itertools

import pytest
import torch

from theorylab.pruning import subset_sum


def _problems(rows, m, seed=0):
    g = torch.Generator().manual_seed(seed)
    values = torch.rand(rows, m, generator=g, dtype=torch.float64) * 2 - 1
    targets = torch.rand(rows, generator=g, dtype=torch.float64) * 2 - 1
    return values, targets


def test_subset_sums_enumerate_every_subset():
    values = torch.tensor([[1.0, 2.0, 4.0]], dtype=torch.float64)
    assert subset_sum.subset_sums(values)[0].tolist() == [0, 1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize("m", [1, 5, 12])
def test_meet_in_the_middle_equals_brute_force(m):
    values, targets = _problems(200, m)
    mask_a, err_a = subset_sum.meet_in_the_middle(values, targets)
    _, err_b = subset_sum.brute_force(values, targets)
    assert torch.allclose(err_a, err_b, atol=1e-12, rtol=0)
    recomputed = ((values * mask_a).sum(dim=1) - targets).abs()
    assert torch.allclose(recomputed, err_a, atol=0, rtol=0)


def test_meet_in_the_middle_with_zero_padding_and_chunks(monkeypatch):
    values, targets = _problems(64, 10, seed=1)
    values[:, 7:] = 0.0  # padding of a compacted pool
    _, reference = subset_sum.brute_force(values, targets)
    monkeypatch.setattr(subset_sum, "_CHUNK_ELEMENTS", 64)  # force several chunks
    _, err = subset_sum.meet_in_the_middle(values, targets)
    assert torch.allclose(err, reference, atol=1e-12, rtol=0)


def test_milp_reaches_the_optimum():
    values, targets = _problems(3, 8, seed=2)
    mask, err = subset_sum.milp(values, targets)
    _, reference = subset_sum.brute_force(values, targets)
    assert mask.dtype == torch.bool
    assert (err <= reference + 1e-6).all(), (err - reference).max()


def test_closest_subset_sum_dispatch_rejects_unknown_method():
    values, targets = _problems(2, 3)
    with pytest.raises(ValueError, match="unknown subset-sum method"):
        subset_sum.closest_subset_sum(values, targets, "greedy")


def _first_prefix_by_definition(values, target, tol):
    for k in range(values.numel() + 1):
        for r in range(k + 1):
            for subset in itertools.combinations(range(k), r):
                if abs(float(values[list(subset)].sum()) - target) <= tol:
                    return k
    return values.numel() + 1


def test_first_success_prefix_matches_definition(monkeypatch):
    values, targets = _problems(40, 8, seed=3)
    expected = [_first_prefix_by_definition(values[i], float(targets[i]), 0.02) for i in range(40)]
    assert subset_sum.first_success_prefix(values, targets, 0.02).tolist() == expected
    monkeypatch.setattr(subset_sum, "_CHUNK_ELEMENTS", 16)  # the row-splitting path
    assert subset_sum.first_success_prefix(values, targets, 0.02).tolist() == expected


def test_first_success_prefix_nan_padding_never_succeeds():
    values = torch.tensor([[0.5, torch.nan, torch.nan]], dtype=torch.float64)
    assert subset_sum.first_success_prefix(values, torch.tensor([0.9]).double(), 0.01).item() == 4

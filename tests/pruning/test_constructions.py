"""The two-hop constructions: the pruned network is a masked depth-2L net whose gadgets realise
the target's weights within the errors the construction reports."""

import torch

from theorylab.pruning import malach, pensia, two_hop
from theorylab.pruning.masked import random_network
from theorylab.pruning.target import random_target
from theorylab.runtime import Context
from theorylab.theory import pensia2020


def _pruned(selector, n=16, dims=(3, 4, 1), seed=0):
    ctx = Context(seed=seed)
    target = random_target(list(dims), ctx)
    net = random_network(two_hop.pair_widths(list(dims), n), "uniform", ctx, "net")
    before = [w.clone() for w in net.weights]
    pairs = two_hop.prune(net, target.weights, n, selector)
    return target, net, pairs, before


def test_pruning_changes_masks_only_and_doubles_depth():
    target, net, _pairs, before = _pruned(pensia.subset_sum_selector())
    assert net.depth == 2 * target.depth
    assert all(torch.equal(a, b) for a, b in zip(before, net.weights, strict=True))
    for i in range(target.depth):  # each kept intermediate neuron sees one input coordinate
        assert int(net.masks[2 * i].sum(dim=1).max()) <= 1
    assert 0 < net.keep_fraction < 1


def test_one_pair_realises_each_weight_on_each_sign():
    """For the first pair alone, input +e_k gives sum_{S+} u v = A+ and -e_k gives -A-."""
    target, net, pairs, _ = _pruned(pensia.subset_sum_selector())
    first = type(net)(net.weights[:2], net.masks[:2])
    eye = torch.eye(3, dtype=torch.float64)
    assert torch.allclose(first(eye).T, pairs[0].sum_plus, atol=1e-14, rtol=0)
    assert torch.allclose(first(-eye).T, -pairs[0].sum_minus, atol=1e-14, rtol=0)
    # the reported gadget error is the case-split formula on those realised sums
    W = target.weights[0]
    expected = torch.maximum((pairs[0].sum_plus - W).abs(), (pairs[0].sum_minus - W).abs())
    assert torch.allclose(pairs[0].gadget_error, expected, atol=0, rtol=0)


def test_gadget_error_is_the_sup_over_a_grid():
    target, net, pairs, _ = _pruned(pensia.subset_sum_selector(), n=10)
    first = type(net)(net.weights[:2], net.masks[:2])
    xs = torch.linspace(-1, 1, 201, dtype=torch.float64)
    for k in range(3):
        inputs = torch.zeros(201, 3, dtype=torch.float64)
        inputs[:, k] = xs
        err = (first(inputs) - xs[:, None] * target.weights[0][:, k]).abs().amax(dim=0)
        assert torch.allclose(err, pairs[0].gadget_error[:, k], atol=1e-13, rtol=0)


def test_subset_sum_beats_single_product_per_weight():
    _, _, sub, _ = _pruned(pensia.subset_sum_selector(), seed=4)
    _, _, single, _ = _pruned(malach.single_product_selector, seed=4)
    for a, b in zip(sub, single, strict=True):  # same random draws: subsets include singletons
        assert (a.gadget_error <= b.gadget_error + 1e-15).all()


def test_theory_gadget_formula_agrees_with_two_hop():
    _, _, pairs, _ = _pruned(malach.single_product_selector)
    r = pairs[1]
    W = r.sum_plus * 0 + 0.1
    out = pensia2020.gadget_sup_error(r.sum_plus, r.sum_minus, W)
    assert torch.equal(out, torch.maximum((r.sum_plus - 0.1).abs(), (r.sum_minus - 0.1).abs()))


def test_gadget_errors_on_grid_match_the_case_split_and_see_a_one_branch_formula():
    """The brute-force gadget tracker (evaluated through the masked network) equals Pensia et
    al.'s max(|A+ - w|, |A- - w|) and differs from a formula that forgets the x < 0 branch."""
    target, net, pairs, _ = _pruned(pensia.subset_sum_selector(), n=6, seed=3)
    for i, W in enumerate(target.weights):
        grid = two_hop.gadget_errors_on_grid(net, i, W, points=11)
        assert torch.allclose(grid, pairs[i].gadget_error, rtol=0, atol=1e-15)
    one_branch = (pairs[0].sum_plus - target.weights[0]).abs()
    grid = two_hop.gadget_errors_on_grid(net, 0, target.weights[0])
    assert float((grid - one_branch).abs().max()) > 1e-3

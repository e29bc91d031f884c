"""Masked networks and the random target."""

import pytest
import torch

from theorylab.pruning.masked import MaskedNetwork, random_network
from theorylab.pruning.target import random_target, target_dims
from theorylab.runtime import Context


def test_masked_forward_is_relu_chain_of_masked_weights():
    net = random_network([3, 5, 2], "uniform", Context(seed=1), "net")
    net.masks[0][1:3] = False
    x = torch.randn(7, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    W1 = net.weights[0] * net.masks[0]
    expected = torch.relu(x @ W1.T) @ net.weights[1].T
    assert torch.allclose(net(x), expected, atol=1e-14, rtol=0)
    assert net.kept_weights == 15 + 10 - 6
    assert net.keep_fraction == pytest.approx(19 / 25, abs=1e-15)
    assert net.depth == 2 and net.widths == [3, 5, 2]


def test_weights_are_in_range_and_reproducible():
    a = random_network([4, 6], "uniform", Context(seed=3), "net").weights[0]
    b = random_network([4, 6], "uniform", Context(seed=3), "net").weights[0]
    assert torch.equal(a, b) and a.abs().max() <= 1


def test_mask_shape_checked():
    with pytest.raises(ValueError, match="mask shape"):
        MaskedNetwork([torch.zeros(2, 2)], [torch.zeros(3, 2, dtype=torch.bool)])


def test_target_layers_have_operator_norm_one_and_shrink_activations():
    target = random_target(target_dims(5, 7, 3), Context(seed=2))
    assert target.dims == [5, 7, 7, 1]
    for W in target.weights:
        assert float(torch.linalg.matrix_norm(W, ord=2)) == pytest.approx(1.0, abs=1e-12)
    x = torch.randn(100, 5, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True)
    for z in target.activations(x):
        assert (z.norm(dim=1) <= 1 + 1e-12).all()

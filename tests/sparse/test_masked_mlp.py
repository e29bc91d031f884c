"""masked_mlp: the batched forward against a per-network loop of F.linear, narrow networks
embedded by structural masks, the Glorot-normal draw and per-member generators."""

import torch
import torch.nn.functional as F

from theorylab.sparse import masked_mlp as mm


def _population(sizes, P, seed=0, density=0.5):
    gens = [torch.Generator().manual_seed(seed + i) for i in range(P)]
    stack = mm.init_stack(sizes, gens)
    g = torch.Generator().manual_seed(seed + 1000)
    masks = [(torch.rand(m.shape, generator=g, dtype=torch.float64) < density).double()
             for m in stack.masks]  # fmt: skip
    stack = stack.with_masks(masks)
    stack.biases = [torch.randn(b.shape, generator=g, dtype=torch.float64) for b in stack.biases]
    return stack


def _one(stack, p, x):
    """Network p of the stack, one layer at a time with F.linear (no batching)."""
    h = x
    for k in range(stack.layers):
        h = F.linear(h, stack.weights[k][p] * stack.masks[k][p], stack.biases[k][p])
        if k < stack.layers - 1:
            h = torch.relu(h)
    return h


def test_batched_forward_equals_each_network_alone():
    stack = _population((7, 11, 5, 3), P=6)
    X = torch.randn(20, 7, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    out = mm.forward(stack, X)
    assert out.shape == (6, 20, 3)
    for p in range(6):
        assert torch.allclose(out[p], _one(stack, p, X), rtol=0, atol=1e-12)
    # one batch per member (the training path)
    Xp = torch.randn(6, 4, 7, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    out = mm.forward(stack, Xp)
    for p in range(6):
        assert torch.allclose(out[p], _one(stack, p, Xp[p]), rtol=0, atol=1e-12)


def test_embedded_narrow_network_computes_the_narrow_network():
    big, small = (6, 10, 8, 4), (6, 5, 3, 4)
    gen = [torch.Generator().manual_seed(3)]
    embedded = mm.init_stack(big, gen, live=small)
    alone = mm.init_stack(small, [torch.Generator().manual_seed(3)])
    for w_big, w_small in zip(embedded.weights, alone.weights, strict=True):
        o, i = w_small.shape[1:]
        assert torch.equal(w_big[:, :o, :i], w_small)
        outside = w_big.clone()
        outside[:, :o, :i] = 0
        assert float(outside.abs().max()) == 0.0
    # dead units with nonzero biases change nothing: their outgoing weights are masked
    embedded.biases = [b + 3.0 for b in embedded.biases]
    alone.biases = [b[:, :s].clone() for b, s in zip(embedded.biases, small[1:], strict=True)]
    X = torch.randn(9, 6, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    assert torch.allclose(mm.forward(embedded, X), mm.forward(alone, X), rtol=0, atol=1e-12)
    assert embedded.kept().tolist() == [[30, 15, 12]]


def test_glorot_normal_variance_by_monte_carlo():
    W = mm.glorot_normal((300, 200, 10), torch.Generator().manual_seed(5))
    for w, (fan_in, fan_out) in zip(W, [(300, 200), (200, 10)], strict=True):
        var = 2.0 / (fan_in + fan_out)
        n = w.numel()
        # sample variance of n normals: relative sd sqrt(2/n) (< 2% here); allow 5 sd
        assert abs(float(w.var()) / var - 1) < 5 * (2 / n) ** 0.5
        assert abs(float(w.mean())) < 5 * (var / n) ** 0.5


def test_each_member_depends_on_its_own_generator_only():
    sizes = (4, 6, 3)
    a = mm.init_stack(sizes, [torch.Generator().manual_seed(s) for s in (1, 2, 3)])
    b = mm.init_stack(sizes, [torch.Generator().manual_seed(s) for s in (3, 1)])
    for wa, wb in zip(a.weights, b.weights, strict=True):
        assert torch.equal(wa[2], wb[0]) and torch.equal(wa[0], wb[1])


def test_cat_select_and_layer_sizes():
    stack = _population((5, 4, 3), P=4)
    again = mm.cat([stack.select(slice(0, 1)), stack.select([1, 2, 3])])
    for x, y in zip(again.weights + again.masks, stack.weights + stack.masks, strict=True):
        assert torch.equal(x, y)
    assert stack.sizes == (5, 4, 3) and stack.members == 4 and stack.layers == 2
    assert mm.layer_sizes(40, 1.0) == (40, 300, 100, 10)
    assert mm.layer_sizes(64, 0.25) == (64, 75, 25, 10)

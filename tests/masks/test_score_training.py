import torch

from theorylab.masks.score_training import ScoreConfig, train_scores
from theorylab.sparse.datasets import Split
from theorylab.sparse.masked_mlp import init_stack, structural_masks


def _toy(P=3, live=None):
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(90, 6, generator=gen, dtype=torch.float64)
    y = (X[:, 0] > 0).long() + 2 * (X[:, 1] > 0).long()
    data = Split("toy", X[:60], y[:60], X[60:75], y[60:75], X[75:], y[75:], (6,))
    sizes = (6, 12, 8, 4)
    gens = [torch.Generator().manual_seed(p) for p in range(P)]
    stack = init_stack(sizes, gens, live=live)
    orders = torch.stack(
        [torch.randint(0, 60, (200, 10), generator=torch.Generator().manual_seed(9))]
    )
    return data, stack, orders


def _gens(members):
    """Fresh score generators (generators are stateful: each call needs its own)."""
    return [torch.Generator().manual_seed(100 + p) for p in members]


def test_edge_popup_keeps_exactly_k_of_each_live_layer_and_learns():
    data, stack, orders = _toy(live=(6, 6, 4, 4))
    config = ScoreConfig("edge_popup", steps=200, lr=0.05, batch_size=10)
    result = train_scores(stack, data, orders, torch.zeros(3, dtype=torch.long), config,
                          _gens(range(3)), keep_fraction=0.5)  # fmt: skip
    live = structural_masks((6, 12, 8, 4), (6, 6, 4, 4), 3)
    for m, alive in zip(result.masks, live, strict=True):
        assert not bool((m * (1 - alive)).any())
        torch.testing.assert_close(m.sum((1, 2)), torch.round(0.5 * alive.sum((1, 2))))
    start = train_scores(stack, data, orders, torch.zeros(3, dtype=torch.long),
                         ScoreConfig("edge_popup", steps=0, batch_size=10), _gens(range(3)),
                         keep_fraction=0.5)  # fmt: skip
    # the initial masks are random top-halves of random scores; training the scores must help
    assert float(result.train_acc.mean()) > float(start.train_acc.mean()) + 0.1


def test_batched_edge_popup_equals_one_network_at_a_time():
    data, stack, orders = _toy()
    config = ScoreConfig("edge_popup", steps=15, lr=0.05, batch_size=10)
    index = torch.zeros(3, dtype=torch.long)
    together = train_scores(stack, data, orders, index, config, _gens(range(3)),
                            keep_fraction=0.3)  # fmt: skip
    for p in range(3):
        alone = train_scores(stack.select([p]), data, orders, index[:1], config, _gens([p]),
                             keep_fraction=0.3)  # fmt: skip
        for a, b in zip(alone.masks, together.masks, strict=True):
            assert torch.equal(a[0], b[p])
        assert alone.test_acc[0] == together.test_acc[p]


def test_bernoulli_masks_are_deterministic_at_evaluation():
    data, stack, orders = _toy(P=2)
    config = ScoreConfig("bernoulli", steps=20, lr=0.1, batch_size=10)
    index = torch.zeros(2, dtype=torch.long)
    a = train_scores(stack, data, orders, index, config, _gens(range(2)),
                     sample_generator=torch.Generator().manual_seed(1))  # fmt: skip
    b = train_scores(stack, data, orders, index, config, _gens(range(2)),
                     sample_generator=torch.Generator().manual_seed(1))  # fmt: skip
    for x, y in zip(a.masks, b.masks, strict=True):
        assert torch.equal(x, y)
        assert set(x.unique().tolist()) <= {0.0, 1.0}
    assert bool(((a.density > 0) & (a.density < 1)).all())

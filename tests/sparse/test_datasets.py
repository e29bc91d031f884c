"""datasets: seeded disjoint splits standardised by the training split, data orders made of
permutations, the shifted transfer target against a brute-force enumeration of shifts."""

import random

import numpy as np
import pytest
import torch

from theorylab.runtime import Context
from theorylab.sparse import datasets


def test_digits_split_is_seeded_disjoint_and_standardised():
    a = datasets.load("digits", Context(seed=1))
    b = datasets.load("digits", Context(seed=1))
    c = datasets.load("digits", Context(seed=2))
    assert torch.equal(a.X_train, b.X_train) and not torch.equal(a.X_train, c.X_train)
    assert (a.n_train, a.X_val.shape[0], a.X_test.shape[0]) == datasets.split_sizes(1797)
    assert a.d == datasets.input_dim("digits") == 64
    rows = {tuple(x.tolist()) for x in a.X_train}
    # identical digits images exist; count only test rows whose image never appears in training
    overlap = sum(tuple(x.tolist()) in rows for x in a.X_test)
    assert overlap < 10
    spread = a.X_train.std(dim=0)
    live = spread > 0
    assert float(a.X_train.mean(dim=0).abs().max()) < 1e-12
    assert float((spread[live] - 1).abs().max()) < 1e-12


@pytest.mark.slow  # generating MNIST-1D takes 5-15 s
def test_mnist1d_split_leaves_the_global_generators_alone():
    np.random.seed(123)
    random.seed(123)
    expected_np, expected_py = np.random.rand(), random.random()
    np.random.seed(123)
    random.seed(123)
    s = datasets.load("mnist1d", Context(seed=0))
    assert (np.random.rand(), random.random()) == (expected_np, expected_py)
    assert s.d == 40 and s.n_train == datasets.split_sizes(datasets.MNIST1D_SAMPLES)[0]
    assert set(s.y_test.tolist()) == set(range(10))


def test_data_order_is_a_sequence_of_permutations():
    order = datasets.data_order(7, 3, 10, torch.Generator().manual_seed(0))
    flat = order.flatten()
    for epoch in range(4):
        assert sorted(flat[7 * epoch : 7 * epoch + 7].tolist()) == list(range(7))


def test_shifted_images_are_translations_with_zero_fill():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(30, 64, generator=g, dtype=torch.float64)
    moved = datasets.shifted_inputs(X, (8, 8), torch.Generator().manual_seed(1), noise=0.0)
    for x, m in zip(X, moved, strict=True):
        img = x.reshape(8, 8)
        candidates = []
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                pad = torch.zeros(10, 10, dtype=torch.float64)
                pad[1 + dy : 9 + dy, 1 + dx : 9 + dx] = img
                candidates.append(pad[1:9, 1:9].flatten())
        assert any(torch.equal(m, c) for c in candidates)
    noisy = datasets.shifted_inputs(X, (8, 8), torch.Generator().manual_seed(1), max_shift=0,
                                    noise=0.5)  # fmt: skip
    resid = noisy - X
    assert abs(float(resid.std()) / (0.5 * float(X.std())) - 1) < 0.1  # 1920 draws: sd err ~2%


def test_shifted_load_keeps_the_split_and_restandardises():
    ctx = Context(seed=3)
    plain = datasets.load("digits", ctx)
    moved = datasets.load("digits", ctx, shift=torch.Generator().manual_seed(4))
    assert torch.equal(plain.y_test, moved.y_test) and moved.name == "digits_shifted"
    assert not torch.allclose(plain.X_test, moved.X_test)
    spread = moved.X_train.std(dim=0)
    assert float((spread[spread > 0] - 1).abs().max()) < 1e-12

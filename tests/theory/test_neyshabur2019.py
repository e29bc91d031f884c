"""neyshabur2019: the multi-class margin against a per-point loop and the argmax, the percentile
against numpy, the norms against explicit sums, and the norm term's invariance under the ReLU
rescaling (U, U0, V) -> (a U, a U0, V / a), which leaves the network and its margins unchanged."""

import math

import numpy as np
import pytest
import torch

from theorylab.theory import neyshabur2019


def test_margin_against_a_loop_and_the_argmax():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(200, 10, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 10, (200,), generator=gen)
    margins = neyshabur2019.multiclass_margin(logits, y)
    for i in range(200):
        others = [float(logits[i, j]) for j in range(10) if j != int(y[i])]
        assert float(margins[i]) == pytest.approx(float(logits[i, y[i]]) - max(others), abs=0)
    correct = logits.argmax(-1) == y
    assert torch.equal(margins > 0, correct)
    assert 0 < int(correct.sum()) < 200  # both kinds of points are present


def test_margin_is_batched_over_leading_axes():
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 7, 4, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 4, (3, 7), generator=gen)
    batched = neyshabur2019.multiclass_margin(logits, y)
    for g in range(3):
        torch.testing.assert_close(batched[g], neyshabur2019.multiclass_margin(logits[g], y[g]))


def test_two_class_margin_is_the_binary_margin():
    f = torch.tensor([[0.3, 1.5], [2.0, -1.0]], dtype=torch.float64)
    y = torch.tensor([1, 1])
    sign = 2 * y - 1
    expected = sign * (f[:, 1] - f[:, 0])
    torch.testing.assert_close(neyshabur2019.multiclass_margin(f, y), expected)


@pytest.mark.parametrize("q", [0.0, 5.0, 37.5, 50.0])
def test_percentile_matches_numpy(q):
    values = torch.randn(3, 101, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    got = neyshabur2019.margin_at_percentile(values, q).numpy()
    np.testing.assert_allclose(got, np.percentile(values.numpy(), q, axis=-1), rtol=1e-12)


def _net(h=6, d=4, c=3, m=9, seed=3):
    gen = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(*shape, generator=gen, dtype=torch.float64)
                 for shape in ((h, d), (h, d), (c, h), (m, d)))  # fmt: skip


def test_norms_against_explicit_sums():
    U, U0, V, X = _net()
    t = neyshabur2019.norm_terms(U, U0, V, X)
    assert t.V_F == pytest.approx(math.sqrt(sum(float(v) ** 2 for v in V.flatten())), rel=1e-14)
    assert t.dU_F == pytest.approx(math.sqrt(float(((U - U0) ** 2).sum())), rel=1e-14)
    U0X = sum(float(U0[j] @ X[i]) ** 2 for j in range(6) for i in range(9))
    assert t.U0X_F == pytest.approx(math.sqrt(U0X), rel=1e-13)
    assert t.product == pytest.approx(t.V_F * (t.dU_F * t.X_F + t.U0X_F), rel=1e-15)
    term = neyshabur2019.norm_term(t, 0.5, 9, 3)
    assert term == pytest.approx(math.sqrt(3) * t.product / (0.5 * 9), rel=1e-14)
    assert neyshabur2019.norm_term(t, 0.0, 9, 3) == math.inf
    assert neyshabur2019.capacity_bound(0.1, t, 0.5, 9, 3, 6) == pytest.approx(
        0.1 + term + math.sqrt(6 / 9), rel=1e-14
    )


def test_norm_term_is_invariant_under_relu_rescaling():
    """f = V relu(U x) is unchanged by (U, U0, V) -> (a U, a U0, V / a), so are the margins; the
    norm term (a measure of the function) must be unchanged too."""
    U, U0, V, X = _net()
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2])
    a = 7.5
    out = torch.relu(X @ U.T) @ V.T
    out_scaled = torch.relu(X @ (a * U).T) @ (V / a).T
    torch.testing.assert_close(out, out_scaled)
    gamma = float(neyshabur2019.margin_at_percentile(neyshabur2019.multiclass_margin(out, y), 50))
    t1 = neyshabur2019.norm_terms(U, U0, V, X)
    t2 = neyshabur2019.norm_terms(a * U, a * U0, V / a, X)
    assert neyshabur2019.norm_term(t2, gamma, 9, 3) == pytest.approx(
        neyshabur2019.norm_term(t1, gamma, 9, 3), rel=1e-12
    )

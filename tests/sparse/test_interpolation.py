"""interpolation: the error curve and barrier on hand-made networks whose error along the
segment is known in closed form."""

import torch

from theorylab.sparse import interpolation
from theorylab.sparse.masked_mlp import MaskedStack

N = 1000
X = ((torch.arange(N, dtype=torch.float64) + 0.5) / N)[:, None]  # x_i in (0, 1)
Y = (X[:, 0] > 0.5).long()  # class 1 iff x > 1/2


def _net(in_w, out_w, bias):
    """1 -> 2 -> 1 -> 2: hidden h = relu(in_w x), a unit summing out_w . h, logits (0, s - b)."""
    W = [torch.tensor([[[in_w[0]], [in_w[1]]]], dtype=torch.float64),
         torch.tensor([[out_w]], dtype=torch.float64),
         torch.tensor([[[0.0], [1.0]]], dtype=torch.float64)]  # fmt: skip
    b = [torch.zeros(1, 2, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64),
         torch.tensor([[0.0, -bias]], dtype=torch.float64)]  # fmt: skip
    return MaskedStack(W, b, [torch.ones_like(w) for w in W])


def test_bias_path_is_linear_and_barrier_is_half_the_endpoint_gap():
    # Same hidden weights, thresholds c_A = 0.3 and c_B = 0.5 on the logit x - c: along the
    # segment the threshold is alpha 0.3 + (1 - alpha) 0.5, error = |threshold - 0.5|.
    A, B = _net((1, 0), (1, 0), 0.3), _net((1, 0), (1, 0), 0.5)
    alphas = interpolation.alpha_grid(21)
    err = interpolation.error_curve(A, B, X, Y, alphas)[:, 0]
    thresholds = alphas * 0.3 + (1 - alphas) * 0.5
    expected = torch.tensor([float(((X[:, 0] > t) & (X[:, 0] <= 0.5)).double().mean())
                             for t in thresholds.tolist()], dtype=torch.float64)  # fmt: skip
    assert torch.allclose(err, expected, atol=1e-12)
    assert abs(float(interpolation.barrier(err[:, None])[0]) - 0.1) < 1.5 / N


def test_permuted_hidden_units_give_the_closed_form_bump():
    # A uses hidden unit 1, B unit 2: the segment computes s(alpha) x - 1/2 with
    # s = alpha^2 + (1 - alpha)^2, so it misclassifies x in (1/2, 1/(2 s)]: error 1/2 at 1/2.
    A, B = _net((1, 0), (1, 0), 0.5), _net((0, 1), (0, 1), 0.5)
    alphas = interpolation.alpha_grid(21)
    err = interpolation.error_curve(A, B, X, Y, alphas)[:, 0]
    s = alphas**2 + (1 - alphas) ** 2
    expected = torch.tensor([float(((X[:, 0] > 0.5) & (X[:, 0] * v <= 0.5)).double().mean())
                             for v in s.tolist()], dtype=torch.float64)  # fmt: skip
    assert torch.allclose(err, expected, atol=1e-12)
    assert float(err[0]) == 0.0 and float(err[-1]) == 0.0
    assert abs(float(interpolation.barrier(err[:, None])[0]) - 0.5) < 1.5 / N


def test_identical_copies_have_no_barrier_and_masks_must_agree():
    A = _net((1, 0), (1, 0), 0.4)
    err = interpolation.error_curve(A, A.clone(), X, Y, interpolation.alpha_grid(21))
    assert float(interpolation.barrier(err).abs().max()) == 0.0
    B = A.clone()
    B.masks[0] = torch.zeros_like(B.masks[0])
    try:
        interpolation.interpolate(A, B, 0.5)
    except ValueError as exc:
        assert "share their masks" in str(exc)
    else:
        raise AssertionError("different masks were interpolated")

"""min_norm: the closed form against iteration, the limit against lstsq, the step limit."""

import torch

from theorylab.theory import min_norm


def test_closed_form_equals_iteration_and_limit_equals_lstsq():
    g = torch.Generator().manual_seed(2)
    A = torch.randn(4, 7, generator=g, dtype=torch.float64)
    b = torch.randn(4, generator=g, dtype=torch.float64)
    x0 = torch.randn(7, generator=g, dtype=torch.float64)
    eta = 0.9 * min_norm.step_size_limit(float(torch.linalg.matrix_norm(A, ord=2)))
    path = min_norm.gd_iterates(A, b, x0, eta, 25)
    x = x0
    for k in range(26):
        assert torch.allclose(path[k], x, atol=1e-11), k
        x = x - eta * A.T @ (A @ x - b)
    zero = torch.zeros(7, dtype=torch.float64)
    lstsq = torch.linalg.lstsq(A, b[:, None], driver="gelsd").solution[:, 0]
    assert torch.allclose(min_norm.min_norm_limit(A, b, zero), lstsq, atol=1e-12)


def test_step_size_limit_separates_converging_from_diverging_gd():
    """Just below 2/s_max^2 GD converges on 1/2||Ax - b||^2; just above, it diverges."""
    g = torch.Generator().manual_seed(3)
    A = torch.randn(3, 6, generator=g, dtype=torch.float64)
    b = torch.randn(3, generator=g, dtype=torch.float64)
    limit = min_norm.step_size_limit(float(torch.linalg.matrix_norm(A, ord=2)))
    for factor, converges in ((0.99, True), (1.01, False)):
        x = torch.zeros(6, dtype=torch.float64)
        for _ in range(5000):
            x = x - factor * limit * A.T @ (A @ x - b)
        assert (float((A @ x - b).norm()) < 1e-8) == converges, factor


def test_rank():
    s = torch.tensor([3.0, 1.0, 1e-20], dtype=torch.float64)
    assert min_norm.row_space_rank(s) == 2

"""min_norm: the closed form against iteration, the limit against lstsq, the step limit."""

import pytest
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


def test_step_size_limit_and_rank():
    assert min_norm.step_size_limit(4.0) == pytest.approx(0.125)
    s = torch.tensor([3.0, 1.0, 1e-20], dtype=torch.float64)
    assert min_norm.row_space_rank(s) == 2

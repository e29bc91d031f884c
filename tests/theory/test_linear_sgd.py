"""The stationary SGD error against an independent route: iterating the exact second-moment
recursion M <- E[(I - eta H_B) M (I - eta H_B)] + eta^2 s2 I / B with E[H_B M H_B] computed by
brute-force Monte-Carlo-free Isserlis sums over a small d, and its first-order limit."""

import numpy as np
import pytest

from theorylab.theory import linear_sgd


def _isserlis_fourth_moment(M: np.ndarray) -> np.ndarray:
    """E[x x^T M x x^T] for x ~ N(0, I) entry by entry: E[x_i x_j x_k x_l] summed."""
    d = M.shape[0]
    out = np.zeros_like(M)
    delta = np.eye(d)
    for i in range(d):
        for l in range(d):  # noqa: E741
            total = 0.0
            for j in range(d):
                for k in range(d):
                    moment = (
                        delta[i, j] * delta[k, l]
                        + delta[i, k] * delta[j, l]
                        + delta[i, l] * delta[j, k]
                    )
                    total += moment * M[j, k]
            out[i, l] = total
    return out


@pytest.mark.parametrize("eta, batch", [(0.1, 1), (0.3, 4), (0.05, 2)])
def test_fixed_point_of_the_exact_recursion(eta, batch):
    d, s2 = 3, 0.7
    M = np.zeros((d, d))
    for _ in range(3000):
        fourth = _isserlis_fourth_moment(M)
        # E[H_B M H_B] = (1/B) E[x x^T M x x^T] + (1 - 1/B) M
        second = fourth / batch + (1 - 1 / batch) * M
        M = M - 2 * eta * M + eta**2 * second + eta**2 * s2 / batch * np.eye(d)
    assert np.trace(M) == pytest.approx(linear_sgd.stationary_error(d, eta, batch, s2), rel=1e-10)


def test_first_order_limit_and_divergence():
    small = linear_sgd.stationary_error(10, 1e-6, 1, 1.0)
    assert small / linear_sgd.first_order_error(10, 1e-6, 1, 1.0) == pytest.approx(1, abs=1e-4)
    assert linear_sgd.stationary_error(10, 1.0, 1, 1.0) == float("inf")  # 1 <= 11

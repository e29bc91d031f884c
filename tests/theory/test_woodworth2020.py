"""woodworth2020: the dual Newton solve against KKT, optimality and the two regimes; q, the
link and the bounds against direct numerics; the min-l1 linear program."""

import math

import numpy as np
import pytest
import torch

from theorylab.theory import woodworth2020 as w


@pytest.fixture(scope="module")
def system():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(8, 20, generator=g, dtype=torch.float64)
    beta_star = torch.zeros(20, dtype=torch.float64)
    beta_star[:2] = torch.tensor([1.5, -0.7], dtype=torch.float64)
    return X, X @ beta_star, beta_star


@pytest.mark.parametrize("alpha", [1e-3, 0.1, 1.0, 30.0])
def test_solution_satisfies_kkt_and_is_optimal(system, alpha):
    X, y, _ = system
    sol = w.solve_q_alpha(X, y, alpha)
    assert sol.constraint_residual < 1e-10
    assert torch.allclose(sol.beta, 2 * alpha**2 * torch.sinh(X.T @ sol.nu), rtol=1e-12)
    # Optimality: every feasible perturbation along null(X) increases Q_alpha.
    null = torch.linalg.svd(X, full_matrices=True).Vh[X.shape[0] :]
    g = torch.Generator().manual_seed(1)
    base = w.q_alpha(sol.beta, alpha)
    for _ in range(20):
        direction = null.T @ torch.randn(null.shape[0], generator=g, dtype=torch.float64)
        step = 1e-3 * float(sol.beta.norm()) / float(direction.norm())
        assert w.q_alpha(sol.beta + step * direction, alpha) >= base - 1e-12 * abs(base)


def test_regimes_approach_min_l1_and_min_l2(system):
    X, y, beta_star = system
    beta_l1 = w.min_l1_solution(X, y)
    beta_l2 = torch.linalg.pinv(X) @ y
    assert torch.allclose(beta_l1, beta_star, atol=1e-7)  # 2-sparse: l1 recovers it
    small = w.solve_q_alpha(X, y, 1e-4).beta
    large = w.solve_q_alpha(X, y, 100.0).beta
    excess = float(small.abs().sum() - beta_l1.abs().sum())
    assert 0 <= excess <= w.l1_excess_bound(beta_l1, small, 1e-4)
    distance = float((large - beta_l2).norm())
    assert distance <= w.kernel_distance_bound(large, 100.0) < 1e-4


def test_q_matches_direct_formula_and_limits():
    zs = np.array([-30.0, -1.0, 0.0, 1e-3, 2.0, 40.0])
    direct = 2 - np.sqrt(4 + zs**2) + zs * np.arcsinh(zs / 2)
    for z, expected in zip(zs, direct, strict=True):
        beta = torch.tensor([z], dtype=torch.float64)
        assert w.q_alpha(beta, 1.0) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    # Kernel limit Q_alpha(b) ~ ||b||^2 / (4 alpha^2); rich limit ~ ||b||_1 log(1/alpha^2).
    b = torch.tensor([0.5, -1.0], dtype=torch.float64)
    assert w.q_alpha(b, 100.0) * 4 * 100.0**2 == pytest.approx(1.25, rel=1e-6)
    a = 1e-8
    assert w.q_alpha(b, a) / (1.5 * math.log(1 / a**2)) == pytest.approx(1.0, rel=0.05)


def test_link_and_bounds_numerically():
    s = torch.linspace(-3, 3, 7, dtype=torch.float64)
    assert torch.allclose(w.link(0.5, s), 0.5 * torch.sinh(s), rtol=1e-14)
    ones = torch.ones(4, dtype=torch.float64)
    assert w.kernel_distance_bound(ones, 2.0) == pytest.approx(2.0 / (math.sqrt(48) * 4))
    assert math.isnan(w.l1_excess_bound(ones, ones, 1.0))  # needs alpha^2 < 1/e


def test_min_l1_solution_small_case():
    X = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    beta = w.min_l1_solution(X, torch.tensor([2.0], dtype=torch.float64))
    assert torch.allclose(beta, torch.tensor([0.0, 1.0], dtype=torch.float64), atol=1e-9)


@pytest.mark.parametrize("alpha", [3.0, 10.0])
def test_kernel_regime_offset_against_the_newton_solution(system, alpha):
    """argmin Q_alpha - beta_l2 (damped Newton on the dual, solved to 1e-15) against its leading
    order P_null(beta_l2^3)/(24 alpha^4): the relative error is O(max|beta|^2/alpha^4); half
    the offset (a quartic term -z^4/384) is far off."""
    X, y, _ = system
    beta_l2 = torch.linalg.pinv(X) @ y
    offset = w.solve_q_alpha(X, y, alpha, tol=1e-15).beta - beta_l2
    predicted = w.kernel_regime_offset(X, beta_l2, alpha)
    relative = float((offset - predicted).norm() / predicted.norm())
    z_max = float(beta_l2.abs().max()) / alpha**2
    print(f"alpha {alpha}: relative error {relative:.2e}, max|z| {z_max:.2e}")
    assert relative <= 10 * z_max**2 + 1e-6
    assert float((offset - predicted / 2).norm() / predicted.norm()) > 0.4
    assert float(X.abs().max() * (X @ predicted).abs().max()) < 1e-12  # in null(X)


def test_kernel_offset_coefficient_from_the_series_of_q():
    """-2 c4 / c2 for q(z) = c2 z^2 + c4 z^4 + ..., with c2, c4 from finite differences of q."""
    h = 1e-2
    zs = np.array([-2 * h, -h, 0.0, h, 2 * h])
    q = 2 - np.sqrt(4 + zs**2) + zs * np.arcsinh(zs / 2)
    c2 = (q[3] - 2 * q[2] + q[1]) / (2 * h**2)  # q''(0)/2, up to O(h^2)
    fourth = (q[4] - 4 * q[3] + 6 * q[2] - 4 * q[1] + q[0]) / h**4  # q''''(0)
    c4 = fourth / 24
    assert float(w.KERNEL_OFFSET_COEFFICIENT) == pytest.approx(-2 * c4 / c2, rel=1e-3)


def test_link_is_the_derivative_of_the_conjugate():
    """d/ds conjugate(alpha, s) = link(alpha, s) (central differences), as the dual Newton
    solve assumes."""
    s = torch.linspace(-2.0, 2.0, 9, dtype=torch.float64)
    h = 1e-6
    for alpha in (0.1, 1.0, 3.0):
        numeric = (w.conjugate(alpha, s + h) - w.conjugate(alpha, s - h)) / (2 * h)
        torch.testing.assert_close(numeric, w.link(alpha, s), rtol=1e-8, atol=1e-10)

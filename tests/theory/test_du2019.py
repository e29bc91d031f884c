"""theorylab.theory.du2019: the lambdified closed forms against direct formulas (exact tier)
and against Monte-Carlo estimates of the quantities they describe (statistical tier)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from theorylab.theory import du2019, hoeffding

# Failure probability of the Monte-Carlo checks' explicit radii (fixed seeds make them
# deterministic; the radius is what a fresh seed would pass with probability 1 - MC_DELTA).
MC_DELTA = 1e-6


def _unit_rows(rows: int, dim: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(rows, dim, generator=gen, dtype=torch.float64)
    return X / X.norm(dim=1, keepdim=True)


# --- exact tier -------------------------------------------------------------------------------


def test_coactivation_is_the_direct_formula_with_clipping():
    cosines = torch.tensor([-1.0 - 1e-15, -1.0, -0.3, 0.0, 0.5, 1.0, 1.0 + 1e-15])
    cosines = cosines.to(torch.float64)
    direct = (math.pi - np.arccos(np.clip(cosines.numpy(), -1, 1))) / (2 * math.pi)
    got = du2019.coactivation(cosines)
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), direct, rtol=0, atol=1e-15)
    assert got[0] == 0.0 and got[-1] == 0.5  # antipodal never co-active; x with itself 1/2


def test_h_inf_entries_diagonal_and_spectrum():
    X = _unit_rows(12, 7, seed=0)
    H = du2019.h_inf(X)
    G = (X @ X.T).clamp(-1, 1)
    direct = G * (math.pi - torch.arccos(G)) / (2 * math.pi)
    torch.testing.assert_close(H, direct, rtol=0, atol=1e-14)
    torch.testing.assert_close(torch.diagonal(H), torch.full((12,), 0.5, dtype=torch.float64))
    assert torch.equal(H, H.T)
    assert float(torch.linalg.eigvalsh(H)[0]) > 0  # lambda_0 > 0: no two rows parallel


def test_bounds_are_the_direct_formulas():
    n, m, lam0, r0, delta, eta = 50, 4096, 0.2, 7.0, 0.1, 0.3
    c = math.sqrt(2 * math.pi) / 16
    assert du2019.linear_rate(eta, lam0) == pytest.approx(1 - eta * lam0 / 2, rel=1e-15)
    R_prime = du2019.distance_bound(n, m, lam0, r0)
    assert R_prime == pytest.approx(4 * math.sqrt(n) * r0 / (math.sqrt(m) * lam0), rel=1e-14)
    R = du2019.stability_radius(n, lam0, delta)
    assert R == pytest.approx(c * delta * lam0 / n**2, rel=1e-14)
    m_star = du2019.width_requirement(n, lam0, r0, delta)
    assert m_star == pytest.approx(16 * n**5 * r0**2 / (c**2 * delta**2 * lam0**4), rel=1e-13)
    # m* is where R' meets R; wider nets have R' < R, narrower ones R' > R.
    assert du2019.distance_bound(n, m_star, lam0, r0) == pytest.approx(R, rel=1e-12)
    assert du2019.distance_bound(n, 1.01 * m_star, lam0, r0) < R
    assert du2019.distance_bound(n, 0.99 * m_star, lam0, r0) > R


def test_bounded_label_width_is_the_markov_substitution():
    n, lam0, C, delta = 30, 0.15, 2.0, 0.05
    markov_sq = (n * C**2 + n / 2) / delta
    via_markov = du2019.width_requirement(n, lam0, math.sqrt(markov_sq), delta)
    explicit = 2048 * (C**2 + 0.5) * n**6 / (math.pi * lam0**4 * delta**3)
    got = du2019.width_requirement_bounded_labels(n, lam0, C, delta)
    assert got == pytest.approx(via_markov, rel=1e-13)
    assert got == pytest.approx(explicit, rel=1e-13)
    assert du2019.expected_initial_residual_sq(n * C**2, n) == pytest.approx(n * C**2 + n / 2)


def test_stable_step_max_separates_bounded_from_growing_iterates():
    curvature = 3.7
    edge = du2019.stable_step_max(curvature)
    assert edge == pytest.approx(2 / curvature, rel=1e-15)
    steps = 2000
    for factor, grows in ((0.999, False), (1.001, True)):
        x = 1.0
        for _ in range(steps):
            x -= factor * edge * curvature * x  # GD on curvature x^2 / 2
        assert (abs(x) > 1.0) == grows, (factor, x)


def test_kernel_residual_prediction_is_the_matrix_power():
    X = _unit_rows(8, 5, seed=1)
    H = du2019.h_inf(X)
    eigenvalues, eigenvectors = torch.linalg.eigh(H)
    r0 = torch.randn(8, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    eta, steps = 1.0 / float(eigenvalues[-1]), 6
    predicted = du2019.kernel_residual_prediction(eigenvalues, eigenvectors, r0, eta, steps)
    r = r0.clone()
    step_matrix = torch.eye(8, dtype=torch.float64) - eta * H
    for k in range(steps + 1):
        torch.testing.assert_close(predicted[k], r, rtol=0, atol=1e-13)
        r = step_matrix @ r


# --- statistical tier -------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [2, 20])
def test_coactivation_matches_monte_carlo(dim):
    """P(w.x_i >= 0, w.x_j >= 0) for w ~ N(0, I_dim): every pair within the Hoeffding radius;
    the mutated form theta/(2 pi) is rejected by the same estimate."""
    X = _unit_rows(8, dim, seed=10 + dim)
    samples = 200_000
    w = torch.randn(samples, dim, generator=torch.Generator().manual_seed(dim), dtype=X.dtype)
    active = (X @ w.T >= 0).to(torch.float64)
    estimate = active @ active.T / samples
    cosines = X @ X.T
    closed = du2019.coactivation(cosines)
    radius = hoeffding.union_radius(samples, 8 * 9 // 2, MC_DELTA)
    error = float((estimate - closed).abs().max())
    print(f"d={dim}: max |MC - closed form| = {error:.2e}, radius {radius:.2e}")
    assert error <= radius
    mutated = torch.arccos(cosines.clamp(-1, 1)) / (2 * math.pi)
    assert float((estimate - mutated).abs().max()) > 5 * radius


@pytest.mark.parametrize("width", [1, 64])
def test_expected_initial_residual_matches_monte_carlo(width):
    """E ||y - u(0)||^2 = ||y||^2 + n/2 at any width, over 20000 initialisations; tolerance 5
    standard errors of the mean (CLT); ||y||^2 + n (a wrong variance) is rejected."""
    n, d, networks = 6, 4, 20_000
    X = _unit_rows(n, d, seed=3)
    y = torch.linspace(-1.0, 1.5, n, dtype=torch.float64)
    gen = torch.Generator().manual_seed(100 + width)
    W = torch.randn(networks, width, d, generator=gen, dtype=torch.float64)
    a = 2.0 * torch.randint(0, 2, (networks, width), generator=gen).to(torch.float64) - 1.0
    u = torch.einsum("gmn,gm->gn", torch.relu(torch.einsum("gmd,nd->gmn", W, X)), a)
    u = u / math.sqrt(width)
    residual_sq = (y - u).pow(2).sum(dim=1)
    mean = float(residual_sq.mean())
    stderr = float(residual_sq.std()) / math.sqrt(networks)
    expected = du2019.expected_initial_residual_sq(float(y @ y), n)
    print(f"m={width}: MC {mean:.4f} +- {stderr:.4f}, closed form {expected:.4f}")
    assert abs(mean - expected) <= 5 * stderr
    assert abs(mean - (float(y @ y) + n)) > 5 * stderr

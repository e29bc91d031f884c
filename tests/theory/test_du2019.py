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
    off = ~torch.eye(12, dtype=torch.bool)
    torch.testing.assert_close(H[off], direct[off], rtol=0, atol=1e-14)
    assert torch.diagonal(H).tolist() == [0.5] * 12
    assert torch.equal(H, H.T)
    assert float(torch.linalg.eigvalsh(H)[0]) > 0  # lambda_0 > 0: no two rows parallel


def test_distance_bound_is_the_step_sum_under_the_linear_rate():
    """R' is Cor 4.1's sum: each GD step moves a unit by at most eta sqrt(n/m) ||y - u(k)||, and
    ||y - u(k)|| <= rate^(k/2) ||y - u(0)||; summed numerically, the steps approach R' as
    eta -> 0 and stay below it for every eta (a rate without Thm 4.1's 1/2 would give R'/2)."""
    n, m, lam0, r0 = 50, 4096, 0.2, 7.0
    R_prime = du2019.distance_bound(n, m, lam0, r0)
    for eta in (1e-3, 1e-2, 1.0, 1 / lam0):
        q = du2019.linear_rate(eta, lam0)
        k = np.arange(int(60 / (eta * lam0)) + 1)  # q^(k/2) has fallen below e^-15 by then
        total = eta * math.sqrt(n / m) * r0 * float(np.sum(q ** (k / 2)))
        assert total <= R_prime * (1 + 1e-12), eta
    # eta = 1/lambda_0: rate 1/2, sum 1/(1 - sqrt(1/2)), i.e. R' (1 + sqrt(1/2)) / 2.
    assert total == pytest.approx(R_prime * (1 + math.sqrt(0.5)) / 2, rel=1e-8)
    small = 1e-4
    q = du2019.linear_rate(small, lam0)
    limit = small * math.sqrt(n / m) * r0 / (1 - math.sqrt(q))  # the geometric sum, summed out
    assert limit == pytest.approx(R_prime, rel=1e-4)


def test_width_requirement_is_where_the_distance_bound_meets_the_stability_radius():
    """m* solves R'(m*) = R: wider nets have R' < R, narrower ones R' > R; R = c delta lambda_0
    / n^2 is linear in delta and lambda_0 and falls like n^-2 (checked by doubling)."""
    n, lam0, r0, delta = 50, 0.2, 7.0, 0.1
    R = du2019.stability_radius(n, lam0, delta)
    m_star = du2019.width_requirement(n, lam0, r0, delta)
    assert du2019.distance_bound(n, m_star, lam0, r0) == pytest.approx(R, rel=1e-12)
    assert du2019.distance_bound(n, 1.01 * m_star, lam0, r0) < R
    assert du2019.distance_bound(n, 0.99 * m_star, lam0, r0) > R
    assert du2019.stability_radius(n, 2 * lam0, delta) == pytest.approx(2 * R, rel=1e-14)
    assert du2019.stability_radius(2 * n, lam0, 2 * delta) == pytest.approx(R / 2, rel=1e-14)


def test_h_inf_diagonal_is_exactly_one_half():
    """Rows normalised in floating point have x_i.x_i = 1 +- a few ulps; arccos of such a Gram
    diagonal gives 0.5 - 4e-9 (issue 19). The diagonal must be exactly 1/2."""
    gen = torch.Generator().manual_seed(11)
    X = torch.randn(200, 50, generator=gen, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    gram_diagonal = (X * X).sum(dim=1)
    assert bool((gram_diagonal != 1.0).any())  # the case of the issue is present
    naive = (math.pi - torch.arccos(gram_diagonal.clamp(-1, 1))) / (2 * math.pi)
    assert float((naive - 0.5).abs().max()) > 1e-9  # ... and arccos alone misses 1/2
    H = du2019.h_inf(X)
    assert torch.diagonal(H).tolist() == [0.5] * 200


def test_pairwise_angles_are_accurate_for_nearly_parallel_and_antipodal_rows():
    """Angles 1e-9 and pi - 1e-9 are recovered to 1e-6 relative (arccos gives ~2e-8 of noise),
    and equal to arccos where the cosine is moderate."""
    for angle in (1e-9, 1e-5, 0.3, math.pi - 1e-9):
        X = torch.tensor([[1.0, 0.0, 0.0], [math.cos(angle), math.sin(angle), 0.0]],
                         dtype=torch.float64)  # fmt: skip
        cosines, angles = du2019.pairwise_cosines_and_angles(X)
        assert float(angles[0, 1]) == pytest.approx(angle, rel=1e-6)
        assert float(angles[0, 1]) == float(angles[1, 0])
        assert angles[0, 0] == 0.0 and cosines[0, 0] == 1.0
    X = _unit_rows(30, 6, seed=4)
    cosines, angles = du2019.pairwise_cosines_and_angles(X)
    moderate = (X @ X.T).abs() <= 0.5
    assert torch.equal(angles[moderate], torch.arccos((X @ X.T)[moderate]))


def test_bounded_label_width_is_the_markov_substitution():
    n, lam0, C, delta = 30, 0.15, 2.0, 0.05
    markov_sq = (n * C**2 + n / 2) / delta
    via_markov = du2019.width_requirement(n, lam0, math.sqrt(markov_sq), delta)
    explicit = 2048 * (C**2 + 0.5) * n**6 / (math.pi * lam0**4 * delta**3)
    got = du2019.width_requirement_bounded_labels(n, lam0, C, delta)
    assert got == pytest.approx(via_markov, rel=1e-13)
    assert got == pytest.approx(explicit, rel=1e-13)
    assert du2019.expected_initial_residual_sq(n * C**2, n) == pytest.approx(n * C**2 + n / 2)


def test_kernel_movement_of_one_unit_by_hand():
    """One unit active on e_1 and e_2 only (of e_1, e_2, e_3), residual sums (3, 4, 12): the
    third input is inactive, so the movement is step * ||(3, 4, 0)|| = 5 step."""
    X = torch.eye(3, dtype=torch.float64)
    patterns = torch.tensor([[1.0], [1.0], [0.0]], dtype=torch.float64)
    S = torch.tensor([[3.0], [4.0], [12.0]], dtype=torch.float64)
    assert du2019.kernel_movement(X, patterns, S, 0.25).tolist() == [1.25]


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

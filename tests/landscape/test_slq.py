"""Stochastic Lanczos quadrature against the dense spectrum: the quadrature moments of one
probe equal u^T H^p u exactly for p <= 2m - 1; with m = P steps the nodes are the
eigenvalues; averaged over probes the moments estimate tr(H^p) / P."""

import numpy as np
import pytest
import torch

from theorylab.landscape import slq_density


def test_one_probe_moments_are_exact_to_degree_2m_minus_1(classifier):
    H = classifier["H"]
    P = H.shape[0]
    steps = 5
    sd = slq_density(lambda v: H @ v, P, 1, steps, torch.Generator().manual_seed(4))
    gen = torch.Generator().manual_seed(4)  # the same probe, drawn again
    z = 2.0 * torch.randint(0, 2, (P,), generator=gen, dtype=torch.int8).double() - 1.0
    u = z / z.norm()
    power = u.clone()
    for p in range(2 * steps):
        assert sd.moment(p) == pytest.approx(float(u @ power), rel=1e-10, abs=1e-13)
        power = H @ power
    assert sd.probes == 1 and sd.steps == steps and sd.products == steps


def test_full_steps_recover_the_spectrum(classifier):
    H, eig = classifier["H"], classifier["eig"].numpy()
    sd = slq_density(lambda v: H @ v, H.shape[0], 1, H.shape[0], torch.Generator())
    nodes = sd.nodes[0][sd.weights[0] > 1e-12]
    # every node with weight is an eigenvalue, and the extremes are found
    assert np.abs(nodes[:, None] - eig[None, :]).min(axis=1).max() <= 1e-9
    assert nodes.max() == pytest.approx(eig.max(), rel=1e-10)
    assert nodes.min() == pytest.approx(eig.min(), rel=1e-10)


def test_many_probes_estimate_normalised_trace_and_density_integrates_to_one(classifier):
    H = classifier["H"]
    P = H.shape[0]
    sd = slq_density(lambda v: H @ v, P, 200, 8, torch.Generator().manual_seed(2))
    per_probe = [float(np.sum(w * t)) for t, w in zip(sd.nodes, sd.weights, strict=True)]
    se = np.std(per_probe, ddof=1) / np.sqrt(len(per_probe))
    assert abs(sd.moment(1) - float(H.trace()) / P) <= 4 * se
    grid = np.linspace(-5, 5, 20001)
    mass = np.trapezoid(sd.density(grid, sigma=0.05), grid)
    assert mass == pytest.approx(1.0, abs=1e-6)

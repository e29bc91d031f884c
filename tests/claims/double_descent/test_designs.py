"""The linear-algebra engine of double_descent against brute force: explicit estimator
matrices, pinv, gradient descent, and the condition guard."""

from __future__ import annotations

import pytest
import torch

from theorylab.claims.double_descent import designs
from theorylab.errors import Inconclusive
from theorylab.runtime import Context


def _explicit_risk(X, beta, s2, ridge):
    """||B X beta - beta||^2 + s2 ||B||_F^2 with B the explicit estimator matrix (pinv(X), or
    (X^T X + n lambda I)^{-1} X^T): the noise average of ||B y - beta||^2."""
    n, p = X.shape
    if ridge == 0:
        B = torch.linalg.pinv(X)
    else:
        B = torch.linalg.solve(X.T @ X + n * ridge * torch.eye(p, dtype=X.dtype), X.T)
    return float((B @ X @ beta - beta).pow(2).sum() + s2 * B.pow(2).sum())


@pytest.mark.parametrize("n, p", [(30, 12), (12, 30), (20, 20 + 5)])
@pytest.mark.parametrize("ridges", [(0.0,), (0.3,), (0.0, 0.05, 2.0)])
def test_cholesky_and_eigen_routes_equal_the_explicit_estimator(n, p, ridges):
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(4, n, p, generator=gen, dtype=torch.float64)
    beta = torch.randn(p, generator=gen, dtype=torch.float64)
    s2 = 0.7
    got = designs.conditional_risks(X, beta, s2, ridges)
    spec = designs.spectra(X, beta)
    for j, ridge in enumerate(ridges):
        for r in range(4):
            want = _explicit_risk(X[r], beta, s2, ridge)
            assert float(got[r, j]) == pytest.approx(want, rel=1e-9)
            assert float(spec.risk(s2, ridge)[r]) == pytest.approx(want, rel=1e-9)


def test_mean_risk_curve_is_the_mean_of_the_per_lambda_risks():
    gen = torch.Generator().manual_seed(4)
    X = torch.randn(5, 20, 35, generator=gen, dtype=torch.float64)
    spec = designs.spectra(X, torch.randn(35, generator=gen, dtype=torch.float64))
    grid = [1e-3, 0.1, 0.7, 30.0]
    curve = spec.mean_risk_curve(0.4, grid)
    for value, lam in zip(curve.tolist(), grid, strict=True):
        assert value == pytest.approx(float(spec.risk(0.4, lam).mean()), rel=1e-12)


def test_min_norm_solvers_are_pinv_and_the_gradient_descent_limit():
    """Normal equations and QR give pinv(X) y; GD from zero on 1/2||y - Xb||^2 ends there."""
    gen = torch.Generator().manual_seed(5)
    X = torch.randn(2, 8, 20, generator=gen, dtype=torch.float64)
    y = torch.randn(2, 8, generator=gen, dtype=torch.float64)
    normal = designs.min_norm_solve(X, y)
    for shape in ((2, 8, 20), (2, 20, 8), (2, 9, 9)):
        Z = torch.randn(*shape, generator=gen, dtype=torch.float64)
        Y = torch.randn(shape[0], shape[1], 3, generator=gen, dtype=torch.float64)
        assert torch.allclose(designs.min_norm_solve_qr(Z, Y), torch.linalg.pinv(Z) @ Y,
                              atol=1e-10)  # fmt: skip
    for r in range(2):
        assert torch.allclose(normal[r], torch.linalg.pinv(X[r]) @ y[r], atol=1e-10)
    b = torch.zeros(20, dtype=torch.float64)
    step = 1.0 / float(torch.linalg.matrix_norm(X[0], ord=2) ** 2)
    for _ in range(20000):
        b = b - step * X[0].T @ (X[0] @ b - y[0])
    assert torch.allclose(b, normal[0], atol=1e-8)


def test_qr_solver_falls_back_to_svd_on_rank_deficient_features():
    """Repeated rows (two identical images): QR's R has a zero pivot, the solver falls back to
    SVD least squares, which returns the minimum-norm solution of the consistent system."""
    gen = torch.Generator().manual_seed(6)
    Z = torch.randn(1, 6, 10, generator=gen, dtype=torch.float64)
    Z[0, 5] = Z[0, 4]
    Y = torch.randn(1, 6, 2, generator=gen, dtype=torch.float64)
    Y[0, 5] = Y[0, 4]
    A = designs.min_norm_solve_qr(Z, Y)
    assert torch.isfinite(A).all()
    assert torch.allclose(A, torch.linalg.pinv(Z) @ Y, atol=1e-10)


def test_condition_bound_is_exact_only_where_needed():
    """cond(G) <= tr(G) tr(G^-1); designs under the limit are not decomposed, the others are
    (their exact condition number is returned)."""
    gen = torch.Generator().manual_seed(7)
    X = torch.randn(6, 30, 12, generator=gen, dtype=torch.float64)
    G = X.transpose(1, 2) @ X
    trace_inverse = torch.linalg.inv(G).diagonal(dim1=1, dim2=2).sum(dim=1)
    e = torch.linalg.eigvalsh(G)
    exact = float((e[:, -1] / e[:, 0]).max())
    bound = designs._worst_condition(G, trace_inverse, limit=1e12)
    assert bound >= exact
    assert designs._worst_condition(G, trace_inverse, limit=0.0) == pytest.approx(exact, rel=1e-9)


@pytest.mark.parametrize("route", ["cholesky", "eigen"])
def test_float32_near_threshold_raises_inconclusive(route):
    ctx = Context(dtype="float32")
    X = ctx.randn(20, 200, 196, stream="x")
    beta = ctx.to(torch.ones(196))
    with pytest.raises(Inconclusive, match="condition number|positive definite"):
        if route == "cholesky":
            designs.conditional_risks(X, beta, 1.0)
        else:
            designs.spectra(X, beta)


def test_unit_direction_has_the_requested_norm():
    v = designs.unit_direction(Context(seed=2), 50, 3.0, "b")
    assert float(v.pow(2).sum()) == pytest.approx(3.0, rel=1e-14)

"""Tests of theorylab.curvature: Lanczos ("LA"/"SA") against dense references (1e-6 relative in
float64, usually far better), non-uniformity, the vectorised vs looped Sigma products."""

import pytest
import torch

from theorylab import curvature as cv
from theorylab.errors import Inconclusive
from theorylab.nets import mlp
from theorylab.runtime import Context

REL = 1e-6


@pytest.fixture(scope="module")
def tiny():
    """A tiny tanh MLP (P = 57) at a generic (non-minimum) point: indefinite Hessian."""
    spec = mlp.MLPSpec((3, 6, 4, 1))
    theta = mlp.init_params(spec, Context(seed=2), "init")
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    y = torch.randn(7, generator=gen, dtype=torch.float64)

    def sample(t, x, target):
        return 0.5 * (mlp.forward(spec, t, x[None])[0] - target) ** 2

    loss_fn, rows_fn = cv.from_sample_loss(sample, X, y)
    H = cv.dense_hessian(loss_fn, theta)
    Hs = cv.dense_sample_hessians(sample, theta, X, y)
    return dict(spec=spec, theta=theta, X=X, y=y, sample=sample, loss_fn=loss_fn,
                rows_fn=rows_fn, H=H, Hs=Hs, eig=torch.linalg.eigvalsh(H))  # fmt: skip


def test_la_and_sa_pick_algebraic_extremes_not_magnitude():
    d = torch.tensor([3.0, -5.0, 1.0, 0.5, 2.0, -1.0, 0.0, 2.5, -4.0, 1.5], dtype=torch.float64)
    la = cv.eigenpairs(lambda v: d * v, 10, which="LA", k=2)
    sa = cv.eigenpairs(lambda v: d * v, 10, which="SA", k=2)
    assert la.values == pytest.approx([3.0, 2.5], abs=1e-12)
    assert sa.values == pytest.approx([-5.0, -4.0], abs=1e-12)
    assert abs(float(la.vector[0])) == pytest.approx(1.0, abs=1e-10)
    assert float(la.vector[0]) > 0  # sign convention: largest entry positive
    with pytest.raises(ValueError, match="which"):
        cv.eigenpairs(lambda v: d * v, 10, which="LM")


def test_hessian_top_and_bottom_eigenpairs_match_dense(tiny):
    top = cv.hessian_eigenpairs(tiny["loss_fn"], tiny["theta"], k=3, which="LA")
    bottom = cv.hessian_eigenpairs(tiny["loss_fn"], tiny["theta"], k=2, which="SA")
    eig = tiny["eig"]
    assert eig[0] < 0 < eig[-1]  # indefinite: "LA" and "LM" could differ here
    for got, want in zip(top.values, eig.flip(0)[:3].tolist(), strict=True):
        assert abs(got - want) <= REL * abs(want)
    for got, want in zip(bottom.values, eig[:2].tolist(), strict=True):
        assert abs(got - want) <= REL * abs(want)
    H = tiny["H"]
    for j in range(3):
        v = top.vectors[:, j]
        assert float((H @ v - top.values[j] * v).norm()) <= REL * abs(top.values[j])
        assert top.residuals[j] <= REL * abs(top.values[j])
    assert top.products > 0


def test_nonuniformity_matches_dense_sigma(tiny):
    sigma = cv.dense_sigma(tiny["Hs"])
    want = float(torch.linalg.eigvalsh(sigma)[-1])
    rows = cv.per_sample_hvp_fn(tiny["rows_fn"], tiny["theta"], tiny["X"].shape[0])
    got = cv.nonuniformity(rows, tiny["spec"].num_params, like=tiny["theta"])
    assert abs(got.s**2 - want) <= REL * want
    # the MLP's batched R-operator gives the same operator
    fast = mlp.per_sample_hvp_fn(tiny["spec"], tiny["theta"], tiny["X"], tiny["y"])
    assert cv.nonuniformity(fast, tiny["spec"].num_params).s == pytest.approx(got.s, rel=1e-9)


def test_sigma_products_vectorised_equal_loop_and_dense(tiny):
    v = torch.randn(tiny["spec"].num_params, generator=torch.Generator().manual_seed(9),
                    dtype=torch.float64)  # fmt: skip
    n = tiny["X"].shape[0]
    vectorised = cv.sigma_vector_product_fn(cv.per_sample_hvp_fn(tiny["rows_fn"], tiny["theta"], n))
    loop = cv.sigma_vector_product_loop_fn(tiny["sample"], tiny["theta"], tiny["X"], tiny["y"])
    dense = cv.dense_sigma(tiny["Hs"]) @ v
    torch.testing.assert_close(vectorised(v), dense, rtol=0, atol=1e-12)
    torch.testing.assert_close(loop(v), dense, rtol=0, atol=1e-12)


def test_hvp_is_forward_over_reverse_of_the_mean_loss(tiny):
    v = torch.randn(tiny["spec"].num_params, generator=torch.Generator().manual_seed(3),
                    dtype=torch.float64)  # fmt: skip
    torch.testing.assert_close(cv.hvp_fn(tiny["loss_fn"], tiny["theta"])(v), tiny["H"] @ v,
                               rtol=0, atol=1e-12)  # fmt: skip
    # the sum loss has n times the curvature: the normalisation matters
    n = tiny["X"].shape[0]
    sum_hv = cv.hvp_fn(lambda t: n * tiny["loss_fn"](t), tiny["theta"])(v)
    torch.testing.assert_close(sum_hv, n * tiny["H"] @ v, rtol=0, atol=1e-11)


def test_gauss_newton_gram_spectrum_at_interpolation():
    # Linear model f = x . t: H = J^T J / n exactly, whose non-zero spectrum is that of K / n.
    gen = torch.Generator().manual_seed(4)
    X = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    J = cv.output_jacobian(lambda t, Z: Z @ t, torch.zeros(5, dtype=torch.float64), X)
    torch.testing.assert_close(J, X)
    K = cv.gram_matrix(J)
    loss_fn, _ = cv.from_sample_loss(
        lambda t, x, y: 0.5 * (x @ t - y) ** 2, X, X @ torch.ones(5, dtype=torch.float64)
    )
    top = cv.hessian_eigenpairs(loss_fn, torch.ones(5, dtype=torch.float64), k=1)
    assert top.value == pytest.approx(float(torch.linalg.eigvalsh(K)[-1]) / 3, rel=1e-12)


def test_non_finite_operator_is_inconclusive():
    with pytest.raises(Inconclusive, match="non-finite"):
        cv.eigenpairs(lambda v: v * float("nan"), 20)


def test_warm_start_converges_in_fewer_products(tiny):
    first = cv.hessian_eigenpairs(tiny["loss_fn"], tiny["theta"])
    again = cv.hessian_eigenpairs(tiny["loss_fn"], tiny["theta"], v0=first.vector, ncv=6)
    assert again.value == pytest.approx(first.value, rel=1e-9)
    assert again.products <= first.products

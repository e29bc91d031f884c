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


# --- the Lanczos engine and the graph products ------------------------------------------------


def _diag_operator(values):
    d = torch.as_tensor(values, dtype=torch.float64)
    return (lambda v: d * v), d.numel()


def test_graph_products_equal_jvp_products_and_dense(tiny):
    P = tiny["spec"].num_params
    V = torch.randn(4, P, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    graph = cv.hvp_fn(tiny["loss_fn"], tiny["theta"])
    jvp = cv.hvp_fn(tiny["loss_fn"], tiny["theta"], method="jvp")
    batched = cv.batched_hvp_fn(tiny["loss_fn"], tiny["theta"])
    want = V @ tiny["H"]  # rows H v_i (H symmetric)
    torch.testing.assert_close(torch.stack([graph(v) for v in V]), want, rtol=0, atol=1e-12)
    torch.testing.assert_close(torch.stack([jvp(v) for v in V]), want, rtol=0, atol=1e-12)
    torch.testing.assert_close(batched(V), want, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="method"):
        cv.hvp_fn(tiny["loss_fn"], tiny["theta"], method="finite_difference")


def test_dense_hessian_by_batched_products_equals_torch_func(tiny):
    by_products = cv.dense_hessian(tiny["loss_fn"], tiny["theta"], chunk_size=10)
    by_func = cv.dense_hessian(tiny["loss_fn"], tiny["theta"], method="func")
    torch.testing.assert_close(by_products, by_func, rtol=0, atol=1e-12)
    assert torch.equal(by_products, by_products.T)


def test_linear_loss_has_zero_hessian():
    c = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    hv = cv.hvp_fn(lambda t: c @ t, torch.zeros(3, dtype=torch.float64))
    assert torch.equal(hv(torch.ones(3, dtype=torch.float64)), torch.zeros(3, dtype=torch.float64))


@pytest.mark.parametrize("which", ["LA", "SA"])
def test_lanczos_matches_dense_at_default_accuracy(tiny, which):
    k = 4
    got = cv.hessian_eigenpairs(tiny["loss_fn"], tiny["theta"], k=k, which=which)
    eig = tiny["eig"] if which == "SA" else tiny["eig"].flip(0)
    err = [abs(g - w) / abs(w) for g, w in zip(got.values, eig[:k].tolist(), strict=True)]
    assert max(err) <= 1e-11  # the default tol is 1e-12 relative, rounding adds ~1e-14
    # the error estimates the solver stopped on bound the true errors (with rounding room)
    for g, w, e in zip(got.values, eig[:k].tolist(), got.errors, strict=True):
        assert abs(g - w) <= max(10 * e, 1e-13 * abs(tiny["eig"]).max())
    # the reported residuals are the true ones ||H v - lambda v|| (no extra products spent)
    H = tiny["H"]
    for j in range(k):
        v = got.vectors[:, j]
        true = float((H @ v - got.values[j] * v).norm())
        assert abs(true - got.residuals[j]) <= 1e-12 + 1e-6 * true


def test_looser_tolerance_spends_fewer_products_and_stays_within_it(tiny):
    eig = tiny["eig"].flip(0)
    loose = cv.hessian_eigenpairs(tiny["loss_fn"], tiny["theta"], k=2, tol=1e-6)
    tight = cv.hessian_eigenpairs(tiny["loss_fn"], tiny["theta"], k=2, tol=1e-12)
    assert loose.products < tight.products
    for g, w in zip(loose.values, eig[:2].tolist(), strict=True):
        assert abs(g - w) <= 1e-6 * abs(w)


def test_lanczos_and_arpack_agree(tiny):
    new = cv.hessian_eigenpairs(tiny["loss_fn"], tiny["theta"], k=3)
    old = cv.hessian_eigenpairs(tiny["loss_fn"], tiny["theta"], k=3, method="arpack")
    assert new.values == pytest.approx(old.values, rel=1e-11)


def test_clustered_spectrum_with_thick_restarts():
    # 200 eigenvalues with a top cluster 10, 10 - 1e-4, 10 - 2e-4 and a bulk in [0, 1]; a basis
    # of 12 vectors forces many thick restarts.
    gen = torch.Generator().manual_seed(0)
    bulk = torch.rand(197, generator=gen, dtype=torch.float64)
    values = torch.cat([torch.tensor([10.0, 10 - 1e-4, 10 - 2e-4], dtype=torch.float64), bulk])
    Q, _ = torch.linalg.qr(torch.randn(200, 200, generator=gen, dtype=torch.float64))
    A = Q @ torch.diag(values) @ Q.T
    got = cv.eigenpairs(lambda v: A @ v, 200, k=3, ncv=12)
    assert got.values == pytest.approx([10.0, 10 - 1e-4, 10 - 2e-4], rel=1e-11, abs=0)
    small = cv.eigenpairs(lambda v: A @ v, 200, k=2, which="SA", ncv=12)
    assert small.values == pytest.approx(sorted(bulk.tolist())[:2], rel=1e-10)


def test_invariant_krylov_space_finds_repeated_eigenvalues():
    # diag with a triple top eigenvalue: the start vector's Krylov space is invariant after a
    # few steps; the solver goes on from fresh orthogonal directions and finds all copies.
    values = [5.0, 5.0, 5.0, 1.0, 0.5] + [0.0] * 15
    op, dim = _diag_operator(values)
    got = cv.eigenpairs(op, dim, k=4)
    assert got.values == pytest.approx([5.0, 5.0, 5.0, 1.0], abs=1e-12)


def test_lanczos_tridiagonal_gives_the_moments_of_the_start_vector(tiny):
    H = tiny["H"]
    u = torch.randn(H.shape[0], generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    u = u / u.norm()
    steps = 6
    alpha, beta = cv.lanczos_tridiagonal(lambda v: H @ v, u, steps)
    T = torch.diag(torch.as_tensor(alpha)) + torch.diag(torch.as_tensor(beta), 1)
    T = T + torch.diag(torch.as_tensor(beta), -1)
    theta, Qt = torch.linalg.eigh(T)
    w = Qt[0] ** 2
    power = u.clone()
    for p in range(2 * steps):  # Gauss quadrature: exact for degree <= 2m - 1
        assert float((w * theta**p).sum()) == pytest.approx(float(u @ power), rel=1e-9, abs=1e-12)
        power = H @ power

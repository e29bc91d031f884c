"""Shallow nets: each definition against a direct formula; the Khatri-Rao identity inside an
activation region (exact tier); the arc-cosine population loss against Monte Carlo
(statistical tier, tolerance from the sample standard error)."""

import math

import pytest
import torch

from theorylab.critical_points import loss_and_grad
from theorylab.nets import shallow

torch.set_default_dtype(torch.float64)
GEN = torch.Generator().manual_seed(0)


def soudry_setup(S=3, N=7, d0=3, d1=4, leak=0.2):
    X = torch.randn(S, N, d0, generator=GEN)
    y = torch.randn(S, N, generator=GEN)
    noise = 1 + 0.5 * torch.randn(S, N, d1, generator=GEN)
    theta = torch.randn(S, d1 * (d0 + 1), generator=GEN)
    return X, y, noise, theta, leak


def test_noisy_leaky_relu_net_matches_loop():
    X, y, noise, theta, leak = soudry_setup()
    S, N, d0 = X.shape
    d1 = noise.shape[-1]
    out = shallow.noisy_leaky_relu_net(theta, X, noise, leak)
    for s in range(S):
        W, z = theta[s, : d1 * d0].reshape(d1, d0), theta[s, d1 * d0 :]
        for n in range(N):
            expected = 0.0
            for r in range(d1):
                t = float(W[r] @ X[s, n])
                expected += float(z[r]) * float(noise[s, n, r]) * (t if t > 0 else leak * t)
            assert float(out[s, n]) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_khatri_rao_design_is_linear_map_and_gradient():
    """f = G vec(W) and grad_W (1/(2N)) ||f - y||^2 = G^T (f - y) / N, to rounding."""
    X, y, noise, theta, leak = soudry_setup()
    S, N, d0 = X.shape
    d1 = noise.shape[-1]
    G = shallow.khatri_rao_design(theta, X, noise, leak)
    f = shallow.noisy_leaky_relu_net(theta, X, noise, leak)
    vec_w = theta[:, : d1 * d0]
    assert torch.allclose(torch.einsum("snp,sp->sn", G, vec_w), f, rtol=1e-12, atol=1e-12)
    _, g = loss_and_grad(lambda t: shallow.noisy_leaky_relu_loss(t, X, y, noise, leak), theta)
    expected = torch.einsum("snp,sn->sp", G, f - y) / N
    assert torch.allclose(g[:, : d1 * d0], expected, rtol=1e-12, atol=1e-12)


def test_kink_margin_is_min_cosine_and_zero_on_a_kink():
    X, _, noise, theta, _ = soudry_setup(S=1)
    d1, d0 = noise.shape[-1], X.shape[-1]
    W = theta[0, : d1 * d0].reshape(d1, d0)
    cos = (X[0] @ W.T).abs() / (X[0].norm(dim=1)[:, None] * W.norm(dim=1)[None, :])
    assert float(shallow.kink_margin(theta, X, d1)[0]) == pytest.approx(float(cos.min()))
    on_kink = theta.clone()
    x0 = X[0, 0]
    w0 = W[0] - (W[0] @ x0) / (x0 @ x0) * x0  # w_0 orthogonal to x_0
    on_kink[0, :d0] = w0
    assert float(shallow.kink_margin(on_kink, X, d1)[0]) < 1e-14


def test_pyramidal_net_matches_explicit_layers():
    widths, d0, N = (5, 3), 4, 6
    lay = shallow.pyramidal_layout(d0, widths)
    theta = torch.randn(2, lay.size, generator=GEN)
    X = torch.randn(2, N, d0, generator=GEN)
    feats, out = shallow.smooth_pyramidal_features(theta, X, widths, "tanh")
    W1, b1, W2, b2, W3, b3 = lay.split(theta)
    for s in range(2):
        F1 = torch.tanh(X[s] @ W1[s] + b1[s])
        F2 = torch.tanh(F1 @ W2[s] + b2[s])
        assert torch.allclose(feats[0][s], F1) and torch.allclose(feats[1][s], F2)
        assert torch.allclose(out[s], (F2 @ W3[s]).squeeze(-1) + b3[s])
    sp = shallow.smooth_activation(torch.tensor([0.0, 30.0]), "softplus")
    assert float(sp[0]) == pytest.approx(math.log(2)) and float(sp[1]) == pytest.approx(30.0)


def test_arccos_kernel_closed_form_values_and_monte_carlo():
    e = torch.eye(3)
    K = shallow.arccos_kernel(e, e)
    assert torch.allclose(K, torch.where(torch.eye(3, dtype=torch.bool), 0.5, 1 / (2 * math.pi)))
    # antipodal units never fire together
    assert float(shallow.arccos_kernel(e[:1], -e[:1])) == pytest.approx(0.0, abs=1e-15)
    W = torch.randn(3, 4, generator=GEN)
    V = torch.randn(2, 4, generator=GEN)
    samples = 200_000
    x = torch.randn(samples, 4, generator=GEN)
    prod = torch.relu(x @ W.T)[:, :, None] * torch.relu(x @ V.T)[:, None, :]
    mc, stderr = prod.mean(0), prod.std(0) / math.sqrt(samples)
    assert bool(((mc - shallow.arccos_kernel(W, V)).abs() <= 5 * stderr).all())


def test_population_loss_zero_at_teacher_and_matches_monte_carlo():
    k, d = 3, 4
    V = torch.eye(k, d)
    assert float(shallow.teacher_student_population_loss(V.reshape(1, -1), V)[0]) < 1e-15
    # a permuted teacher is also a global minimum
    perm = V[[2, 0, 1]].reshape(1, -1)
    assert float(shallow.teacher_student_population_loss(perm, V)[0]) < 1e-15
    theta = torch.randn(1, 5 * d, generator=GEN)
    samples = 200_000
    x = torch.randn(samples, d, generator=GEN)
    sq = 0.5 * (shallow.relu_sum(theta.reshape(5, d), x) - shallow.relu_sum(V, x)) ** 2
    exact = float(shallow.teacher_student_population_loss(theta, V)[0])
    assert abs(float(sq.mean()) - exact) <= 5 * float(sq.std()) / math.sqrt(samples)


def test_population_loss_gradient_finite_at_coincident_units():
    V = torch.eye(3)
    theta = V.reshape(1, -1).clone()
    loss, g = loss_and_grad(lambda t: shallow.teacher_student_population_loss(t, V), theta)
    assert bool(torch.isfinite(g).all()) and float(g.abs().max()) < 1e-12


def test_layout_split_and_slice_round_trip():
    lay = shallow.noisy_leaky_relu_layout(3, 2)
    theta = torch.arange(8.0)[None]
    W, z = lay.split(theta)
    assert W.shape == (1, 2, 3) and z.shape == (1, 2)
    assert torch.equal(theta[0, lay.slice("z")], z[0])
    with pytest.raises(KeyError):
        lay.slice("nope")


def test_closed_form_gradient_matches_autograd_and_zero_units_stay_zero():
    X, y, noise, theta, leak = soudry_setup(d1=4)
    loss, g = shallow.noisy_leaky_relu_value_and_grad(theta, X, y, noise, leak)
    ref_loss, ref = loss_and_grad(lambda t: shallow.noisy_leaky_relu_loss(t, X, y, noise, leak),
                                  theta)  # fmt: skip
    assert torch.allclose(loss, ref_loss, rtol=1e-14, atol=0)
    assert torch.allclose(g, ref, rtol=1e-12, atol=1e-14)
    # two padding units (w = 0, z = 0): same loss, zero gradient on them
    S, d0 = theta.shape[0], X.shape[-1]
    W, z = theta[:, : 4 * d0].reshape(S, 4, d0), theta[:, 4 * d0 :]
    padded = torch.cat([torch.cat([W, torch.zeros(S, 2, d0)], 1).flatten(1),
                        torch.cat([z, torch.zeros(S, 2)], 1)], 1)  # fmt: skip
    noise6 = torch.cat([noise, torch.ones(*noise.shape[:-1], 2)], -1)
    loss6, g6 = shallow.noisy_leaky_relu_value_and_grad(padded, X, y, noise6, leak)
    assert torch.allclose(loss6, loss, rtol=1e-14, atol=0)
    lay = shallow.noisy_leaky_relu_layout(d0, 6)
    gW, gz = lay.split(g6)
    assert float(gW[:, 4:].abs().max()) == 0.0 and float(gz[:, 4:].abs().max()) == 0.0


@pytest.mark.parametrize("activation", shallow.SMOOTH_ACTIVATIONS)
def test_pyramidal_backpropagation_matches_autograd(activation):
    X, y = torch.randn(4, 9, 3, generator=GEN), torch.randn(4, 9, generator=GEN)
    widths = (9, 3)
    theta = torch.randn(4, shallow.pyramidal_layout(3, widths).size, generator=GEN)
    loss, g = shallow.smooth_pyramidal_value_and_grad(theta, X, y, widths, activation)
    ref_loss, ref = loss_and_grad(
        lambda t: shallow.smooth_pyramidal_loss(t, X, y, widths, activation), theta
    )
    assert torch.equal(loss, ref_loss)
    assert torch.allclose(g, ref, rtol=1e-12, atol=1e-14)


def test_population_gradient_closed_form_matches_autograd_and_finite_differences():
    """The closed-form gradient of the teacher-student loss against autograd through the
    kernel, and against central differences of the loss (an independent route)."""
    V = torch.eye(4)
    theta = torch.randn(3, 6 * 4, generator=GEN) / 2
    loss, g = shallow.teacher_student_value_and_grad(theta, V)
    ref_loss, ref = loss_and_grad(lambda t: shallow.teacher_student_population_loss(t, V), theta)
    assert torch.equal(loss, ref_loss)
    assert torch.allclose(g, ref, rtol=1e-11, atol=1e-13)
    h = 1e-6
    for j in (0, 7, 23):
        e = torch.zeros_like(theta)
        e[:, j] = h
        fd = (shallow.teacher_student_population_loss(theta + e, V)
              - shallow.teacher_student_population_loss(theta - e, V)) / (2 * h)  # fmt: skip
        assert torch.allclose(fd, g[:, j], rtol=1e-6, atol=1e-8)

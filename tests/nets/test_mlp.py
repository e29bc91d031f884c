"""Tests of theorylab.nets.mlp: the hand-written gradient and Hessian-vector products against
torch.func (exact tier, float64), batching, initialisation and the training loop."""

import pytest
import torch
from torch.func import grad, hessian, vmap

from theorylab.errors import Inconclusive, UsageError
from theorylab.nets import mlp
from theorylab.runtime import Context

ACTS = list(mlp.ACTIVATIONS)


def _problem(activation="tanh", sizes=(3, 5, 4, 1), n=6, count=2):
    spec = mlp.MLPSpec(sizes, activation)
    theta = mlp.init_params(spec, Context(seed=1), "init", count=count)
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(n, sizes[0], generator=gen, dtype=torch.float64)
    y = torch.randn(n, generator=gen, dtype=torch.float64)
    return spec, theta, X, y


def test_num_params_and_layout():
    spec = mlp.MLPSpec((2, 3, 1))
    assert spec.num_params == 3 * 2 + 3 + 1 * 3 + 1
    theta = torch.arange(spec.num_params, dtype=torch.float64)
    (W1, b1), (W2, b2) = mlp.unflatten(spec, theta)
    assert W1.tolist() == [[0, 1], [2, 3], [4, 5]] and b1.tolist() == [6, 7, 8]
    assert W2.tolist() == [[9, 10, 11]] and b2.tolist() == [12]


def test_forward_matches_closed_form_and_batches():
    spec = mlp.MLPSpec((1, 1, 1))
    X = torch.tensor([[0.5], [-2.0]], dtype=torch.float64)
    theta = torch.tensor([2.0, 0.1, 3.0, -1.0], dtype=torch.float64)
    expected = 3.0 * torch.tanh(2.0 * X[:, 0] + 0.1) - 1.0
    torch.testing.assert_close(mlp.forward(spec, theta, X), expected, rtol=0, atol=1e-15)
    spec, theta, X, _ = _problem(count=3)
    batched = mlp.forward(spec, theta, X)
    for g in range(3):
        torch.testing.assert_close(batched[g], mlp.forward(spec, theta[g], X), rtol=0, atol=1e-14)


def test_bad_specs_are_usage_errors():
    with pytest.raises(UsageError, match="output size"):
        mlp.MLPSpec((3, 4, 2))
    with pytest.raises(UsageError, match="activation"):
        mlp.MLPSpec((3, 4, 1), "relu")


@pytest.mark.parametrize("activation", ACTS)
def test_gradient_matches_torch_func(activation):
    spec, theta, X, y = _problem(activation)
    weights = torch.rand(2, X.shape[0], generator=torch.Generator().manual_seed(3),
                         dtype=torch.float64)  # fmt: skip
    loss, gradient, residual = mlp.weighted_loss_and_gradient(spec, theta, X, y, weights)

    def weighted(t, w):
        return 0.5 * (w * (mlp.forward(spec, t, X) - y) ** 2).sum()

    torch.testing.assert_close(gradient, vmap(grad(weighted))(theta, weights), rtol=0, atol=1e-13)
    torch.testing.assert_close(loss, vmap(weighted)(theta, weights), rtol=0, atol=1e-13)
    torch.testing.assert_close(residual, mlp.forward(spec, theta, X) - y, rtol=0, atol=1e-14)


@pytest.mark.parametrize("activation", ACTS)
def test_r_operator_hvp_matches_dense_hessian(activation):
    spec, theta, X, y = _problem(activation, count=None)
    H = hessian(lambda t: mlp.half_mse(spec, t, X, y))(theta)
    V = torch.randn(spec.num_params, 3, generator=torch.Generator().manual_seed(4),
                    dtype=torch.float64)  # fmt: skip
    hv = mlp.mean_hvp_fn(spec, theta, X, y)
    for j in range(3):
        torch.testing.assert_close(hv(V[:, j]), H @ V[:, j], rtol=0, atol=1e-12)


@pytest.mark.parametrize("activation", ACTS)
def test_per_sample_hvp_matches_per_sample_hessians(activation):
    spec, theta, X, y = _problem(activation, count=None)

    def sample(t, x, target):
        return 0.5 * (mlp.forward(spec, t, x[None])[0] - target) ** 2

    Hs = vmap(lambda x, t: hessian(lambda p: sample(p, x, t))(theta))(X, y)
    W = torch.randn(X.shape[0], spec.num_params, generator=torch.Generator().manual_seed(5),
                    dtype=torch.float64)  # fmt: skip
    rows = mlp.per_sample_hvp_fn(spec, theta, X, y)(W)
    torch.testing.assert_close(rows, torch.einsum("ipq,iq->ip", Hs, W), rtol=0, atol=1e-12)
    # the per-sample Hessians average to the mean-loss Hessian
    H = hessian(lambda t: mlp.half_mse(spec, t, X, y))(theta)
    torch.testing.assert_close(Hs.mean(0), H, rtol=0, atol=1e-13)
    losses = mlp.sample_losses(spec, theta.expand(X.shape[0], -1), X, y)
    torch.testing.assert_close(losses.mean(), mlp.half_mse(spec, theta, X, y), rtol=0, atol=1e-15)


def test_init_is_seeded_and_scaled():
    spec = mlp.MLPSpec((400, 300, 1))
    a = mlp.init_params(spec, Context(seed=7), "init")
    b = mlp.init_params(spec, Context(seed=7), "init")
    assert torch.equal(a, b)
    assert not torch.equal(a, mlp.init_params(spec, Context(seed=8), "init"))
    W1 = mlp.unflatten(spec, a)[0][0]
    # entries ~ N(0, 1/400): the sample variance of 120000 draws is within 2% of 1/400
    assert abs(float(W1.var()) * 400 - 1.0) < 0.02
    half = mlp.init_params(spec, Context(seed=7), "init", scale=0.5)
    torch.testing.assert_close(half, 0.5 * a)


def test_gd_training_reaches_interpolation_and_reports_the_step():
    spec, theta, X, y = _problem(sizes=(3, 16, 1), n=4, count=1)
    result = mlp.train(spec, theta, X, y, torch.tensor([0.5], dtype=torch.float64), [4], 20000,
                       torch.Generator().manual_seed(0), loss_tol=1e-12)  # fmt: skip
    assert 0 < result.reached_at[0] == result.steps[-1]
    assert float(result.loss[-1, 0]) <= 1e-12 < float(result.loss[0, 0])


def test_sgd_batches_are_drawn_without_replacement():
    # one parameter (the output bias): with f = b the SGD step is -eta * mean_batch (b - y_i);
    # from b = 0 with eta = 1 the next b is the batch mean of y, so over many draws every
    # value is a mean of B distinct labels.
    spec = mlp.MLPSpec((1, 1, 1))
    theta = torch.zeros(50, spec.num_params, dtype=torch.float64)
    X = torch.zeros(4, 1, dtype=torch.float64)
    y = torch.tensor([1.0, 10.0, 100.0, 1000.0], dtype=torch.float64)
    result = mlp.train(spec, theta, X, y, torch.ones(50, dtype=torch.float64), [2] * 50, 1,
                       torch.Generator().manual_seed(0), stop_when_reached=False)  # fmt: skip
    means = {round(float(v), 9) for v in result.theta[:, -1]}
    pair_means = {round((y[i] + y[j]).item() / 2, 9) for i in range(4) for j in range(i + 1, 4)}
    assert means <= pair_means and len(means) > 1


def test_divergence_is_inconclusive_with_the_step():
    spec, theta, X, y = _problem(sizes=(3, 8, 1), n=5, count=1)
    with pytest.raises(Inconclusive, match="diverged at step") as info:
        mlp.train(spec, theta, X, y, torch.tensor([200.0], dtype=torch.float64), [5], 500,
                  torch.Generator().manual_seed(0))  # fmt: skip
    assert info.value.step is not None and info.value.step > 0


@pytest.mark.parametrize("activation", ACTS)
def test_output_jacobian_matches_torch_func(activation):
    from torch.func import jacrev

    spec, theta, X, _ = _problem(activation, count=1)
    J = mlp.output_jacobian(spec, theta[0], X)
    ref = jacrev(lambda t: mlp.forward(spec, t, X))(theta[0])
    torch.testing.assert_close(J, ref, rtol=1e-12, atol=1e-14)

"""critical_points: batched L-BFGS against closed-form minimisers; Hessians against autograd.

Exact tier: quadratics have known minimisers and Hessians. Dense-reference tier: the batched
forward-over-reverse Hessian against torch.autograd.functional.hessian run by run, and the
Lanczos smallest eigenvalue against the dense one.
"""

import math

import pytest
import torch

from theorylab.critical_points import (
    MIN_STEP,
    STATUS_BUDGET,
    STATUS_CONVERGED,
    STATUS_NONFINITE,
    _backtrack,
    _compact_direction,
    _two_loop,
    batched_lbfgs,
    dense_hessians,
    hessian_extreme_eigenvalues,
    hessian_vector_product,
    smallest_eigenvalue_lanczos,
    smallest_hessian_eigenvalues,
)

torch.set_default_dtype(torch.float64)


def quadratic_problem(S=5, P=6, seed=0):
    """L_s(x) = 1/2 x^T A_s x - b_s^T x, A_s SPD: minimiser A_s^{-1} b_s, Hessian A_s."""
    gen = torch.Generator().manual_seed(seed)
    M = torch.randn(S, P, P, generator=gen)
    A = M @ M.transpose(-1, -2) + 0.5 * torch.eye(P)
    b = torch.randn(S, P, generator=gen)

    def loss(x):
        return 0.5 * torch.einsum("sp,spq,sq->s", x, A, x) - (b * x).sum(-1)

    return loss, A, b


def rosenbrock(x):
    """Batched Rosenbrock, minimum 0 at (1, ..., 1) for every row."""
    return (100 * (x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1 - x[:, :-1]) ** 2).sum(-1)


def test_lbfgs_solves_batched_quadratics():
    loss, A, b = quadratic_problem()
    result = batched_lbfgs(loss, torch.zeros(5, 6), grad_tol=1e-11, max_iters=500)
    exact = torch.linalg.solve(A, b)
    assert bool(result.converged.all())
    assert float((result.theta - exact).abs().max()) < 1e-9
    assert float(result.grad_norm.max()) <= 1e-11


def test_lbfgs_rows_are_independent():
    """Each row's answer is the same alone as inside a batch (no cross-talk)."""
    x0 = torch.tensor([[-1.2, 1.0, 0.5], [0.3, -0.7, 2.0], [2.0, 2.0, -1.0]])
    batch = batched_lbfgs(rosenbrock, x0, grad_tol=1e-9, max_iters=2000)
    assert bool(batch.converged.all())
    assert float((batch.theta - 1).abs().max()) < 1e-7
    for s in range(3):
        alone = batched_lbfgs(rosenbrock, x0[s : s + 1], grad_tol=1e-9, max_iters=2000)
        assert torch.equal(alone.theta[0], batch.theta[s])
        assert int(alone.iterations[0]) == int(batch.iterations[s])


def test_lbfgs_reports_budget_and_nonfinite():
    budget = batched_lbfgs(rosenbrock, torch.tensor([[-1.2, 1.0]]), 1e-12, max_iters=3)
    assert int(budget.status[0]) == STATUS_BUDGET and int(budget.iterations[0]) == 3

    def explodes(x):
        return torch.where(x[:, 0] > 0, torch.full_like(x[:, 0], math.nan), (x * x).sum(-1))

    bad = batched_lbfgs(explodes, torch.tensor([[1.0, 1.0], [-1.0, 1.0]]), 1e-10, 100)
    assert int(bad.status[0]) == STATUS_NONFINITE
    assert int(bad.status[1]) == STATUS_CONVERGED


def test_dense_hessians_exact_on_quadratics():
    loss, A, _ = quadratic_problem()
    H = dense_hessians(loss, torch.randn(5, 6), chunk_size=4)
    assert float((H - A).abs().max()) < 1e-12
    lam = hessian_extreme_eigenvalues(loss, torch.zeros(5, 6))
    expected = torch.linalg.eigvalsh(A)
    assert torch.allclose(lam[:, 0], expected[:, 0], atol=1e-12)
    assert torch.allclose(lam[:, 1], expected[:, -1], atol=1e-12)


def test_dense_hessians_match_autograd_on_nonconvex_rows():
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(3))
    H = dense_hessians(rosenbrock, x)
    for s in range(4):
        ref = torch.autograd.functional.hessian(lambda r: rosenbrock(r[None])[0], x[s])
        assert float((H[s] - ref).abs().max()) < 1e-9 * float(ref.abs().max())
    v = torch.randn(4, 5)
    hv = hessian_vector_product(rosenbrock, x, v)
    assert torch.allclose(hv, torch.einsum("spq,sq->sp", H, v), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("repeat", [1, 3])  # P = 6 (dense path), P = 18 (ARPACK Lanczos)
def test_lanczos_matches_dense_smallest_eigenvalue(repeat):
    row = [0.2, -0.4, 0.9, 0.1, -1.0, 0.5] * repeat
    x = torch.tensor([row] * 2) * torch.tensor([[1.0], [0.5]])
    dense = smallest_hessian_eigenvalues(rosenbrock, x)
    assert float(dense[0]) < 0  # a saddle region of Rosenbrock: the check can see negatives
    for s in range(2):
        assert smallest_eigenvalue_lanczos(rosenbrock, x, run=s) == pytest.approx(
            float(dense[s]), rel=1e-7, abs=1e-9
        )


def test_compact_direction_equals_the_two_loop_recursion():
    """Byrd-Nocedal-Schnabel's compact form against the two-loop recursion (an independent
    route to H_k g), with invalid pairs, a partly filled ring buffer and a wrapped order."""
    gen = torch.Generator().manual_seed(4)
    S, h, P = 5, 6, 9
    S_hist = torch.randn(S, h, P, generator=gen)
    Y_hist = 0.5 * S_hist + 0.1 * torch.randn(S, h, P, generator=gen)
    rho = 1 / (S_hist * Y_hist).sum(-1)
    gamma = torch.rand(S, generator=gen) + 0.5
    for order in ([3, 4, 5, 0, 1], [2], list(range(6))):
        valid = (torch.rand(S, h, generator=gen) > 0.3).double()
        valid[:, [i for i in range(h) if i not in order]] = 0.0
        g = torch.randn(S, P, generator=gen)
        a = _two_loop(g, S_hist, Y_hist, rho, valid, order, gamma)
        b = _compact_direction(g, S_hist, Y_hist, valid, order, gamma)
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-12 * float(a.abs().max()))


def test_rows_loss_evaluates_only_unfinished_runs_with_the_same_answers():
    """With rows_loss the finished runs are not evaluated again; the minimisers are the same
    (to the gradient tolerance) as with full evaluations."""
    _, A, b = quadratic_problem(S=6, P=4)
    seen = []
    scale = torch.tensor([1.0, 1.0, 1.0, 30.0, 30.0, 30.0])[:, None, None]
    A_mixed = A * scale  # three harder runs take more iterations

    def loss_mixed(x):
        return 0.5 * torch.einsum("sp,spq,sq->s", x, A_mixed, x) - (b * x).sum(-1)

    def rows_mixed(theta, rows):
        seen.append(rows.numel())
        return 0.5 * torch.einsum("sp,spq,sq->s", theta, A_mixed[rows], theta) - (
            b[rows] * theta
        ).sum(-1)

    full = batched_lbfgs(loss_mixed, torch.zeros(6, 4), 1e-11, 500)
    subset = batched_lbfgs(loss_mixed, torch.zeros(6, 4), 1e-11, 500, rows_loss=rows_mixed)
    exact = torch.linalg.solve(A_mixed, b)
    assert torch.allclose(full.theta, exact, atol=1e-9) and torch.allclose(
        subset.theta, exact, atol=1e-9
    )
    assert min(seen) < 6  # some evaluations left finished runs out


def test_backtracking_step_is_the_safeguarded_quadratic_minimiser():
    """On f(a) = (a - 0.3)^2 with f(0) = 0.09, f'(0) = -0.6 and a failed unit step, the
    quadratic through the three values is f itself: the next step is its minimiser 0.3."""
    step = torch.tensor([1.0, 1.0, 1.0])
    f_step = torch.tensor([0.49, float("inf"), 100.0])
    got = _backtrack(step, f_step, torch.tensor([0.09] * 3), torch.tensor([-0.6] * 3))
    assert got[0] == pytest.approx(0.3) and got[1] == 0.5  # not finite: halve
    assert got[2] == pytest.approx(0.1)  # a far worse value: at most a tenth
    assert float(_backtrack(torch.tensor([MIN_STEP]), torch.tensor([1.0]), torch.tensor([0.0]),
                            torch.tensor([-1.0]))) == MIN_STEP  # fmt: skip

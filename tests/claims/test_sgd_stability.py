"""sgd_stability: what is specific to it. The quick run holds at the levels the theory
predicts; the measurement code (sharpness, non-uniformity, Gauss-Newton factors, batch second
moments, the Monte-Carlo and perturbation trackers) against brute force on small cases; the
pure comparisons on hand-made measurements; the declared power table (the generic contract,
exit statuses and determinism, is tests/test_contract.py's)."""

import itertools
import math

import pytest
import torch

from theorylab.claims import sgd_stability as claim
from theorylab.claims.sgd_stability import engine, statements
from theorylab.curvature import dense_hessian
from theorylab.errors import UsageError
from theorylab.nets import mlp
from theorylab.plots.sgd_stability import plot
from theorylab.registry import Comparison, check
from theorylab.report import Report
from theorylab.runtime import Context
from theorylab.theory import wu2018

QUICK = claim.CLAIM.quick


@pytest.fixture(scope="module")
def report(theorylab_cache):
    return theorylab_cache.run("sgd_stability", seed=0, **QUICK)


@pytest.fixture(scope="module")
def small():
    """A small interpolating minimum (n = 6, P = 33) found by GD, with its curvature."""
    spec = mlp.MLPSpec((3, 6, 1), "tanh")
    ctx = Context(seed=2)
    gen = torch.Generator().manual_seed(5)
    X = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.randn(6, generator=gen, dtype=torch.float64)
    theta0 = mlp.init_params(spec, ctx, "init")
    result = mlp.train(spec, theta0[None], X, y, torch.tensor([0.5], dtype=torch.float64), [6],
                       40000, torch.Generator(), loss_tol=1e-24)  # fmt: skip
    assert result.reached_at[0] > 0
    m = engine.Minimum("gd", 0.5, 6, result.theta[0], float(result.loss[-1, 0]), 0)
    engine.measure_curvature(spec, m, X, y)
    return spec, m, X, y


def test_quick_run_holds_with_every_statement(report):
    assert report.verdict == "holds", report.table()
    assert set(report.statement_names) == {
        "gd_sharpness_bound", "sgd_conditions_sharpness", "sgd_conditions_nonuniformity",
        "sgd_conditions_exact", "sampling_identity", "mean_square_prediction",
        "mean_square_verdicts", "escape", "escape_control_kept", "sharp_minimum_control",
        "edge_of_stability_sharpening", "edge_of_stability", "edge_of_stability_loss",
    }  # fmt: skip
    assert all(h.met for h in report.hypotheses), report.table()
    powers = {s.name: s.power for s in report.statements}
    assert powers["sampling_identity"] == powers["mean_square_prediction"] == "exact"
    assert powers["edge_of_stability"] == "interval"
    assert powers["escape"] == "sanity"  # 100x past the threshold: a control, not a test


def test_measured_values_are_the_theory_s_findings(report):
    q = report.quantities
    gd_at_eta = [m for m in q["minima"] if m["batch"] == q["n"]][-1]
    # GD at the largest step ends near the edge, a eta / 2 close to 1 (Wu et al. Fig. 2;
    # 0.92 on this seed), far above where it started (a(0) eta / 2 = 0.75)
    assert 0.85 <= gd_at_eta["sharpness"] * gd_at_eta["eta"] / 2 <= 1.0 + statements.SHARPNESS_TOL
    assert report.statement("sampling_identity").measured <= 1e-13
    # the escaped SGD run settles at a flatter, more uniform minimum than the GD one it left
    assert q["escape_settled"]
    assert q["escape_settled_sharpness"] < gd_at_eta["sharpness"]
    assert q["escape_settled_s"] < gd_at_eta["s"]
    assert q["eos_initial_sharpness"] < 0.8 * q["eos_threshold"]


def test_figure_is_drawn_from_the_report(report, tmp_path):
    path = tmp_path / "sgd_stability.png"
    plot(Report.from_json(report.to_json()), str(path))  # from a saved report
    assert path.stat().st_size > 10_000


# Measurement code against brute force --------------------------------------------------------


def test_sharpness_and_nonuniformity_against_dense_hessians(small):
    """Lanczos sharpness = lambda_max of the dense Hessian of the mean loss; s^2 = lambda_max
    of (1/n) sum H_i^2 - H^2 with the dense per-sample Hessians; the Gauss-Newton factors
    reproduce H at an interpolating minimum."""
    spec, m, X, y = small

    def sample_loss(t, i):
        return 0.5 * (mlp.forward(spec, t, X[i : i + 1])[0] - y[i]) ** 2

    H_i = torch.stack([dense_hessian(lambda t, i=i: sample_loss(t, i), m.theta, method="func")
                       for i in range(6)])  # fmt: skip
    H = H_i.mean(dim=0)
    sigma = (H_i @ H_i).mean(dim=0) - H @ H
    assert m.sharpness == pytest.approx(float(torch.linalg.eigvalsh(H)[-1]), rel=1e-8)
    assert m.s == pytest.approx(math.sqrt(float(torch.linalg.eigvalsh(sigma)[-1])), rel=1e-6)
    gn = m.factors.T @ m.factors / 6
    top = torch.linalg.eigvalsh(H)[-m.factors.shape[1] :]
    assert torch.allclose(torch.linalg.eigvalsh(gn), top, rtol=1e-8, atol=1e-10)


def test_enumerated_second_moment_against_sampling_by_hand():
    """E[H_B^2] over all C(n, B) batches, against a double loop over the subsets."""
    gen = torch.Generator().manual_seed(1)
    h = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    hessians = engine.sample_hessians(h)
    for batch in (1, 2, 4):
        total, count = torch.zeros(2, 2, dtype=torch.float64), 0
        for subset in itertools.combinations(range(5), batch):
            HB = sum(hessians[i] for i in subset) / batch
            total, count = total + HB @ HB, count + 1
        got = engine.enumerate_batch_second_moment(hessians, batch)
        assert torch.allclose(got, total / count, rtol=1e-13, atol=0)


def test_monte_carlo_growth_against_the_exact_one_step_expectation():
    """growth[1] = mean ||e_1||^2 / mean ||e_0||^2 against its exact value
    tr(E_B[(I - eta H_B)^T (I - eta H_B)] M) / tr(M), the average over every batch of B of
    the n samples (brute force, no theory of T), within five Monte-Carlo standard errors."""
    gen = torch.Generator().manual_seed(3)
    factors = torch.randn(4, 2, generator=gen, dtype=torch.float64)
    M = torch.tensor([[0.7, 0.2], [0.2, 0.3]], dtype=torch.float64)
    eta, batch = 0.3, 2
    growth, stderr, _, _ = engine.simulate_second_moment(
        factors, [eta], [batch], [M], 20000, 2, torch.Generator().manual_seed(0), 1
    )
    hessians = engine.sample_hessians(factors)
    subsets = list(itertools.combinations(range(4), batch))
    second = torch.zeros(2, 2, dtype=torch.float64)
    for subset in subsets:
        step = torch.eye(2, dtype=torch.float64) - eta * hessians[list(subset)].mean(dim=0)
        second += step.T @ step / len(subsets)
    expected = float(torch.trace(second @ M) / torch.trace(M))
    assert float(growth[1, 0]) == pytest.approx(expected, abs=5 * float(stderr[0]))
    assert float(stderr[0]) < 0.01 * expected


def test_perturbation_tracker_is_the_max_over_steps_not_the_end(small):
    """The escape tracker records max_t ||x_t - x*|| / ||x_0 - x*|| (median over runs):
    recomputed by hand with the same draws, and larger than the final ratio for GD past the
    threshold on a run that later overflows nowhere."""
    spec, m, X, y = small
    ctx = Context(seed=0)
    eta = 0.8 * 2 / m.sharpness  # stable: the distance shrinks, so max_t is at t = 0 (= 1)
    growth, final = engine.perturbation_growth(spec, m.theta, X, y, eta, 6, 30, ctx, "t")
    assert growth == pytest.approx(1.0, abs=1e-12)
    assert float((final - m.theta).norm()) < engine.PERTURBATION
    unstable = 1.25 * 2 / m.sharpness
    growth, _ = engine.perturbation_growth(spec, m.theta, X, y, unstable, 6, 200, ctx, "u")
    assert growth >= engine.ESCAPE_FACTOR


def test_operator_radius_and_perron_start_against_the_one_d_factor():
    """One dimension: rho(T) = (1 - eta a)^2 + eta^2 c_B s^2 (Wu et al.'s 1-D factor)."""
    h = torch.tensor([[1.0], [2.0], [0.5], [1.5]], dtype=torch.float64)
    a = float((h**2).mean())
    s = math.sqrt(float((h**4).mean()) - a**2)
    rho, M = engine.operator_radius(h, 0.4, 2, 4, wu2018.batch_factor)
    assert rho == pytest.approx(wu2018.one_d_factor(0.4, a, s, 4, 2), rel=1e-12)
    assert float(M[0, 0]) == pytest.approx(1.0)


# Pure comparisons on hand-made measurements ----------------------------------------------------


def _minimum(eta, batch, sharpness, s=0.0, label="m"):
    return engine.Minimum(label, eta, batch, torch.zeros(1), 0.0, 1, sharpness=sharpness, s=s)


def test_sharpness_statement_flags_a_minimum_past_2_over_eta():
    ok = statements.sharpness_statement([_minimum(0.1, 16, 19.0)], "x")
    bad = statements.sharpness_statement([_minimum(0.1, 16, 19.0), _minimum(0.2, 16, 10.5)], "x")
    assert ok.holds and ok.measured == pytest.approx(0.95)
    assert bad.holds is False and bad.measured == pytest.approx(1.05)


def test_edge_statements_on_a_hand_made_run():
    """Arrival, the band and the loss medians from a synthetic sharpness trace."""
    p = claim.Params(eos_steps=400)
    steps = list(range(0, 401, 50))
    sharp = [12.0, 15.0, 19.2, 20.5, 19.4, 20.9, 19.8, 20.2, 19.9]
    losses = [1.0 / (1 + k) for k in range(400)]
    run = engine.EdgeRun(0.1, steps, sharp, losses)
    out = Comparison([])
    got = {s.name: s for s in statements.edge_of_stability_statements(run, p, out)}
    assert out.quantities["eos_arrival_step"] == 100
    assert got["edge_of_stability"].measured == pytest.approx(0.045)
    assert got["edge_of_stability_loss"].holds
    run.sharpness = sharp[:5] + [23.0] + sharp[6:]  # leaves the edge by 15%
    got = {s.name: s for s in statements.edge_of_stability_statements(run, p, Comparison([]))}
    assert got["edge_of_stability"].holds is False


def test_sampling_identity_errors_see_a_wrong_batch_factor(monkeypatch):
    gen = torch.Generator().manual_seed(4)
    hessians = engine.sample_hessians(torch.randn(6, 3, generator=gen, dtype=torch.float64))
    moments = [engine.enumerate_batch_second_moment(hessians, b) for b in range(1, 7)]
    assert max(statements.sampling_identity_errors(hessians, moments)) < 1e-13
    monkeypatch.setattr(wu2018, "batch_factor", lambda n, b: 1.0 / b)  # with replacement
    assert max(statements.sampling_identity_errors(hessians, moments)) > 1e-3


# Errors, divergence, power -------------------------------------------------------------------


def test_unreached_minimum_is_inconclusive():
    r = check("sgd_stability", max_steps=50)
    assert r.verdict == "inconclusive" and "global minimum" in r.failure
    assert r.failure_step == 50


def test_divergence_names_the_step_and_the_step_size_apart():
    r = check("sgd_stability", eta=50.0, gd_rungs=1)
    assert r.verdict == "inconclusive"
    assert f"diverged at step {r.failure_step}:" in r.failure and "eta 50," in r.failure
    assert 1 <= r.failure_step <= 5  # the step of the run, never the step size 50


@pytest.mark.parametrize(
    "values, message",
    [({"batch_size": 17}, "batch_size must be <= n"),
     ({"batch_size": 16}, "SGD ladder needs batch_size < n"),
     ({"eta": 0.0}, "eta must be > 0"), ({"eos_eta": 101.0}, "eos_eta must be <= 100"),
     ({"width": 1024, "depth": 4}, "parameters")],
)  # fmt: skip
def test_bad_input_is_a_usage_error(values, message):
    with pytest.raises(UsageError, match=message):
        check("sgd_stability", **values)


def test_parameter_count_and_activations_match_the_network_module():
    p = claim.Params(width=7, depth=3, d=5)
    assert p.num_params == p.spec.num_params
    assert claim.ACTIVATIONS == tuple(mlp.ACTIVATIONS)


def test_power_one_cheap_mutant(theorylab_cache):
    """A stability edge at 1/eta is caught at the quick settings (the full table is slow)."""
    result = theorylab_cache.audit("sgd_stability", mutants=["edge_one_over_eta"])
    assert result.baseline_verdict == "holds"
    assert [m.caught for m in result.mutants] == [True], result.table()


@pytest.mark.slow
def test_power_table(theorylab_cache):
    result = theorylab_cache.audit("sgd_stability")
    assert result.baseline_verdict == "holds"
    table = {m.name: (m.caught, m.error) for m in result.mutants}
    assert table == {m.name: (m.caught, None) for m in claim.CLAIM.mutants}, result.table()

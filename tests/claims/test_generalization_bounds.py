"""generalization_bounds: the quick run's statements and power labels, the dropped-complexity
negative control, the declared power table, refusals before any work, compare() on hand-made
measurements, the batched trainer against autograd and against one network at a time, the
interpolants against a direct solve, and the figure."""

import copy
import dataclasses
import math

import numpy as np
import pytest
import torch

from theorylab.check import main
from theorylab.claims import generalization_bounds as gb
from theorylab.claims.generalization_bounds import experiments, training
from theorylab.registry import get_claim, make_params
from theorylab.runtime import Context

CLAIM = get_claim("generalization_bounds")
POWER = {
    "rademacher_second_moment": "exact", "rademacher_linear": "interval",
    "bound_covers_gap_two_layer": "sanity", "bound_covers_gap_random_features": "sanity",
    "bound_covers_gap_random_labels": "sanity", "bound_covers_gap_fixed_net": "sanity",
    "vacuous_for_random_labels": "sanity", "margin_sign_identity": "exact",
    "norm_bound_vs_width": "bound", "test_error_vs_width": "bound",
    "vc_vacuous_real_labels": "bound", "vacuous_norm_capacity_random_labels": "sanity",
    "label_noise_monotone_capacity": "bound", "label_noise_monotone_norm": "bound",
    "label_noise_monotone_test_error": "bound",
}  # fmt: skip


@pytest.fixture(scope="module")
def quick(theorylab_cache):
    return theorylab_cache.run("generalization_bounds", seed=0, **CLAIM.quick)  # shared


@pytest.fixture(scope="module")
def control(theorylab_cache):
    values = {**CLAIM.quick, **CLAIM.negative_control}
    return theorylab_cache.run("generalization_bounds", seed=0, **values)


@pytest.fixture(scope="module")
def measurement(theorylab_cache):
    quick = CLAIM.quick  # the measurement of the quick run the cache holds
    return theorylab_cache.measurement("generalization_bounds", seed=0, **quick)


@pytest.mark.parametrize("name", list(POWER))
def test_statement_holds_with_its_power_label(quick, name):
    s = quick.statement(name)
    print(f"{name}: {s.measured:.4g} {s.relation} {s.reference} (slack {s.slack}) {s.detail}")
    assert s.holds, s
    assert s.power == POWER[name]


def test_quick_verdict_and_hypotheses(quick):
    assert quick.verdict == "holds"
    assert {h.name: h.met for h in quick.hypotheses} == {
        "coverage_nets_trained": True, "sweep_nets_trained": True,
    }  # fmt: skip
    q = quick.quantities
    assert q["norm_term_slope_upper"] < 0 < q["U0X_F_slope"]  # falls; ||U0 X|| grows ~ h^(1/2)
    assert q["parameter_count_slope"] == pytest.approx(1.0, abs=1e-12)


def test_negative_control_without_the_complexity_term_fails(control):
    """complexity_factor = 0: the bound of one fixed function (training error + confidence
    term) applied to interpolants of random labels; their risk (~0.45) exceeds it in nearly
    every draw."""
    assert control.verdict == "violated"
    s = control.statement("bound_covers_gap_random_labels")
    print(s.detail)
    assert s.holds is False and s.measured >= 0.9 * CLAIM.quick["draws"]
    violated = {x.name for x in control.statements if x.holds is False}
    assert violated == {"bound_covers_gap_random_labels", "vacuous_for_random_labels"}


def test_declared_power_table(theorylab_cache):
    audit = theorylab_cache.audit("generalization_bounds")
    print(audit.table())
    assert audit.baseline_verdict == "holds"
    result = {m.name: m for m in audit.mutants}
    assert all(m.as_declared for m in audit.mutants), audit.table()
    assert result["khintchine_constant_one"].flipped == ["rademacher_linear"]
    assert "margin_sign_identity" in result["margin_max_over_all_classes"].flipped
    assert result["confidence_term_dropped"].flipped == ["bound_covers_gap_fixed_net"]
    assert result["distance_from_init_as_norm"].flipped == ["norm_bound_vs_width"]
    assert not result["two_layer_rademacher_quartered"].caught  # the declared blind spot


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--delta", "0"], "delta must be in (0, 1)"),
        (["--delta", "1"], "delta must be in (0, 1)"),
        (["--delta", "1.5"], "delta must be in (0, 1)"),
        (["--label-noise", "0,0.2,0.4,0.6,1.2"], "label_noise levels must be in [0, 1]"),
        (["--label-noise=-0.1,0.2,0.4,0.6,0.8"], "label_noise levels must be in [0, 1]"),
        (["--label-noise", "0,0.5,1,0.25"], "at least 5 distinct levels"),
        (["--label-noise", "0,0.5,1,0.5,0.25,0.75"], "levels must be distinct"),
        (["--widths", "16,64,16"], "widths must be distinct"),
        (["--features", "300"], "features must exceed train_size"),
        (["--widths", ""], "widths must be a comma-separated list"),
        (["--widths", " , "], "widths must be a comma-separated list"),
        (["--widths", "64"], "at least 2 distinct widths"),
        (["--widths", "0,64"], "widths must be positive integers"),
        (["--widths", "16.5,64"], "widths must be integers"),
        (["--widths", "a,b"], "widths must be a comma-separated list"),
        (["--train-size", "1700", "--features", "3000"], "train_size must be <= 1697"),
        (["--lr", "0"], "lr must be > 0"),
    ],
)
def test_bad_inputs_exit_2_with_one_line_before_any_work(argv, message, capsys, no_run):
    status = main(["generalization_bounds", *argv])
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and err.count("\n") == 1, err
    assert message in err, err


# compare() on hand-made measurements -----------------------------------------------------------
def _statements(measurement, params=None):
    params = params or make_params(CLAIM, CLAIM.quick)
    return {s.name: s for s in gb.compare(measurement, params).statements}


def test_compare_flags_a_bound_below_the_risk_too_often(measurement):
    broken = copy.deepcopy(measurement)
    rows = broken.coverage["two_layer"]
    rows["bound"] = rows["risk"] * 0.5  # every draw a miss
    s = _statements(broken)["bound_covers_gap_two_layer"]
    assert s.holds is False and s.measured == CLAIM.quick["draws"]
    rows["bound"][6:] = rows["risk"][6:] * 2  # six misses of 40: what Binomial(40, 0.05) allows
    assert _statements(broken)["bound_covers_gap_two_layer"].holds is True


def test_binomial_allowance_is_the_tail_quantile():
    from scipy.stats import binom

    for draws, delta, alpha in ((40, 0.05, 0.01), (20, 0.1, 0.05), (100, 0.01, 0.001)):
        k, tail = gb.binomial_allowance(draws, delta, alpha)
        assert binom.sf(k - 1, draws, delta) >= alpha > binom.sf(k, draws, delta)
        assert tail == pytest.approx(binom.sf(k - 1, draws, delta))


def test_compare_flags_a_broken_margin_identity_and_a_rising_norm(measurement):
    broken = copy.deepcopy(measurement)
    broken.sweeps["width"]["positive_margin_fraction"][0, 0] -= 0.01
    widths = np.asarray(broken.sweeps["widths"], dtype=np.float64)
    broken.sweeps["width"]["norm_term"] = broken.sweeps["width"]["norm_term"] * widths**0.3
    s = _statements(broken)
    assert s["margin_sign_identity"].holds is False
    assert s["norm_bound_vs_width"].holds is False


def test_compare_flags_a_rising_test_error_and_a_flat_noise_response(measurement):
    broken = copy.deepcopy(measurement)
    broken.sweeps["width"]["test_error"] = broken.sweeps["width"]["test_error"] + np.linspace(
        0, 0.05, len(broken.sweeps["widths"])
    )
    noise = broken.sweeps["noise"]
    gen = np.random.default_rng(0)
    noise["test_error"] = gen.permutation(noise["test_error"].reshape(-1)).reshape(
        noise["test_error"].shape
    )  # no association with the noise level left
    s = _statements(broken)
    assert s["test_error_vs_width"].holds is False
    assert s["label_noise_monotone_test_error"].holds is False


def test_paired_slope_against_ordinary_least_squares_with_seed_dummies():
    gen = np.random.default_rng(1)
    x = np.log2([16, 32, 64, 128])
    Y = 0.3 - 0.1 * x[None, :] + gen.normal(size=(3, 1)) + 0.01 * gen.normal(size=(3, 4))
    slope, lo, hi = gb.paired_slope(x, Y)
    design = np.column_stack([np.tile(x, 3), np.kron(np.eye(3), np.ones((4, 1)))])
    coef, *_ = np.linalg.lstsq(design, Y.reshape(-1), rcond=None)
    assert slope == pytest.approx(coef[0], rel=1e-10)
    assert lo < -0.1 < hi


def test_spearman_test_against_scipy():
    from scipy.stats import spearmanr

    x = np.repeat([0.0, 0.25, 0.5, 0.75, 1.0], 3)
    y = x + np.random.default_rng(2).normal(scale=0.2, size=x.size)
    rho, critical, p_value = gb.spearman_test(x, y, 0.01)
    assert rho == pytest.approx(spearmanr(x, y).statistic, rel=1e-12)
    assert 0.5 < critical < 0.75 and p_value < 0.01


# The trainer -----------------------------------------------------------------------------------
def _tiny(widths=(3, 5), groups=2, n=7, d=4, c=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    nets = training.init_nets(groups, widths, d, c, gen, torch.float64, "cpu")
    nets.U += 0.3 * torch.randn(nets.U.shape, generator=gen, dtype=torch.float64)
    X = torch.randn(groups, n, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, c, (groups, n), generator=gen)
    return nets, X, y


def test_hand_gradients_match_autograd_per_network():
    nets, X, y = _tiny()
    loss, gU, gV, F = training.loss_and_gradients(nets, X, y)
    for g in range(nets.groups):
        for k in range(len(nets.widths)):
            U, _U0, V = nets.network(g, k)
            U = U.clone().requires_grad_()
            V = V.clone().requires_grad_()
            out = torch.relu(X[g] @ U.T) @ V.T
            torch.testing.assert_close(F[g, :, k], out.detach())
            ce = torch.nn.functional.cross_entropy(out, y[g])
            assert float(loss[g, k]) == pytest.approx(ce.item(), rel=1e-13)
            dU, dV = torch.autograd.grad(ce, (U, V))
            s = nets.units(k)
            torch.testing.assert_close(gU[g, s], dU, rtol=1e-12, atol=1e-14)
            torch.testing.assert_close(gV[g, s], dV.T, rtol=1e-12, atol=1e-14)


def test_batched_training_matches_one_network_at_a_time():
    """Heavy-ball GD on the block-diagonal batch equals the same updates written out for one
    network, and a network stops (frozen) at the first step its loss reaches the target."""
    nets, X, y = _tiny(widths=(4, 6), groups=2)
    reference = copy.deepcopy(nets)
    lr, mu, steps, target = 0.3, 0.9, 25, 0.5
    result = training.train(nets, X, y, lr=lr, momentum=mu, max_steps=steps, target_loss=target)
    for g in range(2):
        for k in range(2):
            U, U0, V = (t.clone() for t in reference.network(g, k))
            bU, bV = torch.zeros_like(U), torch.zeros_like(V)
            stop = -1
            for step in range(steps + 1):
                U.requires_grad_(True)
                V.requires_grad_(True)
                ce = torch.nn.functional.cross_entropy(torch.relu(X[g] @ U.T) @ V.T, y[g])
                if ce.item() <= target:
                    stop = step
                    break
                if step == steps:
                    break
                dU, dV = torch.autograd.grad(ce, (U, V))
                with torch.no_grad():
                    bU, bV = mu * bU + dU, mu * bV + dV
                    U, V = U - lr * bU, V - lr * bV
            assert int(result.steps[g, k]) == stop
            got_U, _, got_V = nets.network(g, k)
            torch.testing.assert_close(got_U, U.detach(), rtol=1e-10, atol=1e-12)
            torch.testing.assert_close(got_V, V.detach(), rtol=1e-10, atol=1e-12)
    assert (result.steps >= 0).any()  # the target is reached by some network in the window


def test_non_finite_loss_is_inconclusive():
    from theorylab.errors import Inconclusive

    nets, X, y = _tiny()
    with pytest.raises(Inconclusive, match="not finite"):
        training.train(nets, X * 1e200, y, lr=1e10, momentum=0.9, max_steps=50, target_loss=1e-9)


def test_interpolant_row_against_a_direct_min_norm_solve():
    gen = torch.Generator().manual_seed(3)
    features = torch.rand(40, 60, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 2, (40,), generator=gen)
    idx = torch.tensor([0, 3, 3, 7, 9, 9, 9, 12, 20, 21])  # duplicates: sampled with replacement
    params = make_params(CLAIM, {**CLAIM.quick, "margin_percentile": 0.0})
    row = experiments._interpolant_row(features, labels, idx, params, 0.05 / 321)
    unique = torch.unique(idx)
    target = 2.0 * labels[unique].double() - 1
    v = torch.linalg.pinv(features[unique]) @ target  # min-norm interpolant
    pm = 2.0 * labels.double() - 1
    assert row["risk"] == pytest.approx(float((pm * (features @ v) <= 0).double().mean()))
    assert row["train_error"] == 0.0
    assert row["rho"] == pytest.approx(1.0, abs=1e-8)  # every training margin is 1
    scale = math.sqrt(float(v @ v))
    assert row["scale"] == pytest.approx(scale / row["rho"], rel=1e-8)
    assert row["bound"] > row["risk"]


def test_figure_is_written(quick, tmp_path):
    from theorylab.plots import generalization_bounds as figure

    path = tmp_path / "generalization_bounds.png"
    figure.plot(quick, str(path))
    assert path.stat().st_size > 20_000


def test_fresh_training_reproduces_the_cached_measurement(measurement):
    """Same seed, same numbers: a run with the in-process training cache emptied gives the same
    measurement as the cached one (the contract's JSON test would not see a difference)."""
    experiments._CACHE.clear()
    fresh = CLAIM.simulate(make_params(CLAIM, CLAIM.quick), Context(seed=0))
    for part in ("width", "noise"):
        for key, value in measurement.sweeps[part].items():
            np.testing.assert_array_equal(fresh.sweeps[part][key], value, err_msg=key)
    for arm in gb.COVERAGE_ARMS:
        for key, value in measurement.coverage[arm].items():
            np.testing.assert_array_equal(fresh.coverage[arm][key], value, err_msg=key)
    np.testing.assert_array_equal(fresh.rademacher["norms"], measurement.rademacher["norms"])


def test_training_cache_does_not_leak_between_settings():
    """The in-process training cache is keyed by every parameter, the seed, device and dtype."""
    p1 = make_params(CLAIM, CLAIM.quick)
    p2 = dataclasses.replace(p1, lr=0.4)
    assert experiments.run_key(p1, Context(seed=0), "x") != experiments.run_key(
        p2, Context(seed=0), "x"
    )
    assert experiments.run_key(p1, Context(seed=0), "x") != experiments.run_key(
        p1, Context(seed=1), "x"
    )

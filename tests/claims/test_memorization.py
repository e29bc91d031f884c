"""memorization: the quick run's statements and power labels, the under-parameterized negative
control, the declared power table, Thm 1's construction against a dense solve and a batch of
systems against one-by-one solves, the rounding probe against explicit formulas, compare() on
hand-made measurements, failure detection and bad input."""

import dataclasses

import numpy as np
import pytest
import torch

import theorylab
from theorylab.claims import memorization
from theorylab.errors import UsageError
from theorylab.registry import get_claim, make_params
from theorylab.runtime import Context

CLAIM = get_claim("memorization")
FIT_STATEMENTS = [f"{t}_train_fit" for t in memorization.RANDOM_TASKS]
CHANCE_STATEMENTS = [f"{t}_test_chance" for t in memorization.RANDOM_TASKS]
POWER = {
    "weight_count": "exact", "lower_triangular": "exact", "smallest_eigenvalue": "exact",
    "max_fit_error": "exact", "fit_rounding_bound": "sanity", "fit_rounding_attained": "interval",
    **{name: "bound" for name in FIT_STATEMENTS}, **dict.fromkeys(CHANCE_STATEMENTS, "interval"),
    "digits_true_generalizes": "sanity",
}  # fmt: skip


@pytest.fixture(scope="module")
def quick_params():
    return make_params(CLAIM, CLAIM.quick)


@pytest.fixture(scope="module")
def measurement(theorylab_cache):
    return theorylab_cache.measurement("memorization", seed=0, **CLAIM.quick)  # the quick run's


@pytest.fixture(scope="module")
def small(theorylab_cache):
    return theorylab_cache.run("memorization", seed=0, **CLAIM.quick)  # shared with the contract


@pytest.fixture(scope="module")
def control(theorylab_cache):
    return theorylab_cache.run("memorization", seed=0, **{**CLAIM.quick, **CLAIM.negative_control})


@pytest.mark.parametrize("name", list(POWER))
def test_statement_holds_with_its_power_label(small, name):
    s = small.statement(name)
    print(f"{name}: measured {s.measured:.4g} {s.relation} {s.reference} (slack {s.slack})")
    assert s.holds, s
    assert s.power == POWER[name]


def test_quantities_and_verdict(small):
    q = small.quantities
    assert small.verdict == "holds"
    n, d = CLAIM.quick["n"], CLAIM.quick["d"]
    assert (q["weight_count"], q["n"], q["d"]) == (2 * n + d, n, d)
    for task in memorization.TASKS:  # steps to fit are recorded for every task
        assert isinstance(q[f"{task}_steps_to_fit"], int), task
    assert {h.name: h.met for h in small.hypotheses} == {
        "distinct_projections": True, "over_parameterized": True,
    }  # fmt: skip


def test_figure_is_drawn_from_the_saved_report_alone(small, tmp_path):
    from theorylab.plots.memorization import plot
    from theorylab.report import Report

    path = tmp_path / "memorization.png"
    plot(Report.from_json(small.to_json()), str(path))
    assert path.stat().st_size > 10_000


def test_under_parameterized_control_cannot_fit_random_labels(control):
    assert control.verdict == "violated"
    violated = {s.name for s in control.statements if s.holds is False}
    assert violated == set(FIT_STATEMENTS), violated
    for name in FIT_STATEMENTS:
        assert control.statement(name).measured < 0.5  # far from fitting, not a near miss
    assert not {h.name: h for h in control.hypotheses}["over_parameterized"].met
    assert control.quantities["mlp_parameters"] < control.quantities["train_size"]


def test_declared_power_table(theorylab_cache):
    audit = theorylab_cache.audit("memorization")
    print(audit.table())
    assert audit.baseline_verdict == "holds" and audit.exit_status == 0
    flipped = {m.name: set(m.flipped) for m in audit.mutants}
    assert flipped["rounding_factor_gamma"] == {"fit_rounding_attained"}
    assert flipped["weight_count_without_biases"] == {"weight_count"}
    assert "lower_triangular" in flipped["biases_not_interleaved"]


# --- the construction and the probe against independent computations -------------------------


def test_construction_matches_a_dense_solve():
    """The constructed weights equal a dense solve, A is triangular and its eigenvalues are the
    interleaving gaps z_i - b_i."""
    g = torch.Generator().manual_seed(3)
    X = torch.randn(30, 4, generator=g, dtype=torch.float64)
    y = torch.randn(30, generator=g, dtype=torch.float64)
    a = torch.randn(4, generator=g, dtype=torch.float64)
    b, w, A, order, z = memorization.construct(X, y, a)
    zs = z[order]
    assert bool((b[1:] > zs[:-1]).all() and (b < zs).all())  # b_1 < z_1 < b_2 < ... < z_n
    assert torch.equal(torch.triu(A, diagonal=1), torch.zeros_like(A))
    torch.testing.assert_close(w, torch.linalg.solve(A, y[order]), rtol=1e-8, atol=1e-8)
    eig = torch.sort(torch.linalg.eigvals(A).real).values
    torch.testing.assert_close(eig, torch.sort(zs - b).values, rtol=1e-10, atol=0)
    assert float((memorization.network_output(X, a, b, w) - y).abs().max()) < 1e-9


def test_batched_construction_equals_one_system_at_a_time():
    g = torch.Generator().manual_seed(8)
    X = torch.randn(5, 7, 3, generator=g, dtype=torch.float64)
    y = torch.randn(5, 7, generator=g, dtype=torch.float64)
    a = torch.randn(5, 3, generator=g, dtype=torch.float64)
    b, w, A, order, z = memorization.construct(X, y, a)
    out = memorization.network_output(X, a, b, w)
    for s in range(5):
        b1, w1, A1, o1, z1 = memorization.construct(X[s], y[s], a[s])
        torch.testing.assert_close(b[s], b1, rtol=1e-15, atol=1e-15)
        torch.testing.assert_close(w[s], w1, rtol=1e-12, atol=1e-12)
        assert torch.equal(order[s], o1)
        torch.testing.assert_close(out[s], memorization.network_output(X[s], a[s], b1, w1))


def test_rounding_probe_against_explicit_two_point_formulas():
    """For two points z_1 < z_2 (gap g): b = (z_1 - g/2, (z_1 + z_2)/2), A = [[g/2, 0],
    [3g/2, g/2]] as floats, w by hand; the probe's (|A||w|)_i and errors match."""
    errors, magnitudes = memorization.rounding_probe(Context(seed=0))
    assert errors.shape == magnitudes.shape == (memorization.PROBE_SYSTEMS, 2)
    gen = Context(seed=0).generator("construction/probe")
    shape = (memorization.PROBE_SYSTEMS, 2)
    x = torch.randn(*shape, 1, generator=gen, dtype=torch.float64)[:, :, 0].numpy()
    y = torch.randn(*shape, generator=gen, dtype=torch.float64).numpy()
    for s in range(20):
        i, j = np.argsort(x[s])
        z1, z2 = x[s, i], x[s, j]
        b1, b2 = z1 - (z2 - z1) / 2, (z2 + z1) / 2
        a11, a21, a22 = z1 - b1, z2 - b1, z2 - b2
        w1 = y[s, i] / a11
        w2 = (y[s, j] - a21 * w1) / a22
        expected = [abs(a11 * w1), abs(a21 * w1) + abs(a22 * w2)]
        np.testing.assert_allclose(magnitudes[s], expected, rtol=1e-12)
        assert errors[s, 0] <= 2.0**-52 * abs(y[s, i])  # one rounding of a product: <= 1 ulp
    assert float(errors.max()) > 0


# --- compare() on hand-made measurements -----------------------------------------------------


def test_compare_catches_a_probe_beyond_the_bound(measurement, quick_params):
    worse = dataclasses.replace(measurement, probe_errors=measurement.probe_errors * 2)
    statements = {s.name: s for s in memorization.compare(worse, quick_params).statements}
    assert statements["fit_rounding_attained"].holds is False
    looser = dataclasses.replace(measurement, probe_errors=measurement.probe_errors / 4)
    statements = {s.name: s for s in memorization.compare(looser, quick_params).statements}
    assert statements["fit_rounding_attained"].holds is False  # a 4x slack is not Higham's


def test_compare_catches_a_non_triangular_matrix_and_a_miss(measurement, quick_params):
    c = measurement.construction
    A = c.A.copy()
    A[0, 1] = 1e-3
    fitted = c.fitted.copy()
    fitted[3] += 1e-3
    broken = dataclasses.replace(
        measurement, construction=dataclasses.replace(c, A=A, fitted=fitted)
    )
    statements = {s.name: s for s in memorization.compare(broken, quick_params).statements}
    assert statements["lower_triangular"].holds is False
    assert statements["max_fit_error"].holds is False


def test_fit_statement_is_undecided_when_rounding_can_explain_the_miss():
    held = memorization._fit_statement(1e-9, 1e-6, 1e-7, "float64")
    missed_resolvable = memorization._fit_statement(1e-5, 1e-6, 1e-7, "float64")
    missed_unresolvable = memorization._fit_statement(1e-5, 1e-6, 1e-4, "float64")
    assert held.holds is True and missed_resolvable.holds is False
    assert missed_unresolvable.holds is None and "cannot resolve" in missed_unresolvable.detail


def test_one_unit_fewer_cannot_interpolate():
    """Thm 1's count is not slack: with n - 1 hidden units (least squares) generic labels on n
    points are not fitted."""
    g = torch.Generator().manual_seed(4)
    X = torch.randn(40, 3, generator=g, dtype=torch.float64)
    y = torch.randn(40, generator=g, dtype=torch.float64)
    a = torch.randn(3, generator=g, dtype=torch.float64)
    b, _, A, order, _ = memorization.construct(X, y, a)
    w_short = torch.linalg.lstsq(A[:, :-1], y[order][:, None]).solution[:, 0]
    assert float((A[:, :-1] @ w_short - y[order]).abs().max()) > 1e-3


def test_a_leaked_test_split_is_detected(monkeypatch):
    """The chance statements can fail: if the held-out split were the training split (labels
    seen in training), held-out accuracy is 1, far outside the chance interval."""
    original = memorization.build_tasks

    def leaked(p, ctx):
        Xtr, ytr, _, _ = original(p, ctx)
        rows = torch.arange(p.test_size) % p.train_size  # the training points, cycled
        return Xtr, ytr, Xtr[:, rows], ytr[:, rows]

    monkeypatch.setattr(memorization, "build_tasks", leaked)
    report = theorylab.check("memorization", n=10, d=2, train_size=898, width=128, steps=150)
    for name in CHANCE_STATEMENTS:
        assert report.statement(name).holds is False, report.statement(name)


def test_non_finite_training_is_inconclusive():
    report = theorylab.check("memorization", n=10, d=2, train_size=100, width=8, steps=5, lr=1e300)
    assert report.verdict == "inconclusive" and "not finite" in report.failure


@pytest.mark.parametrize(
    "values, fragment",
    [(dict(n=0), "n must be >= 1"), (dict(train_size=5000), "train_size must be <="),
     (dict(lr=0.0), "lr must be > 0"), (dict(width=2.5), "width must be an integer")],
)  # fmt: skip
def test_bad_input_is_a_usage_error(values, fragment):
    with pytest.raises(UsageError, match=fragment):
        theorylab.check("memorization", **values)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 4))
def test_default_run_holds_across_seeds(seed):
    """Statistical tier: the default run holds for other seeds (measured values logged); each
    chance interval has failure probability delta = 1e-3."""
    report = theorylab.check("memorization", seed=seed)
    for s in report.statements:
        print(f"seed {seed} {s.name}: {s.measured:.4g} {s.relation} {s.reference} slack {s.slack}")
    assert report.verdict == "holds"

"""memorization: Thm 1's construction (exact tier), random-label fits on digits and synthetic
data, the under-parameterized negative control, failure detection, determinism and the CLI."""

import json
import subprocess
import sys

import pytest
import torch

import theorylab
from theorylab.claims import memorization
from theorylab.errors import UsageError
from theorylab.theory import zhang2017

SMALL = dict(n=100, d=5, train_size=500, width=256, steps=300)
CONTROL = dict(n=20, d=5, train_size=500, width=2, steps=150)
FIT_STATEMENTS = [f"{t}_train_fit" for t in memorization.RANDOM_TASKS]
CHANCE_STATEMENTS = [f"{t}_test_chance" for t in memorization.RANDOM_TASKS]


@pytest.fixture(scope="module")
def small():
    return theorylab.check("memorization", seed=0, **SMALL)


@pytest.fixture(scope="module")
def control():
    return theorylab.check("memorization", seed=0, **CONTROL)


@pytest.mark.parametrize(
    "name",
    ["weight_count", "lower_triangular", "smallest_eigenvalue", "max_fit_error",
     "fit_rounding_bound", "digits_true_generalizes", *FIT_STATEMENTS, *CHANCE_STATEMENTS],
)  # fmt: skip
def test_statement_holds(small, name):
    s = small.statement(name)
    print(f"{name}: measured {s.measured:.4g} {s.relation} {s.reference} (slack {s.slack})")
    assert s.holds, s


def test_quantities_and_verdict(small):
    q = small.quantities
    assert small.verdict == "holds"
    assert (q["weight_count"], q["n"], q["d"]) == (2 * 100 + 5, 100, 5)
    assert q["max_fit_error"] <= 1e-6 * 4  # |y| <= 4 for 100 standard normal labels
    # Steps to fit are recorded for every task, random labels included.
    for task in memorization.TASKS:
        assert isinstance(q[f"{task}_steps_to_fit"], int), task
    assert {h.name: h.met for h in small.hypotheses} == {
        "distinct_projections": True, "over_parameterized": True,
    }  # fmt: skip


def test_figure_is_written(small, tmp_path):
    path = tmp_path / "memorization.png"
    memorization.CLAIM.plot(small, str(path))
    assert path.stat().st_size > 10_000


def test_under_parameterized_control_cannot_fit_random_labels(control):
    assert control.verdict == "violated"
    violated = {s.name for s in control.statements if s.holds is False}
    assert violated == set(FIT_STATEMENTS), violated
    for name in FIT_STATEMENTS:
        print(name, control.statement(name).measured)
        assert control.statement(name).measured < 0.5  # far from fitting, not a near miss
    hyp = {h.name: h for h in control.hypotheses}
    assert not hyp["over_parameterized"].met
    assert control.quantities["mlp_parameters"] < control.quantities["train_size"]


def test_construction_matches_a_dense_solve():
    """Exact tier: the constructed weights equal numpy's dense solve, A is triangular and its
    eigenvalues are the interleaving gaps z_i - b_i."""
    g = torch.Generator().manual_seed(3)
    X = torch.randn(30, 4, generator=g, dtype=torch.float64)
    y = torch.randn(30, generator=g, dtype=torch.float64)
    a = torch.randn(4, generator=g, dtype=torch.float64)
    b, w, A, order, z = memorization.construct(X, y, a)
    zs = z[order]
    assert bool((b[1:] > zs[:-1]).all() and (b < zs).all())  # b_1 < z_1 < b_2 < ... < z_n
    assert torch.equal(torch.triu(A, diagonal=1), torch.zeros_like(A))
    dense = torch.linalg.solve(A, y[order])
    assert torch.allclose(w, dense, rtol=1e-8, atol=1e-8)
    eig = torch.sort(torch.linalg.eigvals(A).real).values
    assert torch.allclose(eig, torch.sort(zs - b).values, rtol=1e-10, atol=0)
    fitted = memorization.network_output(X, a, b, w)
    assert float((fitted - y).abs().max()) < 1e-9


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


def test_wrong_weight_count_or_triangle_is_detected(monkeypatch):
    monkeypatch.setattr(zhang2017, "weight_count", lambda n, d: 2 * n + d + 1)
    original = memorization.construct

    def misplaced_biases(X, y, a):  # biases shifted one slot: A is no longer triangular
        b, w, A, order, z = original(X, y, a)
        b = torch.roll(b, 1)
        zs = z[order]
        return b, w, torch.relu(zs[:, None] - b[None, :]), order, z

    monkeypatch.setattr(memorization, "construct", misplaced_biases)
    report = theorylab.check("memorization", n=20, d=3, train_size=100, width=64, steps=40)
    assert report.statement("weight_count").holds is False
    assert report.statement("lower_triangular").holds is False
    assert report.verdict == "violated"


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


def test_fit_statement_is_undecided_when_rounding_can_explain_the_miss():
    held = memorization._fit_statement(1e-9, 1e-6, 1e-7, "float64")
    missed_resolvable = memorization._fit_statement(1e-5, 1e-6, 1e-7, "float64")
    missed_unresolvable = memorization._fit_statement(1e-5, 1e-6, 1e-4, "float64")
    assert held.holds is True and missed_resolvable.holds is False
    assert missed_unresolvable.holds is None and "cannot resolve" in missed_unresolvable.detail


def test_same_seed_same_json():
    kw = dict(n=20, d=3, train_size=100, width=32, steps=30)
    first = theorylab.check("memorization", seed=5, **kw).to_dict()
    second = theorylab.check("memorization", seed=5, **kw).to_dict()
    first.pop("timing"), second.pop("timing")
    assert json.dumps(first) == json.dumps(second)


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "theorylab.check", "memorization", *args, "--quiet"],
        capture_output=True, text=True, env={"OMP_NUM_THREADS": "1", "PATH": ""}, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize(
    "values, fragment",
    [(dict(n=0), "n must be >= 1"), (dict(train_size=5000), "train_size must be <="),
     (dict(lr=0.0), "lr must be > 0"), (dict(width=2.5), "width must be an integer")],
)  # fmt: skip
def test_bad_input_is_a_usage_error(values, fragment):
    with pytest.raises(UsageError, match=fragment):
        theorylab.check("memorization", **values)


def test_cli_bad_input_exits_2_with_one_line():
    result = _cli("--train-size", "5000")
    assert result.returncode == 2
    assert "train_size must be <=" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_negative_control_exits_1_and_numerical_failure_exits_3():
    control = _cli("--n", "10", "--train-size", "300", "--width", "2", "--steps", "60")
    assert control.returncode == 1, control.stderr
    diverged = _cli("--n", "10", "--train-size", "100", "--width", "8", "--steps", "5",
                    "--lr", "1e300")  # fmt: skip
    assert diverged.returncode == 3
    assert "not finite" in diverged.stderr


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 4))
def test_default_run_holds_across_seeds(seed):
    """Statistical tier: the default run holds for other seeds (measured values logged); each
    chance interval has failure probability delta = 1e-3."""
    report = theorylab.check("memorization", seed=seed)
    for s in report.statements:
        print(f"seed {seed} {s.name}: {s.measured:.4g} {s.relation} {s.reference} slack {s.slack}")
    assert report.verdict == "holds"

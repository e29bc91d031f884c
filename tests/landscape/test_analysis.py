"""analyze(): the report's quantities against the dense Hessian, the verdict's exit statuses,
bad input before any work, inconclusive on a non-finite loss, determinism."""

import json

import pytest
import torch

from theorylab.errors import UsageError
from theorylab.landscape import analyze

from .conftest import small_net


@pytest.fixture(scope="module")
def report(classifier):
    return analyze(
        small_net(),
        (classifier["X"], classifier["y"]),
        lr=0.1,
        batch_size=5,
        top_k=4,
        probes=16,
        slq_probes=2,
        slq_steps=20,
    )


def test_quantities_match_the_dense_hessian(report, classifier):
    q = report.quantities
    eig = classifier["eig"].flip(0)
    assert len(q["top_eigenvalues"]) == 4
    assert q["top_eigenvalues"] == sorted(q["top_eigenvalues"], reverse=True)
    for got, want in zip(q["top_eigenvalues"], eig[:4].tolist(), strict=True):
        assert got == pytest.approx(want, rel=1e-11)
    assert q["lambda_max"] == q["top_eigenvalues"][0]
    assert q["lambda_min"] == pytest.approx(float(eig[-1]), rel=1e-11)
    assert q["trace"] == pytest.approx(float(classifier["H"].trace()), rel=1e-12)
    assert q["trace_se"] == 0.0 and q["trace_method"] == "exact"  # P = 51 <= 2048
    assert report.series["eigenvalues"] == pytest.approx(eig.tolist(), abs=1e-12)
    assert q["slq_probes"] == 2 and q["slq_steps"] == 20
    assert q["n"] == 30 and q["num_params"] == 51
    assert {"sharpness_condition", "nonuniformity_condition"} == set(report.statement_names)


def test_hutchinson_path_reports_a_standard_error(classifier):
    r = analyze(
        small_net(),
        (classifier["X"], classifier["y"]),
        lr=0.1,
        top_k=1,
        probes=50,
        exact_trace_below=0,
        epsilon=0,
        slq_steps=4,
    )
    q = r.quantities
    assert q["trace_method"] == "hutchinson" and q["trace_probes"] == 50 and q["trace_se"] > 0
    assert abs(q["trace"] - float(classifier["H"].trace())) <= 4 * q["trace_se"]
    assert r.statement_names == ["sharpness_condition"]  # GD: no non-uniformity condition


def test_verdict_flips_with_the_step_size(report, classifier):
    assert report.verdict == "holds" and report.exit_status == 0
    a = report.quantities["lambda_max"]
    big = analyze(
        small_net(),
        (classifier["X"], classifier["y"]),
        lr=2.5 / a,
        top_k=1,
        epsilon=0,
        nonuniformity=False,
        slq_steps=4,
    )
    assert big.verdict == "violated" and big.exit_status == 1
    assert not big.statement("sharpness_condition").holds


def test_bad_input_raises_before_work(classifier):
    data = (classifier["X"], classifier["y"])
    with pytest.raises(UsageError, match="top-k must be in 1..51"):
        analyze(small_net(), data, lr=0.1, top_k=52)
    with pytest.raises(UsageError, match="batch size"):
        analyze(small_net(), data, lr=0.1, batch_size=31)
    with pytest.raises(UsageError, match="lr"):
        analyze(small_net(), data, lr=-1.0)


def test_non_finite_loss_is_inconclusive(classifier):
    net = small_net()
    with torch.no_grad():
        net[2].bias.fill_(float("nan"))
    r = analyze(net, (classifier["X"], classifier["y"]), lr=0.1)
    assert r.verdict == "inconclusive" and r.exit_status == 3 and "not finite" in r.failure


def test_same_seed_same_report(classifier):
    def run():
        r = analyze(
            small_net(),
            (classifier["X"], classifier["y"]),
            lr=0.1,
            top_k=2,
            probes=8,
            exact_trace_below=0,
            slq_steps=6,
            seed=3,
        )
        d = json.loads(r.to_json())
        d.pop("timing")
        return d

    assert run() == run()

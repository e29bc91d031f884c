"""Report model: slack semantics, verdict logic, strict-JSON round trip, terminal table."""

import json
import math

import pytest

from theorylab.report import Hypothesis, Report, Statement


def make_report(**kw):
    r = Report(claim="demo", params={"width": 8}, seed=1, device="cpu", dtype="float64", **kw)
    r.quantities = {"lambda_0": 0.25, "infinite": math.inf}
    return r


def test_at_most_slack_is_reference_over_measured():
    s = Statement.at_most("b", "x <= 3", 1.5, 3.0)
    assert s.holds and s.slack == 2.0 and s.relation == "<="
    violated = Statement.at_most("b", "x <= 3", 6.0, 3.0)
    assert violated.holds is False and violated.slack == 0.5


def test_at_least_and_strict():
    assert Statement.at_least("a", "", 4.0, 2.0).slack == 2.0
    assert Statement.at_most("s", "", 1.0, 1.0, strict=True).holds is False
    assert Statement.at_most("s", "", 1.0, 1.0).holds is True


def test_within_slack_is_distance_to_nearest_edge():
    inside = Statement.within("e", "", -0.45, (-0.65, -0.35))
    assert inside.holds and inside.slack == pytest.approx(0.1)
    outside = Statement.within("e", "", 0.0, (-0.65, -0.35))
    assert outside.holds is False and outside.slack == pytest.approx(-0.35)


def test_non_finite_measurement_is_not_evaluated():
    s = Statement.at_most("b", "", math.nan, 1.0)
    assert s.holds is None and s.slack is None
    assert Statement.at_most("b", "", 1.0, math.nan).holds is None
    assert Statement.within("e", "", math.inf, (0, 1)).holds is None


def test_mark_not_evaluable_clears_verdict_and_slack_and_keeps_the_detail():
    s = Statement.at_most("b", "", 3.0, 2.0, detail="3 runs").mark_not_evaluable("not converged")
    assert s.holds is None and s.slack is None and s.detail == "3 runs; not converged"
    assert Statement.at_most("b", "", 3.0, 2.0).mark_not_evaluable("why").detail == "why"


def test_verdicts():
    r = make_report()
    assert r.verdict == "inconclusive"  # no statements: nothing was checked
    r.statements = [Statement.at_most("a", "", 1, 2)]
    assert r.verdict == "holds" and r.exit_status == 0 and r.holds
    r.hypotheses = [Hypothesis("h", "", met=False)]
    assert r.verdict == "holds"  # an unmet theorem hypothesis is reported, not fatal
    r.hypotheses = [Hypothesis("h", "", met=False, required=True)]
    assert r.verdict == "inconclusive" and r.exit_status == 3
    r.hypotheses = []
    r.statements.append(Statement.at_most("b", "", 3, 2))
    assert r.verdict == "violated" and r.exit_status == 1
    r.failure = "diverged"
    assert r.verdict == "inconclusive"


def test_json_round_trip_is_strict_and_lossless():
    r = make_report()
    r.statements = [
        Statement.at_most("a", "x <= y", 0.0, 2.0),  # slack inf
        Statement.within("e", "slope", -0.5, (-0.65, -0.35), detail="fit"),
        Statement.at_most("n", "", math.nan, 1.0),
    ]
    r.hypotheses = [Hypothesis("width", "m big", False, "m = 8", required=False)]
    r.series = {"step": [0, 1], "loss": [[1.0, 0.5]], "nested": {"bound": [math.inf, 1.0]}}
    r.timing = {"total_s": 0.1}
    text = r.to_json()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    back = Report.from_json(text)
    assert back.to_json() == text
    assert back.statements[0].slack == math.inf
    assert math.isnan(back.statements[2].measured)
    assert back.quantities["infinite"] == math.inf
    assert back.series["nested"]["bound"][0] == math.inf
    assert back.verdict == r.verdict == "inconclusive"  # the NaN statement is n/a


def test_stable_keys_present():
    data = json.loads(make_report().to_json())
    for key in (
        "claim", "theorylab_version", "torch_version", "device", "dtype", "seed", "params",
        "verdict", "statements", "hypotheses", "quantities", "series", "timing",
    ):  # fmt: skip
        assert key in data


def test_table_lists_statements_hypotheses_verdict():
    r = make_report()
    r.statements = [Statement.at_most("distance_bound", "", 0.4, 36.0)]
    r.hypotheses = [Hypothesis("width_requirement", "", False, "required 6e19")]
    table = r.table()
    assert "distance_bound" in table and "90" in table
    assert "[not met] width_requirement: required 6e19" in table
    assert table.endswith("verdict: holds")


def test_statement_lookup_names_known_ones():
    r = make_report()
    r.statements = [Statement.at_most("a", "", 1, 2)]
    assert r.statement("a").holds
    with pytest.raises(KeyError, match="have: a"):
        r.statement("b")

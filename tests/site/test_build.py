"""python -m theorylab.report: the site's pages parse, their links resolve, every claim is
listed, verdicts are shown as they are, the exit status is the worst verdict."""

import json
import re
import subprocess
import sys

import pytest

from theorylab import registry
from theorylab.site import build
from theorylab.site.build import Entry, build_site, reproduce_command
from theorylab.store import DONE, FAILED, CellKey, CellResult, Store


def write_reports(tmp_path, reports):
    paths = []
    for i, r in enumerate(reports):
        path = tmp_path / f"r{i}.json"
        path.write_text(r.to_json())
        paths.append(str(path))
    return paths


def test_site_from_saved_reports_shows_every_verdict(
    tmp_path, toy_claim, capsys, make_report, check_links
):
    reports = [
        make_report("site_toy", "holds"),
        make_report("bravo", "violated"),
        make_report("charlie", "inconclusive"),
    ]
    out = tmp_path / "site"
    status = build.main(["--out", str(out), "--from-json", *write_reports(tmp_path, reports)])
    assert status == 1  # violated is worse than inconclusive
    assert capsys.readouterr().out.strip() == (
        f"wrote {out / 'index.html'} (holds 1, violated 1, inconclusive 1)"
    )
    index = check_links(out / "index.html")
    text = " ".join(index.text)
    assert sorted(index.links) == ["claims/bravo.html", "claims/charlie.html",
                                   "claims/site_toy.html"]  # fmt: skip
    flat = re.sub(r"\s+", " ", text)
    for row in (
        "site_toy .*? holds 3/3",
        "bravo violated 3/4",
        "charlie inconclusive 3/4 \\(1 n/a",
    ):
        assert re.search(row, flat), row
    assert "rate = 0.25" in text  # the violated statement is bravo's worst slack
    for name, report in zip(("site_toy", "bravo", "charlie"), reports, strict=True):
        page = check_links(out / "claims" / f"{name}.html")
        assert f"../reports/{name}.json" in page.links
        saved = (out / "reports" / f"{name}.json").read_text()
        assert saved == report.to_json() + "\n"  # the site can be rebuilt from its reports
    toy = (out / "claims" / "site_toy.html").read_text()
    assert "Doe &amp; Roe (COLT 2030)" in toy and (out / "figures" / "site_toy.png").is_file()
    assert "python -m theorylab.check site_toy --width 128 --no-exact" in toy
    bravo = (out / "claims" / "bravo.html").read_text()
    assert '<tr class="no">' in bravo and "rate &gt;= 1 &lt;script&gt;" in bravo
    assert "not registered here: no figure" in bravo
    charlie = (out / "claims" / "charlie.html").read_text()
    assert "loss is NaN at step 17" in charlie and "No figure for an inconclusive run" in charlie


def test_index_lists_every_registered_claim_by_default(
    tmp_path, toy_claim, monkeypatch, make_report, check_links
):
    # Runs are replaced by hand-made reports (the real claims take minutes); what is tested
    # is that the default selection is every registered claim, a user claim included.
    def fake_run(claim, params, **kw):
        return make_report(claim.name, "holds")

    monkeypatch.setattr(registry, "run_claim", fake_run)
    out = tmp_path / "site"
    assert build.main(["--out", str(out), "--quiet", "--no-figures"]) == 0
    index = check_links(out / "index.html")
    assert sorted(index.links) == [f"claims/{n}.html" for n in sorted(registry.CLAIM_MODULES)]
    assert "site_toy" in registry.CLAIM_MODULES


def test_a_claim_that_raises_is_a_row_and_exit_4(
    tmp_path, toy_claim, monkeypatch, capsys, check_links
):
    def boom(claim, params, **kw):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(registry, "run_claim", boom)
    out = tmp_path / "site"
    assert build.main(["--out", str(out), "--claims", "site_toy"]) == 4
    err = capsys.readouterr().err
    assert "[1/1] site_toy: running" in err
    assert "[1/1] site_toy: error (RuntimeError: kaboom)" in err
    page = (out / "claims" / "site_toy.html").read_text()
    assert "internal error in site_toy: RuntimeError: kaboom" in page
    assert "error" in " ".join(check_links(out / "index.html").text)


def test_one_small_real_run_with_power_audit(tmp_path, toy_claim, capsys, make_report):
    out = tmp_path / "site"
    assert build.main(["--out", str(out), "--claims", "site_toy", "--seed", "2"]) == 0
    assert "[1/1] site_toy: holds in" in capsys.readouterr().err
    page = (out / "claims" / "site_toy.html").read_text()
    assert "--seed 2" in page and "Not run: build with --power" in page
    audit = {"claim": "site_toy", "seed": 0, "params": {"width": 8}, "baseline_verdict": "holds",
             "mutants": [{"name": "wrong_constant", "description": "2 for 1", "caught": True,
                          "expected_caught": True, "verdict": "violated", "flipped": ["bound"]},
                         {"name": "blind", "description": "", "caught": False,
                          "expected_caught": False, "verdict": "holds"}]}  # fmt: skip
    audit_path = tmp_path / "audit.json"
    audit_path.write_text(json.dumps(audit))
    reports = write_reports(tmp_path, [make_report("site_toy", "holds")])
    assert build.main(["--out", str(out), "--from-json", *reports, "--power-json",
                       str(audit_path), "--quiet"]) == 0  # fmt: skip
    page = (out / "claims" / "site_toy.html").read_text()
    assert "caught 1 of 2 mutants" in page and "no (blind spot)" in page
    assert "wrong_constant" in page and "NOT CAUGHT" in page


def test_store_cells_become_pages(tmp_path, toy_claim, make_report, check_links):
    store = tmp_path / "s.sqlite"
    with Store(str(store)) as s:
        for seed in (0, 1):
            r = make_report("site_toy", "holds", seed=seed)
            s.record(CellKey("site_toy", "abc", seed), r.params, "cpu", "float64",
                     CellResult(DONE, report=r.to_json(), verdict=r.verdict,
                                run_hash=r.run_hash))  # fmt: skip
        s.record(CellKey("site_toy", "abc", 2), {}, "cpu", "float64",
                 CellResult(FAILED, error="ValueError: bad cell"))  # fmt: skip
    out = tmp_path / "site"
    assert build.main(["--out", str(out), "--store", str(store), "--quiet"]) == 4
    index = check_links(out / "index.html")
    assert len(index.links) == 3
    text = re.sub(r"\s+", " ", " ".join(index.text))
    assert "site_toy (seed 0, run site000000000000)" in text
    assert "site_toy (seed 1, run site000000000001)" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--claims", "nope"], "no such claim: nope"),
        (["--claims", "a,,b"], "empty value"),
        (["--from-json", "missing.json"], "cannot read missing.json"),
        (["--store", "missing.sqlite"], "no such store: missing.sqlite"),
        (["--seed", "-1"], "--seed must be a non-negative integer"),
        ([], "the following arguments are required: --out"),
    ],
)
def test_usage_errors_are_one_line_before_any_work(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = [] if not argv else ["--out", "site"]
    assert build.main(out + argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "site" / "index.html").exists()


def test_malformed_report_and_out_file_are_usage_errors(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"statements": []}')
    assert build.main(["--out", str(tmp_path / "s"), "--from-json", str(bad)]) == 2
    assert "is not a theorylab report: KeyError" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert build.main(["--out", str(tmp_path / "file"), "--from-json", str(bad)]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err


def test_reproduce_command_names_what_differs_from_the_defaults(toy_claim, make_report):
    info = build.claim_info("site_toy")
    r = make_report("site_toy", "holds", params={"width": 64, "exact": True})
    assert reproduce_command(r, info) == "python -m theorylab.check site_toy"
    r = make_report("site_toy", "holds", seed=3, params={"width": 64, "exact": False})
    r.dtype = "float32"
    assert reproduce_command(r, info) == (
        "python -m theorylab.check site_toy --no-exact --seed 3 --dtype float32"
    )
    unknown = make_report("elsewhere", "holds", params={"eta": 0.5, "label": "a b"})
    assert reproduce_command(unknown, build.claim_info("elsewhere")) == (
        "python -m theorylab.check elsewhere --eta 0.5 --label 'a b'"
    )


def test_worst_status_order():
    assert build.worst_status([0, 3, 1]) == 1
    assert build.worst_status([0, 3]) == 3
    assert build.worst_status([1, 4, 0]) == 4
    assert build.worst_status([]) == 0


def test_empty_site_and_api(tmp_path, make_report):
    assert build_site(tmp_path / "s", []) == 0
    assert "no reports" in (tmp_path / "s" / "index.html").read_text()
    entries = [Entry("x", make_report("x", "violated"), "api")]
    assert build_site(tmp_path / "t", entries, figures=False) == 1


def test_python_m_theorylab_report_runs_the_site_builder(tmp_path, make_report, check_links):
    reports = write_reports(tmp_path, [make_report("alpha", "holds")])
    result = subprocess.run(
        [sys.executable, "-m", "theorylab.report", "--out", str(tmp_path / "s"), "--from-json",
         *reports],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == "[1/1] figure alpha\n"  # progress only: no runpy warning
    assert result.stdout.startswith("wrote ")
    check_links(tmp_path / "s" / "claims" / "alpha.html")

"""Results store: atomic rows, resume semantics, concurrent writers, CSV export, summaries."""

from __future__ import annotations

import csv
import io
import math
import sqlite3
import threading

import numpy as np
import pytest

from theorylab.errors import UsageError
from theorylab.report import Report, Statement
from theorylab.store import (
    DONE,
    FAILED,
    HELD_ELSEWHERE,
    LEASED,
    CellKey,
    CellResult,
    Store,
    export_csv,
    format_summary,
    mean_confidence_interval,
    new_owner,
    owner_is_dead,
    param_hash,
    summarize,
)

# t_{0.975, 2} from the closed form of the t quantile at 2 degrees of freedom,
# t_p = (2p - 1) sqrt(2 / (4 p (1 - p))) (not from scipy, which the code under test uses).
T_975_DF2 = 0.95 * math.sqrt(2 / (4 * 0.975 * 0.025))


def fake_report(seed: int, width: int, distance: float, holds: bool) -> Report:
    report = Report(claim="toy", params={"width": width}, seed=seed, device="cpu", dtype="float64")
    report.statements = [
        Statement.at_most("bound", "distance <= 1", distance, 1.0),
        Statement.within("exponent", "in [-1, 0]", -0.5 if holds else 0.5, (-1.0, 0.0)),
    ]
    report.quantities = {"distance": distance, "n": 10, "flag": True, "name": "x"}
    return report


def done(report: Report) -> CellResult:
    return CellResult(DONE, report=report.to_json(), verdict=report.verdict, run_hash="h")


def key_for(width: int, seed: int) -> CellKey:
    return CellKey("toy", param_hash("toy", {"width": width}, "cpu", "float64"), seed)


@pytest.fixture
def store(tmp_path):
    with Store(str(tmp_path / "results.sqlite")) as s:
        yield s


def test_param_hash_covers_every_setting_but_not_order():
    base = param_hash("toy", {"width": 4, "steps": 2}, "cpu", "float64")
    assert base == param_hash("toy", {"steps": 2, "width": 4}, "cpu", "float64")
    assert base != param_hash("toy", {"width": 4, "steps": 3}, "cpu", "float64")
    assert base != param_hash("toy", {"width": 4, "steps": 2}, "cpu", "float32")
    assert base != param_hash("other", {"width": 4, "steps": 2}, "cpu", "float64")


def test_store_is_wal_with_busy_timeout(store):
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
    assert store.integrity_ok()


def test_record_and_read_back_a_report(store):
    report = fake_report(0, 8, 0.5, True)
    assert store.record(key_for(8, 0), {"width": 8}, "cpu", "float64", done(report))
    assert store.status(key_for(8, 0)) == DONE
    assert store.status(key_for(8, 1)) is None
    (row,) = list(store.rows())
    assert row.report().to_json() == report.to_json()
    assert row.params == {"width": 8} and row.verdict == "holds"


def test_done_row_is_never_overwritten_failed_row_is_replaced(store):
    key = key_for(8, 0)
    assert store.record(key, {"width": 8}, "cpu", "float64", CellResult(FAILED, error="boom"))
    assert store.status(key) == FAILED
    assert store.record(key, {"width": 8}, "cpu", "float64", done(fake_report(0, 8, 0.5, True)))
    assert store.status(key) == DONE
    # A second writer of the same cell loses: the first report stays, still one row.
    late = done(fake_report(0, 8, 3.0, False))
    assert not store.record(key, {"width": 8}, "cpu", "float64", late)
    assert not store.record(key, {"width": 8}, "cpu", "float64", CellResult(FAILED, error="x"))
    (row,) = list(store.rows())
    assert row.report().quantities["distance"] == 0.5
    assert store.count() == 1


def test_failed_transaction_leaves_no_row(store):
    with pytest.raises(ValueError):
        store.record(key_for(8, 0), {"width": 8}, "cpu", "float64", CellResult("running"))
    assert store.count() == 0
    assert store.integrity_ok()


def test_concurrent_writers_on_one_file(tmp_path):
    """Threads with their own connections write overlapping cells: union stored, once each."""
    path = str(tmp_path / "shared.sqlite")
    Store(path).close()
    errors = []

    def writer(seeds):
        try:
            with Store(path) as s:
                for seed in seeds:
                    report = fake_report(seed, 8, 0.1 * seed, True)
                    s.record(key_for(8, seed), {"width": 8}, "cpu", "float64", done(report))
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(r,)) for r in (range(0, 40), range(20, 60))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store(path) as s:
        assert s.count() == 60
        assert {k.seed for k in s.keys()} == set(range(60))
        assert s.integrity_ok()


def test_open_errors_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="no results store"):
        Store(str(tmp_path / "missing.sqlite"), create=False)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("this is not a database, it is a text file of some length\n" * 20)
    with pytest.raises(UsageError, match="not a usable results store"):
        Store(str(junk))
    with pytest.raises(UsageError, match="no folder"):
        Store(str(tmp_path / "no" / "such" / "dir.sqlite"))


def test_a_store_from_another_schema_is_refused(tmp_path):
    path = str(tmp_path / "old.sqlite")
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(UsageError, match="schema 99"):
        Store(path)


# Read-only opening -------------------------------------------------------------------------


def test_readonly_open_never_writes(tmp_path):
    """summary/export on a 0-byte file (or any non-store) refuse it and leave it untouched."""
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    with pytest.raises(UsageError, match="not a usable results store"):
        Store(str(empty), readonly=True)
    assert empty.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == [
        "empty.sqlite"
    ]
    with pytest.raises(UsageError, match="no results store"):
        Store(str(tmp_path / "missing.sqlite"), readonly=True)
    assert not (tmp_path / "missing.sqlite").exists()
    with pytest.raises(UsageError, match="is a directory"):
        Store(str(tmp_path), readonly=True)


def test_readonly_store_reads_but_cannot_write(tmp_path):
    path = str(tmp_path / "r.sqlite")
    with Store(path) as s:
        s.record(key_for(4, 0), {"width": 4}, "cpu", "float64", done(fake_report(0, 4, 0.5, True)))
    before = (tmp_path / "r.sqlite").read_bytes()
    with Store(path, readonly=True) as s:
        assert s.count() == 1 and s.status(key_for(4, 0)) == DONE
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            s.record(key_for(4, 1), {}, "cpu", "float64", done(fake_report(1, 4, 0.5, True)))
    assert (tmp_path / "r.sqlite").read_bytes() == before


# Leases ------------------------------------------------------------------------------------


def test_a_lease_is_exclusive_until_released_or_recorded(store):
    key, mine, other = key_for(4, 0), new_owner(), "otherhost:1:abcd"
    assert store.lease(key, mine) == LEASED
    assert store.lease(key, mine) == LEASED  # taking one's own lease again renews it
    assert store.lease(key, other) == HELD_ELSEWHERE
    assert store.renew(mine) == 1
    store.record(key, {"width": 4}, "cpu", "float64", done(fake_report(0, 4, 0.5, True)), mine)
    assert store.leases() == {}
    assert store.lease(key, other) == DONE  # finished: nobody runs it again
    failed = key_for(4, 1)
    store.record(failed, {"width": 4}, "cpu", "float64", CellResult(FAILED, error="x"))
    assert store.lease(failed, other, retry_failed=False) == FAILED
    assert store.lease(failed, other) == LEASED
    assert store.release(other) == 1 and store.leases() == {}


def test_an_expired_lease_is_taken_over(store):
    key = key_for(4, 0)
    assert store.lease(key, "otherhost:1:abcd", lease_s=-1.0) == LEASED  # already expired
    assert store.lease(key, new_owner()) == LEASED


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(store):
    import socket
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # this pid no longer exists (reused only after a wrap-around of pids)
    dead = f"{socket.gethostname()}:{proc.pid}:dead"
    assert owner_is_dead(dead) and not owner_is_dead(new_owner())
    assert not owner_is_dead("otherhost:1:x") and not owner_is_dead("garbage")
    key = key_for(4, 0)
    assert store.lease(key, dead, lease_s=3600) == LEASED
    assert store.lease(key, new_owner()) == LEASED


def test_leases_split_the_cells_between_concurrent_owners(tmp_path):
    """Threads with their own connections race for 40 cells: each cell is leased exactly once."""
    path = str(tmp_path / "r.sqlite")
    Store(path).close()
    keys = [key_for(4, seed) for seed in range(40)]
    taken: dict[str, list[CellKey]] = {}

    def sweep(owner):
        with Store(path) as s:
            taken[owner] = [k for k in keys if s.lease(k, owner) == LEASED]

    owners = [f"host:{i}:x" for i in range(4)]
    threads = [threading.Thread(target=sweep, args=(o,)) for o in owners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    leased = [k for o in owners for k in taken[o]]
    assert sorted(leased, key=lambda k: k.seed) == keys


# Confidence interval -----------------------------------------------------------------------


def test_confidence_interval_closed_form():
    ci = mean_confidence_interval([1.0, 2.0, 3.0])
    # s = 1, n = 3: half width t_{0.975,2} / sqrt(3).
    half = T_975_DF2 / math.sqrt(3)
    assert ci.mean == 2.0 and ci.n == 3
    assert ci.lo == pytest.approx(2.0 - half, abs=1e-12)
    assert ci.hi == pytest.approx(2.0 + half, abs=1e-12)


def test_confidence_interval_edge_cases():
    single = mean_confidence_interval([4.0])
    assert single.mean == 4.0 and single.n == 1 and math.isnan(single.lo)
    assert mean_confidence_interval([]).n == 0
    mixed = mean_confidence_interval([1.0, math.nan, 3.0, math.inf])
    assert mixed.n == 2 and mixed.mean == 2.0
    same = mean_confidence_interval([5.0, 5.0, 5.0])
    assert (same.lo, same.hi) == (5.0, 5.0)
    with pytest.raises(UsageError):
        mean_confidence_interval([1.0, 2.0], confidence=1.5)


def test_confidence_interval_coverage_is_nominal_for_three_seeds():
    """Statistical tier: over 4000 groups of 3 normal draws the 95% interval covers the true
    mean 95% of the time. Tolerance 4 binomial standard errors (sqrt(.95*.05/4000) = 0.0034,
    so +-0.014); a normal (z) interval would cover ~0.88 here and fail."""
    rng = np.random.default_rng(7)
    samples = rng.normal(loc=1.5, size=(4000, 3))
    covered = 0
    for row in samples:
        ci = mean_confidence_interval(row.tolist())
        covered += ci.lo <= 1.5 <= ci.hi
    coverage = covered / len(samples)
    print(f"coverage {coverage:.4f}")
    assert abs(coverage - 0.95) <= 4 * math.sqrt(0.95 * 0.05 / len(samples))


# Summary and export ------------------------------------------------------------------------


@pytest.fixture
def filled(store):
    # width 8: seeds 0..2 all hold; width 16: seeds 0..2, one violated; plus one failed cell.
    settings = ((8, [0.2, 0.4, 0.6], [True] * 3), (16, [0.1, 0.2, 3.0], [True, True, False]))
    for width, distances, holds in settings:
        for seed, (dist, h) in enumerate(zip(distances, holds, strict=True)):
            result = done(fake_report(seed, width, dist, h))
            store.record(key_for(width, seed), {"width": width}, "cpu", "float64", result)
    failed = CellResult(FAILED, error="RuntimeError: boom", traceback="Traceback ...")
    store.record(key_for(16, 3), {"width": 16}, "cpu", "float64", failed)
    return store


def test_summary_groups_means_intervals_and_pass_rates(filled):
    groups = summarize(filled)
    assert [g.label for g in groups] == ["width=8", "width=16"]
    small, large = groups
    assert small.seeds == [0, 1, 2] and small.failed_seeds == []
    assert large.seeds == [0, 1, 2] and large.failed_seeds == [3]
    assert small.quantities["distance"].mean == pytest.approx(0.4)
    half = T_975_DF2 * 0.2 / math.sqrt(3)  # s = 0.2
    assert small.quantities["distance"].hi == pytest.approx(0.4 + half)
    assert "flag" not in small.quantities and "name" not in small.quantities
    assert small.statements["bound"].rate == 1.0
    assert large.statements["bound"].passed == 2 and large.statements["bound"].evaluated == 3
    assert large.statements["exponent"].rate == pytest.approx(2 / 3)
    assert large.verdicts == {"holds": 2, "violated": 1}
    text = format_summary(groups)
    assert "toy  width=16" in text and "1 failed" in text and "67%" in text and "2/3" in text


def test_summary_of_an_empty_store(store):
    assert summarize(store) == []
    assert format_summary([]) == "store is empty"


def test_export_csv_one_line_per_cell(filled):
    out = io.StringIO()
    assert export_csv(filled, out) == 7
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 7
    assert {(r["param.width"], r["seed"]) for r in rows} == {
        (w, str(s)) for w in ("8", "16") for s in range(3)
    } | {("16", "3")}
    failed = [r for r in rows if r["status"] == FAILED]
    assert len(failed) == 1 and failed[0]["error"] == "RuntimeError: boom"
    assert failed[0]["quantity.distance"] == ""
    violated = [r for r in rows if r["verdict"] == "violated"]
    assert violated[0]["statement.bound.holds"] == "False"
    assert float(violated[0]["statement.bound.measured"]) == 3.0
    assert "quantity.flag" not in rows[0]


def test_export_filters_by_claim(filled):
    assert export_csv(filled, io.StringIO(), claim="other") == 0

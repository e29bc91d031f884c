"""Sweeps: grid and seed syntax, resume, SIGKILL, concurrent sweeps, failing cells, Dask."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from theorylab.errors import UsageError
from theorylab.registry import check, get_claim
from theorylab.report import Report, Statement
from theorylab.store import DONE, FAILED, LEASED, CellResult, Store
from theorylab.sweep import build_cells, main, parse_grid, parse_seeds, run_sweep

# near_init small enough that a cell takes well under a second.
TINY = ["rungs=2", "inits=1", "steps=20", "n=20", "d=5", "kernel_samples=200"]
TINY_VALUES = dict(rungs=2, inits=1, steps=20, n=20, d=5, kernel_samples=200)
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "THEORYLAB_PROGRESS": "0"}


def sweep_cli(*args: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "theorylab.sweep", *args],
        capture_output=True, text=True, timeout=timeout, env=ENV, **kwargs,
    )  # fmt: skip


def grid_args(widths: str, *extra: str) -> list[str]:
    args = ["near_init", "--grid", f"width={widths}"]
    for spec in [*TINY, *extra]:
        args += ["--grid", spec]
    return args


def without_timing(report_json: str) -> dict:
    data = json.loads(report_json)
    data.pop("timing")
    return data


# Grid and seeds -----------------------------------------------------------------------------


def test_seed_syntax():
    assert parse_seeds("0:10") == list(range(10))
    assert parse_seeds("3") == [3]
    assert parse_seeds("4,1,9") == [4, 1, 9]
    for bad, message in (
        ("5:2", "empty"), ("a:b", "START:STOP"), ("-1", "non-negative"), ("1,1", "repeats"),
        ("", "START:STOP"), ("0:100000000000", "more than"),
    ):  # fmt: skip
        with pytest.raises(UsageError, match=message):
            parse_seeds(bad)


def test_grid_syntax_and_types():
    claim = get_claim("near_init")
    grid = parse_grid(claim, ["width=64,256", "eta=0.5,none", "kernel-samples=200"])
    assert grid == {"width": [64, 256], "eta": [0.5, None], "kernel_samples": [200]}
    assert isinstance(grid["eta"][0], float)
    for spec, message in (
        ("width", "NAME=V1,V2"), ("=3", "NAME=V1,V2"), ("widht=64", "unknown parameter widht"),
        ("width=64,,128", "empty value"),
        ("width=abc", "--grid width must be an integer, got 'abc'"),
        ("eta=fast", "--grid eta must be a number, got 'fast'"), ("width=64,64", "repeats"),
        ("width=none", "integer"),
    ):  # fmt: skip
        with pytest.raises(UsageError, match=message):
            parse_grid(claim, [spec])
    with pytest.raises(UsageError, match="given twice"):
        parse_grid(claim, ["width=64", "width=128"])


def test_cells_are_the_cartesian_product_and_hash_full_parameters():
    grid = {"width": [64, 128], "steps": [20, 30], "rungs": [2]}
    cells = build_cells("near_init", grid, [0, 1, 2])
    assert len(cells) == 12
    assert len({c.param_hash for c in cells}) == 4
    assert len({c.key for c in cells}) == 12
    # Naming a default explicitly is the same cell as leaving it out.
    implicit = build_cells("near_init", {"width": [64], "rungs": [2]}, [0])[0]
    explicit = build_cells("near_init", {"width": [64], "rungs": [2], "steps": [500]}, [0])[0]
    assert implicit.param_hash == explicit.param_hash
    as_float32 = build_cells("near_init", {"width": [64], "rungs": [2]}, [0], dtype="float32")
    assert as_float32[0].param_hash != implicit.param_hash


def test_every_grid_point_is_validated_before_any_work():
    with pytest.raises(UsageError, match="grid point width=0 rungs=2: width must be >= 1"):
        build_cells("near_init", {"width": [64, 0], "rungs": [2]}, [0])
    with pytest.raises(UsageError, match="smallest width"):
        build_cells("near_init", {"width": [64, 16], "rungs": [3]}, [0])
    with pytest.raises(UsageError, match="needs an estimated"):
        build_cells("near_init", {"width": [64, 4 * 10**9], "rungs": [2], "n": [1000]}, [0])
    with pytest.raises(UsageError, match="limit 1000000"):
        build_cells("near_init", {"width": [64, 128], "rungs": [2]}, range(600_000))
    with pytest.raises(UsageError, match="device cuda|device must"):
        build_cells("near_init", {"width": [64], "rungs": [2]}, [0], device="tpu")


def test_cli_usage_errors_in_process(capsys, tmp_path):
    store = str(tmp_path / "r.sqlite")
    cases = [
        (["near_init", "--grid", "width:64", "--store", store], "NAME=V1,V2"),
        (["near_init", "--grid", "depth=2", "--store", store], "unknown parameter depth"),
        (["near_init", "--grid", "width=64", "--seeds", "3:1", "--store", store], "empty"),
        (["near_init", "--grid", "width=64"], "--store"),
        (["near_init", "--grid", "width=64", "--store", store, "--scheduler", "tcp://x:1"],
         "needs --executor dask"),
        (["near_init", "--grid", "width=64", "--store", store, "--workers", "0"], "positive"),
        (["no_such_claim", "--store", store], "no such claim"),
        (["--grid", "width=64"], "first argument"),
        ([], "missing CLAIM"),
        (["summary", str(tmp_path / "missing.sqlite")], "no results store"),
        (["export", store], "--csv"),
        (["summary", store, "--confidence", "95"], "--confidence must be in (0, 1)"),
    ]  # fmt: skip
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, (argv, err)
    assert not os.path.exists(store)  # nothing was created by a rejected sweep


# A local sweep, resumed ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("local") / "results.sqlite")
    grid = {"width": [64, 128], **{k: [v] for k, v in TINY_VALUES.items()}}
    cells = build_cells("near_init", grid, [0, 1])
    with Store(path) as store:
        first = run_sweep(cells, store, workers=2, quiet=True)
        again = run_sweep(cells, store, workers=2, quiet=True)
    return path, cells, first, again


def test_local_sweep_stores_every_cell_once(local_sweep):
    path, cells, first, _ = local_sweep
    assert (first.total, first.done, first.failed, first.skipped) == (4, 4, 0, 0)
    with Store(path) as store:
        assert store.keys() == {c.key for c in cells}
        assert store.count(status=DONE) == 4
        assert store.integrity_ok()


def test_rerun_skips_finished_cells(local_sweep):
    _, _, _, again = local_sweep
    assert (again.total, again.skipped, again.done, again.failed) == (4, 4, 0, 0)


def test_failed_cells_are_retried_unless_asked_not_to(local_sweep, tmp_path):
    _, cells, _, _ = local_sweep
    cell = cells[0]
    with Store(str(tmp_path / "r.sqlite")) as store:
        lost = CellResult(FAILED, error="BrokenProcessPool: a worker process died")
        store.record(cell.key, dict(cell.params), cell.device, cell.dtype, lost)
        kept = run_sweep([cell], store, workers=1, retry_failed=False, quiet=True)
        assert (kept.skipped, kept.done) == (1, 0) and store.status(cell.key) == FAILED
        retried = run_sweep([cell], store, workers=1, quiet=True)
        assert (retried.skipped, retried.done) == (0, 1) and store.status(cell.key) == DONE
        assert store.count() == 1


def test_worker_reports_match_an_in_process_check(local_sweep):
    """Same seed, same parameters: the pool's report is the in-process one apart from timing."""
    path, cells, _, _ = local_sweep
    cell = cells[-1]
    with Store(path) as store:
        (row,) = [r for r in store.rows() if r.key == cell.key]
    direct = check("near_init", seed=cell.seed, **dict(cell.values))
    assert without_timing(row.report_json) == without_timing(direct.to_json())
    assert row.run_hash == direct.run_hash and row.verdict == direct.verdict


def test_summary_and_export_commands(local_sweep, capsys, tmp_path):
    path, _, _, _ = local_sweep
    assert main(["summary", path]) == 0
    out = capsys.readouterr().out
    assert "near_init  width=64" in out and "near_init  width=128" in out
    assert "2 seeds" in out and "lambda_0" in out and "linear_convergence" in out
    csv_path = str(tmp_path / "out.csv")
    assert main(["export", path, "--csv", csv_path]) == 0
    with open(csv_path) as f:
        lines = f.read().splitlines()
    assert len(lines) == 1 + 4
    assert lines[0].startswith("claim,param_hash,seed,")


# Failing cells ------------------------------------------------------------------------------

FLAKY_CLAIM = textwrap.dedent(
    '''
    """A toy claim for the sweep tests: raises at fail_seed, kills its worker at die_seed."""
    import os
    from dataclasses import dataclass

    from theorylab.registry import Claim, param
    from theorylab.report import Report, Statement


    @dataclass(frozen=True)
    class Params:
        fail_seed: int = param(1, "seed whose cell raises", minimum=0)
        die_seed: int = param(99, "seed whose cell ends its worker process", minimum=0)


    def run(p, ctx):
        if ctx.seed == p.fail_seed:
            raise RuntimeError(f"deliberate failure at seed {ctx.seed}")
        if ctx.seed == p.die_seed:
            os._exit(9)
        report = Report("flaky", {}, ctx.seed, ctx.device, ctx.dtype)
        report.statements.append(Statement.at_most("bound", "seed <= 3", ctx.seed, 3))
        return report


    CLAIM = Claim("flaky", "toy claim", Params, run)
    '''
)
DRIVER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from theorylab import registry
    registry.CLAIM_MODULES["flaky"] = "flaky_claim"
    from theorylab.sweep import main
    sys.exit(main(sys.argv[2:]))
    """
)


def test_raising_cell_is_recorded_failed_and_the_sweep_goes_on(tmp_path):
    (tmp_path / "flaky_claim.py").write_text(FLAKY_CLAIM)
    store = str(tmp_path / "r.sqlite")
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path), "flaky", "--grid", "fail_seed=1",
         "--grid", "die_seed=4", "--seeds", "0:6", "--workers", "1", "--store", store],
        capture_output=True, text=True, timeout=300, env=ENV,
    )  # fmt: skip
    assert result.returncode == 4, result.stderr
    assert "RuntimeError: deliberate failure at seed 1" in result.stderr
    with Store(store) as s:
        rows = {r.seed: r for r in s.rows()}
    assert sorted(rows) == list(range(6))
    assert rows[1].status == FAILED
    assert rows[1].error == "RuntimeError: deliberate failure at seed 1"
    assert "Traceback" in rows[1].traceback and "deliberate failure" in rows[1].traceback
    assert rows[4].status == FAILED and "BrokenProcessPool" in rows[4].error
    for seed in (0, 2):  # finished before the dying cell was submitted
        assert rows[seed].status == DONE and rows[seed].verdict == "holds"
    for seed in (3, 5):  # done, or lost with the dying worker (in flight with it)
        assert rows[seed].status == DONE or "BrokenProcessPool" in rows[seed].error
    assert "6 cells" in result.stdout and "failed" in result.stdout


# SIGKILL and concurrent sweeps ---------------------------------------------------------------


def count_done(path: str) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute("SELECT COUNT(*) FROM cells WHERE status = 'done'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_two_concurrent_sweeps_share_the_cells_and_run_none_twice(tmp_path):
    """Leases: two sweeps of the same 8 cells on one store run 8 cells between them."""
    store = str(tmp_path / "r.sqlite")
    args = [*grid_args("64,128"), "--seeds", "0:4", "--workers", "1", "--store", store]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "theorylab.sweep", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )  # fmt: skip
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    ran = 0
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        match = re.search(r"8 cells: (\d+) already stored, (\d+) run", out)
        assert match, out
        ran += int(match.group(2))
    assert ran == 8, [o for o, _ in outputs]
    with Store(store) as s:
        assert s.count() == 8 == s.count(status=DONE)
        assert s.leases() == {} and s.integrity_ok()


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, grandchildren...), from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the workers")
def test_sigkill_of_the_sweep_alone_leaves_no_orphans_and_a_rerun_resumes(tmp_path):
    """kill -9 of the sweep process only (not its group): the fork server, the workers and
    the resource tracker exit by themselves; a rerun takes over the dead sweep's leases at once."""
    store = str(tmp_path / "r.sqlite")
    args = [*grid_args("64,128"), "--seeds", "0:6", "--workers", "2", "--store", store]
    proc = subprocess.Popen(
        [sys.executable, "-m", "theorylab.sweep", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    try:
        while count_done(store) < 1 or len(descendants(proc.pid)) < 3:
            assert proc.poll() is None, "sweep ended before it could be killed"
            assert time.monotonic() < deadline, "sweep made no progress"
            time.sleep(0.02)
        helpers = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30
        while any(alive(p) for p in helpers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [p for p in helpers if alive(p)]
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # clean up whatever a failure left
        except ProcessLookupError:
            pass
    assert left == [], f"{len(left)} of {len(helpers)} helper processes outlived the sweep"
    start = time.monotonic()
    resumed = sweep_cli(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert "12 cells" in resumed.stdout and time.monotonic() - start < 120
    with Store(store) as s:
        assert s.count() == s.count(status=DONE) == 12 and s.leases() == {}
        assert all(r.report().claim == "near_init" for r in s.rows()) and s.integrity_ok()


class InlineExecutor:
    """Stands in for the process pool: results made up at once, nothing run."""

    workers = 1

    def __init__(self, ran):
        self.ran = ran

    def submit(self, cell):
        import concurrent.futures as cf

        self.ran.append(cell.key)
        future = cf.Future()
        report = Report(cell.claim, dict(cell.params), cell.seed, cell.device, cell.dtype)
        report.statements.append(Statement.at_most("s", "0 <= 1", 0.0, 1.0))
        future.set_result(CellResult(DONE, report=report.to_json(), verdict="holds"))
        return future

    def wait_first(self, futures, timeout=None):
        return set(futures)

    def result(self, future):
        return future.result()

    def close(self, cancel=False):
        pass


@pytest.fixture
def inline_pool(monkeypatch):
    import theorylab.sweep as sweep_module

    ran = []
    monkeypatch.setattr(sweep_module, "_make_pool", lambda *args: InlineExecutor(ran))
    return ran


def test_a_cell_held_by_a_live_sweep_is_waited_for_not_run(tmp_path, inline_pool):
    cells = build_cells("near_init", {"width": [64], "rungs": [2]}, [0, 1, 2])
    other = "otherhost:1:live"
    with Store(str(tmp_path / "r.sqlite")) as store:
        assert store.lease(cells[1].key, other) == LEASED

        def finish_elsewhere():
            time.sleep(0.3)
            with Store(store.path) as s:
                result = CellResult(DONE, report=None, verdict="holds")
                s.record(cells[1].key, dict(cells[1].params), "cpu", "float64", result, other)

        thread = threading.Thread(target=finish_elsewhere)
        thread.start()
        outcome = run_sweep(cells, store, quiet=True, poll_s=0.05)
        thread.join()
    assert (outcome.done, outcome.elsewhere, outcome.skipped) == (2, 1, 0)
    assert cells[1].key not in inline_pool and len(inline_pool) == 2
    assert "1 run by another sweep" in outcome.line()


def test_a_cell_whose_lease_expires_is_run_here(tmp_path, inline_pool):
    cells = build_cells("near_init", {"width": [64], "rungs": [2]}, [0, 1])
    with Store(str(tmp_path / "r.sqlite")) as store:
        assert store.lease(cells[0].key, "otherhost:1:stuck", lease_s=0.3) == LEASED
        start = time.monotonic()
        outcome = run_sweep(cells, store, quiet=True, poll_s=0.05)
        assert time.monotonic() - start >= 0.25
        assert store.leases() == {}
    assert (outcome.done, outcome.elsewhere) == (2, 0) and len(inline_pool) == 2


def test_summary_of_a_zero_byte_file_writes_nothing(tmp_path, capsys):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    for argv in (["summary", str(empty)], ["export", str(empty), "--csv", "-"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not a usable results store" in err
    assert empty.read_bytes() == b"" and [p.name for p in tmp_path.iterdir()] == ["empty.sqlite"]


def test_check_and_sweep_read_values_with_one_parser(capsys, tmp_path):
    """The same text is refused by check and by sweep with the same words."""
    from theorylab.check import main as check_main

    store = str(tmp_path / "r.sqlite")
    for value, words in (("1.5", "must be an integer, got '1.5'"), ("x", "got 'x'")):
        assert check_main(["near_init", "--width", value]) == 2
        check_err = capsys.readouterr().err
        assert main(["near_init", "--grid", f"width={value}", "--store", store]) == 2
        sweep_err = capsys.readouterr().err
        assert words in check_err and words in sweep_err, (check_err, sweep_err)
    assert main(["near_init", "--grid", "width=1,,2", "--store", store]) == 2
    assert "empty value (values are separated by commas)" in capsys.readouterr().err


# Dask ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster():
    pytest.importorskip("distributed")
    from theorylab.sweep import local_dask_cluster

    cluster = local_dask_cluster(1)
    yield cluster
    cluster.close()


def test_dask_executor_on_a_local_cluster_matches_the_local_pool(dask_cluster, local_sweep):
    path, cells, _, _ = local_sweep
    subset = [c for c in cells if c.seed == 1]
    with Store(path) as local:
        expected = {r.key: r.report_json for r in local.rows() if r.seed == 1}
    with Store(os.path.join(os.path.dirname(path), "dask.sqlite")) as store:
        outcome = run_sweep(
            subset, store, executor="dask", scheduler=dask_cluster.scheduler_address, quiet=True
        )
        assert (outcome.done, outcome.failed) == (len(subset), 0)
        rows = list(store.rows())
    assert {r.key for r in rows} == set(expected)
    for row in rows:
        assert without_timing(row.report_json) == without_timing(expected[row.key])
        assert row.worker is not None and str(os.getpid()) not in row.worker


# Figures from the store ----------------------------------------------------------------------


def test_figures_from_the_store(local_sweep, tmp_path, capsys):
    from theorylab import figures

    path, _, _, _ = local_sweep
    with Store(path) as store:
        data = figures.collect(store, "near_init")
    assert data.x_name == "width" and data.seeds == 2
    assert data.fixed["steps"] == 20 and "width" not in data.fixed
    series = data.lines[""]["distance_bound"]
    assert sorted(series.measured) == [64, 128]
    assert all(len(v) == 2 for v in series.measured.values())  # both seeds at each width
    out = tmp_path / "figs"
    assert figures.main(["--store", path, "--out", str(out)]) == 0
    png = out / "near_init_sweep.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "2 values of width, 2 seed(s)" in capsys.readouterr().out


def test_figures_store_errors_exit_2_with_one_line(local_sweep, tmp_path, capsys):
    from theorylab import figures

    path, _, _, _ = local_sweep
    cases = [
        (["--store", path, "--x", "depth", "--out", str(tmp_path)], "--x depth"),
        (["--store", path, "pruning", "--out", str(tmp_path)], "no cells of pruning"),
        (["--store", str(tmp_path / "none.sqlite")], "no results store"),
        (["--x", "width"], "--x needs --store"),
    ]
    for argv, message in cases:
        assert figures.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err


@pytest.mark.slow
def test_cli_dask_executor_starts_its_own_local_cluster(tmp_path):
    pytest.importorskip("distributed")
    store = str(tmp_path / "r.sqlite")
    args = [*grid_args("64"), "--seeds", "0:2", "--executor", "dask", "--workers", "1"]
    result = sweep_cli(*args, "--store", store)
    assert result.returncode == 0, result.stderr
    assert "2 cells: 0 already stored, 2 run" in result.stdout
    with Store(store) as s:
        assert s.count(status=DONE) == 2


def test_sweep_help_returns_and_a_bug_is_exit_4_with_one_line(capsys, monkeypatch, tmp_path):
    import theorylab.sweep as sweep_module

    assert main(["near_init", "--help"]) == 0
    assert "--grid" in capsys.readouterr().out

    def broken(*args, **kwargs):
        raise KeyError("planted")

    monkeypatch.setattr(sweep_module, "run_sweep", broken)
    argv = [*grid_args("64"), "--store", str(tmp_path / "r.sqlite")]
    assert main(argv) == 4
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "internal error in near_init: KeyError" in err
    bad_csv = str(tmp_path / "no" / "x.csv")
    assert main(["export", str(tmp_path / "r.sqlite"), "--csv", bad_csv]) == 2
    assert "folder" in capsys.readouterr().err

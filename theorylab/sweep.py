"""Sweeps: a claim over a parameter grid x seeds, stored cell by cell, resumable.

Command line::

    python -m theorylab.sweep CLAIM --grid width=256,1024,4096 [--grid eta=0.1,0.2]
        --seeds 0:10 --store results.sqlite [--executor local|dask]
        [--scheduler tcp://HOST:PORT] [--workers N] [--threads T] [--device cpu|cuda]
        [--dtype float64|float32] [--retry-failed | --no-retry-failed] [--quiet]
    python -m theorylab.sweep summary results.sqlite [--claim CLAIM] [--confidence 0.95]
    python -m theorylab.sweep export results.sqlite --csv out.csv [--claim CLAIM]

``--grid NAME=V1,V2,...`` repeats, one per parameter; the cells are the cartesian product of
the grids and the seeds (a grid with one value fixes that parameter; parameters not named keep
the claim's defaults). ``--seeds 0:10`` is half-open (seeds 0..9), ``--seeds 3`` is one seed,
``--seeds 0,4,7`` a list. Values are typed by the claim's parameter (``none`` for an optional
parameter means its computed default). Every cell is validated before any work starts, so a
bad grid exits 2 with one line on stderr.

A cell runs ``theorylab.check(claim, seed=s, **params)`` in a worker and returns
``report.to_json()``; the parent process alone writes the store (:mod:`theorylab.store`), one
transaction per cell, as results arrive. Cells already ``done`` in the store are skipped (a
rerun of the same command resumes). Just before a cell is submitted the sweep *leases* it in
the store (owner and expiry, one transaction): two sweeps on one store split the remaining
cells, each runs only cells it leased, and one that runs out of cells waits for the cells the
other holds (running them itself if their lease expires: the other sweep died). Leases are
renewed every ``LEASE_S / 4`` while the cells run. A cell that raises is stored ``failed``
with its error and traceback and the sweep goes on; failed cells are run again on a rerun
unless ``--no-retry-failed``.

Workers watch the sweep process: when it dies (SIGKILL included) they exit within a second,
and with them the fork server and multiprocessing's resource tracker, so a killed sweep
leaves no processes behind.

Executors: ``local`` (default) is a process pool (``concurrent.futures``; workers forked from a
fork server that imported torch and the claim once, spawned where there is no fork server),
each worker running its cells with ``--threads`` torch threads, default 1: the parallelism
comes from the cells, and several multi-threaded workers on the same cores slow each other down
many times over (measured: a tiny near_init cell 0.03 s with one thread, 0.1-3.5 s with two on
a loaded machine). ``dask`` submits to a Dask distributed scheduler given by ``--scheduler``
(keeping twice its task slots busy), or, without it, to a ``LocalCluster`` on 127.0.0.1 with
``--workers`` single-threaded worker processes (optional extra ``theorylab[dask]``). Workers
of a remote cluster need theorylab installed.

Exit status: 0 every cell stored a report (whatever its verdict: verdicts are results, read
them with ``summary``); 2 usage error (one line on stderr); 4 some cells failed (stored with
their error), or an internal error of the sweep itself (one line naming the saved traceback);
130 interrupted (finished cells stay stored; rerun to resume).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import itertools
import math
import multiprocessing
import os
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import progress as progress_mod
from .errors import UsageError, UsageErrorParser, exit_process
from .outputs import check_writable
from .registry import (
    CLAIM_MODULES,
    Claim,
    check_memory,
    field_type,
    get_claim,
    make_params,
    parse_value,
    split_list,
)
from .runtime import Context, available_memory_bytes
from .store import (
    DONE,
    FAILED,
    HELD_ELSEWHERE,
    LEASE_S,
    CellKey,
    CellResult,
    Store,
    export_csv,
    format_summary,
    new_owner,
    summarize,
)

USAGE_ERROR, CELLS_FAILED = 2, 4
# Exit status of a worker whose sweep died.
EXIT_ORPHANED = 70
EXECUTORS = ("local", "dask")
# Cells submitted ahead of the free workers: keeps every worker busy while leaving most cells
# unsubmitted, so a concurrent sweep (or a rerun) can still take them.
WINDOW_PER_WORKER = 2
# A grid larger than this is almost surely a typo (and its cell list alone would fill memory).
MAX_CELLS = 1_000_000

# Grid and seeds ---------------------------------------------------------------------------


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``A:B`` (half-open, A..B-1), ``S`` (one seed) or ``S1,S2,...``.

    Example:
        >>> parse_seeds("0:3"), parse_seeds("7"), parse_seeds("1,5")
        ([0, 1, 2], [7], [1, 5])
    """
    text = text.strip()
    try:
        if ":" in text:
            start_text, stop_text = text.split(":", 1)
            start, stop = int(start_text), int(stop_text)
        else:
            seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise UsageError(
            f"--seeds must be START:STOP (half-open), one seed, or a comma list; got {text!r}"
        ) from None
    if ":" in text:
        if stop - start > MAX_CELLS:
            raise UsageError(f"--seeds {text}: more than {MAX_CELLS} seeds")
        seeds = list(range(start, stop))
    if not seeds:
        raise UsageError(f"--seeds {text} is empty (half-open range START:STOP)")
    negative = [s for s in seeds if s < 0]
    if negative:
        raise UsageError(f"seeds must be non-negative integers, got {negative[0]}")
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds {text} repeats a seed")
    return seeds


def parse_grid(claim: Claim, specs: Sequence[str]) -> dict[str, list[Any]]:
    """``["width=64,256", "steps=20"]`` -> ``{"width": [64, 256], "steps": [20]}``, typed.

    Each spec is ``NAME=V1,V2,...`` with NAME a parameter of the claim (``-`` may stand for
    ``_``); a parameter appears in one spec only.
    """
    fields = {f.name: f for f in dataclasses.fields(claim.params)}
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, sep, values_text = spec.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise UsageError(f"--grid needs NAME=V1,V2,...; got {spec!r}")
        if name not in fields:
            raise UsageError(
                f"unknown parameter {name} for claim {claim.name} (known: {', '.join(fields)})"
            )
        if name in grid:
            raise UsageError(f"--grid {name} given twice; put all its values in one --grid")
        texts = split_list(f"--grid {name}", values_text)
        base, optional = field_type(claim.params, fields[name])
        values = [parse_value(f"--grid {name}", t, base, optional) for t in texts]
        if len(set(map(repr, values))) != len(values):
            raise UsageError(f"--grid {name} repeats a value")
        grid[name] = values
    return grid


@dataclass(frozen=True)
class Cell:
    """One run to do: a claim at one grid point and one seed."""

    claim: str
    claim_module: str  # so workers find claims registered at run time too
    values: tuple[tuple[str, Any], ...]  # the grid's values (what check() is called with)
    params: tuple[tuple[str, Any], ...]  # every parameter, defaults included (for the store)
    seed: int
    device: str
    dtype: str
    param_hash: str

    @property
    def key(self) -> CellKey:
        return CellKey(self.claim, self.param_hash, self.seed)

    @property
    def label(self) -> str:
        values = " ".join(f"{k}={v}" for k, v in self.values)
        return f"{self.claim} {values} seed={self.seed}".replace("  ", " ")


def build_cells(
    claim_name: str,
    grid: dict[str, list[Any]],
    seeds: Sequence[int],
    *,
    device: str = "cpu",
    dtype: str = "float64",
) -> list[Cell]:
    """Every (grid point, seed), validated like ``check`` would (UsageError before any work).

    Validation covers the parameter bounds, the claim's ``validate()``, the seeds, device and
    dtype, and the claim's memory estimate against this machine's available memory.
    """
    from .store import param_hash

    claim = get_claim(claim_name)
    for seed in seeds:
        Context(seed=seed, device=device, dtype=dtype)  # UsageError on a bad seed/device/dtype
    names = list(grid)
    count = len(seeds) * math.prod(len(v) for v in grid.values())
    if count > MAX_CELLS:
        raise UsageError(f"the grid has {count} cells (limit {MAX_CELLS}); split the sweep")
    cells = []
    memory = None
    for combo in itertools.product(*(grid[n] for n in names)):
        values = dict(zip(names, combo, strict=True))
        try:
            params = make_params(claim, values)
        except UsageError as exc:
            point = " ".join(f"{k}={v}" for k, v in values.items())
            raise UsageError(f"grid point {point}: {exc}") from None
        if claim.estimate_bytes is not None:
            memory = memory if memory is not None else available_memory_bytes(device)
            try:
                check_memory(claim, params, device, available=memory)
            except UsageError as exc:
                point = " ".join(f"{k}={v}" for k, v in values.items())
                raise UsageError(f"grid point {point}: {exc}") from None
        full = dataclasses.asdict(params)
        phash = param_hash(claim.name, full, device, dtype)
        for seed in seeds:
            cells.append(
                Cell(
                    claim.name, CLAIM_MODULES[claim.name], tuple(values.items()),
                    tuple(full.items()), seed, device, dtype, phash,
                )
            )  # fmt: skip
    return cells


# Worker side --------------------------------------------------------------------------------


def run_cell(cell: Cell, threads: int | None = None) -> CellResult:
    """Run one cell in a worker: never raises; an exception becomes a ``failed`` result."""
    from . import registry

    progress_mod.disable()
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    start = time.perf_counter()
    try:
        registry.CLAIM_MODULES.setdefault(cell.claim, cell.claim_module)
        report = registry.check(
            cell.claim, seed=cell.seed, device=cell.device, dtype=cell.dtype, **dict(cell.values)
        )
        return CellResult(
            DONE, report=report.to_json(), verdict=report.verdict, run_hash=report.run_hash,
            duration_s=time.perf_counter() - start, worker=worker,
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - every error of a cell is recorded, not raised
        return CellResult(
            FAILED, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(),
            duration_s=time.perf_counter() - start, worker=worker,
        )  # fmt: skip


def _init_local_worker(threads: int, parent_pid: int | None = None) -> None:
    os.environ[progress_mod.ENV_SWITCH] = "0"
    progress_mod.disable()
    if parent_pid is not None:
        watch_parent(parent_pid)
    import torch

    torch.set_num_threads(threads)


def watch_parent(pid: int, poll_s: float = 1.0) -> threading.Thread:
    """Exit this process (``os._exit``) as soon as process ``pid`` is gone.

    A sweep's workers are children of the fork server, not of the sweep, so no signal
    reaches them when the sweep is killed; this daemon thread waits on a pidfd (Linux >= 5.3:
    woken the moment the process exits) or polls every ``poll_s`` seconds elsewhere. When the
    workers exit, the fork server and the resource tracker see their pipes close and exit too.
    """

    def wait_and_exit():
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            os._exit(EXIT_ORPHANED)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            select.select([fd], [], [])
            os._exit(EXIT_ORPHANED)
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(EXIT_ORPHANED)
            except OSError:
                pass
            time.sleep(poll_s)

    thread = threading.Thread(target=wait_and_exit, name="theorylab-watch-parent", daemon=True)
    thread.start()
    return thread


# Executors ----------------------------------------------------------------------------------


def _start_method() -> str:
    """forkserver where available: one clean server process imports torch and theorylab once
    (``set_forkserver_preload``), and each worker is forked from it, already warm; the server
    never ran a torch op, so no thread pool is forked. Elsewhere spawn (a fresh interpreter)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        return "forkserver"
    return "spawn"


class LocalExecutor:
    """A ``concurrent.futures`` process pool, rebuilt if a worker process dies."""

    def __init__(
        self, workers: int, threads: int = 1, preload: Sequence[str] = (), start_method=None
    ):
        self.workers, self.threads = workers, threads
        self.preload = ["theorylab.registry", "theorylab.store", *preload]
        self.start_method = start_method or _start_method()
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        context = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            # Not theorylab.sweep itself: under ``python -m theorylab.sweep`` each worker runs
            # the main module again as __mp_main__, which runpy refuses to do quietly when the
            # module is already imported.
            # The preload list counts only when this process first starts its server.
            context.set_forkserver_preload(self.preload)
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_init_local_worker,
            initargs=(self.threads, os.getpid()),
        )

    def submit(self, cell: Cell):
        try:
            future = self._pool.submit(run_cell, cell)
        except cf.process.BrokenProcessPool:  # a worker died; its cells fail in result()
            self._replace_pool()
            future = self._pool.submit(run_cell, cell)
        future.theorylab_pool = self._pool
        return future

    def _replace_pool(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def wait_first(self, futures: Iterable, timeout: float | None = None) -> set:
        done, _ = cf.wait(list(futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return done

    def result(self, future) -> CellResult:
        try:
            return future.result()
        except cf.process.BrokenProcessPool:
            # A worker died (killed, out of memory): every cell in flight on that pool is lost
            # with it; the first of them to be collected replaces the pool.
            if future.theorylab_pool is self._pool:
                self._replace_pool()
            return CellResult(FAILED, error="BrokenProcessPool: a worker process died")

    def close(self, cancel: bool = False) -> None:
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


def local_dask_cluster(workers: int):
    """A ``distributed.LocalCluster`` on 127.0.0.1: ``workers`` single-threaded processes, no
    dashboard, and glibc's adaptive allocator left alone.

    Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers by default (and in the
    process that starts a local cluster); fixing that threshold switches off glibc's adaptive
    mmap threshold, and a near_init cell then takes about twice as long (measured here: 0.27 s
    against 0.14 s at width 512). The setting is dropped for the clusters started here; for a
    cluster of your own set ``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_`` to
    null in its Dask configuration.
    """
    import dask
    import distributed

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
        )  # fmt: skip


class DaskExecutor:
    """Dask distributed: an existing scheduler, or a LocalCluster on loopback."""

    def __init__(self, workers: int, threads: int = 1, scheduler: str | None = None):
        try:
            import distributed
        except ImportError:
            raise UsageError(
                "--executor dask needs Dask distributed: pip install 'theorylab[dask]'"
            ) from None
        self._distributed = distributed
        self._cluster = None
        try:
            if scheduler is None:
                self._cluster = local_dask_cluster(workers)
                scheduler = self._cluster.scheduler_address
            self._client = distributed.Client(scheduler, timeout="20s")
        except OSError as exc:
            if self._cluster is not None:
                self._cluster.close()
            raise UsageError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        self.threads = threads
        # On an existing cluster the cells in flight follow its task slots, not --workers.
        slots = sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
        self.workers = max(1, slots) if self._cluster is None else workers

    def submit(self, cell: Cell):
        key = f"theorylab-{cell.claim}-{cell.param_hash}-{cell.seed}-{time.time_ns()}"
        return self._client.submit(run_cell, cell, self.threads, key=key, pure=False)

    def wait_first(self, futures: Iterable, timeout: float | None = None) -> set:
        futures = list(futures)
        try:
            done, _ = self._distributed.wait(
                futures, timeout=timeout, return_when="FIRST_COMPLETED"
            )
        except Exception as exc:  # distributed raises on a timeout; concurrent.futures returns
            if "Timeout" in type(exc).__name__:
                return set()
            raise
        return set(done)

    def result(self, future) -> CellResult:
        try:
            return future.result()
        except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: record the cell failed
            return CellResult(FAILED, error=f"{type(exc).__name__}: {exc}")

    def close(self, cancel: bool = False) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


# The sweep ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one sweep did: cells in the grid, skipped (already done when it started), run here,
    finished meanwhile by another sweep on the same store, and the results of those run here."""

    total: int = 0
    skipped: int = 0
    done: int = 0
    failed: int = 0
    elsewhere: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def run(self) -> int:
        return self.done + self.failed

    def line(self) -> str:
        verdicts = ", ".join(f"{v} {c}" for v, c in sorted(self.verdicts.items()))
        parts = [f"{self.total} cells: {self.skipped} already stored, {self.run} run"]
        if verdicts:
            parts.append(f"({verdicts})")
        if self.failed:
            parts.append(f"{self.failed} failed")
        text = " ".join(parts)
        if self.elsewhere:
            text += f", {self.elsewhere} run by another sweep"
        return text + f"; {self.elapsed_s:.1f} s"


def run_sweep(
    cells: Sequence[Cell],
    store: Store,
    *,
    executor: str = "local",
    workers: int | None = None,
    threads: int = 1,
    scheduler: str | None = None,
    retry_failed: bool = True,
    quiet: bool = False,
    lease_s: float = LEASE_S,
    poll_s: float = 1.0,
) -> Outcome:
    """Run the cells not yet done in ``store`` and record each result as it arrives.

    Each cell is leased in the store before it is submitted (see :mod:`theorylab.store`);
    a cell another live sweep holds is set aside and looked at again every ``poll_s``
    seconds until it is done there or its lease expires (then it runs here).
    """
    if executor not in EXECUTORS:
        raise UsageError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be >= 1, got {workers}")
    if scheduler is not None and executor != "dask":
        raise UsageError("--scheduler needs --executor dask")
    start = time.perf_counter()
    outcome = Outcome(total=len(cells))
    skip = {DONE} if retry_failed else {DONE, FAILED}
    pending = [c for c in cells if store.status(c.key) not in skip]
    outcome.skipped = len(cells) - len(pending)
    if not pending:
        outcome.elapsed_s = time.perf_counter() - start
        return outcome
    workers = workers or min(len(pending), os.cpu_count() or 1)
    owner = new_owner()
    pool = None
    bar = progress_mod.progress(len(pending), f"sweep {cells[0].claim}", unit="cell", quiet=quiet)
    in_flight: dict[Any, Cell] = {}
    queue = list(reversed(pending))
    held: list[Cell] = []  # leased by another live sweep when we tried
    renew_every, last_renewal, next_look = lease_s / 4, time.monotonic(), 0.0
    cancel = False
    try:
        while queue or in_flight or held:
            if held and not queue and time.monotonic() >= next_look:
                queue, held = list(reversed(held)), []  # look again at the cells set aside
                next_look = time.monotonic() + poll_s
            while queue and len(in_flight) < WINDOW_PER_WORKER * (
                pool.workers if pool else workers
            ):
                cell = queue.pop()
                state = store.lease(cell.key, owner, retry_failed=retry_failed, lease_s=lease_s)
                if state == HELD_ELSEWHERE:
                    held.append(cell)
                    continue
                if state in skip:  # finished meanwhile by another sweep
                    outcome.elsewhere += 1
                    bar.update()
                    continue
                if pool is None:
                    pool = _make_pool(executor, workers, threads, scheduler, cells)
                in_flight[pool.submit(cell)] = cell
            if time.monotonic() - last_renewal >= renew_every:
                store.renew(owner, lease_s)
                last_renewal = time.monotonic()
            if not in_flight:
                if held:
                    time.sleep(max(0.0, min(poll_s, next_look - time.monotonic())))
                continue
            timeout = max(0.05, renew_every - (time.monotonic() - last_renewal))
            if held:
                timeout = min(timeout, poll_s)
            for future in pool.wait_first(in_flight, timeout=timeout):
                cell = in_flight.pop(future)
                result = pool.result(future)
                store.record(cell.key, dict(cell.params), cell.device, cell.dtype, result, owner)
                if result.status == DONE:
                    outcome.done += 1
                    outcome.verdicts[result.verdict] = outcome.verdicts.get(result.verdict, 0) + 1
                else:
                    outcome.failed += 1
                    outcome.errors.append(f"{cell.label}: {result.error}")
                bar.update()
                if outcome.failed:
                    bar.set_status(f"{outcome.failed} failed")
    except BaseException:
        cancel = True
        raise
    finally:
        bar.close()
        if pool is not None:
            pool.close(cancel=cancel)
        store.release(owner)  # cells not finished here are free for another sweep at once
    outcome.elapsed_s = time.perf_counter() - start
    return outcome


def _make_pool(executor: str, workers: int, threads: int, scheduler, cells: Sequence[Cell]):
    if executor == "local":
        return LocalExecutor(workers, threads, preload=sorted({c.claim_module for c in cells}))
    return DaskExecutor(workers, threads, scheduler)


# Command line -------------------------------------------------------------------------------


def _sweep_parser(claim: Claim) -> argparse.ArgumentParser:
    lines = [f"parameters of {claim.name} (for --grid NAME=V1,V2,...):"]
    for f in dataclasses.fields(claim.params):
        base, optional = field_type(claim.params, f)
        kind = base.__name__ + (" or none" if optional else "")
        lines.append(f"  {f.name} ({kind}, default {f.default}): {f.metadata['help']}")
    parser = UsageErrorParser(
        prog=f"python -m theorylab.sweep {claim.name}",
        description=f"Run {claim.name} over a parameter grid x seeds into a results store. "
        + claim.summary,
        epilog="\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--grid", action="append", default=[], metavar="NAME=V1,V2,...",
        help="values of one parameter (repeat per parameter; cells are the cartesian product)",
    )  # fmt: skip
    parser.add_argument(
        "--seeds", default="0", help="START:STOP (half-open), one seed, or S1,S2,..."
    )
    parser.add_argument("--store", required=True, help="SQLite results file (created if missing)")
    parser.add_argument("--executor", choices=EXECUTORS, default="local")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, tcp://HOST:PORT")
    parser.add_argument("--workers", type=_positive_int, help="worker processes (default: CPUs)")
    parser.add_argument("--threads", type=_positive_int, default=1, help="torch threads per worker")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument(
        "--retry-failed", action=argparse.BooleanOptionalAction, default=True,
        help="run cells stored as failed again",
    )  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no final line")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _store_parser(command: str) -> argparse.ArgumentParser:
    parser = UsageErrorParser(prog=f"python -m theorylab.sweep {command}")
    parser.add_argument("store", help="SQLite results file")
    parser.add_argument("--claim", help="only this claim")
    if command == "export":
        parser.add_argument("--csv", required=True, metavar="PATH", help="output ('-' = stdout)")
    else:
        parser.add_argument("--confidence", type=float, default=0.95, help="CI level")
    return parser


USAGE = """usage: python -m theorylab.sweep CLAIM --grid NAME=V1,V2,... [--grid ...] --seeds A:B
                                 --store PATH [--executor local|dask] [--scheduler ADDRESS]
                                 [--workers N] [--threads T] [--device D] [--dtype T]
                                 [--no-retry-failed] [--quiet]
       python -m theorylab.sweep summary PATH [--claim CLAIM] [--confidence C]
       python -m theorylab.sweep export PATH --csv OUT [--claim CLAIM]
       python -m theorylab.sweep CLAIM --help"""


def main(argv: list[str] | None = None) -> int:
    from .check import run_cli

    argv = list(sys.argv[1:] if argv is None else argv)
    claim = argv[0] if argv and not argv[0].startswith("-") else "sweep"
    interrupted = "interrupted; finished cells are stored, rerun to resume"
    return run_cli("theorylab.sweep", _main, argv, claim, interrupted)


def _main(argv: list[str]) -> int:
    if not argv:
        raise UsageError("missing CLAIM, summary or export (see python -m theorylab.sweep --help)")
    if argv[0] in ("-h", "--help"):
        print(USAGE + "\n\n" + __doc__.split("\n\n", 1)[1])
        return 0
    command = argv[0]
    if command in ("summary", "export"):
        args = _store_parser(command).parse_args(argv[1:])
        if command == "summary" and not 0 < args.confidence < 1:
            raise UsageError(f"--confidence must be in (0, 1), got {args.confidence}")
        if command == "export" and args.csv != "-":
            check_writable(args.csv, "--csv")
        with Store(args.store, readonly=True) as store:
            if command == "summary":
                print(
                    format_summary(summarize(store, args.claim, args.confidence), args.confidence)
                )
                return 0
            if args.csv == "-":
                export_csv(store, sys.stdout, args.claim)
                return 0
            try:
                with open(args.csv, "w", newline="") as out:
                    rows = export_csv(store, out, args.claim)
            except OSError as exc:
                raise UsageError(f"cannot write {args.csv}: {exc.strerror}") from None
            print(f"{args.csv}: {rows} cells", file=sys.stderr)
            return 0
    if command.startswith("-"):
        raise UsageError(
            "the first argument must be a claim, summary or export "
            f"(claims: {', '.join(sorted(CLAIM_MODULES))})"
        )
    claim = get_claim(command)
    args = _sweep_parser(claim).parse_args(argv[1:])
    if args.scheduler is not None and args.executor != "dask":
        raise UsageError("--scheduler needs --executor dask")
    grid = parse_grid(claim, args.grid)
    seeds = parse_seeds(args.seeds)
    cells = build_cells(claim.name, grid, seeds, device=args.device, dtype=args.dtype)
    with Store(args.store) as store:
        outcome = run_sweep(
            cells, store, executor=args.executor, workers=args.workers, threads=args.threads,
            scheduler=args.scheduler, retry_failed=args.retry_failed, quiet=args.quiet,
        )  # fmt: skip
    if not args.quiet:
        print(outcome.line())
    for error in outcome.errors:
        print(f"theorylab.sweep: failed: {error}", file=sys.stderr)
    return CELLS_FAILED if outcome.failed else 0


if __name__ == "__main__":
    # Run the imported module's main, so that workers (and Dask) see theorylab.sweep.Cell and
    # theorylab.sweep.run_cell rather than copies living in __main__.
    from theorylab.sweep import main as _entry_point

    exit_process(_entry_point())

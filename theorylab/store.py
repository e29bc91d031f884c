"""Results store for sweeps: one SQLite file (standard library, no server), one row per cell.

A *cell* is one run of a claim: (claim, parameter hash, seed). The parameter hash covers every
parameter of the claim (defaults included), the device and the dtype, so two cells with the
same hash and seed are the same experiment. A row holds the full report JSON, the status
(``done``: a report was produced, whatever its verdict; ``failed``: the cell raised, and the
error and traceback are kept) and the verdict.

Reliability:

- every cell is written in its own ``BEGIN IMMEDIATE ... COMMIT`` transaction with
  ``synchronous=FULL``, so a sweep killed at any moment (SIGKILL) loses at most the cells in
  flight and never leaves a half-written row;
- the journal is in WAL mode with a busy timeout, so several sweeps (and readers such as
  ``summary``) can use one store at once; (claim, param_hash, seed) is the primary key, so a
  cell is stored at most once. A ``done`` row is never overwritten (the first writer wins;
  reruns of a cell give the same report apart from ``timing``); a ``failed`` row is replaced
  when the cell is run again;
- WAL needs a local file system (SQLite's WAL does not work over NFS);
- a cell is *leased* before it runs (:meth:`Store.lease`): one transaction checks that the
  cell is not done and that no live sweep holds it, and records this sweep as the owner with
  an expiry. Concurrent sweeps on one store therefore split the cells instead of running them
  twice. A lease is renewed while its cell runs and dropped when the result is recorded; a
  lease whose owner died (SIGKILL, power loss) is taken over when it expires, or at once when
  the owner was a process on this host that no longer exists;
- ``summary``, ``export`` and figures open the store read-only (``readonly=True``): the file
  is never created, migrated or written, and a file that is not a store (a 0-byte file) is
  refused with one line and left as it was.

Summaries: per group of cells that differ only in the seed, the mean of each scalar quantity
with a Student-t confidence interval, and the pass rate of each statement.
"""

from __future__ import annotations

import csv
import json
import math
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from .errors import UsageError
from .report import Report

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 60_000
DONE, FAILED = "done", "failed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cells (
    claim TEXT NOT NULL,
    param_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    params TEXT NOT NULL,
    device TEXT NOT NULL,
    dtype TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    verdict TEXT,
    run_hash TEXT,
    report TEXT,
    error TEXT,
    traceback TEXT,
    duration_s REAL,
    worker TEXT,
    finished_at REAL NOT NULL,
    PRIMARY KEY (claim, param_hash, seed)
);
CREATE TABLE IF NOT EXISTS leases (
    claim TEXT NOT NULL,
    param_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (claim, param_hash, seed)
);
"""
# Lease states returned by Store.lease.
LEASED, HELD_ELSEWHERE = "leased", "held"
# A lease lasts this long unless renewed; a sweep renews its leases every LEASE_S / 4.
LEASE_S = 120.0


def new_owner() -> str:
    """A lease owner id: ``host:pid:random`` (the pid lets a sweep on the same host see that
    the owner of a lease no longer exists)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """True when ``owner`` names a process of this host that no longer exists (its lease can
    be taken over at once); False when it is alive, on another host, or cannot be told."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False
    return _is_zombie(int(pid_text))


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def param_hash(claim: str, params: dict[str, Any], device: str, dtype: str) -> str:
    """Hash of a cell's settings except the seed (:func:`theorylab.registry.settings_hash` of
    claim, params, device and dtype).

    ``params`` must hold every parameter (defaults included), so that asking for a default
    explicitly or leaving it out names the same cell.

    Example:
        >>> param_hash("c", {"a": 1, "b": 2}, "cpu", "float64") == param_hash(
        ...     "c", {"b": 2, "a": 1}, "cpu", "float64")
        True
    """
    from .registry import settings_hash

    return settings_hash(claim=claim, params=params, device=device, dtype=dtype)


@dataclass(frozen=True)
class CellKey:
    claim: str
    param_hash: str
    seed: int


@dataclass
class CellResult:
    """What a worker returns for one cell (``report`` is the report JSON when status is done)."""

    status: str
    report: str | None = None
    verdict: str | None = None
    run_hash: str | None = None
    error: str | None = None
    traceback: str | None = None
    duration_s: float | None = None
    worker: str | None = None


@dataclass
class Row:
    """One stored cell."""

    claim: str
    param_hash: str
    seed: int
    params: dict[str, Any]
    device: str
    dtype: str
    status: str
    verdict: str | None
    run_hash: str | None
    report_json: str | None
    error: str | None
    traceback: str | None
    duration_s: float | None
    worker: str | None
    finished_at: float

    @property
    def key(self) -> CellKey:
        return CellKey(self.claim, self.param_hash, self.seed)

    def report(self) -> Report:
        if self.report_json is None:
            raise ValueError(f"cell {self.claim}/{self.param_hash}/seed {self.seed} has no report")
        return Report.from_json(self.report_json)


class Store:
    """An open results store; use as a context manager or call :meth:`close`.

    ``readonly=True`` (``summary``, ``export``, figures) opens an existing store without
    writing anything; ``create=False`` refuses a path that does not exist.
    """

    def __init__(self, path: str, *, create: bool = True, readonly: bool = False):
        self.path, self.readonly = path, readonly
        if (readonly or not create) and not os.path.exists(path):
            raise UsageError(f"no results store at {path}")
        if os.path.isdir(path):
            raise UsageError(f"{path} is a directory, not a results store")
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise UsageError(f"cannot create the store {path}: no folder {directory}")
        try:
            if readonly:
                self._conn = _connect_readonly(path)
            else:
                self._conn = sqlite3.connect(
                    path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
                )
                self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                self._set_wal()
                self._conn.execute("PRAGMA synchronous = FULL")
                with self._transaction():
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            self._conn.execute(statement)
                    self._conn.execute(
                        "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),),
                    )
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            raise UsageError(f"{path} is not a usable results store: {exc}") from exc
        if row is None or not str(row[0]).isdigit():
            self._close_quietly()
            raise UsageError(f"{path} is not a usable results store: no schema version")
        if int(row[0]) != SCHEMA_VERSION:
            self._close_quietly()
            raise UsageError(
                f"{path} has store schema {row[0]}; this version reads {SCHEMA_VERSION}"
            )

    def _close_quietly(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def _set_wal(self) -> None:
        # Switching the journal mode needs a moment without other writers; the busy timeout
        # does not cover it on every SQLite version, so retry for the same duration.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                (mode,) = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()
                if mode.lower() != "wal":
                    raise UsageError(f"{self.path}: SQLite refused WAL mode (journal {mode})")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _transaction(self):
        return _Transaction(self._conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Writing ------------------------------------------------------------------------------
    def record(
        self,
        key: CellKey,
        params: dict[str, Any],
        device: str,
        dtype: str,
        result: CellResult,
        owner: str | None = None,
    ) -> bool:
        """Store one cell atomically (and drop ``owner``'s lease on it in the same
        transaction); False when a finished (done) row was already there."""
        if result.status not in (DONE, FAILED):
            raise ValueError(f"status must be {DONE} or {FAILED}, got {result.status!r}")
        values = (
            key.claim, key.param_hash, key.seed, json.dumps(params, sort_keys=True), device,
            dtype, result.status, result.verdict, result.run_hash, result.report, result.error,
            result.traceback, result.duration_s, result.worker, time.time(),
        )  # fmt: skip
        with self._transaction():
            cursor = self._conn.execute(
                "INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (claim, param_hash, seed) DO UPDATE SET "
                "params = excluded.params, device = excluded.device, dtype = excluded.dtype, "
                "status = excluded.status, verdict = excluded.verdict, "
                "run_hash = excluded.run_hash, report = excluded.report, "
                "error = excluded.error, traceback = excluded.traceback, "
                "duration_s = excluded.duration_s, worker = excluded.worker, "
                "finished_at = excluded.finished_at WHERE cells.status <> 'done'",
                values,
            )
            stored = cursor.rowcount == 1
            if owner is not None:
                self._conn.execute(
                    "DELETE FROM leases WHERE claim = ? AND param_hash = ? AND seed = ? "
                    "AND owner = ?",
                    (key.claim, key.param_hash, key.seed, owner),
                )
            return stored

    # Leases -------------------------------------------------------------------------------
    def lease(
        self, key: CellKey, owner: str, *, retry_failed: bool = True, lease_s: float = LEASE_S
    ) -> str:
        """Try to take the cell for ``owner``, atomically. Returns ``DONE`` (finished: skip
        it), ``FAILED`` (failed and not to be retried), :data:`HELD_ELSEWHERE` (a live sweep
        holds an unexpired lease on it) or :data:`LEASED` (it is ``owner``'s until
        ``lease_s`` from now, renewed by :meth:`renew`)."""
        args = (key.claim, key.param_hash, key.seed)
        where = "WHERE claim = ? AND param_hash = ? AND seed = ?"
        with self._transaction():
            row = self._conn.execute(f"SELECT status FROM cells {where}", args).fetchone()
            if row is not None and (row[0] == DONE or (row[0] == FAILED and not retry_failed)):
                return row[0]
            held = self._conn.execute(
                f"SELECT owner, expires_at FROM leases {where}", args
            ).fetchone()
            now = time.time()
            if held is not None and held[0] != owner and held[1] > now:
                if not owner_is_dead(held[0]):
                    return HELD_ELSEWHERE
            self._conn.execute(
                "INSERT INTO leases VALUES (?, ?, ?, ?, ?) ON CONFLICT (claim, param_hash, seed) "
                "DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at",
                (*args, owner, now + lease_s),
            )
            return LEASED

    def renew(self, owner: str, lease_s: float = LEASE_S) -> int:
        """Extend every lease ``owner`` holds to ``lease_s`` from now; returns how many."""
        with self._transaction():
            cursor = self._conn.execute(
                "UPDATE leases SET expires_at = ? WHERE owner = ?", (time.time() + lease_s, owner)
            )
            return cursor.rowcount

    def release(self, owner: str) -> int:
        """Drop every lease ``owner`` holds (a sweep that stops hands its cells back)."""
        with self._transaction():
            return self._conn.execute("DELETE FROM leases WHERE owner = ?", (owner,)).rowcount

    def leases(self) -> dict[CellKey, tuple[str, float]]:
        """Current leases: key -> (owner, expiry as a Unix time)."""
        rows = self._conn.execute("SELECT claim, param_hash, seed, owner, expires_at FROM leases")
        return {CellKey(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}

    # Reading ------------------------------------------------------------------------------
    def status(self, key: CellKey) -> str | None:
        """``done``, ``failed`` or None (not stored)."""
        row = self._conn.execute(
            "SELECT status FROM cells WHERE claim = ? AND param_hash = ? AND seed = ?",
            (key.claim, key.param_hash, key.seed),
        ).fetchone()
        return None if row is None else row[0]

    def keys(self, claim: str | None = None, status: str | None = None) -> set[CellKey]:
        query, args = _where(claim, status)
        rows = self._conn.execute(f"SELECT claim, param_hash, seed FROM cells{query}", args)
        return {CellKey(*r) for r in rows}

    def count(self, claim: str | None = None, status: str | None = None) -> int:
        query, args = _where(claim, status)
        return self._conn.execute(f"SELECT COUNT(*) FROM cells{query}", args).fetchone()[0]

    def rows(self, claim: str | None = None, status: str | None = None) -> Iterator[Row]:
        """Stored cells ordered by claim, parameter hash and seed."""
        query, args = _where(claim, status)
        cursor = self._conn.execute(
            "SELECT claim, param_hash, seed, params, device, dtype, status, verdict, run_hash, "
            "report, error, traceback, duration_s, worker, finished_at FROM cells"
            f"{query} ORDER BY claim, param_hash, seed",
            args,
        )
        for r in cursor:
            yield Row(r[0], r[1], r[2], json.loads(r[3]), *r[4:])

    def claims(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT claim FROM cells ORDER BY 1")]

    def integrity_ok(self) -> bool:
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _connect_readonly(path: str) -> sqlite3.Connection:
    """A connection that cannot write: SQLite's read-only URI mode (a WAL store's -shm and
    -wal files are SQLite's own, shared with any running sweep)."""
    from urllib.parse import quote

    uri = f"file:{quote(os.path.abspath(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


class _Transaction:
    """``BEGIN IMMEDIATE`` (takes the write lock up front, so no deadlock on upgrade)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb):
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _where(claim: str | None, status: str | None) -> tuple[str, tuple]:
    clauses, args = [], []
    if claim is not None:
        clauses.append("claim = ?")
        args.append(claim)
    if status is not None:
        clauses.append("status = ?")
        args.append(status)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)


# Export -------------------------------------------------------------------------------------
def export_csv(store: Store, out: TextIO, claim: str | None = None) -> int:
    """Write one CSV line per stored cell; returns the number of cells written.

    Columns: claim, param_hash, seed, device, dtype, status, verdict, run_hash, error,
    duration_s, then ``param.<name>``, ``quantity.<name>`` (scalars only) and
    ``statement.<name>.{measured,holds,slack}``: the union over all exported cells, sorted,
    empty where a cell lacks the column. Non-finite numbers are written nan, inf, -inf.
    """
    records = []
    for row in store.rows(claim):
        record: dict[str, Any] = {
            "claim": row.claim, "param_hash": row.param_hash, "seed": row.seed,
            "device": row.device, "dtype": row.dtype, "status": row.status,
            "verdict": row.verdict, "run_hash": row.run_hash, "error": row.error,
            "duration_s": row.duration_s,
        }  # fmt: skip
        for name, value in row.params.items():
            record[f"param.{name}"] = value
        if row.report_json is not None:
            report = row.report()
            for name, value in report.quantities.items():
                if _is_number(value):
                    record[f"quantity.{name}"] = value
            for s in report.statements:
                record[f"statement.{s.name}.measured"] = s.measured
                record[f"statement.{s.name}.holds"] = s.holds
                record[f"statement.{s.name}.slack"] = s.slack
        records.append(record)
    fixed = ["claim", "param_hash", "seed", "device", "dtype", "status", "verdict", "run_hash"]
    fixed += ["error", "duration_s"]
    extra = sorted({k for r in records for k in r} - set(fixed))
    writer = csv.DictWriter(out, fieldnames=fixed + extra, restval="", lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _csv_value(v) for k, v in record.items()})
    return len(records)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Summary ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Interval:
    """Mean of n values and its two-sided confidence interval [lo, hi] (nan when n < 2)."""

    mean: float
    lo: float
    hi: float
    n: int


def mean_confidence_interval(values: Iterable[float], confidence: float = 0.95) -> Interval:
    """Student-t interval for the mean of i.i.d. values (here: one value per seed).

    mean +- t_{(1+c)/2, n-1} s / sqrt(n), with s the sample standard deviation (ddof 1).
    Non-finite values are left out (n counts the finite ones).

    Example (n = 3, s = 1; for 2 degrees of freedom t_p = (2p-1) sqrt(2 / (4p(1-p))), so
    t_{0.975, 2} = 0.95 sqrt(2 / 0.0975) = 4.302653):
        >>> ci = mean_confidence_interval([1.0, 2.0, 3.0])
        >>> ci.mean, round(ci.lo, 5), round(ci.hi, 5)
        (2.0, -0.48414, 4.48414)
    """
    if not 0 < confidence < 1:
        raise UsageError(f"confidence must be in (0, 1), got {confidence}")
    xs = [float(v) for v in values if math.isfinite(float(v))]
    n = len(xs)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = math.fsum(xs) / n
    if n < 2:
        return Interval(mean, math.nan, math.nan, 1)
    from scipy.special import stdtrit  # Student-t quantile; imported here, the sweep needs none

    s = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    half = float(stdtrit(n - 1, (1 + confidence) / 2)) * s / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


@dataclass
class StatementRate:
    passed: int = 0
    evaluated: int = 0  # holds True or False; holds None (not evaluable) is counted apart
    not_evaluable: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.evaluated if self.evaluated else math.nan


@dataclass
class GroupSummary:
    """Cells of one claim that differ only in the seed."""

    claim: str
    param_hash: str
    params: dict[str, Any]
    device: str
    dtype: str
    seeds: list[int] = field(default_factory=list)
    failed_seeds: list[int] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=dict)
    quantities: dict[str, Interval] = field(default_factory=dict)
    statements: dict[str, StatementRate] = field(default_factory=dict)
    label: str = ""


def summarize(
    store: Store, claim: str | None = None, confidence: float = 0.95
) -> list[GroupSummary]:
    """Group the stored cells by (claim, parameter hash) and summarise each group.

    Each group's ``label`` names the parameters (and device/dtype) that differ between the
    groups of its claim, e.g. ``width=256``.
    """
    groups: dict[tuple[str, str], GroupSummary] = {}
    values: dict[tuple[str, str], dict[str, list[float]]] = {}
    for row in store.rows(claim):
        gkey = (row.claim, row.param_hash)
        if gkey not in groups:
            groups[gkey] = GroupSummary(
                row.claim, row.param_hash, row.params, row.device, row.dtype
            )
            values[gkey] = {}
        g = groups[gkey]
        if row.status == FAILED:
            g.failed_seeds.append(row.seed)
            continue
        g.seeds.append(row.seed)
        g.verdicts[row.verdict] = g.verdicts.get(row.verdict, 0) + 1
        report = row.report()
        for name, value in report.quantities.items():
            if _is_number(value):
                values[gkey].setdefault(name, []).append(float(value))
        for s in report.statements:
            rate = g.statements.setdefault(s.name, StatementRate())
            if s.holds is None:
                rate.not_evaluable += 1
            else:
                rate.evaluated += 1
                rate.passed += int(s.holds)
    for gkey, g in groups.items():
        g.quantities = {
            name: mean_confidence_interval(xs, confidence) for name, xs in values[gkey].items()
        }
    _label(list(groups.values()))
    return sorted(groups.values(), key=lambda g: (g.claim, _sort_key(g)))


def _label(groups: list[GroupSummary]) -> None:
    by_claim: dict[str, list[GroupSummary]] = {}
    for g in groups:
        by_claim.setdefault(g.claim, []).append(g)
    for members in by_claim.values():
        settings = [{**g.params, "device": g.device, "dtype": g.dtype} for g in members]
        names = sorted({k for s in settings for k in s})
        varying = [k for k in names if len({json.dumps(s.get(k)) for s in settings}) > 1]
        for g, s in zip(members, settings, strict=True):
            g.label = " ".join(f"{k}={s.get(k)}" for k in varying) or "(single setting)"


def _sort_key(g: GroupSummary) -> list:
    # Numbers sort numerically, everything else by text; None first.
    key = []
    for name in sorted(g.params):
        v = g.params[name]
        key.append(
            (0, 0.0, "") if v is None else (1, float(v), "") if _is_number(v) else (2, 0.0, str(v))
        )
    return key + [g.device, g.dtype]


def format_summary(groups: list[GroupSummary], confidence: float = 0.95) -> str:
    """Plain-text summary: per group, seeds, verdicts, quantities with CI, statement pass rates."""
    if not groups:
        return "store is empty"
    pct = f"{confidence:.0%}"
    lines = []
    for g in groups:
        seeds = f"{len(g.seeds)} seed{'s' if len(g.seeds) != 1 else ''}"
        failed = f", {len(g.failed_seeds)} failed" if g.failed_seeds else ""
        verdicts = ", ".join(f"{v} {c}" for v, c in sorted(g.verdicts.items(), key=str))
        lines.append(f"{g.claim}  {g.label}  [{g.param_hash}]  {seeds}{failed}  {verdicts}")
        if g.quantities:
            rows = [("  quantity", "mean", f"{pct} CI", "n")]
            for name, ci in sorted(g.quantities.items()):
                interval = "-" if math.isnan(ci.lo) else f"[{_fmt(ci.lo)}, {_fmt(ci.hi)}]"
                rows.append((f"  {name}", _fmt(ci.mean), interval, str(ci.n)))
            lines += _columns(rows)
        if g.statements:
            rows = [("  statement", "pass rate", "passed/evaluated", "not evaluable")]
            for name, r in g.statements.items():
                rate = "-" if math.isnan(r.rate) else f"{r.rate:.0%}"
                rows.append((f"  {name}", rate, f"{r.passed}/{r.evaluated}", str(r.not_evaluable)))
            lines += _columns(rows)
        lines.append("")
    return "\n".join(lines).rstrip()


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.3e}"
    return f"{x:.4g}"

"""Regenerate the claims' figures: ``python -m theorylab.figures [CLAIM ...] [--out figures/]``.

Each figure comes from a fresh run of the claim at its default parameters (or the parameters
of a saved report, ``--from-json``), drawn by ``theorylab.plots.<claim>.plot``.

With ``--store results.sqlite`` the figures come from a sweep's stored reports instead
(:mod:`theorylab.sweep`), one ``<claim>_sweep.png`` per claim in the store: a panel per
statement with the measured value against the swept parameter (``--x``, default the first
numeric parameter that varies; further varying parameters give one line each), the line the
mean over seeds and the band the seed spread (min to max), the theory's bound drawn as a dashed
line (or its interval shaded), and a last panel with each statement's pass rate.

Exit status: 0 every figure written; 2 usage error (a file that is not a report, an unknown
claim, an output folder that cannot be written: one line on stderr, checked before any run);
3 some report was inconclusive (one line each: an inconclusive run has no figure; the others
are drawn); 4 internal error (one line naming the saved traceback).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import UsageError, UsageErrorParser, exit_process
from .outputs import check_folder
from .registry import CLAIM_MODULES, check, get_claim, plot_function
from .report import Report

# A log axis is used when the values are positive and span at least this factor.
LOG_SPAN = 10.0
INCONCLUSIVE, INTERNAL_ERROR = 3, 4


def main(argv: list[str] | None = None) -> int:
    from .check import run_cli

    return run_cli("theorylab.figures", _main, list(sys.argv[1:] if argv is None else argv),
                   "figures")  # fmt: skip


def _main(argv: list[str]) -> int:
    parser = UsageErrorParser(prog="python -m theorylab.figures", description=__doc__)
    parser.add_argument("claims", nargs="*", help="claims to draw (default: all with a figure)")
    parser.add_argument("--out", default="figures", help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--from-json", metavar="PATH", help="draw a saved report instead")
    source.add_argument("--store", metavar="PATH", help="draw a sweep's stored reports")
    parser.add_argument("--x", metavar="PARAM", help="with --store: parameter on the x axis")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    if args.x is not None and args.store is None:
        raise UsageError("--x needs --store")
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
    check_folder(args.out)
    if args.store:
        for path, line in draw_store(args.store, args.claims, args.out, args.x):
            print(f"{path}: {line}")
        return 0
    if args.from_json:
        if args.claims:
            raise UsageError("--from-json draws the claim of its report; name no claim")
        report = read_report(args.from_json)
        claims = [get_claim(report.claim)]
        if plot_function(claims[0]) is None:
            raise UsageError(f"claim {report.claim} has no figure")
        reports = [report]
    else:
        names = args.claims or sorted(CLAIM_MODULES)
        claims = [get_claim(name) for name in names]
        drawable = [c for c in claims if plot_function(c) is not None]
        if args.claims and len(drawable) < len(claims):
            missing = next(c.name for c in claims if c not in drawable)
            raise UsageError(f"claim {missing} has no figure")
        reports = [check(c.name, seed=args.seed) for c in drawable]
    os.makedirs(args.out, exist_ok=True)
    status = 0
    for report in reports:
        if report.verdict == "inconclusive":
            print(
                f"theorylab.figures: no figure for {report.claim}: an inconclusive report has "
                "no figure",
                file=sys.stderr,
            )
            status = INCONCLUSIVE
            continue
        path = os.path.join(args.out, f"{report.claim}.png")
        plot_function(get_claim(report.claim))(report, path)
        print(f"{path}: {report.verdict}")
    return status


def read_report(path: str) -> Report:
    """A saved report (``check --json``), or UsageError with one line saying why not."""
    if os.path.isdir(path):
        raise UsageError(f"--from-json {path}: is a directory")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise UsageError(f"--from-json {path}: no such file") from None
    except UnicodeDecodeError:
        raise UsageError(f"--from-json {path}: not a text file (expected a JSON report)") from None
    except OSError as exc:
        raise UsageError(f"--from-json {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--from-json {path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise UsageError(f"--from-json {path}: not a theorylab report (a JSON {_kind(data)})")
    missing = [k for k in ("claim", "params", "seed", "device", "dtype") if k not in data]
    if missing:
        raise UsageError(f"--from-json {path}: not a theorylab report (no {', '.join(missing)})")
    try:
        return Report.from_dict(data)
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise UsageError(f"--from-json {path}: malformed report ({type(exc).__name__})") from None


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number"}.get(type(value), "value")


# Figures from a results store ---------------------------------------------------------------


@dataclass
class StatementSeries:
    """One statement across the groups of one line: per x, the seeds' values."""

    relation: str = ""
    measured: dict[Any, list[float]] = field(default_factory=dict)
    reference: dict[Any, list[Any]] = field(default_factory=dict)
    holds: dict[Any, list[bool | None]] = field(default_factory=dict)


@dataclass
class SweepData:
    """A claim's stored reports arranged for plotting: lines (other varying parameters) x
    statements -> :class:`StatementSeries` keyed by the x parameter's value."""

    claim: str
    x_name: str
    fixed: dict[str, Any]
    seeds: int
    lines: dict[str, dict[str, StatementSeries]] = field(default_factory=dict)
    statement_names: list[str] = field(default_factory=list)


def collect(store, claim: str, x_name: str | None = None) -> SweepData:
    """Arrange the ``done`` reports of ``claim`` for :func:`draw_sweep`.

    The x parameter is ``x_name`` or, by default, the first numeric parameter whose value
    differs between stored groups (``width`` first when it varies); with no varying parameter
    the seed is on the x axis.
    """
    from .store import DONE

    rows = list(store.rows(claim, status=DONE))
    if not rows:
        raise UsageError(f"the store has no finished cells of {claim}")
    settings = [{**r.params, "device": r.device, "dtype": r.dtype} for r in rows]
    names = sorted({k for s in settings for k in s})
    varying = [k for k in names if len({json.dumps(s.get(k)) for s in settings}) > 1]
    numeric = [k for k in varying if all(_is_number(s.get(k)) for s in settings)]
    if x_name is None:
        x_name = "width" if "width" in numeric else (numeric[0] if numeric else "seed")
    elif x_name != "seed" and x_name not in names:
        raise UsageError(f"--x {x_name}: not a parameter of {claim} (have: {', '.join(names)})")
    others = [k for k in varying if k != x_name]
    fixed = {k: settings[0].get(k) for k in names if k not in varying}
    data = SweepData(claim, x_name, fixed, len({r.seed for r in rows}))
    for row, s in zip(rows, settings, strict=True):
        x = row.seed if x_name == "seed" else s.get(x_name)
        line = " ".join(f"{k}={s.get(k)}" for k in others)
        for st in row.report().statements:
            if st.name not in data.statement_names:
                data.statement_names.append(st.name)
            series = data.lines.setdefault(line, {}).setdefault(st.name, StatementSeries())
            series.relation = st.relation
            series.measured.setdefault(x, []).append(st.measured)
            series.reference.setdefault(x, []).append(st.reference)
            series.holds.setdefault(x, []).append(st.holds)
    return data


def draw_sweep(data: SweepData, path: str) -> None:
    """One panel per statement (mean over seeds, min-max band, bound), plus pass rates."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = len(data.statement_names) + 1
    cols = min(4, panels)
    rows = math.ceil(panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False)
    flat = axes.ravel()
    colors = plt.get_cmap("tab10")
    xs_all = sorted({x for line in data.lines.values() for s in line.values() for x in s.measured})
    log_x = _log_axis(xs_all)
    for ax, name in zip(flat, data.statement_names, strict=False):
        plotted: list[float] = []
        for j, (line, statements) in enumerate(sorted(data.lines.items())):
            if name not in statements:
                continue
            s = statements[name]
            xs = sorted(s.measured)
            values = [np.asarray(s.measured[x], dtype=float) for x in xs]
            finite = [v[np.isfinite(v)] for v in values]
            keep = [i for i, v in enumerate(finite) if v.size]
            if not keep:
                continue
            x = np.asarray([xs[i] for i in keep], dtype=float)
            mean = np.asarray([finite[i].mean() for i in keep])
            lo = np.asarray([finite[i].min() for i in keep])
            hi = np.asarray([finite[i].max() for i in keep])
            plotted += [*lo.tolist(), *hi.tolist()]
            color = colors(j % 10)
            label = f"measured{' ' + line if line else ''}"
            ax.plot(x, mean, marker="o", ms=3, color=color, label=label)
            ax.fill_between(x, lo, hi, color=color, alpha=0.25)
            plotted += _draw_reference(ax, s, xs, color, j == 0)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(data.x_name)
        interval = _relation(data, name) == "in"
        ax.set_ylabel("measured (theory interval shaded)" if interval else "measured; bound dashed")
        _set_x_axis(ax, xs_all, log_x)
        if _relation(data, name) != "in" and _log_axis(plotted, require_all=True):
            ax.set_yscale("log")
        ax.legend(fontsize=6)
    ax = flat[len(data.statement_names)]
    for j, name in enumerate(data.statement_names):
        rates = {}
        for statements in data.lines.values():
            if name not in statements:
                continue
            for x, holds in statements[name].holds.items():
                rates.setdefault(x, []).extend(h for h in holds if h is not None)
        xs = sorted(x for x in rates if rates[x])
        ax.plot(
            xs, [float(np.mean(rates[x])) for x in xs], marker="o", ms=3,
            color=colors(j % 10), label=name,
        )  # fmt: skip
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel(data.x_name)
    ax.set_ylabel("pass rate over seeds")
    ax.set_title("statements holding", fontsize=9)
    _set_x_axis(ax, xs_all, log_x)
    ax.legend(fontsize=6)
    for extra in flat[panels:]:
        extra.axis("off")
    fixed = ", ".join(f"{k}={v}" for k, v in sorted(data.fixed.items()) if v is not None)
    fig.suptitle(
        f"{data.claim}: measured vs theory over {data.x_name}; lines: mean over "
        f"{data.seeds} seed(s), bands: min-max over seeds\n{fixed}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _draw_reference(ax, s: StatementSeries, xs: Sequence, color, first: bool) -> list[float]:
    """Bound as a dashed line, an interval as a shaded band; returns the bound values drawn."""
    import numpy as np

    if s.relation == "in":
        lo = [float(np.mean([r[0] for r in s.reference[x]])) for x in xs]
        hi = [float(np.mean([r[1] for r in s.reference[x]])) for x in xs]
        ax.fill_between(
            np.asarray(xs, dtype=float), lo, hi, color="grey", alpha=0.15, hatch="//",
            label="theory interval" if first else None,
        )  # fmt: skip
        return []
    refs = [np.asarray(s.reference[x], dtype=float) for x in xs]
    keep = [i for i, r in enumerate(refs) if np.isfinite(r).any()]
    if not keep:
        return []
    ref = np.asarray([np.nanmean(np.where(np.isfinite(refs[i]), refs[i], np.nan)) for i in keep])
    ax.plot(
        np.asarray([xs[i] for i in keep], dtype=float), ref, ls="--", color=color, alpha=0.8,
        label=f"theory bound ({s.relation})" if first else None,
    )  # fmt: skip
    return ref.tolist()


def _relation(data: SweepData, name: str) -> str:
    for statements in data.lines.values():
        if name in statements:
            return statements[name].relation
    return ""


def _log_axis(values: Sequence, require_all: bool = False) -> bool:
    """True when the numbers among ``values`` are all positive and span >= LOG_SPAN
    (``require_all``: every value must be a finite number)."""
    numbers = [v for v in values if _is_number(v) and math.isfinite(v)]
    if not numbers or (require_all and len(numbers) != len(values)):
        return False
    return min(numbers) > 0 and max(numbers) / min(numbers) >= LOG_SPAN


def _set_x_axis(ax, xs: Sequence, log_x: bool) -> None:
    """Log scale when asked, with a labelled tick at each swept value and no minor labels."""
    from matplotlib.ticker import NullFormatter

    if not log_x:
        return
    ax.set_xscale("log")
    ax.set_xticks([float(x) for x in xs])
    ax.set_xticklabels([f"{x:g}" for x in xs], fontsize=7)
    ax.xaxis.set_minor_formatter(NullFormatter())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def draw_store(
    store_path: str, claims: Sequence[str], out: str, x_name: str | None = None
) -> list[tuple[str, str]]:
    """Draw ``<out>/<claim>_sweep.png`` for each claim (default: every claim in the store)."""
    from .store import Store

    drawn = []
    with Store(store_path, readonly=True) as store:
        names = list(claims) or store.claims()
        if not names:
            raise UsageError(f"the store {store_path} is empty")
        missing = [n for n in names if n not in store.claims()]
        if missing:
            raise UsageError(f"the store {store_path} has no cells of {missing[0]}")
        datasets = [collect(store, name, x_name) for name in names]
    os.makedirs(out, exist_ok=True)
    for data in datasets:
        path = os.path.join(out, f"{data.claim}_sweep.png")
        draw_sweep(data, path)
        points = len({x for line in data.lines.values() for s in line.values() for x in s.measured})
        drawn.append((path, f"{points} values of {data.x_name}, {data.seeds} seed(s)"))
    return drawn


if __name__ == "__main__":
    exit_process(main())

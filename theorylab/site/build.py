"""``python -m theorylab.report``: one static site for every claim's verdict, statements, power
and figure.

Command line::

    python -m theorylab.report --out DIR [--claims a,b,...] [--from-json FILE ...]
        [--store S.sqlite] [--seed S] [--device cpu|cuda] [--dtype float64|float32]
        [--quick] [--power] [--power-json FILE ...] [--no-figures] [--quiet]

Without ``--from-json`` or ``--store`` it runs the selected claims (``--claims``, default every
registered claim) at their defaults (``--quick``: at their small test settings), printing
progress on stderr; with them it reads saved reports (``check --json`` files) or a sweep
store's cells, and runs claims only when ``--claims`` is given too. ``--power`` runs each
claim's power audit (``python -m theorylab.power``); ``--power-json`` reads saved audits.

The site: ``DIR/index.html``, one row per report (verdict, statements held / total, worst
slack, power labels, run time, run hash); ``DIR/claims/<claim>.html`` per report (theorem and
citation, hypotheses, statement table, figure, power audit, versions, parameters, the exact
command that reproduces the run); ``DIR/figures/<claim>.png``. Plain HTML with inline CSS and
relative links: it opens from the file system, with no server and no JavaScript. Each report
is also saved as ``DIR/reports/<claim>.json`` (the format of ``check --json``, so
``--from-json DIR/reports/*.json`` rebuilds the site without running anything).

Exit status: the worst over the reports, as for ``check``: 4 a claim raised (its row says so),
else 1 a report is violated, else 3 one is inconclusive, else 0; 2 usage error (one line on
stderr, before any work).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import os
import re
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .. import registry
from ..errors import UsageError, UsageErrorParser
from ..report import Report
from .render import Row, built_with, environment, summary_row

INTERNAL_ERROR = 4
# Severity order of exit statuses: an error hides everything, then a violation, then a run
# that could not decide.
_SEVERITY = {0: 0, 3: 1, 1: 2, INTERNAL_ERROR: 3}


@dataclass
class ClaimInfo:
    """What the registry says about a claim (empty when it is not registered here)."""

    name: str
    summary: str = ""
    citation: str = ""
    theorem: str = ""
    defaults: dict[str, Any] | None = None


def claim_info(name: str) -> ClaimInfo:
    try:
        claim = registry.get_claim(name)
    except UsageError:
        return ClaimInfo(name)
    module = sys.modules.get(registry.CLAIM_MODULES.get(name, "").partition(":")[0])
    theorem = inspect.cleandoc(module.__doc__) if module is not None and module.__doc__ else ""
    defaults = {
        f.name: f.default
        for f in dataclasses.fields(claim.params)
        if f.default is not dataclasses.MISSING
    }
    return ClaimInfo(name, claim.summary, claim.citation, theorem, defaults)


@dataclass
class Entry:
    """One report to show (or the error that stopped its claim) and where it came from."""

    claim: str
    report: Report | None
    source: str
    error: str | None = None
    audit: dict[str, Any] | None = None

    @property
    def exit_status(self) -> int:
        return INTERNAL_ERROR if self.report is None else self.report.exit_status


@dataclass
class Page:
    entry: Entry
    info: ClaimInfo
    row: Row
    slug: str
    title: str
    command: str
    figure: str | None = None
    figure_note: str = ""
    audit: dict[str, Any] | None = None
    audit_note: str = ""
    quantities: list[tuple[str, Any]] = field(default_factory=list)
    json: str | None = None

    @property
    def href(self) -> str:
        return f"claims/{self.slug}.html"

    @property
    def error(self) -> str | None:
        return self.entry.error

    @property
    def source(self) -> str:
        return self.entry.source


def worst_status(statuses) -> int:
    return max(statuses, key=lambda s: _SEVERITY.get(s, 3), default=0)


def reproduce_command(report: Report, info: ClaimInfo) -> str:
    """``python -m theorylab.check CLAIM`` with every parameter that differs from its
    default (all of them when the defaults are unknown) and the run options."""
    parts = ["python", "-m", "theorylab.check", report.claim]
    defaults = info.defaults
    for name, value in report.params.items():
        if value is None or (defaults is not None and defaults.get(name, object()) == value):
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag if value else f"--no-{flag[2:]}")
        else:
            parts += [flag, str(value)]
    if report.seed:
        parts += ["--seed", str(report.seed)]
    if report.device != "cpu":
        parts += ["--device", report.device]
    if report.dtype != "float64":
        parts += ["--dtype", report.dtype]
    return shlex.join(parts)


# Sources ------------------------------------------------------------------------------------
def run_claims(
    names: list[str],
    *,
    seed: int = 0,
    device: str = "cpu",
    dtype: str = "float64",
    quick: bool = False,
    stream: TextIO | None = sys.stderr,
) -> list[Entry]:
    """Run each claim (defaults, or ``Claim.quick``), one progress line before and after."""
    claims = [registry.get_claim(name) for name in names]  # unknown names: exit 2, no work
    values = {c.name: dict(c.quick) if quick else {} for c in claims}
    params = {c.name: registry.make_params(c, values[c.name]) for c in claims}
    entries = []
    for i, claim in enumerate(claims, 1):
        label = f"[{i}/{len(claims)}] {claim.name}"
        _say(stream, f"{label}: running{' (quick settings)' if quick else ''}")
        start = time.perf_counter()
        source = "run at its quick settings" if quick else "run at its defaults"
        try:
            report = registry.run_claim(claim, params[claim.name], seed=seed, device=device,
                                        dtype=dtype)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - a crashing claim is a row, not the end
            from ..check import internal_error_line

            line = internal_error_line("theorylab.report", claim.name, exc)
            entries.append(Entry(claim.name, None, source, error=line))
            _say(stream, f"{label}: error ({type(exc).__name__}: {exc})")
            continue
        entries.append(Entry(claim.name, report, source))
        _say(stream, f"{label}: {report.verdict} in {time.perf_counter() - start:.1f} s")
    return entries


def load_json(paths: list[str]) -> list[Entry]:
    """Reports saved by ``check --json`` (one report per file)."""
    entries = []
    for path in paths:
        try:
            with open(path) as f:
                report = Report.from_dict(json.load(f))
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"{path} is not a theorylab report: {type(exc).__name__}: {exc}"
            ) from None
        entries.append(Entry(report.claim, report, f"read from {path}"))
    return entries


def load_store(path: str) -> list[Entry]:
    """Every cell of a sweep store: done cells as reports, failed cells as errors."""
    from ..store import DONE, Store

    if not os.path.isfile(path):
        raise UsageError(f"no such store: {path}")
    entries = []
    with Store(path, create=False) as store:
        for row in store.rows():
            where = f"store {path}, cell {row.param_hash} seed {row.seed}"
            if row.status == DONE:
                entries.append(Entry(row.claim, row.report(), where))
            else:
                entries.append(Entry(row.claim, None, where, error=row.error or "failed"))
    return entries


def load_audits(paths: list[str]) -> dict[str, dict[str, Any]]:
    """Audits saved by ``python -m theorylab.power --json``, by claim."""
    audits = {}
    for path in paths:
        try:
            with open(path) as f:
                data = json.load(f)
            if not isinstance(data.get("mutants"), list) or "claim" not in data:
                raise ValueError("no claim or mutants")
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        except (ValueError, AttributeError) as exc:
            raise UsageError(f"{path} is not a theorylab power audit: {exc}") from None
        audits[data["claim"]] = data
    return audits


def run_audits(names: list[str], *, seed: int = 0, stream: TextIO | None = sys.stderr):
    """``theorylab.power.audit`` of each claim that declares mutants."""
    from ..power import audit

    audits = {}
    with_mutants = []
    for name in names:
        try:
            if registry.get_claim(name).mutants:
                with_mutants.append(name)
        except UsageError:  # a report of a claim not registered here: no audit
            continue
    for i, name in enumerate(with_mutants, 1):
        _say(stream, f"[{i}/{len(with_mutants)}] power audit {name}: running")
        try:
            audits[name] = audit(name, seed=seed).to_dict()
        except Exception as exc:  # noqa: BLE001 - the page says the audit failed
            _say(stream, f"[{i}/{len(with_mutants)}] power audit {name}: error ({exc})")
            audits[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return audits


def _say(stream: TextIO | None, line: str) -> None:
    if stream is not None:
        print(line, file=stream, flush=True)


# The site -----------------------------------------------------------------------------------
def _pages(entries: list[Entry]) -> list[Page]:
    entries = sorted(entries, key=lambda e: (e.claim, e.report.seed if e.report else -1))
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.claim] = counts.get(e.claim, 0) + 1
    infos: dict[str, ClaimInfo] = {}
    pages, used = [], set()
    for e in entries:
        info = infos.setdefault(e.claim, claim_info(e.claim))
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", e.claim)
        title = e.claim
        if counts[e.claim] > 1:
            tag = e.report.run_hash if e.report is not None and e.report.run_hash else "error"
            if e.report is not None:
                title = f"{e.claim} (seed {e.report.seed}, run {tag})"
            slug = f"{slug}-{tag}"
        base, n = slug, 1
        while slug in used:
            n += 1
            slug = f"{base}-{n}"
        used.add(slug)
        if e.report is not None:
            command = reproduce_command(e.report, info)
        else:
            command = shlex.join(["python", "-m", "theorylab.check", e.claim])
        quantities = []
        if e.report is not None:
            quantities = [(k, v) for k, v in e.report.quantities.items() if _scalar(v)]
        pages.append(Page(e, info, summary_row(e.report), slug, title, command,
                          quantities=quantities))  # fmt: skip
    return pages


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool)) or value is None


def _draw_figure(page: Page, out: Path) -> None:
    report = page.entry.report
    if report is None:
        page.figure_note = "No report, so no figure."
        return
    if report.failure is not None:
        page.figure_note = "No figure for an inconclusive run."
        return
    try:
        claim = registry.get_claim(report.claim)
    except UsageError:
        page.figure_note = f"Claim {report.claim} is not registered here: no figure."
        return
    draw = registry.plot_function(claim)
    if draw is None:
        page.figure_note = "This claim has no figure."
        return
    import matplotlib

    matplotlib.use("Agg")
    path = out / "figures" / f"{page.slug}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        draw(report, str(path))
    except Exception as exc:  # noqa: BLE001 - a figure that fails is reported on the page
        page.figure_note = f"The figure could not be drawn: {type(exc).__name__}: {exc}"
        return
    page.figure = f"../figures/{page.slug}.png"


def _attach_audit(page: Page, audits: dict[str, dict[str, Any]]) -> None:
    data = audits.get(page.entry.claim)
    if data is None:
        page.audit_note = "Not run: build with --power (or --power-json FILE from python -m " \
            "theorylab.power CLAIM --json FILE) to include it."  # fmt: skip
        return
    if "error" in data:
        page.audit_note = f"The power audit failed: {data['error']}"
        return
    audit = dict(data)
    audit["caught"] = sum(bool(m.get("caught")) for m in audit["mutants"])
    params = audit.get("params") or {}
    audit["params_text"] = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
    audit.setdefault("seed", 0)
    audit.setdefault("baseline_verdict", "?")
    for m in audit["mutants"]:
        m.setdefault("error", None)
        m.setdefault("flipped", [])
        m.setdefault("description", "")
    page.audit = audit


def build_site(
    out: str | os.PathLike,
    entries: list[Entry],
    *,
    audits: dict[str, dict[str, Any]] | None = None,
    figures: bool = True,
    stream: TextIO | None = None,
) -> int:
    """Write the site for ``entries`` into ``out``; return the worst exit status.

    ``audits`` maps a claim to its power audit (``PowerAudit.to_dict()``)."""
    out = Path(out)
    (out / "claims").mkdir(parents=True, exist_ok=True)
    pages = _pages(entries)
    env = environment()
    built = built_with()
    for i, page in enumerate(pages, 1):
        if figures:
            _say(stream, f"[{i}/{len(pages)}] figure {page.title}")
            _draw_figure(page, out)
        else:
            page.figure_note = "Figures were not drawn (--no-figures)."
        _attach_audit(page, audits or {})
        if page.entry.report is not None:  # the raw report beside its page (--from-json reads it)
            (out / "reports").mkdir(exist_ok=True)
            (out / "reports" / f"{page.slug}.json").write_text(
                page.entry.report.to_json() + "\n", encoding="utf-8"
            )
            page.json = f"../reports/{page.slug}.json"
        html = env.get_template("claim.html").render(
            page=page, report=page.entry.report, built=built
        )
        (out / page.href).write_text(html, encoding="utf-8")
    statuses = [p.entry.exit_status for p in pages]
    counts: dict[str, int] = {}
    for p in pages:
        counts[p.row.verdict] = counts.get(p.row.verdict, 0) + 1
    order = ["holds", "violated", "inconclusive", "error"]
    worst = worst_status(statuses)
    worst_name = {0: "holds", 1: "violated", 3: "inconclusive", 4: "error"}[worst]
    index = env.get_template("index.html").render(
        pages=pages,
        counts=[(v, counts[v]) for v in order if v in counts],
        worst=worst_name if pages else "no reports",
        built=built,
    )
    (out / "index.html").write_text(index, encoding="utf-8")
    return worst


# Command line -------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = UsageErrorParser(
        prog="python -m theorylab.report",
        description="Write a static HTML site of claims' verdicts, statements, power and "
        "figures (opens from the file system; no server, no JavaScript).",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="directory to write the site to")
    p.add_argument("--claims", metavar="A,B", help="claims to run (default: every claim)")
    p.add_argument("--from-json", nargs="+", default=[], metavar="FILE",
                   help="reports saved by check --json")  # fmt: skip
    p.add_argument("--store", metavar="S.sqlite", help="a sweep store: every cell's report")
    p.add_argument("--seed", type=int, default=0, help="seed of the runs")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--quick", action="store_true", help="run claims at their small test settings")
    p.add_argument("--power", action="store_true", help="run each claim's power audit")
    p.add_argument("--power-json", nargs="+", default=[], metavar="FILE",
                   help="audits saved by python -m theorylab.power --json")  # fmt: skip
    p.add_argument("--no-figures", action="store_true", help="draw no figures")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def main(argv: list[str] | None = None) -> int:
    from ..check import run_cli

    return run_cli("theorylab.report", _main, list(sys.argv[1:] if argv is None else argv),
                   "report")  # fmt: skip


def _main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
    stream = None if args.quiet else sys.stderr
    if args.quiet:
        from .. import progress

        progress.disable()
    entries = load_json(args.from_json) + (load_store(args.store) if args.store else [])
    audits = load_audits(args.power_json)
    names: list[str] = []
    if args.claims:
        names = registry.split_list("--claims", args.claims)
    elif not (args.from_json or args.store):
        names = sorted(registry.CLAIM_MODULES)
    for name in names:
        registry.get_claim(name)  # every name known before any work
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {out}: {exc.strerror}") from None
    if not os.access(out, os.W_OK):
        raise UsageError(f"cannot write to {out}")
    entries += run_claims(names, seed=args.seed, device=args.device, dtype=args.dtype,
                          quick=args.quick, stream=stream)  # fmt: skip
    if args.power:
        audits.update(run_audits(sorted({e.claim for e in entries}), seed=args.seed,
                                 stream=stream))  # fmt: skip
    status = build_site(out, entries, audits=audits, figures=not args.no_figures, stream=stream)
    verdicts = [summary_row(e.report).verdict for e in entries]
    tally = ", ".join(f"{v} {verdicts.count(v)}" for v in dict.fromkeys(verdicts)) or "no reports"
    print(f"wrote {out / 'index.html'} ({tally})")
    return status

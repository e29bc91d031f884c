"""Rendering reports to HTML and Markdown from the Jinja2 templates in ``templates/``.

One set of templates serves the static site (:mod:`theorylab.site.build`) and the notebook
representations (``Report._repr_html_`` / ``_repr_markdown_``), so a report looks the same in
both. Everything is escaped by Jinja2's autoescaping (claims' texts contain ``<=``).

The index's *worst slack* compares statements of different kinds on one scale, the room left
before the statement fails: log(slack) for one-sided statements (slack is a ratio: 0 at the
edge), slack / half-width for intervals (slack is a distance: 0 at the edge, 1 in the middle).
Negative means violated. Statements that hold but have no such scale (a half-open interval
``[-inf, hi]``, an equality ``[x, x]``) are not ranked.

Example:
    >>> from theorylab.report import Report, Statement
    >>> r = Report("toy", {}, 0, "cpu", "float64", statements=[
    ...     Statement.at_most("loose", "x <= 10", 1.0, 10.0),
    ...     Statement.within("exp", "slope", -0.36, (-0.65, -0.35))])
    >>> summary_row(r).worst  # 0.01 of a half-width 0.15 is tighter than 10x
    'exp = 0.01'
    >>> summary_row(r).powers
    'interval 1, sanity 1'
"""

from __future__ import annotations

import math
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from .. import __version__
from ..report import POWER_LABELS, Report, Statement, _fmt

TEMPLATES = Path(__file__).parent / "templates"


def fmt(value: Any) -> str:
    """Numbers as in the terminal table; intervals as [lo, hi]; None as '-'."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return f"[{_fmt(value[0])}, {_fmt(value[1])}]"
    return _fmt(value)


def md(value: Any) -> str:
    """Text for a Markdown table cell (pipes and newlines escaped)."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = fmt
    env.filters["md"] = md
    return env


_ENVS: dict[bool, jinja2.Environment] = {}


def environment(autoescape: bool = True) -> jinja2.Environment:
    if autoescape not in _ENVS:
        _ENVS[autoescape] = _environment(autoescape)
    return _ENVS[autoescape]


def built_with() -> dict[str, str]:
    return {
        "theorylab": __version__,
        "python": platform.python_version(),
        "platform": f"{sys.platform} {platform.machine()}",
    }


# Summary of one report (a row of the index) ------------------------------------------------
@dataclass
class Row:
    verdict: str
    held: str
    worst: str
    powers: str
    time: str
    run_hash: str


def margin(s: Statement) -> float | None:
    """Room left before ``s`` fails, on one scale for every kind (module docstring)."""
    if s.slack is None:
        return None
    if s.relation == "in":
        lo, hi = s.reference
        half = (hi - lo) / 2
        if s.slack < 0:
            return s.slack / half if 0 < half < math.inf else -math.inf
        # A half-open interval has no scale, a point (an equality) no room: not ranked.
        return s.slack / half if 0 < half < math.inf else None
    if s.slack <= 0:
        return -math.inf
    return math.log(s.slack)


def worst_statement(report: Report) -> Statement | None:
    scored = [(margin(s), i, s) for i, s in enumerate(report.statements)]
    scored = [(m, i, s) for m, i, s in scored if m is not None]
    return min(scored)[2] if scored else None


def summary_row(report: Report | None, *, error: str | None = None) -> Row:
    if report is None:
        return Row("error", "-", "-", "-", "-", "-")
    evaluated = [s for s in report.statements if s.holds is not None]
    held = sum(s.holds is True for s in report.statements)
    text = f"{held}/{len(report.statements)}"
    if len(evaluated) < len(report.statements):
        text += f" ({len(report.statements) - len(evaluated)} n/a)"
    worst = worst_statement(report)
    counts = {label: 0 for label in POWER_LABELS}
    for s in report.statements:
        if s.power in counts:
            counts[s.power] += 1
    powers = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "-"
    seconds = report.timing.get("total_s") if report.timing else None
    return Row(
        verdict=report.verdict,
        held=text,
        worst="-" if worst is None else f"{worst.name} = {fmt(worst.slack)}",
        powers=powers,
        time="-" if seconds is None else f"{seconds:.1f} s" if seconds >= 1 else f"{seconds:.2g} s",
        run_hash=report.run_hash or "-",
    )


# Notebook representations -----------------------------------------------------------------
def report_html(report: Report) -> str:
    """The report as an HTML fragment (statements, hypotheses, verdict) for Jupyter."""
    template = environment().get_template("report_fragment.html")
    return template.render(report=report, row=summary_row(report))


def report_markdown(report: Report) -> str:
    """The report as compact Markdown: a header line, the statement table, hypotheses."""
    return environment(autoescape=False).get_template("report.md").render(report=report)


def summary_html(groups: list) -> str:
    """Sweep summaries (``theorylab.store.summarize``) as HTML tables, one per group."""
    return environment().get_template("summary.html").render(groups=groups)

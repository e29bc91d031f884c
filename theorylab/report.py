"""Statements, hypotheses and the Report a claim returns.

A *statement* is ``measured <relation> reference`` with a verdict and a *slack* that says how
tight the comparison is:

- ``<=`` / ``<``: slack = reference / measured (100 means the bound is 100x loose; < 1 violated);
- ``>=`` / ``>``: slack = measured / reference;
- ``in [lo, hi]``: slack = min(measured - lo, hi - measured), the distance to the nearer edge
  (negative outside the interval), in the units of the measured value (e.g. an exponent).

Every statement carries a *power* label, what kind of evidence it is:

- ``exact``: an identity or closed form within rounding or Monte-Carlo error (declared by the
  claim, ``power="exact"``);
- ``interval``: two-sided (``within``: an exponent window, a z-score band);
- ``bound``: one-sided with slack at most ``LOOSE_SLACK`` (3) at this run: it would see a
  mistake of a factor of a few;
- ``sanity``: one-sided and looser than that: it can catch a gross error only, and is not a
  test of the theory's constants.

One-sided statements are labelled from their slack unless the claim declares the label.

``holds`` is ``None`` when the statement could not be evaluated (non-finite measurement); the
report is then inconclusive. Reports round-trip through JSON with the stable keys of
ARCHITECTURE.md; non-finite floats are written as the strings "inf", "-inf", "nan" so the
file stays strict JSON.

Example:
    >>> s = Statement.at_most("bound", "x <= 2", measured=0.5, reference=2.0)
    >>> s.holds, s.slack
    (True, 4.0)
    >>> Statement.within("exp", "slope", measured=-0.45, interval=(-0.65, -0.35)).slack
    0.1
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

VERDICT_EXIT_STATUS = {"holds": 0, "violated": 1, "inconclusive": 3}
# Exit status of an unexpected exception inside a claim (never 1, which means "violated").
INTERNAL_ERROR = 4
POWER_LABELS = ("exact", "interval", "bound", "sanity")
# A one-sided statement looser than this (slack = reference/measured or its inverse) is a
# sanity bound: a planted factor-2 or factor-3 mistake in the theory would not flip it.
LOOSE_SLACK = 3.0


def _one_sided_power(slack: float | None, declared: str | None) -> str | None:
    if declared is not None:
        if declared not in POWER_LABELS:
            raise ValueError(f"power must be one of {', '.join(POWER_LABELS)}, got {declared!r}")
        return declared
    if slack is None or not math.isfinite(slack):
        return "sanity" if slack is not None else None
    return "bound" if slack <= LOOSE_SLACK else "sanity"


def _finite(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _ratio(num: float, den: float) -> float:
    if den == 0:
        return math.inf if num > 0 else (1.0 if num == 0 else -math.inf)
    return num / den


@dataclass
class Statement:
    """One comparison ``measured <relation> reference``; build it with the classmethods."""

    name: str
    text: str
    measured: float
    relation: str
    reference: float | list[float]
    slack: float | None
    holds: bool | None
    detail: str = ""
    power: str | None = None

    @classmethod
    def at_most(
        cls, name, text, measured, reference, strict=False, detail="", power=None
    ) -> Statement:
        measured, reference = float(measured), float(reference)
        rel = "<" if strict else "<="
        if not (_finite(measured) and not math.isnan(reference)):
            return cls(name, text, measured, rel, reference, None, None, detail, power)
        holds = measured < reference if strict else measured <= reference
        slack = round(_ratio(reference, measured), 12)
        power = _one_sided_power(slack, power)
        return cls(name, text, measured, rel, reference, slack, bool(holds), detail, power)

    @classmethod
    def at_least(
        cls, name, text, measured, reference, strict=False, detail="", power=None
    ) -> Statement:
        measured, reference = float(measured), float(reference)
        rel = ">" if strict else ">="
        if not (_finite(measured) and not math.isnan(reference)):
            return cls(name, text, measured, rel, reference, None, None, detail, power)
        holds = measured > reference if strict else measured >= reference
        slack = round(_ratio(measured, reference), 12)
        power = _one_sided_power(slack, power)
        return cls(name, text, measured, rel, reference, slack, bool(holds), detail, power)

    @classmethod
    def within(cls, name, text, measured, interval, detail="", power="interval") -> Statement:
        lo, hi = float(interval[0]), float(interval[1])
        measured = float(measured)
        power = _one_sided_power(None, power)
        if not _finite(measured):
            return cls(name, text, measured, "in", [lo, hi], None, None, detail, power)
        slack = min(measured - lo, hi - measured)
        holds = bool(slack >= 0)
        return cls(name, text, measured, "in", [lo, hi], round(slack, 12), holds, detail, power)

    def mark_not_evaluable(self, reason: str) -> Statement:
        """Demote to n/a (holds and slack None) when the run cannot support the comparison,
        e.g. it stopped before converging; ``reason`` is appended to the detail."""
        self.holds, self.slack = None, None
        self.detail = f"{self.detail}; {reason}" if self.detail else reason
        return self


@dataclass
class Hypothesis:
    """A hypothesis of the theorem (or of the check) and whether this run meets it.

    ``required`` hypotheses are the check's own preconditions: if one is not met the report is
    inconclusive. The theorem's hypotheses (e.g. Du et al.'s width requirement, ~1e20 neurons at
    n = 100) are usually *not* required: the run reports them unmet and still tests the
    conclusions empirically.
    """

    name: str
    text: str
    met: bool
    detail: str = ""
    required: bool = False


def _encode(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


_SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _decode_number(value: Any) -> Any:
    if isinstance(value, str) and value in _SPECIAL:
        return _SPECIAL[value]
    if isinstance(value, list):
        return [_decode_number(v) for v in value]
    if isinstance(value, dict):
        return {k: _decode_number(v) for k, v in value.items()}
    return value


@dataclass
class Report:
    """Everything a check measured; ``holds`` and ``verdict`` are derived, never stored apart."""

    claim: str
    params: dict[str, Any]
    seed: int
    device: str
    dtype: str
    statements: list[Statement] = field(default_factory=list)
    hypotheses: list[Hypothesis] = field(default_factory=list)
    quantities: dict[str, Any] = field(default_factory=dict)
    series: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=dict)
    failure: str | None = None
    failure_step: int | None = None
    run_hash: str = ""
    theorylab_version: str = ""
    torch_version: str = ""

    @property
    def verdict(self) -> str:
        if self.failure is not None:
            return "inconclusive"
        if any(h.required and not h.met for h in self.hypotheses):
            return "inconclusive"  # the check's own precondition failed: no verdict possible
        if any(s.holds is False for s in self.statements):
            return "violated"
        if any(s.holds is None for s in self.statements):
            return "inconclusive"
        if not self.statements:
            return "inconclusive"
        return "holds"

    @property
    def holds(self) -> bool:
        return self.verdict == "holds"

    @property
    def exit_status(self) -> int:
        return VERDICT_EXIT_STATUS[self.verdict]

    def statement(self, name: str) -> Statement:
        for s in self.statements:
            if s.name == name:
                return s
        raise KeyError(f"no statement {name!r} (have: {', '.join(self.statement_names)})")

    @property
    def statement_names(self) -> list[str]:
        return [s.name for s in self.statements]

    # JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return _encode(
            {
                "claim": self.claim,
                "theorylab_version": self.theorylab_version,
                "torch_version": self.torch_version,
                "device": self.device,
                "dtype": self.dtype,
                "seed": self.seed,
                "run_hash": self.run_hash,
                "params": self.params,
                "verdict": self.verdict,
                "failure": self.failure,
                "failure_step": self.failure_step,
                "statements": [dataclasses.asdict(s) for s in self.statements],
                "hypotheses": [dataclasses.asdict(h) for h in self.hypotheses],
                "quantities": self.quantities,
                "series": self.series,
                "timing": self.timing,
            }
        )

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        statements = []
        for s in data.get("statements", []):
            s = dict(s)
            for key in ("measured", "reference", "slack"):
                s[key] = _decode_number(s[key])
            s.setdefault("power", None)  # reports written before power labels existed
            statements.append(Statement(**s))
        quantities = {k: _decode_number(v) for k, v in data.get("quantities", {}).items()}
        return cls(
            claim=data["claim"],
            params=data["params"],
            seed=data["seed"],
            device=data["device"],
            dtype=data["dtype"],
            statements=statements,
            hypotheses=[Hypothesis(**h) for h in data.get("hypotheses", [])],
            quantities=quantities,
            series=_decode_number(data.get("series", {})),
            timing=data.get("timing", {}),
            failure=data.get("failure"),
            failure_step=data.get("failure_step"),
            run_hash=data.get("run_hash", ""),
            theorylab_version=data.get("theorylab_version", ""),
            torch_version=data.get("torch_version", ""),
        )

    @classmethod
    def from_json(cls, text: str) -> Report:
        return cls.from_dict(json.loads(text))

    # Notebooks (the templates of theorylab.site, imported on first use) ------------------
    def _repr_html_(self) -> str:
        from .site import report_html

        return report_html(self)

    def _repr_markdown_(self) -> str:
        from .site import report_markdown

        return report_markdown(self)

    # Terminal -----------------------------------------------------------------------------
    def table(self) -> str:
        """A plain-text table: statements, then hypotheses, then the verdict."""
        lines = [f"{self.claim}  seed={self.seed}  device={self.device}  dtype={self.dtype}"]
        if self.failure is not None:
            step = f" (step {self.failure_step})" if self.failure_step is not None else ""
            lines.append(f"INCONCLUSIVE{step}: {self.failure}")
        if self.statements:
            rows = [("statement", "measured", "rel", "reference", "slack", "power", "holds")]
            for s in self.statements:
                ref = (
                    f"[{_fmt(s.reference[0])}, {_fmt(s.reference[1])}]"
                    if isinstance(s.reference, list)
                    else _fmt(s.reference)
                )
                verdict = {True: "yes", False: "NO", None: "n/a"}[s.holds]
                power = s.power or "-"
                rows.append(
                    (s.name, _fmt(s.measured), s.relation, ref, _fmt(s.slack), power, verdict)
                )
            widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
            for j, r in enumerate(rows):
                lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
                if j == 0:
                    lines.append("  ".join("-" * w for w in widths))
        if self.hypotheses:
            lines.append("hypotheses:")
            for h in self.hypotheses:
                mark = "met" if h.met else ("NOT MET (required)" if h.required else "not met")
                lines.append(f"  [{mark}] {h.name}: {h.detail}")
        lines.append(f"verdict: {self.verdict}")
        return "\n".join(lines)


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            return str(x)
        if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
            return f"{x:.3e}"
        return f"{x:.4g}"
    return str(x)


if __name__ == "__main__":  # python -m theorylab.report: the static verification site
    from theorylab.errors import exit_process
    from theorylab.site import main

    exit_process(main())

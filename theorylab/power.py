"""Power audit: ``python -m theorylab.power CLAIM`` shows that a claim's check can fail.

Each claim declares :class:`~theorylab.registry.Mutant` s, plausible mistakes planted in its
theory or measurement code (a wrong constant, a dropped term, a max taken as a mean), applied
by substitution at run time. The audit runs the claim once as shipped (the baseline must hold)
and once under each mutant, on the claim's reduced settings (``Claim.power_params``, else
``Claim.quick``), and reports which statements flipped from holding to not holding.

A mutant is *caught* when the mutated run does not hold (violated, or inconclusive because
the planted mistake broke a precondition the check verifies). A mutant declared with
``caught=False`` is a documented blind spot: it is run and reported, never hidden.

Exit status: 0 every mutant declared as caught was caught; 1 at least one was not; 2 usage
error; 3 the baseline itself did not hold (no audit possible); 4 internal error.

Example:
    >>> from theorylab.power import MutantResult
    >>> MutantResult("m", "", True, True, "violated", ["s"]).as_row()[:3]
    ('m', 'yes', 'caught')
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import UsageError, exit_process
from .registry import CLAIM_MODULES, Claim, get_claim, make_params, run_claim

if TYPE_CHECKING:
    from .report import Report

EXIT_MISSED = 1
EXIT_BASELINE = 3


@dataclass
class MutantResult:
    name: str
    description: str
    expected_caught: bool
    caught: bool
    verdict: str
    flipped: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def as_declared(self) -> bool:
        return self.caught or not self.expected_caught

    def as_row(self) -> tuple[str, str, str, str, str]:
        expected = "yes" if self.expected_caught else "no (blind spot)"
        outcome = "caught" if self.caught else "NOT CAUGHT"
        if self.error:
            outcome = "ERROR"
        return (self.name, expected, outcome, self.verdict, ", ".join(self.flipped) or "-")


@dataclass
class PowerAudit:
    claim: str
    seed: int
    params: dict[str, Any]
    baseline_verdict: str
    mutants: list[MutantResult]

    @property
    def exit_status(self) -> int:
        if self.baseline_verdict != "holds":
            return EXIT_BASELINE
        return 0 if all(m.as_declared for m in self.mutants) else EXIT_MISSED

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for entry, result in zip(data["mutants"], self.mutants, strict=True):
            entry["as_declared"] = result.as_declared
        return data

    def table(self) -> str:
        lines = [f"{self.claim} power audit  seed={self.seed}  baseline: {self.baseline_verdict}"]
        rows = [("mutant", "must catch", "outcome", "verdict", "flipped statements")]
        rows += [m.as_row() for m in self.mutants]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for j, r in enumerate(rows):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
            if j == 0:
                lines.append("  ".join("-" * w for w in widths))
        caught = sum(m.caught for m in self.mutants)
        lines.append(f"caught {caught} of {len(self.mutants)} mutants")
        return "\n".join(lines)


def audit_settings(claim: Claim) -> dict[str, Any]:
    """The reduced parameters the audit runs at."""
    return dict(claim.quick if claim.power_params is None else claim.power_params)


def audit(
    name: str, *, seed: int = 0, mutants: list[str] | None = None, baseline: Report | None = None
) -> PowerAudit:
    """Run claim ``name`` as shipped and under each of its declared mutants.

    ``baseline``: a report of the shipped claim at the audit's settings and ``seed`` made
    earlier (a test session's cached run); it is used instead of running the claim again and
    must match them (ValueError otherwise).
    """
    claim = get_claim(name)
    if not claim.mutants:
        raise UsageError(f"claim {name} declares no mutants")
    known = {m.name: m for m in claim.mutants}
    chosen = list(known) if not mutants else mutants
    for m in chosen:
        if m not in known:
            raise UsageError(f"claim {name} has no mutant {m} (known: {', '.join(known)})")
    params = make_params(claim, audit_settings(claim))
    if baseline is None:
        baseline = run_claim(claim, params, seed=seed)
    elif (baseline.claim, baseline.seed, baseline.params) != (name, seed, asdict(params)):
        raise ValueError(
            f"baseline report is {baseline.claim} seed {baseline.seed} {baseline.params}, the "
            f"audit runs {name} seed {seed} {asdict(params)}"
        )
    results = []
    for mutant in (known[m] for m in chosen):
        try:
            with mutant.applied():
                report = run_claim(claim, params, seed=seed)
        except Exception as exc:  # a mutant that crashes the claim is reported, not caught
            results.append(
                MutantResult(
                    mutant.name,
                    mutant.description,
                    mutant.caught,
                    False,
                    "error",
                    [],
                    f"{type(exc).__name__}: {exc}",
                )  # fmt: skip
            )
            continue
        flipped = [
            s.name for s in report.statements if s.holds is not True and _held(baseline, s.name)
        ]
        caught = report.verdict != "holds"
        results.append(
            MutantResult(
                mutant.name, mutant.description, mutant.caught, caught, report.verdict, flipped
            )
        )
    return PowerAudit(name, seed, baseline.params, baseline.verdict, results)


def _held(report, name: str) -> bool:
    return any(s.name == name and s.holds is True for s in report.statements)


def main(argv: list[str] | None = None) -> int:
    from .check import run_cli

    argv = list(sys.argv[1:] if argv is None else argv)
    claim = argv[0] if argv and not argv[0].startswith("-") else "power"
    return run_cli("theorylab.power", _main, argv, claim)


def _main(argv: list[str]) -> int:
    from .check import OneLineParser

    parser = OneLineParser(
        prog="python -m theorylab.power",
        description="Run a claim under each of its declared mutants (planted mistakes in its "
        "theory) and report which statements flip.",
    )
    parser.add_argument("claim", help=f"one of: {', '.join(sorted(CLAIM_MODULES))}")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--mutant", action="append", help="run only this mutant (repeatable)")
    parser.add_argument("--json", metavar="PATH", help="write the audit as JSON ('-' = stdout)")
    parser.add_argument("--quiet", action="store_true", help="print no table")
    args = parser.parse_args(argv)
    if args.seed < 0:
        raise UsageError(f"seed must be a non-negative integer, got {args.seed}")
    if args.json and args.json != "-":
        from .outputs import check_writable

        check_writable(args.json)
    result = audit(args.claim, seed=args.seed, mutants=args.mutant)
    stream = sys.stderr if args.json == "-" else sys.stdout
    if not args.quiet:
        print(result.table(), file=stream)
    text = json.dumps(result.to_dict(), indent=1)
    if args.json == "-":
        print(text)
    elif args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    return result.exit_status


if __name__ == "__main__":
    exit_process(main())

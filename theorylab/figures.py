"""Regenerate the claims' figures: ``python -m theorylab.figures [CLAIM ...] [--out figures/]``.

Each figure comes from a fresh run of the claim at its default parameters (or the parameters
of a saved report, ``--from-json``), drawn by ``theorylab.plots.<claim>.draw``.
"""

from __future__ import annotations

import argparse
import os
import sys

from .errors import UsageError
from .registry import CLAIM_MODULES, check, get_claim
from .report import Report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m theorylab.figures", description=__doc__)
    parser.add_argument("claims", nargs="*", help="claims to draw (default: all with a figure)")
    parser.add_argument("--out", default="figures", help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--from-json", metavar="PATH", help="draw a saved report instead")
    args = parser.parse_args(argv)
    try:
        if args.from_json:
            with open(args.from_json) as f:
                reports = [Report.from_json(f.read())]
        else:
            names = args.claims or sorted(CLAIM_MODULES)
            claims = [get_claim(name) for name in names]
            reports = [check(c.name, seed=args.seed) for c in claims if c.plot is not None]
        os.makedirs(args.out, exist_ok=True)
        for report in reports:
            path = os.path.join(args.out, f"{report.claim}.png")
            get_claim(report.claim).plot(report, path)
            print(f"{path}: {report.verdict}")
    except (UsageError, OSError) as exc:
        print(f"theorylab.figures: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``python -m theorylab.check CLAIM [--param VALUE ...]``.

Exit status: 0 every statement holds; 1 a statement is violated; 2 usage error or bad input
(one line on stderr); 3 inconclusive (numerical failure, hypothesis of the check not reached);
4 internal error (an unexpected exception: one line on stderr naming the claim and the file
the traceback was written to; never 1, which means "the theory was violated").
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
import traceback
import types

from . import progress
from .errors import UsageError
from .outputs import check_plot_path, check_writable
from .registry import CLAIM_MODULES, all_claims, field_type, get_claim, plot_function
from .registry import check as _api_check

USAGE_ERROR = 2
INTERNAL_ERROR = 4


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except for parameters whose default is computed at run time."""

    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports errors as one line on stderr (exit 2), never a usage block."""

    def error(self, message: str):
        raise UsageError(message)


def _typed(base: type, flag: str):
    def parse(text: str):
        try:
            return base(text)
        except ValueError:
            kind = {int: "an integer", float: "a number"}.get(base, base.__name__)
            raise argparse.ArgumentTypeError(f"{flag} must be {kind}, got {text!r}") from None

    parse.__name__ = base.__name__
    return parse


def build_parser(claim) -> OneLineParser:
    parser = OneLineParser(
        prog=f"python -m theorylab.check {claim.name}",
        description=claim.summary,
        formatter_class=_DefaultsFormatter,
    )
    group = parser.add_argument_group(f"{claim.name} parameters")
    for f in dataclasses.fields(claim.params):
        base, _optional = field_type(claim.params, f)
        flag = "--" + f.name.replace("_", "-")
        meta = f.metadata
        help_text = meta["help"]
        bounds = [
            f"{label} {meta[key]}"
            for key, label in (("minimum", ">="), ("maximum", "<="))
            if meta.get(key) is not None
        ]
        if bounds:
            help_text += f" [{', '.join(bounds)}]"
        kwargs = dict(dest=f.name, default=f.default, help=help_text)
        if base is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = _typed(base, flag) if base in (int, float) else str
            kwargs["metavar"] = base.__name__.upper()
            if meta.get("choices"):
                kwargs["choices"] = list(meta["choices"])
                kwargs.pop("metavar")
        kwargs["help"] = kwargs["help"].replace("%", "%%")
        group.add_argument(flag, **kwargs)
    run = parser.add_argument_group("run options")
    run.add_argument(
        "--seed", type=_typed(int, "--seed"), default=0, metavar="INT", help="random seed"
    )
    run.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="torch device")
    run.add_argument(
        "--dtype", choices=["float64", "float32"], default="float64", help="training precision"
    )
    run.add_argument("--json", metavar="PATH", help="write the report as JSON ('-' = stdout)")
    run.add_argument("--plot", metavar="PATH", help="write the claim's figure (PNG, PDF, SVG)")
    run.add_argument("--quiet", action="store_true", help="print no table")
    return parser


def list_claims() -> str:
    claims = all_claims()
    width = max(len(c.name) for c in claims)
    return "\n".join(f"{c.name.ljust(width)}  {c.summary}" for c in claims)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except UsageError as exc:
        print(f"theorylab.check: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("theorylab.check: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a verdict: exit 4 with the traceback saved
        claim = argv[0] if argv and not argv[0].startswith("-") else "theorylab"
        print(internal_error_line("theorylab.check", claim, exc), file=sys.stderr)
        return INTERNAL_ERROR


def internal_error_line(program: str, claim: str, exc: BaseException) -> str:
    """Write the current traceback to a file and return the one line that names it."""
    path = save_traceback(claim)
    where = f"traceback in {path}" if path else "traceback could not be saved"
    return f"{program}: internal error in {claim}: {type(exc).__name__}: {exc} ({where})"


def save_traceback(claim: str) -> str | None:
    name = f"theorylab-{claim}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.traceback"
    path = os.path.join(tempfile.gettempdir(), name)
    try:
        with open(path, "w") as f:
            f.write(traceback.format_exc())
    except OSError:
        return None
    return path


def _main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(
            "usage: python -m theorylab.check CLAIM [--param VALUE ...] [--seed S] "
            "[--device cpu|cuda] [--dtype float64|float32] [--json PATH] [--plot PATH] "
            "[--quiet]\n       python -m theorylab.check --list\n"
            "       python -m theorylab.check CLAIM --help\n\nclaims:\n" + list_claims()
        )
        return 0 if argv else USAGE_ERROR
    if argv[0] == "--list":
        print(list_claims())
        return 0
    if argv[0].startswith("-"):
        known = ", ".join(sorted(CLAIM_MODULES))
        raise UsageError(f"the first argument must be a claim (known: {known}) or --list")
    claim = get_claim(argv[0])
    args = build_parser(claim).parse_args(argv[1:])
    if args.quiet:
        progress.disable()
    if args.json and args.json != "-":
        check_writable(args.json)
    if args.plot:
        check_plot_path(args.plot)
    values = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(claim.params)
        if getattr(args, f.name) is not None
    }
    report = _api_check(claim.name, seed=args.seed, device=args.device, dtype=args.dtype, **values)
    table_stream = sys.stderr if args.json == "-" else sys.stdout
    try:
        if not args.quiet:
            print(report.table(), file=table_stream)
        elif report.failure is not None:
            print(f"theorylab.check: inconclusive: {report.failure}", file=sys.stderr)
        if args.json == "-":
            print(report.to_json())
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (head, less) went away: keep the exit status of the verdict, and keep
        # Python's exit-time flush of stdout from raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if args.json and args.json != "-":
        _write(args.json, report.to_json() + "\n")
    if args.plot:
        draw = plot_function(claim)
        if report.failure is not None or draw is None:
            print(f"theorylab.check: no figure written: {report.verdict} run", file=sys.stderr)
        else:
            draw(report, args.plot)
    return report.exit_status


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc


class _CallableModule(types.ModuleType):
    """``theorylab.check`` is both this module and the API function ``check(name, **params)``:
    importing the submodule rebinds the package attribute to the module, so the module
    forwards calls to the function and ``theorylab.check("near_init")`` works either way."""

    def __call__(self, *args, **kwargs):
        return _api_check(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``python -m theorylab.check CLAIM [--param VALUE ...]``.

Exit status: 0 every statement holds; 1 a statement is violated; 2 usage error or bad input
(one line on stderr); 3 inconclusive (numerical failure, hypothesis of the check not reached);
4 internal error (an unexpected exception: one line on stderr naming the claim and the file
the traceback was written to; never 1, which means "the theory was violated").
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib.util
import os
import sys
import tempfile
import time
import traceback
import types
from collections.abc import Callable

from . import progress
from .errors import INTERRUPTED, ParserExit, UsageError, UsageErrorParser, exit_process, one_line
from .outputs import check_distinct, check_plot_path, check_writable
from .registry import CLAIM_MODULES, field_type, get_claim, parse_value, plot_function
from .registry import check as _api_check
from .runtime import Context

USAGE_ERROR = 2
INTERNAL_ERROR = 4


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except for parameters whose default is computed at run time."""

    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


class OneLineParser(UsageErrorParser):
    """argparse that reports errors as one line on stderr (exit 2), never a usage block, and
    that returns from ``--help`` instead of raising SystemExit (so :func:`main` returns)."""

    def _print_message(self, message: str, file=None):
        if message:
            _emit(message.rstrip("\n"), file or sys.stderr)


def _typed(base: type, flag: str, optional: bool = False):
    """argparse type for one option: :func:`theorylab.registry.parse_value` (shared with the
    sweep's ``--grid`` values)."""

    def parse(text: str):
        try:
            return parse_value(flag, text, base, optional)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

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
        base, optional = field_type(claim.params, f)
        flag = "--" + f.name.replace("_", "-")
        meta = f.metadata
        help_text = meta["help"]
        bounds = [
            f"{label} {meta[key]}"
            for key, label in (("above", ">"), ("minimum", ">="), ("maximum", "<="))
            if meta.get(key) is not None
        ]
        if bounds:
            help_text += f" [{', '.join(bounds)}]"
        kwargs = dict(dest=f.name, default=f.default, help=help_text)
        if base is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = _typed(base, flag, optional) if base in (int, float) else str
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
    """``name  summary`` per claim. A built-in claim's summary is read from its module's source
    (see :func:`claim_summary`), so listing imports none of them; a claim registered from
    outside is loaded (a broken one is a one-line UsageError, exit 2)."""
    from . import registry

    names = sorted(set(CLAIM_MODULES) | set(getattr(registry, "_BROKEN", {})))
    width = max(len(name) for name in names)
    return "\n".join(f"{name.ljust(width)}  {claim_summary(name)}" for name in names)


def claim_summary(name: str) -> str:
    """The ``summary`` of claim ``name``. For a built-in claim it is read from ``CLAIM =
    Claim(..., summary="...")`` in its module's source without importing it (a claim module
    may import torch at its top); otherwise, or when the summary there is not a string
    literal, the claim is loaded."""
    from . import registry

    module = CLAIM_MODULES.get(name)
    builtin = getattr(registry, "BUILTIN_CLAIMS", CLAIM_MODULES)
    if name in builtin and module == f"theorylab.claims.{name}":
        try:
            spec = importlib.util.find_spec(module)
            path = spec.origin if spec is not None else None
            if path and path.endswith(".py"):
                with open(path, encoding="utf-8") as f:
                    summary = _summary_from_source(f.read())
                if summary is not None:
                    return summary
        except (OSError, SyntaxError, ValueError, ImportError):
            pass
    return get_claim(name).summary


def _summary_from_source(source: str) -> str | None:
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        if not any(isinstance(t, ast.Name) and t.id == "CLAIM" for t in node.targets):
            continue
        call = node.value
        candidates = [k.value for k in call.keywords if k.arg == "summary"]
        candidates += call.args[1:2]  # Claim(name, summary, ...)
        for candidate in candidates:
            try:
                value = ast.literal_eval(candidate)
            except ValueError:
                return None
            return value if isinstance(value, str) else None
    return None


USAGE = (
    "usage: python -m theorylab.check CLAIM [--param VALUE ...] [--seed S] "
    "[--device cpu|cuda] [--dtype float64|float32] [--json PATH] [--plot PATH] "
    "[--quiet]\n       python -m theorylab.check --list\n"
    "       python -m theorylab.check CLAIM --help"
)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    claim = argv[0] if argv and not argv[0].startswith("-") else "theorylab"
    return run_cli("theorylab.check", _main, argv, claim)


def run_cli(
    program: str,
    body: Callable[[list[str]], int],
    argv: list[str],
    subject: str,
    interrupted: str = "interrupted",
) -> int:
    """``body(argv)``'s exit status, with the error handling every ``python -m theorylab.*``
    command shares: ``--help`` returns its status; a :class:`UsageError` is one stderr line
    and exit 2; Ctrl-C one line (``program: interrupted``) and exit 130; any other exception,
    SystemExit included (argparse's exits are :class:`ParserExit`), is a bug, not a verdict:
    exit 4 and one line naming the file its traceback was saved to (``subject`` names it).
    """
    try:
        return body(argv)
    except ParserExit as exc:
        return exc.status
    except UsageError as exc:
        print(f"{program}: error: {one_line(exc)}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"{program}: {interrupted}", file=sys.stderr)
        return INTERRUPTED
    except (Exception, SystemExit) as exc:
        print(internal_error_line(program, subject, exc), file=sys.stderr)
        return INTERNAL_ERROR


def internal_error_line(program: str, claim: str, exc: BaseException) -> str:
    """Write the current traceback to a file and return the one line that names it."""
    path = save_traceback(claim)
    where = f"traceback in {path}" if path else "traceback could not be saved"
    message = " ".join(str(exc).split())  # one line, whatever the exception's text
    if len(message) > 300:
        message = message[:297] + "..."
    return f"{program}: internal error in {claim}: {type(exc).__name__}: {message} ({where})"


def save_traceback(claim: str) -> str | None:
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in claim)[:64]
    name = f"theorylab-{safe}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.traceback"
    path = os.path.join(tempfile.gettempdir(), name)
    try:
        with open(path, "w") as f:
            f.write(traceback.format_exc())
    except OSError:
        return None
    return path


def _main(argv: list[str]) -> int:
    if not argv:
        known = ", ".join(sorted(CLAIM_MODULES))
        raise UsageError(f"missing CLAIM (known: {known}); see python -m theorylab.check --help")
    if argv[0] in ("-h", "--help"):
        _emit(USAGE + "\n\nclaims:\n" + list_claims())
        return 0
    if argv[0] == "--list":
        if len(argv) > 1:
            raise UsageError(f"--list takes no other argument, got {argv[1]!r}")
        _emit(list_claims())
        return 0
    if argv[0].startswith("-"):
        known = ", ".join(sorted(CLAIM_MODULES))
        raise UsageError(f"the first argument must be a claim (known: {known}) or --list")
    claim = get_claim(argv[0])
    args = build_parser(claim).parse_args(argv[1:])
    if args.quiet:
        progress.disable()
    Context(seed=args.seed, device=args.device, dtype=args.dtype)  # UsageError, before any work
    # Every output path is checked before the run: a run is never lost to a bad path.
    if args.json and args.json != "-":
        check_writable(args.json)
    if args.plot:
        check_plot_path(args.plot)
        if not has_figure(claim.name) and claim.plot is None:
            raise UsageError(f"--plot: claim {claim.name} has no figure")
        check_distinct(args.json, args.plot)
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
        elif report.verdict == "inconclusive":  # quiet silences the table, not the outcome
            print(
                f"theorylab.check: inconclusive: {one_line(inconclusive_reason(report))}",
                file=sys.stderr,
            )
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
        if report.verdict == "inconclusive":
            print(
                f"theorylab.check: no figure written to {args.plot}: an inconclusive run has "
                "no figure",
                file=sys.stderr,
            )
        else:
            plot_function(claim)(report, args.plot)
    return report.exit_status


def _emit(text: str, stream=None) -> None:
    """Print ``text``; a reader that went away (``| head``) is not an error."""
    stream = sys.stdout if stream is None else stream
    try:
        print(text, file=stream)
        stream.flush()
    except BrokenPipeError:
        if stream is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def has_figure(name: str) -> bool:
    """Whether ``theorylab/plots/<name>.py`` exists (found without importing it, so without
    importing matplotlib)."""
    try:
        return importlib.util.find_spec(f"theorylab.plots.{name}") is not None
    except (ImportError, ValueError):
        return False


def inconclusive_reason(report) -> str:
    """One line saying why a report has no verdict: its failure, an unmet required
    hypothesis, or the statements that could not be evaluated."""
    if report.failure is not None:
        return report.failure
    unmet = [h for h in report.hypotheses if h.required and not h.met]
    if unmet:
        return f"required hypothesis {unmet[0].name} not met: {unmet[0].detail}"
    not_evaluable = [s.name for s in report.statements if s.holds is None]
    if not_evaluable:
        return f"statements not evaluable (non-finite or n/a): {', '.join(not_evaluable)}"
    return "no statement was evaluated"


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
    exit_process(main())

"""Runner for the symbolic derivation checks: ``python -m theorylab.proofs [NAME ...]``.

Each file ``proofs_checks/<step>.py`` states one derivation step (with its source) and defines
``check_<step>(...)``, whose arguments default to the sympy expressions of
:mod:`theorylab.theory`; it prints ``verified: <step>: ...`` when the step holds and raises
AssertionError (message starting with the step name) when it does not. This runner imports
every such file (or the ones named), calls each of its ``check_*`` functions with their
defaults, and prints what was verified.

Exit status: 0 every check verified; 1 a check failed (each failure named on stderr);
2 usage error (unknown name, missing folder), one line on stderr.

Example:
    python -m theorylab.proofs                      # every file in proofs_checks/
    python -m theorylab.proofs du2019_arccos_kernel # one file (stem, or a glob like 'du2019_*')
    python -m theorylab.proofs --list
"""

from __future__ import annotations

import fnmatch
import importlib.util
import inspect
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from .errors import UsageError, UsageErrorParser, exit_process

PROOFS_DIR = Path(__file__).resolve().parent.parent / "proofs_checks"
CHECK_PREFIX = "check_"


@dataclass(frozen=True)
class Outcome:
    """Result of one check function: ``error`` is None when it verified."""

    file: str
    step: str
    seconds: float
    error: str | None


def discover(folder: Path, patterns: list[str] | None = None) -> list[Path]:
    """The check files in ``folder`` (``*.py`` not starting with '_'), sorted by name and
    filtered by file-stem glob ``patterns``; a pattern that matches nothing is a UsageError."""
    if not folder.is_dir():
        raise UsageError(f"no proofs folder at {folder} (pass --dir PATH)")
    files = sorted(p for p in folder.glob("*.py") if not p.name.startswith("_"))
    if not files:
        raise UsageError(f"no proof check files (*.py) in {folder}")
    if not patterns:
        return files
    chosen = []
    for pattern in patterns:
        stem = pattern.removesuffix(".py")
        hits = [p for p in files if fnmatch.fnmatchcase(p.stem, stem)]
        if not hits:
            known = ", ".join(p.stem for p in files) or "none"
            raise UsageError(f"no proof check named {pattern!r} in {folder} (known: {known})")
        chosen.extend(p for p in hits if p not in chosen)
    return chosen


def load(path: Path) -> ModuleType:
    """Import a check file under the module name ``proofs_checks.<stem>``."""
    name = f"proofs_checks.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def check_functions(module: ModuleType) -> list[Callable[[], None]]:
    """The ``check_*`` functions defined in ``module`` (not imported into it), in file order."""
    found = [
        obj
        for name, obj in vars(module).items()
        if name.startswith(CHECK_PREFIX)
        and inspect.isfunction(obj)
        and obj.__module__ == module.__name__
    ]
    return sorted(found, key=lambda f: f.__code__.co_firstlineno)


def run_file(path: Path) -> list[Outcome]:
    """Import one file and call each of its checks with default arguments."""
    start = time.perf_counter()
    try:
        module = load(path)
    except Exception as exc:  # a file that cannot even be imported is a failed check
        return [Outcome(path.name, path.stem, time.perf_counter() - start, _describe(exc))]
    checks = check_functions(module)
    if not checks:
        message = f"{path.stem}: no {CHECK_PREFIX}* function defined (see proofs_checks/ rules)"
        return [Outcome(path.name, path.stem, 0.0, message)]
    outcomes = []
    for check in checks:
        step = check.__name__.removeprefix(CHECK_PREFIX)
        start = time.perf_counter()
        try:
            check()
        except AssertionError as exc:
            error = str(exc) or f"{step}: assertion failed"
        except Exception as exc:  # a crash is a failure too, named by its step
            error = f"{step}: {_describe(exc)}"
        else:
            error = None
        outcomes.append(Outcome(path.name, step, time.perf_counter() - start, error))
    return outcomes


def _describe(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)
    location = f" (at {Path(where[-1].filename).name}:{where[-1].lineno})" if where else ""
    return f"{type(exc).__name__}: {exc}{location}"


def main(argv: list[str] | None = None) -> int:
    from .check import run_cli

    return run_cli("theorylab.proofs", _main, list(sys.argv[1:] if argv is None else argv),
                   "proofs")  # fmt: skip


def _main(argv: list[str]) -> int:
    parser = UsageErrorParser(
        prog="python -m theorylab.proofs",
        description="Run the sympy derivation checks in proofs_checks/ and print each step.",
    )
    parser.add_argument("names", nargs="*", help="file stems or globs (default: every file)")
    parser.add_argument("--dir", type=Path, default=PROOFS_DIR, help="folder of check files")
    parser.add_argument("--list", action="store_true", help="list the check files and stop")
    args = parser.parse_args(argv)
    files = discover(args.dir, args.names)
    if args.list:
        for path in files:
            print(path.stem)
        return 0
    # The checks import the package by name; make the folder's repository importable too.
    repo = str(args.dir.resolve().parent)
    if repo not in sys.path:
        sys.path.insert(0, repo)
    start = time.perf_counter()
    outcomes: list[Outcome] = []
    for path in files:
        print(f"== {path.name}", flush=True)
        for outcome in run_file(path):
            outcomes.append(outcome)
            if outcome.error is None:
                print(f"   ok {outcome.step} ({outcome.seconds:.1f} s)", flush=True)
            else:
                print(f"   FAILED {outcome.step}: {outcome.error}", flush=True)
    failed = [o for o in outcomes if o.error is not None]
    total = time.perf_counter() - start
    if failed:
        for o in failed:
            print(f"theorylab.proofs: FAILED {o.file}: {o.error}", file=sys.stderr)
        print(
            f"{len(failed)} of {len(outcomes)} checks failed in {len(files)} files "
            f"({total:.1f} s): " + ", ".join(o.step for o in failed)
        )
        return 1
    print(f"all {len(outcomes)} checks in {len(files)} files verified ({total:.1f} s)")
    return 0


if __name__ == "__main__":
    exit_process(main())

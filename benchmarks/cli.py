"""Start-up and default-run wall times of the command line, side by side in one run.

    python benchmarks/cli.py [--repeats 3] [--claims near_init,pruning] [--no-runs]
                             [--readme benchmarks/README.md]

Measures, each in fresh interpreters (the cost a user pays at every call):

1. the import cost of each layer: ``python -c "import M"`` for the standard library alone,
   numpy, torch, sympy, matplotlib.pyplot, and theorylab's layers (errors, report, registry,
   check, runtime, data, sweep), then every claim module;
2. ``python -m theorylab.check --list`` and ``CLAIM --help`` for every claim, with the heavy
   modules (torch, sympy, matplotlib) each left in ``sys.modules``;
3. unless ``--no-runs``: every claim's default run, ``python -m theorylab.check CLAIM --json``,
   its wall time against the report's ``timing.total_s`` (the time inside the claim; the
   difference is start-up, imports and writing the report).

Short commands are repeated round-robin (``--repeats`` rounds: every command once per round),
so a change in the machine's load reaches all of them alike; the table gives the best of the
rounds. The load average before and after is printed with the table. The table replaces the
section between the markers in ``--readme`` (default benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- benchmarks/cli.py: begin -->", "<!-- benchmarks/cli.py: end -->"
HEAVY = ("torch", "sympy", "matplotlib")
LAYERS = [
    ("python (no import)", "pass"),
    ("numpy", "import numpy"),
    ("torch", "import torch"),
    ("sympy", "import sympy"),
    ("matplotlib.pyplot", "import matplotlib.pyplot"),
    ("theorylab.errors", "import theorylab.errors"),
    ("theorylab.report", "import theorylab.report"),
    ("theorylab.registry", "import theorylab.registry"),
    ("theorylab.check", "import theorylab.check"),
    ("theorylab.runtime", "import theorylab.runtime"),
    ("theorylab.data", "import theorylab.data"),
    ("theorylab.sweep", "import theorylab.sweep"),
]
# ``python -m theorylab.check ARGV``, then the heavy modules left in sys.modules, its exit.
PROBE = (
    "import sys, runpy; sys.argv = ['theorylab.check', *{argv!r}]\n"
    "code = 0\n"
    "try:\n    runpy.run_module('theorylab.check', run_name='__main__')\n"
    "except SystemExit as exc:\n    code = exc.code\n"
    "heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))\n"
    "print('HEAVY=' + ','.join(heavy), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def env() -> dict[str, str]:
    return {**os.environ, "THEORYLAB_PROGRESS": "0", "PYTHONDONTWRITEBYTECODE": "1"}


def timed(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, env=env(), cwd=ROOT)
    return time.perf_counter() - start, proc


def heavy_of(proc: subprocess.CompletedProcess) -> str:
    lines = [x for x in proc.stderr.splitlines() if x.startswith("HEAVY=")]
    return (lines[-1][len("HEAVY=") :] or "none") if lines else "?"


def claim_names() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from theorylab.registry import BUILTIN_CLAIMS

    return sorted(BUILTIN_CLAIMS)


def short_commands(claims: list[str]) -> list[tuple[str, str, list[str]]]:
    """(section, label, argv) of everything measured round-robin."""
    commands = [("layer", label, [sys.executable, "-c", code]) for label, code in LAYERS]
    commands += [
        ("claim module", name, [sys.executable, "-c", f"import theorylab.claims.{name}"])
        for name in claims
    ]
    probe = [sys.executable, "-c", PROBE.format(argv=["--list"], heavy=HEAVY)]
    commands.append(("cli", "--list", probe))
    commands += [
        ("cli", f"{name} --help", [sys.executable, "-c", PROBE.format(argv=[name, "--help"],
                                                                      heavy=HEAVY)])
        for name in claims
    ]  # fmt: skip
    return commands


def measure_short(claims: list[str], repeats: int) -> dict[str, tuple[float, str, int]]:
    commands = short_commands(claims)
    best: dict[str, float] = {}
    info: dict[str, tuple[str, int]] = {}
    for _ in range(repeats):
        for _section, label, argv in commands:
            seconds, proc = timed(argv)
            best[label] = min(best.get(label, float("inf")), seconds)
            info[label] = (heavy_of(proc), proc.returncode)
    return {label: (best[label], *info[label]) for _, label, _ in commands}


def measure_runs(claims: list[str]) -> dict[str, tuple[float, float | None, str, int]]:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in claims:
            path = os.path.join(folder, f"{name}.json")
            argv = [sys.executable, "-m", "theorylab.check", name, "--json", path, "--quiet"]
            seconds, proc = timed(argv)
            inside, verdict = None, f"exit {proc.returncode}"
            if os.path.exists(path):
                with open(path) as f:
                    report = json.load(f)
                inside = report.get("timing", {}).get("total_s")
                verdict = report.get("verdict", verdict)
            results[name] = (seconds, inside, verdict, proc.returncode)
            print(f"  {name}: {seconds:.1f} s ({verdict})", file=sys.stderr, flush=True)
    return results


def table(
    claims: list[str],
    short: dict[str, tuple[float, str, int]],
    runs: dict[str, tuple[float, float | None, str, int]] | None,
    repeats: int,
    loads: tuple[tuple[float, ...], tuple[float, ...]],
    elapsed: float,
) -> str:
    cpus = os.cpu_count()
    before, after = (", ".join(f"{x:.2f}" for x in load) for load in loads)
    lines = [
        f"`python benchmarks/cli.py` ({time.strftime('%Y-%m-%d')}; {platform.machine()}, "
        f"{cpus} CPUs, Python {platform.python_version()}; load average {before} before and "
        f"{after} after; {elapsed:.0f} s in all). Best of {repeats} rounds, each command once "
        "per round, every one in a fresh interpreter.",
        "",
        "| import | wall (s) | over bare python (s) |",
        "|---|---|---|",
    ]
    bare = short["python (no import)"][0]
    for label, _ in LAYERS:
        seconds = short[label][0]
        lines.append(f"| `{label}` | {seconds:.2f} | {seconds - bare:+.2f} |")
    for name in claims:
        seconds = short[name][0]
        lines.append(f"| `theorylab.claims.{name}` | {seconds:.2f} | {seconds - bare:+.2f} |")
    lines += [
        "",
        "| command | wall (s) | heavy modules imported | exit |",
        "|---|---|---|---|",
    ]
    for label in ["--list", *(f"{name} --help" for name in claims)]:
        seconds, heavy, code = short[label]
        lines.append(f"| `python -m theorylab.check {label}` | {seconds:.2f} | {heavy} | {code} |")
    if runs:
        torch_s = short["torch"][0]
        lines += [
            "",
            f"Default runs (`python -m theorylab.check CLAIM`), once each; `import torch` alone "
            f"took {torch_s:.2f} s in this run.",
            "",
            "| claim | wall (s) | in the claim, timing.total_s (s) | outside the claim (s) "
            "| verdict |",
            "|---|---|---|---|---|",
        ]
        for name, (seconds, inside, verdict, _code) in runs.items():
            inside_text = "-" if inside is None else f"{inside:.1f}"
            outside = "-" if inside is None else f"{seconds - inside:.1f}"
            lines.append(f"| {name} | {seconds:.1f} | {inside_text} | {outside} | {verdict} |")
    return "\n".join(lines)


def write_readme(path: Path, text: str) -> None:
    current = path.read_text() if path.exists() else ""
    section = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        current = head + section + tail
    else:
        heading = "\n## Start-up and default runs (benchmarks/cli.py)\n\n"
        current = current.rstrip("\n") + "\n" + heading + section + "\n"
    path.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--claims", help="comma-separated claims (default: every built-in one)")
    parser.add_argument("--no-runs", action="store_true", help="skip the default runs")
    parser.add_argument("--readme", type=Path, default=ROOT / "benchmarks" / "README.md")
    args = parser.parse_args()
    claims = args.claims.split(",") if args.claims else claim_names()
    start, load_before = time.perf_counter(), os.getloadavg()
    short = measure_short(claims, args.repeats)
    runs = None if args.no_runs else measure_runs(claims)
    loads = (load_before, os.getloadavg())
    text = table(claims, short, runs, args.repeats, loads, time.perf_counter() - start)
    print(text)
    write_readme(args.readme, text)


if __name__ == "__main__":
    main()

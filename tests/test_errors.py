"""theorylab.errors: exit statuses of the ``python -m theorylab.*`` entry points."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from theorylab.errors import INTERRUPTED

# A Ctrl-C that lands inside an exec of source text (as sympy's lambdify does when it imports
# its modules) and is caught and turned into an exit status by the CLI.
SCRIPT = """
import sys
from theorylab.errors import exit_process
try:
    exec("raise KeyboardInterrupt", {{}})
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
{exit}
"""


def run_script(tmp_path, exit_line: str) -> subprocess.CompletedProcess:
    """Run SCRIPT as ``python -m``, the way the CLIs run: only that path ends in Py_RunMain,
    where CPython acts on the interrupted exec."""
    (tmp_path / "interrupted.py").write_text(SCRIPT.format(exit=exit_line))
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "interrupted"], cwd=tmp_path, capture_output=True, text=True, env=env
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signal semantics")
def test_plain_sys_exit_is_overridden_by_the_interrupted_exec(tmp_path):
    """The control: without exit_process CPython ends the process by SIGINT (returncode
    -2), not with the status the CLI returned. If this stops failing, CPython changed and
    exit_process's workaround is no longer needed."""
    result = run_script(tmp_path, f"sys.exit({INTERRUPTED})")
    assert result.returncode == -2, result


def test_exit_process_returns_the_status_after_an_interrupted_exec(tmp_path):
    result = run_script(tmp_path, f"exit_process({INTERRUPTED})")
    assert (result.returncode, result.stderr) == (INTERRUPTED, "interrupted\n")


def test_exit_process_passes_other_statuses_through(tmp_path):
    result = run_script(tmp_path, "exit_process(3)")
    assert result.returncode == 3


COMMANDS = ["check", "sweep", "figures", "report", "landscape", "power", "proofs"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_returns_from_help_and_refuses_an_unknown_option_in_one_line(command, capsys):
    """One error-handling shape (check.run_cli, errors.UsageErrorParser) for every
    ``python -m theorylab.*`` command: ``--help`` returns 0 instead of raising SystemExit
    (which would read as an internal error), an unknown option is exit 2 and one line."""
    import importlib

    module = importlib.import_module(
        "theorylab.landscape.__main__" if command == "landscape" else f"theorylab.{command}"
    )
    main = module.main if command != "report" else importlib.import_module("theorylab.site").main
    assert main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage:")
    bad = ["near_init", "--no-such-option"] if command in ("check", "sweep") else ["--no-such"]
    assert main(bad) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(f"theorylab.{command}"), err

"""The proofs runner: discovery, exit statuses, failure reports; the proofs_checks convention."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from theorylab import proofs

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "theorylab.proofs", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def fake_checks(tmp_path: Path) -> Path:
    """A folder with one verified check, one failing, one crashing, one file with no check."""
    files = {
        "runner_fake_good.py": """
            def check_fake_good(value=2):
                assert value == 2, "fake_good: value is not 2"
                print("verified: fake_good: value is 2")
        """,
        "runner_fake_bad.py": """
            def check_fake_bad(constant=4):
                assert constant == 2, f"fake_bad: constant {constant} != 2"
        """,
        "runner_fake_crash.py": """
            def check_fake_crash():
                return 1 / 0
        """,
        "runner_fake_empty.py": '"""No check function here."""\n',
        "_runner_fake_helper.py": "raise RuntimeError('files starting with _ are not run')\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def test_runner_names_each_failed_step(fake_checks, capsys):
    status = proofs.main(["--dir", str(fake_checks)])
    out, err = capsys.readouterr()
    assert status == 1
    assert "verified: fake_good: value is 2" in out
    assert "ok fake_good" in out
    failed = [line for line in err.splitlines() if "FAILED" in line]
    assert len(failed) == 3, err
    assert any("fake_bad: constant 4 != 2" in line for line in failed)
    assert any("fake_crash: ZeroDivisionError" in line for line in failed)
    assert any("runner_fake_empty: no check_* function" in line for line in failed)
    assert "3 of 4 checks failed" in out
    assert "_runner_fake_helper" not in out + err


def test_runner_selects_files_by_glob(fake_checks, capsys):
    status = proofs.main(["--dir", str(fake_checks), "runner_fake_go*"])
    out, _ = capsys.readouterr()
    assert status == 0
    assert "all 1 checks in 1 files verified" in out
    assert "fake_bad" not in out


def test_runner_lists_the_real_checks(capsys):
    assert proofs.main(["--list"]) == 0
    listed = capsys.readouterr().out.split()
    for stem in ("du2019_arccos_kernel", "du2019_distance_bound", "du2019_width_requirement",
                 "gd_quadratic_stability", "lazy_vs_mean_field"):  # fmt: skip
        assert stem in listed


def test_cli_verifies_real_checks():
    result = _run("gd_quadratic_stability", "lazy_vs_mean_field")
    assert result.returncode == 0, result.stderr
    assert "verified: gd_quadratic_stability:" in result.stdout
    assert "verified: lazy_vs_mean_field:" in result.stdout
    assert "all 2 checks in 2 files verified" in result.stdout


def test_cli_failure_exits_one(fake_checks):
    result = _run("--dir", str(fake_checks), "runner_fake_bad")
    assert result.returncode == 1
    assert "fake_bad: constant 4 != 2" in result.stderr


def test_cli_usage_error_exits_two_with_one_line():
    result = _run("no_such_step")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("theorylab.proofs: error:"), result.stderr
    assert "no proof check named 'no_such_step'" in lines[0]


@pytest.mark.parametrize("args", [["--dir", "/nonexistent/proofs_checks"], ["--no-such-option"]])
def test_usage_errors_are_one_line(args, capsys):
    assert proofs.main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("theorylab.proofs: error:"), lines


def test_empty_folder_is_a_usage_error(tmp_path, capsys):
    assert proofs.main(["--dir", str(tmp_path)]) == 2
    assert "no proof check files" in capsys.readouterr().err


def _functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


CHECK_FILES = sorted(p for p in (REPO / "proofs_checks").glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda p: p.stem)
def test_check_file_follows_the_convention(path):
    """Docstring; check_<step> callable with defaults only; test_<step>; a mutation test."""
    assert ast.get_docstring(ast.parse(path.read_text())), f"{path.name}: no module docstring"
    functions = _functions(path)
    checks = [name for name in functions if name.startswith("check_")]
    assert checks, f"{path.name}: no check_<step> function"
    for name in checks:
        arguments = functions[name].args
        positional = arguments.posonlyargs + arguments.args
        assert len(arguments.defaults) == len(positional), f"{name}: argument without a default"
        assert all(d is not None for d in arguments.kw_defaults), f"{name}: kw-only no default"
        step = name.removeprefix("check_")
        assert f"test_{step}" in functions, f"{path.name}: no test_{step}"
    assert any(n.startswith("test_") and n.endswith("_detects_mutation") for n in functions), (
        f"{path.name}: no test_<step>_detects_mutation"
    )

"""The command line: exit statuses, one-line errors, --list/--help, --json and --plot.

Bad inputs go through ``main(argv)`` in-process (same code path as ``python -m``); a few runs
use a real subprocess to pin the module entry point and the exit statuses end to end.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from theorylab.check import main
from theorylab.report import Report

TINY = ["--width", "64", "--rungs", "2", "--steps", "20", "--n", "12", "--d", "4"]


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "theorylab.check", *args], capture_output=True, text=True
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["near_init", "--width", "0"], "width must be >= 1"),
        (["near_init", "--width", "-3"], "width must be >= 1"),
        (["near_init", "--width", "1.5"], "--width must be an integer, got '1.5'"),
        (["near_init", "--width", "10000000000000"], "needs an estimated"),
        (["near_init", "--n", "1"], "n must be >= 2"),
        (["near_init", "--d", "1"], "d must be >= 2"),
        (["near_init", "--eta", "0"], "eta must be > 0"),
        (["near_init", "--eta", "nan"], "eta must be finite"),
        (["near_init", "--width", "32", "--rungs", "4"], "smallest width of 0.5"),
        (["near_init", "--frobnicate", "1"], "unrecognized arguments: --frobnicate"),
        (["near_init", "--parameterization", "x"], "invalid choice: 'x'"),
        (["nonsense"], "no such claim: nonsense (known: "),
        (["--width", "5"], "the first argument must be a claim"),
        (["near_init", "--data", "/no/such/file.npz"], "data file not found"),
        (["near_init", "--seed", "-1"], "seed must be a non-negative integer"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and message in err, err


def test_bad_data_files_exit_2(capsys, tmp_path):
    nan = tmp_path / "nan.npz"
    np.savez(nan, X=np.full((5, 2), np.nan), y=np.zeros(5))
    broken = tmp_path / "broken.csv"
    broken.write_text("1,2,3\n1,x,3\n")
    conflict = tmp_path / "ok.npz"
    np.savez(conflict, X=np.eye(5), y=np.zeros(5))
    for argv, message in [
        (["--data", str(nan)], "NaN"),
        (["--data", str(broken)], "row 2 is not numeric"),
        (["--data", str(conflict), "--n", "7"], "--n 7 conflicts with"),
    ]:
        assert main(["near_init", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err


def test_cuda_flag_is_accepted_or_refused_clearly(capsys):
    import torch

    code = main(["near_init", *TINY, "--device", "cuda", "--quiet"])
    if torch.cuda.is_available():
        assert code in (0, 1)
    else:
        assert code == 2 and "cuda" in capsys.readouterr().err


def test_list_and_help(capsys):
    """In-process; tests/test_contract.py runs them in fresh interpreters (start-up)."""
    assert main(["--list"]) == 0
    assert "near_init" in capsys.readouterr().out
    assert main(["near_init", "--help"]) == 0
    helped = capsys.readouterr().out
    for flag in ("--width", "--eta", "--parameterization", "--data", "--seed", "--json"):
        assert flag in helped
    assert "(default: 4096)" in helped


def test_diverged_run_is_inconclusive(capsys):
    """Exit 0 and 1 end to end are the contract test's (quick settings, negative control)."""
    assert main(["near_init", *TINY, "--eta", "1e4"]) == 3
    out, err = capsys.readouterr()
    assert "diverged at step" in out and err == ""


def test_json_to_stdout_is_the_only_stdout(capsys):
    assert main(["near_init", *TINY, "--json", "-"]) in (0, 1)
    out, err = capsys.readouterr()
    report = Report.from_json(out)
    assert report.claim == "near_init" and "verdict:" in err
    assert json.loads(out)["params"]["width"] == 64


def test_json_file_and_plot(tmp_path, capsys):
    path, fig = tmp_path / "r.json", tmp_path / "f.png"
    code = main(["near_init", *TINY, "--json", str(path), "--plot", str(fig), "--quiet"])
    assert capsys.readouterr().out == ""
    report = Report.from_json(path.read_text())
    assert report.exit_status == code
    assert fig.stat().st_size > 10_000


def test_inconclusive_quiet_still_says_why(capsys):
    assert main(["near_init", *TINY, "--eta", "1e4", "--quiet"]) == 3
    assert "diverged at step" in capsys.readouterr().err


def test_closed_pipe_keeps_the_verdict_and_prints_no_traceback():
    proc = subprocess.Popen(
        # 16 networks x 200 recorded steps: far more JSON than a pipe buffer holds
        [sys.executable, "-m", "theorylab.check", "near_init", *TINY, "--inits", "8",
         "--steps", "300", "--json", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    proc.stdout.readline()  # like `| head -1`
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert proc.wait() in (0, 1)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


# Reliability (issue 14): one line, never a traceback, outputs checked before the work -------


@pytest.mark.parametrize(
    "plot, message",
    [
        ("figure.xyz", "unsupported figure format .xyz"),
        ("figure", "unsupported figure format (none)"),
        ("no/such/folder/figure.png", "does not exist"),
        (".", "unsupported figure format"),
    ],
)
def test_bad_plot_path_is_refused_before_the_run(
    capsys, tmp_path, monkeypatch, no_run, plot, message
):
    monkeypatch.chdir(tmp_path)
    assert main(["near_init", *TINY, "--plot", plot]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err, err


def test_bad_json_path_is_refused_before_the_run(capsys, tmp_path, no_run):
    same = str(tmp_path / "r.png")
    cases = [
        (["--json", str(tmp_path)], "is a directory"),
        (["--json", str(tmp_path / "missing" / "r.json")], "does not exist"),
        (["--json", same, "--plot", same], "are the same file"),
    ]
    for extra, message in cases:
        assert main(["near_init", *TINY, *extra]) == 2, extra
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err


def test_no_arguments_is_one_line_on_stderr(capsys):
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "missing CLAIM" in err


def test_help_returns_instead_of_exiting(capsys):
    assert main(["near_init", "--help"]) == 0
    assert "--width" in capsys.readouterr().out
    assert main(["--help"]) == 0
    assert "near_init" in capsys.readouterr().out


def test_list_reads_summaries_without_importing_claims():
    import theorylab.check as cli
    from theorylab.registry import CLAIM_MODULES, get_claim

    for name in CLAIM_MODULES:
        assert cli.claim_summary(name) == get_claim(name).summary
    source = 'X = 1\nCLAIM = Claim(name="a", summary="one " "line", params=P)\n'
    assert cli._summary_from_source(source) == "one line"
    assert cli._summary_from_source('CLAIM = Claim("a", "positional", P)') == "positional"
    assert cli._summary_from_source("CLAIM = Claim('a', summary=SUMMARY)") is None


def test_an_exception_in_a_claim_is_exit_4_with_a_saved_traceback(capsys, monkeypatch):
    """A bug is never exit 1 (violated): one line naming the claim and the traceback file."""
    import theorylab.registry as registry

    def broken(claim, params, ctx, on_measurement=None):
        return 1.0 / 0.0

    monkeypatch.setattr(registry, "_build_report", broken)
    assert main(["near_init", *TINY]) == 4
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "internal error in near_init: ZeroDivisionError" in err
    path = err.rsplit("traceback in ", 1)[1].rstrip(")\n")
    with open(path) as f:
        assert "ZeroDivisionError" in f.read()


def test_quiet_inconclusive_names_the_statements_that_could_not_be_evaluated(capsys, monkeypatch):
    import theorylab.registry as registry
    from theorylab.report import Statement

    def not_evaluable(claim, params, ctx, on_measurement=None):
        report = Report("near_init", {}, ctx.seed, ctx.device, ctx.dtype)
        report.statements.append(Statement.at_most("risk", "r <= 1", float("nan"), 1.0))
        return report

    monkeypatch.setattr(registry, "_build_report", not_evaluable)
    assert main(["near_init", *TINY, "--quiet"]) == 3
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "not evaluable" in err and "risk" in err

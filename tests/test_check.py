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


def test_list_and_help():
    listed = run_cli("--list")
    assert listed.returncode == 0 and "near_init" in listed.stdout
    helped = run_cli("near_init", "--help")
    assert helped.returncode == 0
    for flag in ("--width", "--eta", "--parameterization", "--data", "--seed", "--json"):
        assert flag in helped.stdout
    assert "(default: 4096)" in helped.stdout


def test_exit_statuses_end_to_end(tmp_path):
    holds = run_cli("near_init", "--width", "1024", "--rungs", "3", "--steps", "200")
    assert holds.returncode == 0, holds.stdout + holds.stderr
    assert "verdict: holds" in holds.stdout
    control = run_cli(
        "near_init", "--width", "1024", "--rungs", "3", "--steps", "200",
        "--parameterization", "mean_field",
    )  # fmt: skip
    assert control.returncode == 1 and "verdict: violated" in control.stdout
    diverged = run_cli("near_init", *TINY, "--eta", "1e4")
    assert diverged.returncode == 3
    assert "diverged at step" in diverged.stdout and "Traceback" not in diverged.stderr


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

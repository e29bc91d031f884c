"""The CLI end to end: a user's factory module, weights and data files; exit statuses 0/1/2/3
with one line on stderr and never a traceback; the JSON report's keys. One run goes through a
subprocess (``python -m``), the others call ``main`` in-process (a subprocess costs seconds of
torch import each)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

FACTORY = """
import torch

def make():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))

def broken():
    raise RuntimeError("boom")
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("landscape_cli")
    (d / "usermodel.py").write_text(FACTORY)
    rng = np.random.default_rng(0)
    np.savez(d / "data.npz", X=rng.normal(size=(30, 4)), y=rng.integers(0, 3, 30))
    np.savez(d / "wide.npz", X=rng.normal(size=(30, 5)), y=rng.integers(0, 3, 30))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    torch.save(net.state_dict(), d / "w.pt")
    torch.save(torch.nn.Linear(3, 3).state_dict(), d / "wrong.pt")
    with torch.no_grad():
        net[2].bias.fill_(float("inf"))
    torch.save(net.state_dict(), d / "inf.pt")
    return d


@pytest.fixture
def cli(files, monkeypatch, capsys):
    """main(argv) in-process from the files' folder: (exit status, stderr)."""
    from theorylab.landscape.__main__ import main

    monkeypatch.chdir(files)
    monkeypatch.syspath_prepend(str(files))

    def call(*args):
        status = main(list(args))
        return status, capsys.readouterr().err

    return call


def run(files, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(files), *sys.path]))
    return subprocess.run(
        [sys.executable, "-m", "theorylab.landscape", *args],
        cwd=files,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_report_and_exit_zero(files):
    args = ["--weights", "w.pt", "--data", "data.npz", "--lr", "0.1", "--batch-size", "5"]
    args += ["--top-k", "3", "--json", "out.json", "--plot", "d.png"]
    out = run(files, "usermodel:make", *args)
    assert out.returncode == 0, out.stderr
    report = json.loads((files / "out.json").read_text())
    q = report["quantities"]
    assert len(q["top_eigenvalues"]) == 3 and q["lambda_max"] == q["top_eigenvalues"][0]
    assert {"trace", "trace_se", "lambda_max"} <= set(q)
    assert report["claim"] == "landscape" and report["verdict"] == "holds"
    assert report["params"]["factory"] == "usermodel:make"
    assert (files / "d.png").stat().st_size > 1000


def test_violated_verdict_exits_one(cli):
    status, err = cli("usermodel.py:make", "--data", "data.npz", "--lr", "1000", "--quiet")
    assert status == 1, err


@pytest.mark.parametrize(
    "args, match",
    [
        (["nosuchmodule:make", "--data", "data.npz", "--lr", "0.1"], "cannot import"),
        (["usermodel:broken", "--data", "data.npz", "--lr", "0.1"], "failed: RuntimeError"),
        (["usermodel:missing", "--data", "data.npz", "--lr", "0.1"], "no callable"),
        (
            ["usermodel:make", "--weights", "wrong.pt", "--data", "data.npz", "--lr", "0.1"],
            "do not match the model",
        ),
        (["usermodel:make", "--data", "wide.npz", "--lr", "0.1"], "does not fit the model"),
        (
            ["usermodel:make", "--data", "data.npz", "--lr", "0.1", "--top-k", "52"],
            "top-k must be in 1..51",
        ),
        (["usermodel:make", "--data", "nofile.npz", "--lr", "0.1"], "not found"),
        (["usermodel:make", "--data", "data.npz"], "required: --lr"),
    ],
)
def test_bad_input_exits_two_with_one_line(cli, args, match):
    status, err = cli(*args)
    assert status == 2, err
    assert match in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_non_finite_loss_exits_three(cli):
    args = ["--weights", "inf.pt", "--data", "data.npz", "--lr", "0.1", "--quiet"]
    status, err = cli("usermodel:make", *args)
    assert status == 3
    assert "not finite" in err and "Traceback" not in err

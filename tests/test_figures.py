"""python -m theorylab.figures: one line for every bad input, never a traceback."""

from __future__ import annotations

import json

import pytest

from theorylab import figures
from theorylab.report import Report, Statement


def one_line(capsys) -> str:
    out, err = capsys.readouterr()
    assert err.count("\n") == 1, err
    return err


@pytest.fixture
def no_run(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a claim ran although the request should have been refused")

    monkeypatch.setattr(figures, "check", refuse)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary", "not a text file"),
        (b"verdict: holds\n", "not JSON"),
        (b"[1, 2]", "not a theorylab report (a JSON list)"),
        (b'{"claim": "near_init"}', "not a theorylab report (no params, seed, device, dtype)"),
        (
            b'{"claim": "near_init", "params": {}, "seed": 0, "device": "cpu", "dtype": "x",'
            b' "statements": [{"name": 1}]}',
            "malformed report",
        ),
        (
            b'{"claim": "nope", "params": {}, "seed": 0, "device": "cpu", "dtype": "float64"}',
            "no such claim: nope",
        ),
    ],
)
def test_from_json_bad_files_are_one_line(tmp_path, capsys, no_run, content, message):
    path = tmp_path / "report.json"
    path.write_bytes(content)
    assert figures.main(["--from-json", str(path), "--out", str(tmp_path / "out")]) == 2
    assert message in one_line(capsys)
    assert not (tmp_path / "out").exists()


def test_from_json_missing_file_and_directory(tmp_path, capsys, no_run):
    assert figures.main(["--from-json", str(tmp_path / "none.json")]) == 2
    assert "no such file" in one_line(capsys)
    assert figures.main(["--from-json", str(tmp_path)]) == 2
    assert "is a directory" in one_line(capsys)


def test_an_inconclusive_report_has_no_figure(tmp_path, capsys, no_run):
    report = Report("near_init", {}, 0, "cpu", "float64")
    report.failure = "diverged at step 3"
    path = tmp_path / "r.json"
    path.write_text(report.to_json())
    assert figures.main(["--from-json", str(path), "--out", str(tmp_path / "out")]) == 3
    assert "an inconclusive report has no figure" in one_line(capsys)
    assert not list((tmp_path / "out").glob("*.png"))


def test_bad_output_folder_is_refused_before_any_run(tmp_path, capsys, no_run):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert figures.main(["near_init", "--out", str(blocker)]) == 2
    assert "exists and is not a folder" in one_line(capsys)
    assert figures.main(["near_init", "--out", str(blocker / "sub")]) == 2
    assert "is not a folder" in one_line(capsys)


def test_usage_errors_are_one_line(capsys, no_run):
    assert figures.main(["--frobnicate"]) == 2
    assert "unrecognized arguments" in one_line(capsys)
    assert figures.main(["no_such_claim"]) == 2
    assert "no such claim" in one_line(capsys)
    assert figures.main(["--seed", "-1"]) == 2
    assert "non-negative" in one_line(capsys)


def test_a_bug_in_a_plot_is_exit_4_with_a_saved_traceback(tmp_path, capsys, monkeypatch):
    report = Report("near_init", {}, 0, "cpu", "float64")
    report.statements.append(Statement.at_most("s", "x <= 1", 0.5, 1.0))
    path = tmp_path / "r.json"
    path.write_text(report.to_json())

    def broken(report, path):
        return report.series["missing"]

    monkeypatch.setattr(figures, "plot_function", lambda claim: broken)
    assert figures.main(["--from-json", str(path), "--out", str(tmp_path)]) == 4
    err = one_line(capsys)
    assert "internal error" in err and "KeyError" in err and "traceback in" in err


def test_a_saved_report_is_drawn(tmp_path, capsys):
    from theorylab.check import main as check_main

    saved = tmp_path / "r.json"
    tiny = ["--width", "64", "--rungs", "2", "--steps", "20", "--n", "12", "--d", "4"]
    assert check_main(["near_init", *tiny, "--json", str(saved), "--quiet"]) in (0, 1)
    assert json.loads(saved.read_text())["claim"] == "near_init"
    assert figures.main(["--from-json", str(saved), "--out", str(tmp_path / "out")]) == 0
    png = tmp_path / "out" / "near_init.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"{png}: " in capsys.readouterr().out

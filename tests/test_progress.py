"""Progress bars: silent unless enabled, on a terminal and past the delay; never on stdout."""

from __future__ import annotations

import io

import pytest

from theorylab import progress as progress_mod
from theorylab.progress import Progress, progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def enabled(monkeypatch):
    monkeypatch.delenv(progress_mod.ENV_SWITCH, raising=False)
    progress_mod.enable()
    yield
    progress_mod.enable()


def test_plain_bar_draws_count_percent_and_clears_the_line():
    term = FakeTerminal()
    options = dict(unit="cell", stream=term, delay=0, min_interval=0, use_tqdm=False)
    with progress(4, "cells", **options) as bar:
        assert bar.shown
        bar.update()
        bar.set_status("1 failed")
        bar.update(3)
    text = term.getvalue()
    assert "cells: 1/4 cell (25%)" in text
    assert "1 failed" in text
    assert "cells: 4/4 cell (100%)" in text
    assert text.endswith("\r\x1b[K")
    assert "\n" not in text  # redrawn in place


def test_silent_when_not_a_terminal():
    pipe = io.StringIO()
    with progress(3, "x", stream=pipe, delay=0, use_tqdm=False) as bar:
        bar.update(3)
    assert not bar.shown and bar.count == 3
    assert pipe.getvalue() == ""


def test_silent_when_quiet_disabled_or_switched_off_by_environment(monkeypatch):
    term = FakeTerminal()
    assert not Progress(3, stream=term, quiet=True, delay=0).shown
    progress_mod.disable()
    assert not Progress(3, stream=term, delay=0).shown
    progress_mod.enable()
    monkeypatch.setenv(progress_mod.ENV_SWITCH, "0")
    assert not Progress(3, stream=term, delay=0).shown
    monkeypatch.setenv(progress_mod.ENV_SWITCH, "1")
    assert Progress(3, stream=term, delay=0, use_tqdm=False).shown
    assert term.getvalue() == ""


def test_short_work_prints_nothing_before_the_delay():
    term = FakeTerminal()
    with progress(10, "quick", stream=term, delay=3600, use_tqdm=False) as bar:
        bar.update(10)
    assert bar.shown
    assert term.getvalue() == ""


def test_line_without_total_and_with_eta():
    bar = Progress(None, "steps", stream=io.StringIO(), use_tqdm=False)
    bar.update(5)
    assert bar.line().startswith("steps: 5 it 00:0")
    bar = Progress(10, "steps", stream=io.StringIO(), use_tqdm=False)
    bar.update(5)
    assert "5/10 it (50%)" in bar.line() and ", eta " in bar.line()


def test_tqdm_bar_when_installed():
    pytest.importorskip("tqdm")
    term = FakeTerminal()
    with progress(5, "tq", stream=term, delay=0, min_interval=0, use_tqdm=True) as bar:
        bar.update(5)
    assert "tq" in term.getvalue() and "5/5" in term.getvalue()


def test_clock_format():
    assert progress_mod._clock(59.6) == "01:00"
    assert progress_mod._clock(3725) == "1:02:05"

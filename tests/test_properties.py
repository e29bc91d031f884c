"""Property-based: no option value of any registered claim ever gives a traceback.

Hypothesis draws values for every option of every registered claim from its parameter
metadata (type, minimum, maximum, choices) and calls ``theorylab.check.main`` in-process:

- a value outside the metadata (below the minimum, above the maximum, not a choice, not a
  number, not finite) exits 2 with exactly one line on stderr and nothing on stdout;
- any value, in range or not, alone or several options together, exits 0 or 2: never 4
  (an internal error), never a traceback. In-range values that pass validation reach the run,
  which is replaced by a stub, so no simulation runs (the memory guard still does).

Examples per claim are bounded (``MAX_EXAMPLES``) and derandomized, so the default run is
fast and repeatable; ``THEORYLAB_HYPOTHESIS_EXAMPLES=N`` draws more, with fresh randomness.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theorylab import registry
from theorylab.check import main
from theorylab.report import Report, Statement

CLAIMS = sorted(registry.CLAIM_MODULES)
EXPLORE = int(os.environ.get("THEORYLAB_HYPOTHESIS_EXAMPLES", "0"))
MAX_EXAMPLES = EXPLORE or 40
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=not EXPLORE,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text a shell can pass in argv (no NUL), short enough to stay cheap.
ARG_TEXT = st.text(st.characters(blacklist_characters="\x00"), max_size=12)
# Integers past any float: a memory estimate of 10**400 bytes must be a refusal, not a crash.
HUGE = 10**400


class Reached(Exception):
    pass


@pytest.fixture
def stub_run(monkeypatch):
    """The run is replaced by a report with one holding statement; counts how often it ran."""
    reached = []

    def stub(claim, params, ctx, on_measurement=None):
        reached.append(params)
        report = Report(claim.name, {}, ctx.seed, ctx.device, ctx.dtype)
        report.statements.append(Statement.at_most("stub", "0 <= 1", 0.0, 1.0))
        return report

    monkeypatch.setattr(registry, "_build_report", stub)
    return reached


def call(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def options(name: str) -> list[tuple[dataclasses.Field, type, bool]]:
    claim = registry.get_claim(name)
    return [(f, *registry.field_type(claim.params, f)) for f in dataclasses.fields(claim.params)]


def flag(f: dataclasses.Field) -> str:
    return "--" + f.name.replace("_", "-")


def number_text(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def out_of_range(f: dataclasses.Field, base: type) -> st.SearchStrategy[str] | None:
    """Text the option must refuse (None: the metadata allows everything of its type)."""
    meta = f.metadata
    choices = meta.get("choices")
    strategies = []
    if base in (int, float):
        number = _integers if base is int else _floats
        if meta.get("minimum") is not None:
            strategies.append(number(below=meta["minimum"]).map(number_text))
        if meta.get("maximum") is not None:
            strategies.append(number(above=meta["maximum"]).map(number_text))
        strategies.append(ARG_TEXT.filter(lambda t: not _parses(t, base)))
        if base is float:
            strategies.append(st.sampled_from(["nan", "inf", "-inf", "1e400"]))
        else:  # any float's repr has a '.', an 'e' or is inf/nan: never an integer
            strategies.append(st.floats().map(repr))
    elif choices:
        strategies.append(ARG_TEXT.filter(lambda t: t.strip() not in choices))
    return st.one_of(strategies) if strategies else None


def _integers(*, below=None, above=None) -> st.SearchStrategy[int]:
    if below is not None:
        return st.integers(max_value=below - 1)
    return st.integers(min_value=above + 1)


def _floats(*, below=None, above=None) -> st.SearchStrategy[float]:
    finite = dict(allow_nan=False, allow_infinity=False)
    if below is not None:
        return st.floats(max_value=below, exclude_max=True, **finite)
    return st.floats(min_value=above, exclude_min=True, **finite)


def _parses(text: str, base: type) -> bool:
    """Whether the option would read ``text`` as a value of its type (or as none)."""
    text = text.strip()
    if text.lower() == "none":
        return True
    try:
        base(text)
    except ValueError:
        return False
    return True


def in_range(f: dataclasses.Field, base: type, optional: bool) -> st.SearchStrategy[list[str]]:
    """argv for one value the metadata allows (validation may still refuse combinations)."""
    meta = f.metadata
    if base is bool:
        return st.sampled_from([[flag(f)], ["--no-" + f.name.replace("_", "-")]])
    if meta.get("choices"):
        return st.sampled_from([[flag(f), c] for c in meta["choices"]])
    if base is int:
        low = meta.get("minimum")
        high = meta.get("maximum")
        values = st.integers(
            min_value=low if low is not None else -HUGE,
            max_value=high if high is not None else HUGE,
        )
        edges = [v for v in (low, high) if v is not None] + ([HUGE] if high is None else [])
        strategy = st.one_of(values, st.sampled_from(edges)) if edges else values
    elif base is float:
        strategy = st.floats(
            min_value=meta.get("minimum"), max_value=meta.get("maximum"),
            allow_nan=False, allow_infinity=False,
        )  # fmt: skip
    else:
        strategy = ARG_TEXT
    strategy = strategy.map(lambda v: [f"{flag(f)}={number_text(v)}"])
    if optional:
        strategy = st.one_of(strategy, st.just([flag(f), "none"]))
    return strategy


def assert_clean(name: str, argv: list[str], status: int, out: str, err: str) -> None:
    assert "Traceback" not in err, (name, argv, err)
    assert status in (0, 2), f"{name} {argv}: exit {status}: {err!r}"
    if status == 2:
        assert out == "" and err.count("\n") == 1, (name, argv, err)


@pytest.mark.parametrize("name", CLAIMS)
def test_out_of_range_values_exit_2_with_one_line(name, stub_run):
    cases = [(f, s) for f, base, _ in options(name) if (s := out_of_range(f, base)) is not None]
    if not cases:
        pytest.skip(f"{name}: no option has bounds, choices or a numeric type")

    @SETTINGS
    @given(data=st.data())
    def check(data):
        f, strategy = data.draw(st.sampled_from(cases), label="option")
        text = data.draw(strategy, label="value")
        argv = [name, f"{flag(f)}={text}"]
        status, out, err = call(argv)
        assert_clean(name, argv, status, out, err)
        assert status == 2, f"{name} {argv} was accepted: {out!r}"

    check()
    assert stub_run == []  # nothing out of range reached the run


@pytest.mark.parametrize("name", CLAIMS)
def test_any_values_never_give_a_traceback(name, stub_run):
    fields = options(name)

    @SETTINGS
    @given(data=st.data())
    def check(data):
        chosen = data.draw(
            st.lists(
                st.sampled_from(fields), min_size=1, max_size=4, unique_by=lambda t: t[0].name
            ),
            label="options",
        )
        argv = [name]
        for f, base, optional in chosen:
            out_strategy = out_of_range(f, base)
            strategies = [in_range(f, base, optional)]
            if out_strategy is not None:
                strategies.append(out_strategy.map(lambda t, f=f: [f"{flag(f)}={t}"]))
            argv += data.draw(st.one_of(strategies), label=f.name)
        status, out, err = call(argv)
        assert_clean(name, argv, status, out, err)

    check()

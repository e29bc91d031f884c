"""Notebook representations and the index's summary of a report (theorylab.site.render)."""

import math
import re

from theorylab.report import Statement
from theorylab.site.render import margin, report_html, report_markdown, summary_html, summary_row
from theorylab.store import DONE, CellKey, CellResult, Store, summarize


def test_repr_html_is_the_report_table(make_report, parse_html):
    r = make_report("bravo", "violated")
    html = r._repr_html_()
    assert html == report_html(r)
    parsed = parse_html(html)
    text = re.sub(r"\s+", " ", " ".join(parsed.text))
    assert "bravo violated" in text and "rate >= 1 <script>" in text  # escaped, shown as text
    # rows: 3 statements hold, 1 violated; hypotheses: 1 met, 1 not met (not required)
    assert html.count('<tr class="no">') == 1 and html.count('<tr class="yes">') == 4
    assert "NOT MET (required)" not in html and "not met" in html  # width: not required


def test_repr_markdown_is_a_compact_table(make_report):
    r = make_report("charlie", "inconclusive")
    md = r._repr_markdown_()
    assert md == report_markdown(r)
    lines = md.splitlines()
    assert lines[0] == "**charlie**: inconclusive (seed 0, cpu, float64, run char000000000000)"
    assert "Inconclusive (step 17): loss is NaN at step 17" in md
    rows = [line for line in lines if line.startswith("|")]
    assert len(rows) == 2 + len(r.statements)
    cells = {len(re.split(r"(?<!\\)\|", row)) for row in rows}
    assert cells == {9}  # 7 columns, the same in every row
    assert "| `nan` | nan | <= | 1 | - | - | n/a |" in rows
    assert "- not met: `width` m = 4096 < 6e19" in lines


def test_index_row_summary(make_report):
    row = summary_row(make_report("bravo", "violated"))
    assert (row.verdict, row.held, row.worst) == ("violated", "3/4", "rate = 0.25")
    assert row.powers == "exact 1, interval 1, bound 1, sanity 1" and row.time == "1.2 s"
    assert summary_row(None).verdict == "error"


def test_margin_puts_ratios_and_intervals_on_one_scale():
    # Independent route: at the edge both are 0; inside, the log of the ratio and the
    # fraction of the half-width; outside, negative.
    edge = Statement.at_most("a", "", 2.0, 2.0)
    assert margin(edge) == 0.0
    assert math.isclose(margin(Statement.at_most("a", "", 1.0, math.e)), 1.0)
    middle = Statement.within("b", "", -0.5, (-0.65, -0.35))
    assert math.isclose(margin(middle), 1.0)
    assert margin(Statement.within("b", "", -0.3, (-0.65, -0.35))) < 0
    assert margin(Statement.at_least("c", "", 0.5, 1.0)) < 0
    assert margin(Statement.at_most("n", "", math.nan, 1.0)) is None
    # No scale: a half-open interval or an equality that holds is not ranked; violated, it is.
    assert margin(Statement.within("h", "", -45.0, (-math.inf, 4.0))) is None
    assert margin(Statement.within("h", "", 5.0, (-math.inf, 4.0))) == -math.inf
    assert margin(Statement.within("e", "", 1.0, (1.0, 1.0))) is None


def test_sweep_summary_html(tmp_path, make_report, parse_html):
    with Store(str(tmp_path / "s.sqlite")) as store:
        for seed, verdict in ((0, "holds"), (1, "violated")):
            r = make_report("bravo", verdict, seed=seed)
            store.record(CellKey("bravo", "h", seed), r.params, "cpu", "float64",
                         CellResult(DONE, report=r.to_json(), verdict=r.verdict))  # fmt: skip
        groups = summarize(store)
    html = summary_html(groups)
    text = re.sub(r"\s+", " ", " ".join(parse_html(html).text))
    assert "bravo" in text and "2 seeds" in text and "holds 1, violated 1" in text
    assert "rate 50% 0/1" not in text and re.search(r"rate 0% 0/1", text)
    assert re.search(r"bound 100% 2/2 0", text)

"""Hand-made reports and a toy registered claim for the site tests (no real claim runs)."""

import dataclasses
import math
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from theorylab import registry
from theorylab.registry import Claim, param
from theorylab.report import Hypothesis, Report, Statement


@dataclasses.dataclass(frozen=True)
class ToyParams:
    width: int = param(64, "width", minimum=1)
    exact: bool = param(True, "use the exact kernel")


def toy_plot(report, path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, report.quantities["slope"]])
    fig.savefig(path)
    plt.close(fig)


def toy_run(p, ctx):
    return _make_report("site_toy", "holds", seed=ctx.seed, params={})


def _make_report(claim, verdict, *, seed=0, params=None, run_hash=None):
    """A report with a given verdict: statements of every kind, hypotheses, timing."""
    statements = [
        Statement.at_most("bound", "gap <= 2/eta", 0.5, 2.0),
        Statement.within("exponent", "slope in [-0.65, -0.35]", -0.47, (-0.65, -0.35)),
        Statement.at_most("identity", "|a - b| <= 1e-9", 1e-12, 1e-9, power="exact"),
    ]
    failure = None
    if verdict == "violated":
        statements.append(Statement.at_least("rate", "rate >= 1 <script>", 0.25, 1.0))
    elif verdict == "inconclusive":
        statements.append(Statement.at_most("nan", "loss <= 1", math.nan, 1.0))
        failure = "loss is NaN at step 17"
    report = Report(
        claim, params if params is not None else {"width": 128, "exact": False}, seed, "cpu",
        "float64", statements=statements,
        hypotheses=[Hypothesis("width", "m >= 1e19", False, "m = 4096 < 6e19"),
                    Hypothesis("converged", "loss < 1e-6", True, "1e-8", required=True)],
        quantities={"slope": -0.47, "lambda_0": 0.31}, timing={"total_s": 1.25},
        failure=failure, failure_step=17 if failure else None,
        run_hash=run_hash or f"{claim[:4]}{seed:012d}", theorylab_version="0.1.0",
        torch_version="2.13.0",
    )  # fmt: skip
    assert report.verdict == verdict
    return report


@pytest.fixture
def toy_claim():
    registry.register(
        Claim(
            "site_toy",
            "a toy claim for the site tests",
            ToyParams,
            run=toy_run,
            plot=toy_plot,
            citation="Doe & Roe (COLT 2030)",
        )  # fmt: skip
    )
    yield registry.get_claim("site_toy")
    registry.unregister("site_toy")


VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "source", "wbr"}


class StrictHTML(HTMLParser):
    """Every non-void tag closed in order; collects links and image sources."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.links, self.images, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs.get("src"))
            assert attrs.get("alt"), "an image without alt text"
        if tag == "script":
            raise AssertionError("the site must need no JavaScript")
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_endtag(self, tag):
        assert self.stack, f"</{tag}> closes nothing at {self.getpos()}"
        opened, where = self.stack.pop()
        assert opened == tag, f"<{opened}> opened at {where} closed by </{tag}> at {self.getpos()}"

    def handle_data(self, data):
        self.text.append(data)


def parse_page(path: Path) -> StrictHTML:
    parser = StrictHTML()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    assert not parser.stack, f"{path}: unclosed {parser.stack}"
    return parser


def _check_links(page: Path) -> StrictHTML:
    """The page parses and every relative link and image it references exists."""
    parsed = parse_page(page)
    for ref in parsed.links + parsed.images:
        url = urlparse(ref)
        assert not url.scheme and not url.netloc, f"{page}: external reference {ref}"
        target = (page.parent / unquote(url.path)).resolve()
        assert target.is_file(), f"{page}: {ref} does not exist"
    return parsed


@pytest.fixture
def make_report():
    """``make_report(claim, verdict, seed=0, params=None, run_hash=None) -> Report``."""
    return _make_report


@pytest.fixture
def check_links():
    """``check_links(page) -> parsed page``: parses strictly, every reference exists."""
    return _check_links


@pytest.fixture
def parse_html():
    """``parse_html(text) -> parsed``: strict tag balance, no script."""

    def parse(text: str) -> StrictHTML:
        parser = StrictHTML()
        parser.feed(text)
        parser.close()
        assert not parser.stack, f"unclosed {parser.stack}"
        return parser

    return parse

"""The site in a real browser: headless Chromium renders the index and a claim page from the
file system to PNG; the images are not blank and the claim names are drawn.

"Drawn" is checked by difference: each page is rendered twice, the second time with the claim
names' text made transparent by one added CSS rule, and the pixels that change must form one
band per claim name (no OCR needed). Skipped, with the reason, where no Chromium is installed
(.ci/run installs Debian's chromium package).
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from theorylab.site.build import Entry, build_site

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((path for name in BROWSERS if (path := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason=f"no headless browser installed (looked for {', '.join(BROWSERS)})"
)
HIDE_NAMES = ".claim-name { color: transparent !important; }\n</style>"


def screenshot(page: Path, png: Path, profile: Path, height: int) -> np.ndarray:
    import matplotlib.image

    command = [
        BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        "--no-first-run", f"--user-data-dir={profile}", f"--window-size=1200,{height}",
        f"--screenshot={png}", page.as_uri(),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert png.is_file(), f"{BROWSER} wrote no screenshot: {result.stderr[-2000:]}"
    return matplotlib.image.imread(str(png))[..., :3]


def assert_not_blank(image: np.ndarray) -> None:
    ink = np.any(image < 0.9, axis=-1)  # pixels clearly darker than the white background
    assert ink.mean() > 0.01, f"only {ink.mean():.2%} of the page is drawn"
    assert image.std() > 0.05


def bands(rows: np.ndarray, gap: int = 4) -> int:
    """Number of runs of True rows, runs closer than ``gap`` pixels counting as one (a link's
    underline is drawn a pixel or two below its text)."""
    found = np.flatnonzero(rows)
    return 0 if found.size == 0 else int(1 + np.count_nonzero(np.diff(found) > gap))


def rendered_with_and_without_names(page: Path, tmp_path: Path, height: int):
    hidden = page.with_name(f"hidden-{page.name}")
    text = page.read_text(encoding="utf-8")
    assert "</style>" in text
    hidden.write_text(text.replace("</style>", HIDE_NAMES, 1), encoding="utf-8")
    shown = screenshot(page, tmp_path / f"{page.stem}.png", tmp_path / "profile", height)
    blank = screenshot(hidden, tmp_path / f"{page.stem}-hidden.png", tmp_path / "profile", height)
    return shown, np.any(np.abs(shown - blank) > 0.1, axis=-1)


def test_index_and_claim_page_render_with_the_claim_names(tmp_path, make_report):
    names = ["alpha_bound", "bravo_rate", "charlie_exponent"]
    verdicts = ["holds", "violated", "inconclusive"]
    entries = [Entry(n, make_report(n, v), "test") for n, v in zip(names, verdicts, strict=True)]
    site = tmp_path / "site"
    build_site(site, entries, figures=False)

    image, changed = rendered_with_and_without_names(site / "index.html", tmp_path, 900)
    assert_not_blank(image)
    assert bands(changed.any(axis=1)) == len(names), "each claim's row should show its name"

    image, changed = rendered_with_and_without_names(
        site / "claims" / "bravo_rate.html", tmp_path, 1600
    )
    assert_not_blank(image)
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.size and rows.max() < 200, "the claim's name is the page's title, at the top"

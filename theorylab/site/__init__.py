"""The verification report: a static HTML site of claims' reports, and notebook reprs.

``python -m theorylab.report --out DIR`` builds the site (:mod:`theorylab.site.build`);
``Report._repr_html_`` and ``_repr_markdown_`` render a report with the same templates
(:mod:`theorylab.site.render`), so a report shows as a table in Jupyter. Templates live in
``templates/`` and are installed with the package (package-data in pyproject.toml).
"""

from __future__ import annotations

from .render import report_html, report_markdown, summary_html


def main(argv: list[str] | None = None) -> int:
    """``python -m theorylab.report`` (see :mod:`theorylab.site.build`)."""
    from .build import main as build_main

    return build_main(argv)


def build_site(*args, **kwargs) -> int:
    """See :func:`theorylab.site.build.build_site`."""
    from .build import build_site as build

    return build(*args, **kwargs)


__all__ = ["build_site", "main", "report_html", "report_markdown", "summary_html"]

"""Output paths are checked before any work starts (a run is never lost to a bad path).

Example:
    >>> import tempfile, os
    >>> check_writable(os.path.join(tempfile.gettempdir(), "theorylab-doctest.json"))
    >>> try:
    ...     check_plot_path("figure.xyz")
    ... except UsageError as exc:
    ...     print(exc)
    --plot figure.xyz: unsupported figure format .xyz (use .png, .pdf, .svg)
"""

from __future__ import annotations

import os

from .errors import UsageError

# Formats every matplotlib install writes with its default Agg/PDF/SVG/PS backends.
FIGURE_FORMATS = (".png", ".pdf", ".svg", ".eps", ".ps", ".jpg", ".jpeg")


def check_writable(path: str, flag: str = "--json") -> None:
    """Refuse (UsageError) a path that is a directory, sits in a missing folder or cannot be
    written; nothing is created or truncated."""
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path}: is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{flag} {path}: folder {folder} does not exist")
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise UsageError(f"{flag} {path}: not writable")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: folder {folder} is not writable")


def check_plot_path(path: str) -> None:
    ext = os.path.splitext(path)[1].lower()
    if ext not in FIGURE_FORMATS:
        shown = ext or "(none)"
        raise UsageError(f"--plot {path}: unsupported figure format {shown} (use .png, .pdf, .svg)")
    check_writable(path, "--plot")

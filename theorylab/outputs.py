"""Output paths are checked before any work starts (a run is never lost to a bad path).

Every command that writes a file (``check --json/--plot``, ``power --json``, ``figures
--out``, ``sweep export --csv``) calls these first; nothing is created or truncated by the
check itself.

Example:
    >>> import tempfile, os
    >>> check_writable(os.path.join(tempfile.gettempdir(), "theorylab-doctest.json"))
    >>> try:
    ...     check_plot_path("figure.xyz")
    ... except UsageError as exc:
    ...     print(exc)
    --plot figure.xyz: unsupported figure format .xyz (use .png, .pdf, .svg, .eps, .ps, .jpg)
"""

from __future__ import annotations

import os

from .errors import UsageError

# Formats every matplotlib install writes with its default Agg/PDF/SVG/PS backends (.jpg needs
# Pillow, a matplotlib dependency).
FIGURE_FORMATS = (".png", ".pdf", ".svg", ".eps", ".ps", ".jpg", ".jpeg")


def check_writable(path: str, flag: str = "--json") -> None:
    """Refuse (UsageError) a path that is empty, a directory, sits in a missing folder or
    cannot be written; nothing is created or truncated."""
    if not path:
        raise UsageError(f"{flag} needs a path")
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path}: is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise UsageError(f"{flag} {path}: folder {folder} {what}")
    if os.path.exists(path):
        if not os.path.isfile(path) and not _is_stream(path):
            raise UsageError(f"{flag} {path}: not a regular file")
        if not os.access(path, os.W_OK):
            raise UsageError(f"{flag} {path}: not writable")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: folder {folder} is not writable")


def check_plot_path(path: str, flag: str = "--plot") -> None:
    """A figure path: a format matplotlib writes everywhere, in a writable place."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FIGURE_FORMATS:
        shown = ext or "(none)"
        formats = ", ".join(f for f in FIGURE_FORMATS if f != ".jpeg")
        raise UsageError(f"{flag} {path}: unsupported figure format {shown} (use {formats})")
    check_writable(path, flag)


def check_folder(path: str, flag: str = "--out") -> None:
    """An output folder: an existing writable folder, or one that can be created (its nearest
    existing parent is a writable folder). Nothing is created here."""
    if not path:
        raise UsageError(f"{flag} needs a path")
    target = os.path.abspath(path)
    if os.path.exists(target):
        if not os.path.isdir(target):
            raise UsageError(f"{flag} {path}: exists and is not a folder")
        if not os.access(target, os.W_OK | os.X_OK):
            raise UsageError(f"{flag} {path}: folder is not writable")
        return
    parent = os.path.dirname(target)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise UsageError(f"{flag} {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: cannot create it in {parent} (not writable)")


def check_distinct(*paths: str | None) -> None:
    """Refuse two outputs of one command that name the same file (``--json r.png --plot
    r.png``): the second would overwrite the first."""
    seen: dict[str, str] = {}
    for path in paths:
        if not path or path == "-":
            continue
        key = os.path.realpath(path)
        if key in seen:
            raise UsageError(f"{seen[key]} and {path} are the same file")
        seen[key] = path


def _is_stream(path: str) -> bool:
    import stat

    try:
        mode = os.stat(path).st_mode  # /dev/null; /dev/stdout as a terminal or a pipe
        return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)
    except OSError:
        return False

"""Progress bars on stderr for sweeps and for checks that run longer than a few seconds.

A claim reports progress through :func:`progress`; the bar appears only when all of these hold:

- progress is enabled (``--quiet`` calls :func:`disable`; sweep workers disable it; the
  environment variable ``THEORYLAB_PROGRESS=0`` disables it for a process and its children);
- the stream (stderr by default) is a terminal, so logs, pipes and ``--json -`` stay clean;
- the work has been running for ``delay`` seconds (default 2 s), so short checks print nothing.

Nothing is ever written to stdout. With tqdm installed the bar is tqdm's; otherwise a plain
line ``desc: done/total (pct%) elapsed, eta`` is redrawn in place with a carriage return, at
most every ``min_interval`` seconds.

Example (for a claim's training loop):

    from ..progress import progress

    with progress(total=p.steps, desc="near_init: GD steps") as bar:
        for k in range(p.steps):
            ...
            bar.update()
"""

from __future__ import annotations

import io
import os
import sys
import time
from typing import TextIO

DEFAULT_DELAY_S = 2.0
ENV_SWITCH = "THEORYLAB_PROGRESS"

_enabled = True


def disable() -> None:
    """Turn progress bars off in this process (``--quiet``, sweep workers)."""
    global _enabled
    _enabled = False


def enable() -> None:
    """Turn progress bars back on (they still need a terminal)."""
    global _enabled
    _enabled = True


def enabled() -> bool:
    return _enabled and os.environ.get(ENV_SWITCH, "1").lower() not in ("0", "false", "no", "off")


class Progress:
    """A counter from 0 to ``total`` drawn as a bar on ``stream`` when it is shown at all.

    Use as a context manager; :meth:`update` adds to the count, :meth:`set_status` sets a short
    text shown after the count (e.g. "3 failed"). ``shown`` tells whether anything is drawn.
    """

    def __init__(
        self,
        total: int | None,
        desc: str = "",
        *,
        unit: str = "it",
        stream: TextIO | None = None,
        quiet: bool = False,
        delay: float = DEFAULT_DELAY_S,
        min_interval: float = 0.2,
        use_tqdm: bool | None = None,
    ):
        self.total, self.desc, self.unit = total, desc, unit
        self.stream = sys.stderr if stream is None else stream
        self.count = 0
        self.status = ""
        self.delay, self.min_interval = delay, min_interval
        self.shown = not quiet and enabled() and _is_terminal(self.stream)
        self._start = time.monotonic()
        self._last_draw = -float("inf")
        self._drawn = False
        self._bar = None
        tqdm = _tqdm() if self.shown and use_tqdm is not False else None
        if tqdm is not None:
            # A terminal reporting a 0 x 0 size (some pseudo-terminals) would hide tqdm's bar.
            columns, rows = _terminal_size(self.stream)
            self._bar = tqdm(
                total=total, desc=desc, unit=unit, file=self.stream, delay=delay,
                mininterval=min_interval, leave=False, dynamic_ncols=columns > 0,
                ncols=None if columns > 0 else 80, nrows=None if rows > 0 else 24,
            )  # fmt: skip

    def update(self, n: int = 1) -> None:
        self.count += n
        if not self.shown:
            return
        if self._bar is not None:
            self._bar.update(n)
        else:
            self._draw()

    def set_status(self, text: str) -> None:
        self.status = text
        if not self.shown:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
        else:
            self._draw()

    def line(self) -> str:
        """The plain progress line (also what the fallback bar draws)."""
        elapsed = time.monotonic() - self._start
        parts = [f"{self.desc}: " if self.desc else ""]
        if self.total:
            pct = 100.0 * self.count / self.total
            parts.append(f"{self.count}/{self.total} {self.unit} ({pct:.0f}%)")
        else:
            parts.append(f"{self.count} {self.unit}")
        parts.append(f" {_clock(elapsed)}")
        if self.total and 0 < self.count < self.total:
            parts.append(f", eta {_clock(elapsed * (self.total - self.count) / self.count)}")
        if self.status:
            parts.append(f"  {self.status}")
        return "".join(parts)

    def _draw(self, final: bool = False) -> None:
        now = time.monotonic()
        if now - self._start < self.delay:
            return
        if not final and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._drawn:
            self._draw(final=True)
            self.stream.write("\r\x1b[K")  # leave the terminal line clean
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(total: int | None, desc: str = "", **kwargs) -> Progress:
    """A :class:`Progress` for ``total`` units of work (see the module docstring)."""
    return Progress(total, desc, **kwargs)


def _tqdm():
    """tqdm's bar class, or None where tqdm is not installed. Imported only when a bar is
    drawn: importing tqdm costs start-up time that ``--list`` and ``--help`` do not need."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return tqdm


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _terminal_size(stream: TextIO) -> tuple[int, int]:
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return 0, 0
    return size.columns, size.lines


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"

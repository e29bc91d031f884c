"""The two ways a check can stop early, each mapped to an exit status by the CLI.

- :class:`UsageError` (exit 2): the request itself is wrong (unknown claim, width 0, a data
  file with NaN, a width that will not fit in memory). Raised before any training starts.
- :class:`Inconclusive` (exit 3): the request was fine but the run cannot support a verdict
  (NaN, divergence, no convergence, a hypothesis of the check not reached).
"""

from __future__ import annotations

import argparse


class UsageError(ValueError):
    """Bad input: the CLI prints ``str(error)`` as one line on stderr and exits 2."""


class ParserExit(Exception):
    """argparse finished on its own (``--help``): ``status`` is what the CLI's main returns."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class UsageErrorParser(argparse.ArgumentParser):
    """argparse whose errors raise :class:`UsageError` (the CLI's one stderr line, exit 2)
    instead of printing a usage block and exiting, and whose own exits (``--help``) raise
    :class:`ParserExit`: a CLI's main returns, and a SystemExit is never argparse's."""

    def error(self, message: str):
        raise UsageError(message)

    def exit(self, status: int = 0, message: str | None = None):
        if message:
            import sys

            print(message.rstrip("\n"), file=sys.stderr)
        raise ParserExit(status)


class Inconclusive(RuntimeError):
    """A numerical failure; ``step`` is the optimisation step it happened at, if any."""

    def __init__(self, message: str, step: int | None = None):
        super().__init__(message)
        self.step = step


def one_line(message: object) -> str:
    """``str(message)`` on one line: a message that quotes user input (a path with a newline
    in it) must still be the single stderr line the exit-2 contract promises.

    Example:
        >>> one_line(UsageError("data file not found: a\\nb"))
        'data file not found: a b'
    """
    return " ".join(str(message).splitlines())


INTERRUPTED = 130  # Ctrl-C, as shells report a process ended by SIGINT (128 + 2)


def exit_process(status: int):
    """``sys.exit(status)`` for the ``python -m theorylab.*`` entry points.

    After a Ctrl-C that a CLI caught (it prints one line and returns :data:`INTERRUPTED`),
    CPython may still end the process *by* SIGINT instead of with the status: it keeps a
    record that a ``KeyboardInterrupt`` escaped an ``exec`` of source text (sympy's
    ``lambdify`` imports its modules through one), and ``Py_RunMain`` acts on that record after
    finalisation. The record is cleared on entry to every such ``exec``, so one no-op ``exec``
    makes the exit status the one returned, whatever code an interrupt landed in
    (tests/test_errors.py plants the interrupt there).
    """
    import sys

    exec("None", {})
    sys.exit(status)

"""theorylab: theorems about over-parameterized networks, checked against simulations.

``check(name, **params)`` runs one claim and returns a :class:`Report`; ``CLAIMS`` lists the
registered claim names. The command line is ``python -m theorylab.check``.
"""

__version__ = "0.1.0"

from .errors import Inconclusive, UsageError  # noqa: E402
from .registry import CLAIM_MODULES, check  # noqa: E402
from .report import Hypothesis, Report, Statement  # noqa: E402

CLAIMS = tuple(sorted(CLAIM_MODULES))

__all__ = [
    "CLAIMS",
    "Hypothesis",
    "Inconclusive",
    "Report",
    "Statement",
    "UsageError",
    "check",
]

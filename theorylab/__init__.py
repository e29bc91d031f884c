"""theorylab: theorems about over-parameterized networks, checked against simulations.

``check(name, **params)`` runs one claim and returns a :class:`Report`; ``CLAIMS`` lists the
registered claim names. The command line is ``python -m theorylab.check``. Claims of your own
register with ``register_claim`` / ``register`` or a ``theorylab.claims`` entry point
(docs/user_claims.md).
"""

import warnings

__version__ = "0.1.0"

# ``python -m theorylab.report`` runs a module this package has already imported; runpy's
# warning about that is noise for a command whose __main__ block only starts the site builder.
warnings.filterwarnings(
    "ignore", message="'theorylab.report' found in sys.modules", category=RuntimeWarning
)

from .errors import Inconclusive, UsageError  # noqa: E402
from .registry import CLAIM_MODULES, check, param, register, register_claim  # noqa: E402
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
    "param",
    "register",
    "register_claim",
]

"""Hoeffding's inequality with a union bound: an explicit-constant concentration radius.

For i.i.d. variables in [0, 1] and their mean p_hat over S samples,
P(|p_hat - p| >= t) <= 2 exp(-2 S t^2) (Hoeffding 1963). Over ``events`` such means at once,
with probability at least 1 - delta every deviation is below

    t = sqrt( log(2 events / delta) / (2 S) ).

Example:
    >>> import math
    >>> round(union_radius(samples=2, events=1, delta=2 * math.exp(-1)), 12)
    0.5
"""

from __future__ import annotations

import sympy as sp

samples, events, delta = sp.symbols("S events delta", positive=True)

UNION_RADIUS = sp.sqrt(sp.log(2 * events / delta) / (2 * samples))

_union_radius = sp.lambdify((samples, events, delta), UNION_RADIUS, modules="math")


def union_radius(samples: float, events: float, delta: float) -> float:
    """Radius t such that all ``events`` [0,1]-means deviate by < t w.p. >= 1 - delta."""
    return float(_union_radius(samples, events, delta))

"""Lazy (NTK) versus mean-field scaling of a two-layer network: how far each unit moves.

Chizat, Oyallon, Bach, "On Lazy Training in Differentiable Programming", NeurIPS 2019; Lee et
al., "Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient Descent",
NeurIPS 2019; Mei, Montanari, Nguyen, "A Mean Field View of the Landscape of Two-Layer Neural
Networks", PNAS 2018.

Setting: f(x) = s(m) sum_{r=1}^m a_r relu(w_r . x), a_r = +-1 fixed, ||x|| = 1, the sum loss
L = 1/2 sum_i (f(x_i) - y_i)^2, GD on every w_r with the per-unit step ``STEP_SIZE``.

- ``OUTPUT_SCALE``: s(m) = m^{-1/2} ("ntk", Du et al. 2019) or m^{-1} ("mean_field").
- ``PER_NEURON_GRADIENT``: ||d f / d w_r|| = s(m) relu'(w_r . x) ||x|| = s(m) on an active unit.
- ``STEP_SIZE``: eta for "ntk", eta m for "mean_field" (theorylab.claims.near_init scales the
  step this way).
- ``FUNCTION_STEP``: the step times the tangent-kernel scale sum_r ||d f/d w_r||^2 ~ m s(m)^2;
  it equals eta under both scalings, so both trace the same function-space trajectory at
  initialisation and run for the same number of steps T = O(1/(eta lambda_0)).
- ``NEURON_MOVEMENT``: per-step movement of one unit per unit residual, step * s(m); summed
  over the T steps it gives max_r ||w_r(T) - w_r(0)|| up to width-free factors.
- ``RELATIVE_CHANGE``: ||W(T) - W(0)||_F / ||W(0)||_F = sqrt(m) movement / sqrt(m d).
- ``RELATIVE_CHANGE_EXPONENT``: d log(RELATIVE_CHANGE) / d log m: -1/2 (lazy: units barely
  move as m grows) and 0 (mean field: units move O(1) at every width).

Example:
    >>> relative_change_exponent("ntk"), relative_change_exponent("mean_field")
    (-0.5, 0.0)
"""

from __future__ import annotations

import sympy as sp

m, eta, d = sp.symbols("m eta d", positive=True)

PARAMETERIZATIONS = ("ntk", "mean_field")

OUTPUT_SCALE = {"ntk": 1 / sp.sqrt(m), "mean_field": 1 / m}
STEP_SIZE = {"ntk": eta, "mean_field": eta * m}
PER_NEURON_GRADIENT = dict(OUTPUT_SCALE)
FUNCTION_STEP = {p: STEP_SIZE[p] * m * PER_NEURON_GRADIENT[p] ** 2 for p in PARAMETERIZATIONS}
NEURON_MOVEMENT = {p: STEP_SIZE[p] * PER_NEURON_GRADIENT[p] for p in PARAMETERIZATIONS}
RELATIVE_CHANGE = {
    p: sp.sqrt(m * NEURON_MOVEMENT[p] ** 2) / sp.sqrt(m * d) for p in PARAMETERIZATIONS
}


def width_exponent(expression: sp.Expr) -> sp.Expr:
    """The exponent alpha of a power law c m^alpha: m d/dm log(expression), simplified.

    Example:
        >>> width_exponent(3 * m ** sp.Rational(-1, 2))
        -1/2
    """
    return sp.simplify(m * sp.diff(sp.log(expression), m))


RELATIVE_CHANGE_EXPONENT = {p: width_exponent(RELATIVE_CHANGE[p]) for p in PARAMETERIZATIONS}
MOVEMENT_EXPONENT = {p: width_exponent(NEURON_MOVEMENT[p]) for p in PARAMETERIZATIONS}


_neuron_movement = {
    p: sp.lambdify((m, eta), NEURON_MOVEMENT[p], modules="math") for p in PARAMETERIZATIONS
}


def neuron_step(parameterization: str, width: int, eta_value: float) -> float:
    """Per-unit step times the output scale, ``NEURON_MOVEMENT``: the factor between a unit's
    movement and the residual-weighted input sum it follows (eta m^{-1/2} for "ntk", eta for
    "mean_field", whose step eta m meets the scale 1/m).

    >>> neuron_step("ntk", 64, 0.5), neuron_step("mean_field", 64, 0.5)
    (0.0625, 0.5)
    """
    if parameterization not in _neuron_movement:
        raise ValueError(f"unknown parameterization {parameterization!r}")
    return float(_neuron_movement[parameterization](width, eta_value))


def relative_change_exponent(parameterization: str) -> float:
    """Width exponent of ||W(T) - W(0)||_F / ||W(0)||_F: -1/2 ("ntk") or 0 ("mean_field")."""
    if parameterization not in RELATIVE_CHANGE_EXPONENT:
        raise ValueError(f"unknown parameterization {parameterization!r}")
    return float(RELATIVE_CHANGE_EXPONENT[parameterization])


def movement_exponent(parameterization: str) -> float:
    """Width exponent of max_r ||w_r(T) - w_r(0)||: -1/2 ("ntk") or 0 ("mean_field")."""
    if parameterization not in MOVEMENT_EXPONENT:
        raise ValueError(f"unknown parameterization {parameterization!r}")
    return float(MOVEMENT_EXPONENT[parameterization])

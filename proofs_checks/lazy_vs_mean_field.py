"""Step: lazy (1/sqrt(m)) versus mean-field (1/m) output scaling and how far the units move.

Source: Chizat, Oyallon, Bach, NeurIPS 2019 (lazy training); Lee et al., NeurIPS 2019; Mei,
Montanari, Nguyen, PNAS 2018 (mean-field limit); Du et al., ICLR 2019 (the 1/sqrt(m) model).

Model f(x) = s(m) sum_r a_r relu(w_r . x), a_r = +-1, ||x|| = 1, w_r(0) ~ N(0, I_d), sum loss.
Derivation:
1. d f / d w_r = s(m) a_r 1{w_r . x > 0} x, so an active unit's gradient has norm s(m).
2. One GD step with per-unit step eta_u changes f by eta_u sum_r <df/dw_r(x), df/dw_r(x')>
   times the residual, i.e. by eta_u m s(m)^2 k(x, x') with a width-free kernel k; so the
   function-space step is eta_u m s(m)^2: eta for "ntk" (eta_u = eta, s = m^{-1/2}) and eta for
   "mean_field" (eta_u = eta m, s = 1/m). Both run the same number of steps
   T = O(1/(eta lambda_0)) for a given loss.
3. Each step moves a unit by eta_u s(m) per unit residual, so over the run
   max_r ||w_r(T) - w_r(0)|| ~ eta_u s(m) / (eta m s(m)^2) = 1/(m s(m)) up to width-free factors,
   and ||W(T) - W(0)||_F / ||W(0)||_F ~ sqrt(m) (that movement) / sqrt(m d) (E||w_r(0)||^2 = d).
4. Width exponents: -1/2 under "ntk" (lazy: relative change -> 0 as m grows) and 0 under
   "mean_field" (units move O(1) at every width) -- the near_init claim's negative control.

What is checked: the gradient by differentiating the symbolic unit; the function-space step
against ``lazy_training.FUNCTION_STEP`` (and that it is width-free); the per-step movement
against ``NEURON_MOVEMENT``; E||w_r(0)||^2 = d; the relative change against
``RELATIVE_CHANGE``; and its exponents, computed here as m d/dm log, against -1/2 and 0 and
``RELATIVE_CHANGE_EXPONENT``.
"""

from __future__ import annotations

import sympy as sp

from theorylab.theory import lazy_training

STEP = "lazy_vs_mean_field"
INPUT_DIM = 3  # the symbolic unit's input dimension (the argument holds for any d)
EXPECTED_EXPONENTS = {"ntk": sp.Rational(-1, 2), "mean_field": sp.Integer(0)}


def check_lazy_vs_mean_field(
    output_scale=lazy_training.OUTPUT_SCALE,
    step_size=lazy_training.STEP_SIZE,
    function_step=lazy_training.FUNCTION_STEP,
    neuron_movement=lazy_training.NEURON_MOVEMENT,
    relative_change=lazy_training.RELATIVE_CHANGE,
    relative_change_exponent=lazy_training.RELATIVE_CHANGE_EXPONENT,
):
    """Verify the per-unit gradient, fixed function step, and the -1/2 vs 0 exponents."""
    m, eta, d = lazy_training.m, lazy_training.eta, lazy_training.d
    w = sp.symbols(f"w0:{INPUT_DIM}", real=True)
    x = sp.symbols(f"x0:{INPUT_DIM}", real=True)
    a, scale = sp.Symbol("a", real=True), sp.Symbol("s", positive=True)
    preactivation = sum(wi * xi for wi, xi in zip(w, x, strict=True))
    unit_output = scale * a * sp.Max(0, preactivation)

    # 1. Gradient of one unit: s a 1{w.x > 0} x; on an active unit with a^2 = ||x||^2 = 1 its
    # norm is s.
    gradient = [sp.diff(unit_output, wi) for wi in w]
    active = [g.subs(sp.Heaviside(preactivation), 1) for g in gradient]
    norm_sq = sp.expand(sum(g**2 for g in active)).subs(a**2, 1)
    unit_x = {x[-1] ** 2: 1 - sum(xi**2 for xi in x[:-1])}
    gradient_norm = sp.sqrt(sp.simplify(norm_sq.subs(unit_x)))
    assert gradient_norm == scale, f"{STEP}: active unit's gradient norm {gradient_norm} != s"
    # E||w_r(0)||^2 for w ~ N(0, I_d): d unit variances.
    z = sp.Symbol("z", real=True)
    variance = sp.integrate(z**2 * sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi), (z, -sp.oo, sp.oo))
    init_norm_sq = d * variance

    exponents = {}
    for p in lazy_training.PARAMETERIZATIONS:
        s_m = output_scale[p]
        per_unit_gradient = gradient_norm.subs(scale, s_m)
        # 2. Function-space step: step * (tangent kernel ~ m units * gradient^2), width-free.
        derived_function_step = sp.simplify(step_size[p] * m * per_unit_gradient**2)
        assert sp.simplify(derived_function_step - function_step[p]) == 0, (
            f"{STEP}: {p}: function step {derived_function_step} != FUNCTION_STEP "
            f"{function_step[p]}"
        )
        assert sp.simplify(derived_function_step - eta) == 0, (
            f"{STEP}: {p}: function-space step {derived_function_step} is not eta: the two "
            "scalings would not follow the same function-space trajectory"
        )
        # 3. Movement per step, then over the run (steps ~ 1/function step).
        derived_movement = sp.simplify(step_size[p] * per_unit_gradient)
        assert sp.simplify(derived_movement - neuron_movement[p]) == 0, (
            f"{STEP}: {p}: per-step movement {derived_movement} != NEURON_MOVEMENT "
            f"{neuron_movement[p]}"
        )
        total_movement = derived_movement / derived_function_step
        derived_relative = sp.sqrt(m * total_movement**2) / sp.sqrt(m * init_norm_sq)
        ratio = sp.simplify(relative_change[p] / derived_relative)
        assert not ratio.has(m), (
            f"{STEP}: {p}: RELATIVE_CHANGE {relative_change[p]} is not width-free times the "
            f"derived {derived_relative}"
        )
        # 4. The exponent, computed here as m d/dm log(.).
        exponent = sp.simplify(m * sp.diff(sp.log(derived_relative), m))
        assert exponent == EXPECTED_EXPONENTS[p], (
            f"{STEP}: {p}: relative change scales as m^({exponent}), expected "
            f"m^({EXPECTED_EXPONENTS[p]})"
        )
        assert sp.simplify(relative_change_exponent[p] - exponent) == 0, (
            f"{STEP}: {p}: RELATIVE_CHANGE_EXPONENT {relative_change_exponent[p]} != {exponent}"
        )
        exponents[p] = exponent
    print(
        f"verified: {STEP}: active-unit gradient norm s(m); function step eta under both "
        f"scalings; relative weight change ~ m^({exponents['ntk']}) (ntk) and "
        f"m^({exponents['mean_field']}) (mean_field)"
    )


def test_lazy_vs_mean_field():
    check_lazy_vs_mean_field()


def test_lazy_vs_mean_field_detects_mutation():
    import pytest

    m, eta = lazy_training.m, lazy_training.eta
    with pytest.raises(AssertionError, match=STEP):  # mean-field step not scaled by m
        check_lazy_vs_mean_field(step_size={"ntk": eta, "mean_field": eta})
    with pytest.raises(AssertionError, match=STEP):  # ntk output scale 1/m
        check_lazy_vs_mean_field(
            output_scale={"ntk": 1 / m, "mean_field": 1 / m},
            step_size={"ntk": eta * m, "mean_field": eta * m},
            function_step={"ntk": eta, "mean_field": eta},
            neuron_movement={"ntk": eta, "mean_field": eta},
        )
    with pytest.raises(AssertionError, match=STEP):  # exponents of the mean-field control
        check_lazy_vs_mean_field(relative_change_exponent={"ntk": -0.5, "mean_field": -0.5})

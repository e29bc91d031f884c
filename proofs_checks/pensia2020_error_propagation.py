"""pensia2020_error_propagation: the error-propagation bound for a one-hidden-layer target.

Source: Pensia et al. 2020, proof of Thm 1 (layer-wise triangle
inequality). Target f(x) = c . relu(W x), hidden width d1, built from two gadget layer pairs
whose gadgets satisfy |g(z) - w z| <= e |z|:

  pair 1: |h_hat_j - h_j| <= sum_k e |x_k| = e ||x||_1 =: delta_1          (relu 1-Lipschitz)
  pair 2: |f_hat - f| <= sum_j |g_j(h_hat_j) - c_j h_hat_j| + |c . (h_hat - h)|
                      <= e ||h_hat||_1 + ||c||_1 delta_1
                      <= e (||h||_1 + d1 delta_1) + ||c||_1 delta_1
                       = e (||c||_1 ||x||_1 + ||h||_1) + e^2 d1 ||x||_1.

Checked: TWO_LAYER_BOUND equals this chain built here from its own ingredients; it equals
PROPAGATION_STEP composed twice (the form the code evaluates for any depth); its first-order
part is e (||c||_1 ||x||_1 + ||relu(W x)||_1); and the uniform version follows
from ||x||_1 <= sqrt(d) ||x||_2 and ||relu(Wx)||_1 <= sqrt(d1) ||Wx||_2 <= sqrt(d1).
"""

import pytest
import sympy as sp

from theorylab.theory import pensia2020 as P

STEP = "pensia2020_error_propagation"


def check_error_propagation(bound=P.TWO_LAYER_BOUND, step=P.PROPAGATION_STEP,
                            first_order=P.TWO_LAYER_FIRST_ORDER,
                            uniform=P.TWO_LAYER_UNIFORM_BOUND):  # fmt: skip
    e, x1, h1, c1, d1 = P.e, P.x_l1, P.h_l1, P.c_l1, P.d1
    delta_1 = e * x1
    chain = e * (h1 + d1 * delta_1) + c1 * delta_1
    if sp.expand(bound - chain) != 0:
        raise AssertionError(
            f"{STEP}: TWO_LAYER_BOUND - triangle chain = {sp.expand(bound - chain)}"
        )
    first = step.subs({P.z_l1: x1, P.delta_l1: 0, P.w_delta: 0})
    second = step.subs({P.z_l1: h1, P.delta_l1: d1 * first, P.w_delta: c1 * first})
    if sp.expand(second - bound) != 0:
        raise AssertionError(f"{STEP}: PROPAGATION_STEP twice - TWO_LAYER_BOUND = {second - bound}")
    if sp.expand(first_order - e * (c1 * x1 + h1)) != 0:
        raise AssertionError(f"{STEP}: first-order term is {first_order}")
    sup_ball = bound.subs({x1: sp.sqrt(P.d), h1: sp.sqrt(d1)})
    if sp.simplify(uniform - sup_ball) != 0:
        raise AssertionError(f"{STEP}: uniform bound is not the bound at ||x||_1 = sqrt(d), "
                             "||h||_1 = sqrt(d1)")  # fmt: skip
    # the bound increases in ||x||_1 and ||h||_1, so the substitution is the sup over the ball
    if not all(sp.diff(bound, v).is_nonnegative for v in (x1, h1)):
        raise AssertionError(f"{STEP}: bound not monotone in the activation norms")
    print(
        f"verified: {STEP}: |f_hat - f| <= e(||c||_1||x||_1 + ||h||_1) + e^2 d1 ||x||_1 "
        "= PROPAGATION_STEP twice; sup over the ball at sqrt(d), sqrt(d1)"
    )


def test_error_propagation():
    check_error_propagation()


def test_error_propagation_detects_mutation():
    with pytest.raises(AssertionError, match=STEP):  # the e^2 term dropped
        check_error_propagation(bound=P.TWO_LAYER_FIRST_ORDER)
    with pytest.raises(AssertionError, match=STEP):  # the |W| delta term dropped from the step
        check_error_propagation(step=P.e * (P.z_l1 + P.delta_l1))

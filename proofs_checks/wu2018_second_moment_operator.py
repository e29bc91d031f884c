"""Step: the second-moment operator T = (I - eta H)(x)(I - eta H) + eta^2 c_B (S2 - H (x) H)
equals the batch average of (I - eta H_B) (x) (I - eta H_B).

Source: Wu, Ma & E, NeurIPS 2018, linear stability analysis (stability in mean square; the
operator on vec(E[e_t e_t^T]) used by the sgd_stability claim).

With e_{t+1} = (I - eta H_B) e_t, vec(E[e_{t+1} e_{t+1}^T]) = E[(I - eta H_B) (x) (I - eta H_B)]
vec(E[e_t e_t^T]) (batch independent of e_t). Expanding and applying the sampling identity to
Kronecker products, E[H_B (x) H_B] = H (x) H + c_B (S2 - H (x) H). Checked for symbolic
symmetric 2 x 2 H_1, H_2, H_3 and every B = 1, 2, 3 by building ``wu2018.second_moment_operator``
(the function the claim evaluates numerically) with sympy matrices.
"""

from __future__ import annotations

import itertools

import pytest
import sympy as sp

from theorylab.theory import wu2018

STEP = "second_moment_operator"


def check_second_moment_operator(
    operator=wu2018.second_moment_operator, batch_factor=wu2018.BATCH_FACTOR, count=3
):
    eta = wu2018.eta
    Hs = []
    for i in range(count):
        p, q, r = sp.symbols(f"p{i} q{i} r{i}", real=True)
        Hs.append(sp.Matrix([[p, q], [q, r]]))
    eye = sp.eye(2)
    for batch in range(1, count + 1):
        combos = list(itertools.combinations(range(count), batch))
        expected = sp.zeros(4)
        for c in combos:
            step = eye - eta * sum((Hs[i] for i in c), sp.zeros(2)) / batch
            expected += sp.kronecker_product(step, step) / len(combos)
        c_b = batch_factor.subs({wu2018.n: count, wu2018.B: batch})
        gap = (operator(Hs, eta, c_b) - expected).applyfunc(sp.expand)
        assert gap == sp.zeros(4), f"{STEP}: n={count}, B={batch}: T - E[(I-eta H_B)(x)(...)] != 0"
    print(f"verified: {STEP}: T = E_B[(I - eta H_B) (x) (I - eta H_B)] for n = {count}, every B")


def test_second_moment_operator():
    check_second_moment_operator()


def test_second_moment_operator_detects_mutation():
    def without_noise(Hs, eta, c_b):  # the GD operator: drops the c_B term
        return wu2018.second_moment_operator(Hs, eta, 0)

    with pytest.raises(AssertionError, match=STEP):
        check_second_moment_operator(operator=without_noise)
    with pytest.raises(AssertionError, match=STEP):
        check_second_moment_operator(batch_factor=1 / wu2018.B)

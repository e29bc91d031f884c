"""relu_identity: x = relu(x) - relu(-x) for every real x (case split on the sign of x).

Source: Malach, Yehudai, Shalev-Shwartz, Shamir, ICML 2020, Sec. 3 (the identity behind the
two-hop paths: a linear map is carried through a ReLU layer by one neuron per sign). The
expression checked is RELU_IDENTITY_RHS of theorylab/theory/pensia2020.py, which the gadget
layout of theorylab/pruning/two_hop.py relies on.
"""

import pytest
import sympy as sp

from theorylab.theory import pensia2020

STEP = "relu_identity"


def check_relu_identity(rhs=pensia2020.RELU_IDENTITY_RHS, x=pensia2020.x):
    pos = sp.Symbol("x_pos", positive=True)
    neg = sp.Symbol("x_neg", negative=True)
    for branch, value in (("x > 0", pos), ("x < 0", neg), ("x = 0", sp.Integer(0))):
        residual = sp.simplify(rhs.subs(x, value) - value)
        if residual != 0:
            raise AssertionError(f"{STEP}: relu(x) - relu(-x) - x = {residual} for {branch}")
    print(f"verified: {STEP}: relu(x) - relu(-x) = x on x > 0, x < 0 and x = 0")


def test_relu_identity():
    check_relu_identity()


def test_relu_identity_detects_mutation():
    x = pensia2020.x
    with pytest.raises(AssertionError, match=STEP):
        check_relu_identity(pensia2020.relu(x) + pensia2020.relu(-x))

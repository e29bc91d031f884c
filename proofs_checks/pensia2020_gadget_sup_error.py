"""pensia2020_gadget_sup_error: the scalar subset-sum gadget's sup-error bound.

Source: Pensia, Rajput, Nagle, Vishwakarma, Papailiopoulos, NeurIPS 2020, Lemma 1 (and its
use in Thm 1): for g_S(x) = sum_{i in S} v_i relu(u_i x) with S+ within {u_i > 0} and S- within
{u_i < 0}, A+- = sum_{S+-} u_i v_i,

    x > 0:  g_S(x) = x A+      (relu(u_i x) = u_i x for u_i > 0, 0 for u_i < 0),
    x < 0:  g_S(x) = x A-      (the other way round),

so sup_{|x| <= r} |g_S(x) - w x| = r max(|A+ - w|, |A- - w|) <= r eps when both subset sums are
within eps of w. Checked symbolically with two candidates of each sign (generic u, v), against
GADGET_POSITIVE_BRANCH, GADGET_NEGATIVE_BRANCH and GADGET_SUP_ERROR of theory/pensia2020.py.
"""

import pytest
import sympy as sp

from theorylab.theory import pensia2020 as P

STEP = "pensia2020_gadget_sup_error"


def check_gadget_sup_error(positive_branch=P.GADGET_POSITIVE_BRANCH,
                           negative_branch=P.GADGET_NEGATIVE_BRANCH,
                           sup_error=P.GADGET_SUP_ERROR):  # fmt: skip
    up = sp.symbols("up1 up2", positive=True)
    un = sp.symbols("un1 un2", negative=True)
    vp = sp.symbols("vp1 vp2", real=True)
    vn = sp.symbols("vn1 vn2", real=True)
    xp, xn = sp.Symbol("xp", positive=True), sp.Symbol("xn", negative=True)
    a_plus = sum(u * v for u, v in zip(up, vp, strict=True))
    a_minus = sum(u * v for u, v in zip(un, vn, strict=True))

    def gadget(x):
        terms = [v * P.relu(u * x) for u, v in zip(up + un, vp + vn, strict=True)]
        return sum(terms) - P.w * x

    subs = {P.a_plus: a_plus, P.a_minus: a_minus}
    for name, x_value, branch in (("x > 0", xp, positive_branch), ("x < 0", xn, negative_branch)):
        residual = sp.simplify(gadget(x_value) - branch.subs(subs).subs(P.x, x_value))
        if residual != 0:
            raise AssertionError(f"{STEP}: branch {name} differs from g_S(x) - w x by {residual}")
    # The sup over |x| <= r of each branch: |x| |A -+ w| is maximised at |x| = r.
    r = sp.Symbol("r", positive=True)
    sup_pos = sp.Abs(sp.diff(positive_branch, P.x)) * r  # linear in x: slope times r
    sup_neg = sp.Abs(sp.diff(negative_branch, P.x)) * r
    derived = sp.Max(sup_pos, sup_neg)
    stated = sup_error.subs(P.r, r)
    third, fifth = sp.Rational(1, 3), sp.Rational(1, 5)
    for values in ({P.a_plus: 3 * fifth / 2, P.a_minus: -fifth, P.w: fifth / 4 * 5},
                   {P.a_plus: -7 * fifth / 2, P.a_minus: third, P.w: 0},
                   {P.a_plus: 1, P.a_minus: 1, P.w: 1}):  # fmt: skip
        if sp.simplify((derived - stated).subs(values)) != 0:
            raise AssertionError(
                f"{STEP}: GADGET_SUP_ERROR != r max(|A+ - w|, |A- - w|) at {values}"
            )
    print(
        f"verified: {STEP}: g_S - w x = x(A+ - w) for x > 0, x(A- - w) for x < 0; "
        "sup = r max(|A+ - w|, |A- - w|)"
    )


def test_gadget_sup_error():
    check_gadget_sup_error()


def test_gadget_sup_error_detects_mutation():
    with pytest.raises(AssertionError, match=STEP):  # swapped branches
        check_gadget_sup_error(positive_branch=P.GADGET_NEGATIVE_BRANCH)
    with pytest.raises(AssertionError, match=STEP):  # a bound missing the negative branch
        check_gadget_sup_error(sup_error=P.r * sp.Abs(P.a_plus - P.w))

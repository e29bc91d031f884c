"""Step: GD and SGD from x_0 end at pinv(A) b + (I - pinv(A) A) x_0, the min-norm solution
from zero.

Source: the row-space argument (Zhang et al., ICLR 2017, Sec. 5; Gunasekar et al., NeurIPS
2017); ``theorylab.theory.min_norm.min_norm_limit``.

Derivation: every (stochastic) gradient A_B^T (A_B x - b_B) is a combination of rows of A, so
(I - P)(x_k - x_0) = 0 with P = pinv(A) A the projector on row(A) (P symmetric idempotent,
(I - P) A^T = 0). A limit that interpolates, A x = b, in x_0 + row(A) is unique (row(A) and
null(A) meet only at 0) and equals x_lim = pinv(A) b + (I - P) x_0 (A pinv(A) b = b for
consistent b). For x_0 = 0, x_lim = pinv(A) b lies in row(A), orthogonal to null(A), so every
other solution x_lim + n (A n = 0) has ||x_lim + n||^2 = ||x_lim||^2 + ||n||^2: minimum norm.

What is checked, exactly in rationals (sympy's pinv) on a full-row-rank 2 x 4 and a rank-2
3 x 4 system: P symmetric idempotent and (I - P) A^T = 0; the exact x_lim interpolates, stays
in x_0 + row(A) and is orthogonal to null(A) for x_0 = 0; and the numeric
``min_norm_limit`` (the code's SVD formula) against it to 1e-12.
"""

from __future__ import annotations

import sympy as sp
import torch

from theorylab.theory import min_norm

STEP = "min_norm_limit"
SYSTEMS = [
    (sp.Matrix([[1, 2, 0, -1], [0, 1, 3, 1]]), sp.Matrix([1, -2, 0, 3])),
    (sp.Matrix([[1, 0, 2, 1], [0, 1, 1, -1], [1, 1, 3, 0]]), sp.Matrix([2, 1, -1, 1])),
]
X0 = sp.Matrix([sp.Rational(1, 2), -1, 2, sp.Rational(1, 3)])


def check_min_norm_limit(limit=min_norm.min_norm_limit):
    """Verify the invariant, the limit and its minimality; compare ``limit`` with it."""
    for A, x_planted in SYSTEMS:
        b = A * x_planted  # consistent
        pinv = A.pinv()
        P = pinv * A
        eye = sp.eye(A.shape[1])
        assert P == P.T and P * P == P, f"{STEP}: pinv(A) A is not a symmetric projector"
        assert (eye - P) * A.T == sp.zeros(*A.T.shape), f"{STEP}: gradients leave row(A)"
        x_lim = pinv * b + (eye - P) * X0
        assert A * x_lim == b, f"{STEP}: x_lim does not solve A x = b"
        assert (eye - P) * (x_lim - X0) == sp.zeros(A.shape[1], 1), (
            f"{STEP}: x_lim - x_0 leaves row(A)"
        )
        x_min = pinv * b
        for n_vec in A.nullspace():
            assert (x_min.T * n_vec)[0] == 0, f"{STEP}: pinv(A) b is not orthogonal to null(A)"
        numeric = limit(
            torch.tensor(A.tolist(), dtype=torch.float64).reshape(A.shape),
            torch.tensor([float(v) for v in b], dtype=torch.float64),
            torch.tensor([float(v) for v in X0], dtype=torch.float64),
        )
        exact = torch.tensor([float(v) for v in x_lim], dtype=torch.float64)
        error = float((numeric - exact).abs().max())
        assert error < 1e-12, f"{STEP}: min_norm_limit is off by {error:.3g} on {A.shape}"
    print(
        f"verified: {STEP}: gradients stay in row(A); x_lim = pinv(A) b + (I - pinv(A)A) x_0 "
        f"interpolates and is minimal from 0 (exact on {len(SYSTEMS)} systems)"
    )


def test_min_norm_limit():
    check_min_norm_limit()


def test_min_norm_limit_detects_mutation():
    import pytest

    def without_projection(A, b, x0):  # forgets to remove x_0's row-space part
        return torch.linalg.pinv(A) @ b + x0

    with pytest.raises(AssertionError, match=STEP):
        check_min_norm_limit(limit=without_projection)

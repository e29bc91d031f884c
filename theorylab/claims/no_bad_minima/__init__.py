"""no_bad_minima: over-parameterized nets have no bad differentiable local minima; exact-size
nets do (Soudry & Carmon 2016; Nguyen & Hein 2017; Safran & Shamir 2018).

Statements:

- Soudry & Carmon (arXiv 1605.08361, one hidden layer): leaky ReLU with a fixed dropout-like
  multiplicative noise realisation, single output, quadratic loss. If N <= d0 d1, then for
  almost every data set and noise every *differentiable* local minimum has zero training error.
- Nguyen & Hein (ICML 2017, main result of Sec. 3 with k = 1): analytic strictly increasing
  activation, n_1 >= N, pyramidal after layer 1: a critical point with rank(F_1) = N and
  full-column-rank W_l (l >= 3) is a global minimum.
- Safran & Shamir (ICML 2018): for the teacher-student ReLU net sum_j relu(w_j.x) with
  x ~ N(0, I) and an orthonormal teacher of k units, the population loss has spurious local
  minima, found by GD from random initialisation more and more often for k >= 6 when the
  student has exactly k units; over-parameterized students find them far less often.

Setting (all runs of one width trained as one batched computation, float64):

1. Soudry & Carmon: per run, X (N x d0) ~ N(0, I), random labels y ~ N(0, 1), noise
   eps_nr ~ N(1, noise_std^2) (Gaussian dropout, continuous as the theorem needs), widths
   d1 = round(f N / d0) for f in ``width_factors``; init W ~ N(0, 1/d0), z ~ N(0, 1/d1); mean
   loss L = 1/(2N) ||f - y||^2; L-BFGS until ||grad L||_2 <= grad_tol or max_iters.
2. Nguyen & Hein: same kind of data, widths d0 -> n1 -> n2 -> 1 with biases, tanh (or
   softplus), Glorot-normal init, the same mean loss and optimiser.
3. Safran & Shamir: teacher V = first k rows of I_d, students of width f k for f in
   ``student_factors``, init w ~ N(0, I/d), the exact population loss
   1/2 E_x[(f_W(x) - f_V(x))^2] (arc-cosine kernel), L-BFGS to population_grad_tol.

Measurement: per run the final loss, gradient norm, optimiser status (converged / stalled /
iteration budget / non-finite: not-converged runs are counted apart from minima), the dense
Hessian's smallest eigenvalue (torch.func), the distance to the nearest kink, and the ranks
the theorems name (SVD with relative tolerance rank_rtol).

Comparisons (:mod:`.soudry`, :mod:`.nguyen`, :mod:`.safran`; power labels and mutants in
docs/claims/no_bad_minima.md): zero counterexamples to each theorem among the runs that
satisfy its hypotheses; interpolation at d0 d1 >= 2N; no interpolation below the parameter
count or outside the regime N <= d0 d1; the proofs' mechanisms as exact identities (the
gradient in the first-layer weights is G^T (f - y) / N with the Khatri-Rao design G; the
gradient in W_2 is F_1^T Delta_2 / N) and the residual certificates they give (with slack);
and the contrast: certified spurious minima (gradient <= tol, lambda_min >= -hess_tol ||H||,
loss > tol) at student width k, none at the widest student.

Speed: every width of the Soudry-Carmon ladder is optimised in one batched L-BFGS (narrower
networks padded with all-zero units, which stay zero), with a closed-form gradient; dense
Hessians come from the curvature engine's batched double-backward products.

Negative control: ``--student-factors 1`` makes the widest student exact-size; the
"no_spurious_minima_wide" statement then sees the spurious minima and is violated.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import UsageError
from ...registry import Claim, Comparison, Mutant, param, parse_list
from ...report import Hypothesis
from .common import HESSIAN_MEMORY, L_BFGS_HISTORY

# Safran & Shamir report spurious minima becoming common from k = 6 teacher units.
SPURIOUS_TEACHER_MIN = 6
SMOOTH_ACTIVATIONS = ("softplus", "tanh")  # theorylab.nets.shallow.SMOOTH_ACTIVATIONS


def _factors(text: str, name: str) -> tuple[float, ...]:
    """A comma-separated list of distinct positive numbers, sorted."""
    return tuple(sorted(parse_list(name, text, float, above=0)))


@dataclass(frozen=True)
class Params:
    n: int = param(60, "training points N (Soudry-Carmon and Nguyen-Hein nets)", 2, 2000)
    d0: int = param(6, "input dimension d0", minimum=1, maximum=1000)
    seeds: int = param(16, "independent runs per width (data, noise, init)", 1, 4096)
    width_factors: str = param(
        "0.5,1,1.5,2",
        "Soudry-Carmon hidden widths d1 = round(f N/d0) for these f (the regime is f >= 1)",
    )
    leak: float = param(0.1, "leaky-ReLU negative slope (0 = ReLU)", minimum=0.0, maximum=0.99)
    noise_std: float = param(
        0.5, "std of the multiplicative noise eps ~ N(1, s^2) (0 = no noise)", 0.0, 10.0
    )
    nh_first_width: int | None = param(
        None, "Nguyen-Hein first hidden width n1 (default N)", minimum=1, maximum=100000
    )
    nh_second_width: int | None = param(
        None, "Nguyen-Hein second hidden width n2 (default d0)", minimum=1, maximum=100000
    )
    activation: str = param(
        "tanh", "Nguyen-Hein activation (analytic, strictly increasing)",
        choices=SMOOTH_ACTIVATIONS,
    )  # fmt: skip
    teacher_units: int = param(10, "teacher width k (Safran-Shamir)", minimum=1, maximum=256)
    teacher_dim: int | None = param(
        None, "teacher-student input dimension d (default k)", minimum=1, maximum=1024
    )
    student_factors: str = param(
        "1,2,4", "student widths f k for these integers f (smallest must be 1)"
    )
    grad_tol: float = param(
        1e-8, "convergence: ||grad L||_2 <= this (mean loss, Soudry-Carmon and Nguyen-Hein)",
        minimum=1e-14, maximum=1e-2,
    )  # fmt: skip
    population_grad_tol: float = param(
        1e-6, "convergence on the teacher-student population loss", minimum=1e-13, maximum=1e-2
    )
    max_iters: int = param(1500, "L-BFGS iteration budget per run", minimum=1, maximum=10**6)
    zero_tol: float = param(
        1e-8, "zero training error: ||f-y||^2/||y||^2 <= this", minimum=1e-14, maximum=1e-1
    )
    spurious_tol: float = param(
        1e-8, "a teacher-student critical point with population loss above this is spurious",
        minimum=1e-14, maximum=1.0,
    )  # fmt: skip
    kink_tol: float = param(
        1e-6, "differentiable: every |w_r.x_n|/(||w_r|| ||x_n||) > this", minimum=0.0, maximum=0.1
    )
    hess_tol: float = param(
        1e-6, "local minimum: lambda_min(H) >= -this * ||H||_2", minimum=0.0, maximum=0.1
    )
    rank_rtol: float = param(
        1e-10, "numerical rank: singular values > this * the largest", minimum=1e-15, maximum=0.1
    )

    @property
    def widths(self) -> list[int]:
        factors = _factors(self.width_factors, "width_factors")
        return sorted({max(1, round(f * self.n / self.d0)) for f in factors})

    @property
    def nh_widths(self) -> tuple[int, int]:
        return (self.nh_first_width or self.n, self.nh_second_width or self.d0)

    @property
    def ts_dim(self) -> int:
        return self.teacher_dim or self.teacher_units

    @property
    def student_widths(self) -> list[int]:
        factors = _factors(self.student_factors, "student_factors")
        if any(not f.is_integer() for f in factors) or factors[0] != 1:
            raise UsageError(
                f"student_factors must be integers starting at 1, got {self.student_factors!r}"
            )
        return [int(f) * self.teacher_units for f in factors]

    def validate(self) -> None:
        widths = self.widths
        if not any(w * (self.d0 + 1) < self.n for w in widths):  # below the parameter count
            raise UsageError(
                f"width_factors {self.width_factors!r} give widths {widths}: none has "
                f"d1(d0+1) < N = {self.n} (needed by parameter_count_floor); add a smaller factor"
            )
        if not any(self.d0 * w >= 2 * self.n for w in widths):
            raise UsageError(
                f"width_factors {self.width_factors!r} give widths {widths}: none has "
                f"d0 d1 >= 2N = {2 * self.n} (needed by soudry_carmon_interpolation); add f >= 2"
            )
        n1, n2 = self.nh_widths
        if n2 > n1:
            raise UsageError(f"Nguyen-Hein widths must be pyramidal (n1 >= n2), got {n1}, {n2}")
        if self.teacher_dim is not None and self.teacher_dim < self.teacher_units:
            raise UsageError(
                f"teacher_dim {self.teacher_dim} < teacher_units {self.teacher_units}: the "
                "orthonormal teacher needs d >= k"
            )
        self.student_widths  # noqa: B018 (validates student_factors)


def estimate_bytes(p: Params) -> float:
    """Peak memory: the largest batch's optimiser state, forward intermediates and Hessians
    (the Soudry-Carmon ladder is one batch of every width, padded to the widest)."""
    S, N, d0 = p.seeds, p.n, p.d0
    widths = p.widths
    D, P_max = max(widths), max(widths) * (d0 + 1)
    rows = len(widths) * S
    peaks = [rows * (2 * L_BFGS_HISTORY * P_max + 12 * N * D) + S * 2 * P_max * P_max
             + HESSIAN_MEMORY]  # fmt: skip
    n1, n2 = p.nh_widths
    P_nh = d0 * n1 + n1 + n1 * n2 + 2 * n2 + 1
    peaks.append(S * (2 * L_BFGS_HISTORY * P_nh + 12 * N * (n1 + n2) + N * n1))
    k, d = p.teacher_units, p.ts_dim
    for m in p.student_widths:
        P = m * d
        peaks.append(S * (2 * L_BFGS_HISTORY * P + 12 * m * (m + k) * d + 2 * P * P))
        peaks[-1] += HESSIAN_MEMORY
    return 8.0 * max(peaks) + 8.0 * S * N * (d0 * 4 + D * d0 * len(widths))


def preconditions(p: Params) -> list[Hypothesis]:
    """The contrast needs a teacher wide enough for spurious minima to be common."""
    k = p.teacher_units
    return [
        Hypothesis(
            "spurious_teacher_width",
            f"teacher width k >= {SPURIOUS_TEACHER_MIN} (where Safran & Shamir find spurious "
            "minima common; below it the contrast can be empty by chance)",
            k >= SPURIOUS_TEACHER_MIN, f"k = {k}, d = {p.ts_dim}", required=True,
        )
    ]  # fmt: skip


@dataclass
class NoBadMinimaMeasurement:
    soudry: list  # soudry.SoudryWidth per hidden width
    nguyen: object  # nguyen.NguyenRun
    safran: list  # safran.StudentWidth per student width
    eps: float = 2.0**-52  # machine epsilon of the run's dtype (the identities' rounding)


def simulate(p: Params, ctx) -> NoBadMinimaMeasurement:
    """The three sub-experiments (independent: each draws from its own streams), Soudry &
    Carmon's in one lane and the two others in a second (:func:`run_in_lanes`)."""
    import torch

    from ...runtime import run_in_lanes
    from . import nguyen, safran, soudry

    lanes = run_in_lanes({
        "soudry": lambda: soudry.measure(p, ctx),
        "others": lambda: (nguyen.measure(p, ctx), safran.measure(p, ctx)),
    })  # fmt: skip
    eps = torch.finfo(ctx.torch_dtype).eps
    return NoBadMinimaMeasurement(lanes["soudry"], *lanes["others"], eps)


def compare(m: NoBadMinimaMeasurement, p: Params) -> Comparison:
    """The three sub-experiments' statements, in order (pure)."""
    from . import nguyen, safran, soudry

    out = Comparison(statements=[])
    soudry.compare(p, m.soudry, out, m.eps)
    nguyen.compare(p, m.nguyen, out, m.eps)
    safran.compare(p, m.safran, out)
    return out


# Mutants: planted mistakes in the theory the check must catch -----------------------------------


def _regime_sum(n_samples, input_dim, width):
    return n_samples <= input_dim + width


def _regime_doubled(n_samples, input_dim, width):
    return n_samples <= 2 * input_dim * width


def _residual_bound_without_n(n_samples, grad_w_norm, sigma_n):
    return grad_w_norm / sigma_n


def _weight_gradient_sum_loss(design, residual, n_samples):
    import numpy as np

    return np.einsum("...np,...n->...p", design, residual)


def _gradient_w2_sum_loss(features, delta2, n_samples):
    import numpy as np

    return np.swapaxes(features, -1, -2) @ delta2


_SC = "theorylab.theory.soudry2016."
MUTANTS = (
    Mutant("regime_sum", "the over-parameterization condition N <= d0 + d1 (not d0 d1)",
           {_SC + "in_regime": _regime_sum}),
    Mutant("regime_doubled", "the condition N <= 2 d0 d1 (a factor 2 too generous)",
           {_SC + "in_regime": _regime_doubled}),
    Mutant("certificate_without_n", "||f - y|| <= ||grad_W L|| / sigma_N(G) (the factor N of "
           "the mean loss dropped)", {_SC + "residual_bound": _residual_bound_without_n}),
    Mutant("mechanism_sum_loss", "grad_W L = G^T (f - y) (the sum loss's gradient for the mean "
           "loss)", {_SC + "weight_gradient": _weight_gradient_sum_loss}),
    Mutant("nguyen_hein_mechanism_sum_loss", "grad_W2 L = F_1^T Delta_2 (the 1/N of the mean "
           "loss dropped)", {"theorylab.claims.no_bad_minima.nguyen.backprop_gradient_w2":
                             _gradient_w2_sum_loss}),
)  # fmt: skip

# N = 12 points in d0 = 3 dimensions: widths 2, 4, 6, 8 (d0 d1 / N = 0.5 ... 2); teacher of
# k = 10 units (spurious minima in ~1/3 of runs at student width k).
QUICK = dict(n=12, d0=3, seeds=6, student_factors="1,2", max_iters=600)

CLAIM = Claim(
    name="no_bad_minima",
    summary="over-parameterized nets have no bad differentiable local minima; exact-size "
    "teacher-student nets do (Soudry & Carmon 2016; Nguyen & Hein 2017; Safran & Shamir 2018)",
    params=Params,
    simulate=simulate,
    compare=compare,
    preconditions=preconditions,
    estimate_bytes=estimate_bytes,
    mutants=MUTANTS,
    quick=QUICK,
    negative_control={"student_factors": "1"},
    citation="Soudry & Carmon (arXiv 2016); Nguyen & Hein (ICML 2017); Safran & Shamir (ICML 2018)",
)

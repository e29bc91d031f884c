"""sgd_stability: sharpness and non-uniformity decide which global minima GD and SGD can stay in.

Statement (Wu, Ma & E, NeurIPS 2018, linear stability analysis): for f = (1/n) sum_i f_i with
f_i >= 0 and an interpolating global minimum x* (f_i(x*) = 0), SGD with step eta and batches of
B drawn uniformly without replacement is linearly (mean-square) stable at x* iff the spectral
radius of the second-moment operator

    T = (I - eta H) (x) (I - eta H) + eta^2 c_B (S2 - H (x) H),   c_B = (n - B) / (B (n - 1)),

is at most 1 (H = mean H_i, S2 = mean H_i (x) H_i); in one dimension this is
(1 - eta a)^2 + eta^2 c_B s^2 <= 1, which forces a <= 2/eta and s <= sqrt(B (n-1)/(n-B)) / eta
(a = lambda_max(H) the sharpness, s = sqrt(lambda_max(mean H_i^2 - H^2)) the non-uniformity).
So GD (B = n) can only converge to minima with a <= 2/eta, SGD only to minima that are also
uniform enough, and a GD minimum that violates the SGD condition is left when SGD starts there.
Cohen, Kaur, Li, Kolter, Talwalkar (ICLR 2021) add the dynamics: full-batch GD sharpens
progressively until a reaches 2/eta and then stays at the edge of stability while the loss
keeps decreasing.

Setting: the *mean* loss L = (1/n) sum_i 1/2 (f(x_i) - y_i)^2 (GD/SGD differentiate it and the
Hessian is its Hessian; the sum loss would multiply a and s by n). A smooth MLP
(:mod:`theorylab.nets.mlp`, tanh by default, P > n parameters) on n points of the unit sphere
with labels y ~ N(0, 1), trained from one initialisation by GD on a ladder of step sizes
eta/2^(rungs-1), ..., eta and by SGD at step eta on the batch ladder B, 2B, 4B, ... < n; all
runs in one batched loop until the loss is below ``loss_tol`` (a global minimum: the net
interpolates). At an interpolating minimum H_i = grad f(x_i) grad f(x_i)^T (Gauss-Newton,
exact there); the report checks the Lanczos sharpness of the full Hessian against it.

Measurement (:mod:`.engine`) and comparison (:mod:`.statements`); each statement's text
names its source; docs/claims/sgd_stability.md lists them with their power labels and the
mutants the check catches. The mean-square statements simulate SGD on the Gauss-Newton
quadratic of a found minimum (where the linearisation is exact), many runs at once.
Mean-square stability is a property of the ensemble; a single converged run only shows its
own trajectory contracted, so rho(T) at found SGD minima is compared with a stated
tolerance (SPECTRAL_RADIUS_TOL).
Hypotheses reported: over-parameterization P >= n, global minima reached (a run that did not
reach one stops the check as inconclusive: it is never measured as a minimum), Gauss-Newton
agreement at the minima, and the edge-of-stability run starting below 2/eta.

Negative controls: ``theory="gd"`` swaps c_B for the GD value 0 in T (it ignores SGD noise);
mean_square_prediction and mean_square_verdicts then report violations (exit 1). The statement
sharp_minimum_control starts GD at a minimum with a > 2/eta and measures the predicted
instability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...errors import UsageError
from ...registry import Claim, Comparison, Mutant, param

# The smooth activations of theorylab.nets.mlp (named here so --help needs no torch).
ACTIVATIONS = ("tanh", "softplus", "sigmoid")
MAX_PARAMS = 200_000
# Step sizes of the mean-square grid per batch size (engine.GRID_ETA_FACTORS).
GRID_POINTS_PER_BATCH = 4
# Small settings for tests and the power audit (a few seconds on two cores): see
# docs/claims/sgd_stability.md for what each reduction costs.
QUICK = dict(eos_steps=3600, runs=2000, escape_steps=200)


@dataclass(frozen=True)
class Params:
    n: int = param(16, "training points, uniform on the unit sphere, labels y ~ N(0,1)",
                   minimum=4, maximum=256)  # fmt: skip
    d: int = param(8, "input dimension", minimum=1, maximum=256)
    width: int = param(32, "hidden units per layer of the MLP", minimum=2, maximum=1024)
    depth: int = param(1, "hidden layers of the MLP", minimum=1, maximum=4)
    activation: str = param("tanh", "smooth activation", choices=ACTIVATIONS)
    eta: float = param(
        0.3, "SGD step size of the batch-size ladder (also the largest GD step of the GD ladder)"
    )
    batch_size: int = param(
        2, "smallest batch B of the ladder B, 2B, 4B, ... < n (plus n = GD); escape uses it",
        minimum=1,
    )  # fmt: skip
    gd_rungs: int = param(3, "GD step sizes eta/2^(rungs-1), ..., eta/2, eta", minimum=1,
                          maximum=8)  # fmt: skip
    max_steps: int = param(12000, "step budget to reach a global minimum (loss <= loss_tol)",
                           minimum=10, maximum=10**6)  # fmt: skip
    loss_tol: float = param(
        1e-9, "mean loss (1/n) sum 1/2 (f-y)^2 at which a run counts as a global minimum",
        minimum=1e-30, maximum=1e-3,
    )  # fmt: skip
    runs: int = param(4000, "Monte-Carlo SGD runs per (eta, B) grid point (mean_square_prediction)",
                      minimum=100, maximum=10**6)  # fmt: skip
    ms_steps: int = param(10, "SGD steps over which the mean-square growth rate is measured",
                          minimum=1, maximum=1000)  # fmt: skip
    escape_steps: int = param(400, "SGD steps from the perturbed minimum in escape",
                              minimum=10, maximum=10**5)  # fmt: skip
    eos_eta: float = param(0.1, "GD step of the edge-of-stability run (Cohen et al.: 2/eta = 20)")
    eos_steps: int = param(6000, "GD steps of the edge-of-stability run", minimum=100,
                           maximum=10**6)  # fmt: skip
    theory: str = param(
        "wu2018",
        "c_B in the second-moment operator: wu2018 = (n-B)/(B(n-1)); gd = 0 (negative control: "
        "ignores SGD noise, mean_square_prediction must fail)",
        choices=("wu2018", "gd"),
    )

    @property
    def ladder(self) -> list[int]:
        """Batch sizes B, 2B, 4B, ... below n, then n (GD at the same eta)."""
        sizes, b = [], self.batch_size
        while b < self.n:
            sizes.append(b)
            b *= 2
        return sizes + [self.n]

    @property
    def gd_etas(self) -> list[float]:
        return [self.eta / 2**j for j in range(self.gd_rungs - 1, -1, -1)]

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.d,) + (self.width,) * self.depth + (1,)

    @property
    def num_params(self) -> int:
        """sum over layers of (fan_in + 1) * fan_out (MLPSpec.num_params, without torch)."""
        return sum((a + 1) * b for a, b in zip(self.sizes[:-1], self.sizes[1:], strict=True))

    @property
    def spec(self):
        from ...nets.mlp import MLPSpec

        return MLPSpec(self.sizes, self.activation)

    def validate(self) -> None:
        for name in ("eta", "eos_eta"):
            value = getattr(self, name)
            if not value > 0:
                raise UsageError(f"{name} must be > 0, got {value}")
            if value > 100:
                raise UsageError(f"{name} must be <= 100, got {value}")
        if self.batch_size > self.n:
            raise UsageError(
                f"batch_size must be <= n = {self.n}, got {self.batch_size} (batches are drawn "
                "without replacement)"
            )
        if self.batch_size == self.n:
            raise UsageError(
                f"batch_size = n = {self.n} is GD: the SGD ladder needs batch_size < n "
                "(GD runs on the step-size ladder anyway)"
            )
        if self.num_params > MAX_PARAMS:
            raise UsageError(
                f"the MLP has {self.num_params} parameters; at most {MAX_PARAMS} are "
                "supported (the second-moment operator is built densely): lower --width or --depth"
            )


def estimate_bytes(p: Params) -> float:
    """Peak memory: batched training state, per-sample curvature products, the Monte-Carlo
    ensemble and the reduced (r^2 x r^2, r <= n) second-moment operators."""
    P, n = p.num_params, p.n
    networks = len(p.ladder) + p.gd_rungs
    training = networks * (6 * P + 4 * n * p.width * p.depth)
    curvature = 6 * n * P + n * n * p.width * p.depth
    grid = GRID_POINTS_PER_BATCH * len(p.ladder)
    monte_carlo = grid * p.runs * (3 * n + 4 * n)
    operator = 4 * grid * n**4
    return 8.0 * (training + curvature + monte_carlo + operator + n * P)


def simulate(p: Params, ctx):
    """Every measurement (:func:`.engine.measure`): the minima and their curvature, the
    enumerated batch second moments, the Monte-Carlo grid, the perturbation runs and the
    edge-of-stability run."""
    from . import engine, statements

    return engine.measure(p, ctx, statements.SPECTRAL_RADIUS_TOL)


def compare(measurement, p: Params) -> Comparison:
    """The statements of one measurement (:func:`.statements.compare`, pure)."""
    from . import statements

    return statements.compare(measurement, p)


# Mutants: planted mistakes in the theory the check must catch ----------------------------------


def _batch_factor_zero(n_value, batch):
    return 0.0


def _edge_one_over_eta(eta_value):
    return 1.0 / eta_value


def _edge_four_over_eta(eta_value):
    return 4.0 / eta_value


def _operator_without_batch_factor(sample_hessians, eta_value, c_b):
    """T with the noise term's factor c_B dropped (torch tensors (n, d, d) only)."""
    import torch

    H = sample_hessians.mean(dim=0)
    step = torch.eye(H.shape[0], dtype=H.dtype) - eta_value * H
    S2 = torch.stack([torch.kron(Hi, Hi) for Hi in sample_hessians]).mean(dim=0)
    return torch.kron(step, step) + eta_value**2 * (S2 - torch.kron(H, H))


def _nonuniformity_bound_without_batch_factor(eta_value, n_value, batch):
    return math.inf if batch >= n_value else 1.0 / eta_value


_WU = "theorylab.theory.wu2018."
MUTANTS = (
    Mutant("batch_factor_zero", "c_B = 0 in the second-moment operator and the sampling "
           "identity (SGD noise ignored: the GD value)",
           {_WU + "batch_factor": _batch_factor_zero}),
    Mutant("edge_one_over_eta", "the stability edge at 1/eta instead of 2/eta",
           {_WU + "sharpness_bound": _edge_one_over_eta}),
    Mutant("edge_four_over_eta", "the stability edge at 4/eta instead of 2/eta",
           {_WU + "sharpness_bound": _edge_four_over_eta}),
    Mutant("operator_without_batch_factor", "T = (I - eta H)(x)(I - eta H) + eta^2 (S2 - H(x)H): "
           "Sigma without the factor c_B", {_WU + "second_moment_operator":
                                            _operator_without_batch_factor}),
    Mutant("nonuniformity_bound_without_batch_factor", "s <= 1/eta instead of "
           "sqrt(B(n-1)/(n-B))/eta", {_WU + "nonuniformity_bound":
                                     _nonuniformity_bound_without_batch_factor}),
)  # fmt: skip

CLAIM = Claim(
    name="sgd_stability",
    summary="GD/SGD minima satisfy the linear-stability conditions on sharpness and "
    "non-uniformity; GD runs at the edge of stability (Wu, Ma & E 2018; Cohen et al. 2021)",
    params=Params,
    simulate=simulate,
    compare=compare,
    estimate_bytes=estimate_bytes,
    mutants=MUTANTS,
    quick=QUICK,
    negative_control={"theory": "gd"},
    citation="Wu, Ma & E (NeurIPS 2018); Cohen et al. (ICLR 2021)",
)

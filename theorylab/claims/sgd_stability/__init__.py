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

Measurement and comparison: see :func:`run`; each statement's text names its source. The
mean-square statements simulate SGD on the Gauss-Newton quadratic of a found minimum (where the
linearisation is exact), many runs at once. Mean-square stability is a property of the
ensemble; a single converged run only shows its own trajectory contracted, so rho(T) at found
SGD minima is compared with a stated tolerance (SPECTRAL_RADIUS_TOL).
Hypotheses reported: over-parameterization P >= n, global minima reached (a run that did not
reach one stops the check as inconclusive: it is never measured as a minimum), Gauss-Newton
agreement at the minima, and the edge-of-stability run starting below 2/eta.

Negative controls: ``theory="gd"`` swaps c_B for the GD value 0 in T (it ignores SGD noise);
mean_square_prediction and mean_square_verdicts then report violations (exit 1). The statement
sharp_minimum_control starts GD at a minimum with a > 2/eta and measures the predicted
instability.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass

import torch

from ..curvature import eigenpairs, nonuniformity, output_jacobian
from ..data import unit_sphere
from ..errors import Inconclusive, UsageError
from ..nets.mlp import (
    ACTIVATIONS,
    MLPSpec,
    forward,
    init_params,
    mean_hvp_fn,
    per_sample_hvp_fn,
    train,
    weighted_loss_and_gradient,
)
from ..registry import Claim, param
from ..report import Hypothesis, Report, Statement
from ..runtime import Context
from ..theory import cohen2021, wu2018

# GD minima are stable, so a <= 2/eta at the limit point; the final iterate has loss <=
# loss_tol, and its Hessian differs from the limit's by O(sqrt(loss_tol)) relative (1e-4 at
# the default), Lanczos adds 1e-10. 1% leaves room for a slowly converging last direction and
# is 50x tighter than the distance to the smallest ladder step's a*eta/2 (~0.5).
SHARPNESS_TOL = 0.01
# s <= sqrt(B(n-1)/(n-B))/eta is exact in 1-D only; in d > 1 the exact critical step can exceed
# it by a few percent (THEORY.md: 2-10% measured; Wu et al. present it as approximate).
NONUNIFORMITY_TOL = 0.10
# rho(T) <= 1 is *mean-square* stability, a property of the ensemble of SGD runs; one run that
# converged certifies only that its own trajectory contracted, and a.s. convergence tolerates a
# mean square that grows slowly (||e_t||^2 is a product of random factors whose mean exceeds
# its typical value). Measured rho(T) at converged SGD minima: 0.987..1.045 over seeds 0-5;
# the GD minima SGD escapes from have rho(T) = 1.44..2.16 for the smallest batch. 10% keeps
# the statement far below the escape cases.
SPECTRAL_RADIUS_TOL = 0.10
# mean_square_prediction: a grid point agrees when |rate - rho| <= Z * standard error (+ the
# float64 rounding of rho and the sampled initial covariance, 1e-9). Z = 6: 16 grid points,
# a Gaussian 6-sigma excursion anywhere has probability < 1e-7; at unstable points
# ||e_t||^2 is a product of random factors, so its sample standard error understates the
# spread somewhat (measured |z| up to ~4.3 over seeds with the correct theory; 10-60 with c_B=0).
MEAN_SQUARE_Z = 6.0
RATE_FLOOR = 1e-9
# Points whose measured late-window growth rate is within BOUNDARY_Z of its own Monte-Carlo
# standard errors of 1 are inside the boundary margin: the sample does not resolve the sign.
BOUNDARY_Z = 4.0
# The verdict horizon, in units of ms_steps (40 steps at the default).
VERDICT_FACTOR = 4
GRID_ETA_FACTORS = (0.5, 0.75, 1.0, 1.25)
# escape: "leaves" = median distance grows 10x (an order of magnitude) within escape_steps.
ESCAPE_FACTOR = 10.0
PERTURBATION = 1e-3
ESCAPE_RUNS = 8
# A perturbed run whose loss passes this has overflowed (left the minimum for good).
OVERFLOW_LOSS = 1e12
# sampling_identity: exact enumeration of every batch of a small instance (first few samples).
IDENTITY_SAMPLES = 10
IDENTITY_TOL = 1e-12
# Gauss-Newton agreement: |a_Hessian - a_GN| / a_GN at the minima.
GAUSS_NEWTON_TOL = 1e-3
RANK_TOL = 1e-10
LANCZOS_TOL = 1e-10
# Edge of stability (Cohen et al. 2021 Chebyshev setup): sharpness measured every EOS_EVERY
# steps; "arrival" when it first reaches (1 - EOS_ARRIVAL) 2/eta; afterwards it must stay
# within +-EOS_BAND of 2/eta. Measured: largest |a eta/2 - 1| after arrival 0.060..0.081 over
# seeds 0-5 (the sawtooth of GD at the edge: the sharpness overshoots by a few percent, a
# catapult drops it by ~6%; Cohen et al. Fig. 1 show the same few-percent oscillation). +-10%
# separates it from both a run that stays below the edge and one that leaves it.
EOS_EVERY = 50
EOS_ARRIVAL = 0.05
EOS_BAND = 0.10
EOS_WIDTH = 100
EOS_POINTS = 20
# Init scale (std = scale / sqrt(fan_in)) of the edge-of-stability net: PyTorch's default
# (1/sqrt(3)) already starts at 2/eta = 20 on this data; 0.4 starts at ~2/3 of it, so the
# progressive sharpening phase is visible.
EOS_INIT_SCALE = 0.4
MAX_PARAMS = 200_000


@dataclass(frozen=True)
class Params:
    n: int = param(16, "training points, uniform on the unit sphere, labels y ~ N(0,1)",
                   minimum=4, maximum=256)  # fmt: skip
    d: int = param(8, "input dimension", minimum=1, maximum=256)
    width: int = param(32, "hidden units per layer of the MLP", minimum=2, maximum=1024)
    depth: int = param(1, "hidden layers of the MLP", minimum=1, maximum=4)
    activation: str = param("tanh", "smooth activation", choices=tuple(ACTIVATIONS))
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
    def spec(self) -> MLPSpec:
        return MLPSpec((self.d,) + (self.width,) * self.depth + (1,), self.activation)

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
        if self.spec.num_params > MAX_PARAMS:
            raise UsageError(
                f"the MLP has {self.spec.num_params} parameters; at most {MAX_PARAMS} are "
                "supported (the second-moment operator is built densely): lower --width or --depth"
            )


def estimate_bytes(p: Params) -> float:
    """Peak memory: batched training state, per-sample curvature products, the Monte-Carlo
    ensemble and the reduced (r^2 x r^2, r <= n) second-moment operators."""
    P, n = p.spec.num_params, p.n
    networks = len(p.ladder) + p.gd_rungs
    training = networks * (6 * P + 4 * n * p.width * p.depth)
    curvature = 6 * n * P + n * n * p.width * p.depth
    grid = len(GRID_ETA_FACTORS) * len(p.ladder)
    monte_carlo = grid * p.runs * (3 * n + 4 * n)
    operator = 4 * grid * n**4
    return 8.0 * (training + curvature + monte_carlo + operator + n * P)


# --------------------------------------------------------------------------------------------
# Measurement helpers
# --------------------------------------------------------------------------------------------


@dataclass
class Minimum:
    """A found minimum with its curvature (full Hessian by Lanczos; Gauss-Newton factors)."""

    label: str
    eta: float
    batch: int
    theta: torch.Tensor
    loss: float
    reached_at: int
    sharpness: float = math.nan
    s: float = math.nan
    factors: torch.Tensor | None = None  # (n, r): rows h_i with H_i = h_i h_i^T (reduced)
    gn_sharpness: float = math.nan
    products: int = 0


def gauss_newton_factors(spec: MLPSpec, theta: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Rows h_i = V_r^T grad f(x_i) in an orthonormal basis V_r of span{grad f(x_i)} (r <= n).

    At an interpolating minimum of the half-square loss, H_i = g_i g_i^T with g_i = grad f(x_i);
    in the basis V_r, H_i = h_i h_i^T and H = h^T h / n, with the same non-zero spectrum.
    Directions orthogonal to every g_i are flat for every H_i: SGD leaves them unchanged.
    """
    J = output_jacobian(lambda t, Z: forward(spec, t, Z), theta, X)  # (n, P)
    U, S, _ = torch.linalg.svd(J.to("cpu", torch.float64), full_matrices=False)
    rank = int((S > RANK_TOL * S[0]).sum())
    return U[:, :rank] * S[:rank]  # small (n x r): kept on the CPU in float64


def sample_hessians(factors: torch.Tensor) -> torch.Tensor:
    """(n, r, r) reduced per-sample Hessians h_i h_i^T."""
    return factors[:, :, None] * factors[:, None, :]


def measure_curvature(spec, minimum: Minimum, X, y) -> None:
    """Sharpness (Lanczos, which="LA", on the full Hessian of the mean loss), non-uniformity s
    (Lanczos on Sigma, vmapped per-sample products) and the Gauss-Newton factors."""
    theta, P = minimum.theta, minimum.theta.numel()
    top = eigenpairs(mean_hvp_fn(spec, theta, X, y), P, tol=LANCZOS_TOL, like=theta)
    nu = nonuniformity(per_sample_hvp_fn(spec, theta, X, y), P, like=theta, tol=LANCZOS_TOL)
    minimum.sharpness, minimum.s = top.value, nu.s
    minimum.products = top.products + 2 * nu.eigen.products
    minimum.factors = gauss_newton_factors(spec, theta, X)
    H = minimum.factors.T @ minimum.factors / X.shape[0]
    minimum.gn_sharpness = float(torch.linalg.eigvalsh(H)[-1])


def batch_factor_for(theory: str):
    """c_B as the theory under test states it: Wu et al.'s, or 0 (the GD value; control)."""
    if theory == "gd":
        return lambda n_value, batch: 0.0
    return wu2018.batch_factor


def operator_radius(factors, eta, batch, n, c_b_fn) -> tuple[float, torch.Tensor]:
    """rho(T) and the Perron eigenmatrix of T (r x r, PSD, unit trace) at (eta, B)."""
    T = wu2018.second_moment_operator(sample_hessians(factors), eta, c_b_fn(n, batch))
    values, vectors = torch.linalg.eigh(0.5 * (T + T.T))
    j = int(values.abs().argmax())
    r = factors.shape[1]
    M = vectors[:, j].reshape(r, r)
    M = 0.5 * (M + M.T)
    M = M * (1.0 if float(torch.trace(M)) >= 0 else -1.0)
    w, V = torch.linalg.eigh(M)
    w = w.clamp_min(0.0)  # the Perron matrix of a PSD-cone-preserving T is PSD (up to rounding)
    return float(values.abs().max()), (V * w) @ V.T / w.sum()


def simulate_second_moment(factors, etas, batches, covariances, runs, steps, generator,
                           checkpoint):  # fmt: skip
    """SGD on the Gauss-Newton quadratic in the reduced coordinates, all grid points and runs
    at once: e_{t+1} = e_t - eta (1/B) sum_{i in batch} h_i (h_i . e_t), e_0 ~ N(0, M_g).

    Returns (growth, stderr, late, late_stderr): growth[t, g] = mean_runs ||e_t||^2 /
    mean_runs ||e_0||^2 for t = 0..steps with the delta-method standard error of that ratio at
    ``checkpoint``; and the ratio mean ||e_steps||^2 / mean ||e_{steps//2}||^2 with its
    standard error (the late-window growth).
    """
    G, (n, r) = len(etas), factors.shape
    eta_t = torch.tensor(etas, dtype=torch.float64)[:, None, None]
    size_t = torch.tensor(batches)[:, None, None]
    roots = []
    for M in covariances:
        w, V = torch.linalg.eigh(M)
        roots.append(V * w.clamp_min(0).sqrt())
    z = torch.randn(G, runs, r, generator=generator, dtype=torch.float64)
    e = torch.einsum("gij,grj->gri", torch.stack(roots), z)
    start = e.pow(2).sum(-1)
    growth, mid = [torch.ones(G, dtype=torch.float64)], start

    def ratio_and_stderr(num, den):
        ratio = num.mean(-1) / den.mean(-1)
        return ratio, (num - ratio[:, None] * den).std(-1) / (runs**0.5 * den.mean(-1))

    for t in range(1, steps + 1):
        ranks = torch.rand(G, runs, n, generator=generator, dtype=torch.float64).argsort(-1)
        mask = (ranks.argsort(-1) < size_t).to(torch.float64) / size_t
        e = e - eta_t * ((e @ factors.T) * mask) @ factors
        current = e.pow(2).sum(-1)
        growth.append(current.mean(-1) / start.mean(-1))
        if t == checkpoint:
            _, stderr = ratio_and_stderr(current, start)
        if t == steps // 2:
            mid = current
    late, late_stderr = ratio_and_stderr(current, mid)
    return torch.stack(growth), stderr, late, late_stderr


def perturbation_growth(spec, theta, X, y, eta, batch, steps, ctx, stream):
    """SGD (eta, batch) from theta* + PERTURBATION * (unit random direction), ESCAPE_RUNS runs
    at once. Returns the median over runs of max_t ||theta_t - theta*|| / ||theta_0 - theta*||
    (a run whose loss passes OVERFLOW_LOSS is frozen there: it has left by any measure, and its
    ratio is already huge), and the final parameters of the run that moved farthest without
    overflowing (None if every run overflowed)."""
    gen = ctx.generator(stream)
    n = X.shape[0]
    direction = torch.randn(ESCAPE_RUNS, theta.numel(), generator=gen, dtype=torch.float64)
    current = theta[None, :] + PERTURBATION * ctx.to(direction / direction.norm(dim=1)[:, None])
    worst = torch.ones(ESCAPE_RUNS, dtype=torch.float64)
    alive = torch.ones(ESCAPE_RUNS, dtype=torch.bool)
    for _ in range(steps):
        ranks = torch.rand(ESCAPE_RUNS, n, generator=gen, dtype=torch.float64).argsort(1)
        weights = ctx.to((ranks.argsort(1) < batch).to(torch.float64) / batch)
        _, gradient, residual = weighted_loss_and_gradient(spec, current, X, y, weights)
        loss = 0.5 * residual.pow(2).mean(-1).cpu()
        alive &= torch.isfinite(loss) & (loss < OVERFLOW_LOSS)
        step = torch.where(alive.to(current.device)[:, None], gradient, 0.0)
        current = current - eta * step
        distance = (current - theta[None, :]).norm(dim=1).to(torch.float64).cpu() / PERTURBATION
        # an overflowed run is frozen at its last iterate (loss >= OVERFLOW_LOSS, far away)
        worst = torch.where(alive, torch.maximum(worst, distance), worst)
    finite = [j for j in range(ESCAPE_RUNS) if bool(alive[j])]
    farthest = max(finite, key=lambda j: float(worst[j])) if finite else None
    return float(worst.median()), (current[farthest] if farthest is not None else None)


def run(p: Params, ctx: Context) -> Report:
    report = Report(
        claim="sgd_stability", params={}, seed=ctx.seed, device=ctx.device, dtype=ctx.dtype
    )
    spec = p.spec
    ds = unit_sphere(p.n, p.d, ctx)
    X, y = ctx.to(ds.X), ctx.to(ds.y)
    n = p.n
    q = report.quantities
    q.update(n=n, d=p.d, params=spec.num_params, eta=p.eta, loss="mean: (1/n) sum 1/2 (f-y)^2")
    report.hypotheses.append(
        Hypothesis(
            "over_parameterized", "P >= n parameters (interpolating minima exist generically)",
            spec.num_params >= n, f"P = {spec.num_params}, n = {n}",
        )
    )  # fmt: skip

    # Measurement 1: one initialisation, GD on the step ladder and SGD on the batch ladder,
    # all trained together until every run is at a global minimum.
    theta0 = init_params(spec, ctx, "init")
    runs = [("gd", e, n) for e in p.gd_etas] + [("sgd", p.eta, b) for b in p.ladder[:-1]]
    etas = ctx.to(torch.tensor([r[1] for r in runs], dtype=torch.float64))
    trained = train(
        spec, theta0.expand(len(runs), -1), X, y, etas, [r[2] for r in runs], p.max_steps,
        ctx.generator("batches"), loss_tol=p.loss_tol, record_every=max(1, p.max_steps // 200),
    )  # fmt: skip
    final_loss = trained.loss[-1]
    minima = []
    for g, (kind, eta, batch) in enumerate(runs):
        minima.append(
            Minimum(
                f"{kind} eta={eta:.4g} B={batch}",
                eta,
                batch,
                trained.theta[g],
                float(final_loss[g]),
                trained.reached_at[g],
            )  # fmt: skip
        )
    missed = [f"{m.label} (loss {m.loss:.3g})" for m in minima if m.reached_at < 0]
    if missed:
        # The theorem speaks about global minima: a run that is not at one is never measured
        # as if it were (SGD with a tiny batch can also stall at a flat non-interpolating point).
        raise Inconclusive(
            f"not at a global minimum (mean loss <= loss_tol = {p.loss_tol:g}) after "
            f"{p.max_steps} steps: {'; '.join(missed)}; raise --max-steps or lower --eta",
            step=p.max_steps,
        )
    report.hypotheses.append(
        Hypothesis(
            "global_minima_reached",
            f"every GD/SGD run reached mean loss <= loss_tol = {p.loss_tol:g} within max_steps",
            True, "steps: " + ", ".join(f"{m.label}: {m.reached_at}" for m in minima),
            required=True,
        )
    )  # fmt: skip
    for m in minima:
        measure_curvature(spec, m, X, y)
    gn_gap = max(abs(m.sharpness - m.gn_sharpness) / m.gn_sharpness for m in minima)
    report.hypotheses.append(
        Hypothesis(
            "gauss_newton_exact",
            "at the found minima H = (1/n) sum_i g_i g_i^T (Gauss-Newton): |a_H - a_GN| / a_GN "
            f"<= {GAUSS_NEWTON_TOL:g}",
            bool(gn_gap <= GAUSS_NEWTON_TOL),
            f"largest relative gap {gn_gap:.3g} (the residual term is O(sqrt(loss)))",
        )
    )  # fmt: skip
    gd_minima = [m for m in minima if m.batch == n]
    sgd_minima = [m for m in minima if m.batch < n]
    gd_at_eta = gd_minima[-1]

    # Comparison 1: GD minima have a <= 2/eta (Wu et al. 2018; GD = the B = n case).
    report.statements.append(sharpness_statement(gd_minima, "gd_sharpness_bound"))

    # Comparison 2: SGD minima satisfy a <= 2/eta, s <= sqrt(B(n-1)/(n-B))/eta, rho(T) <= 1.
    c_b_fn = batch_factor_for(p.theory)
    report.statements.extend(sgd_condition_statements(sgd_minima, n, c_b_fn))

    # Comparison 3: the sampling identity by exact enumeration on a small instance.
    report.statements.append(sampling_identity_statement(gd_at_eta.factors, report))

    # Comparison 4: rho(T) against SGD simulated on the Gauss-Newton quadratic.
    report.statements.extend(
        mean_square_statements(gd_at_eta, p, n, c_b_fn, ctx.generator("mean_square"), report)
    )

    # Comparison 5: escape from a GD minimum that violates the SGD condition; controls.
    report.statements.extend(escape_statements(spec, gd_at_eta, sgd_minima, p, X, y, ctx, report))

    # Comparison 6: edge of stability on Cohen et al.'s Chebyshev problem.
    report.statements.extend(edge_of_stability_statements(p, ctx, report))

    q["minima"] = [
        {"label": m.label, "eta": m.eta, "batch": m.batch, "sharpness": m.sharpness, "s": m.s,
         "gn_sharpness": m.gn_sharpness, "loss": m.loss, "reached_at": m.reached_at,
         "sharpness_bound": wu2018.sharpness_bound(m.eta),
         "s_bound": wu2018.nonuniformity_bound(m.eta, n, m.batch), "lanczos_products": m.products}
        for m in minima
    ]  # fmt: skip
    report.series["training"] = {
        "step": trained.steps,
        "labels": [m.label for m in minima],
        "loss": trained.loss.to(torch.float64).cpu().T.tolist(),
    }
    return report


def sharpness_statement(minima: list[Minimum], name: str) -> Statement:
    """max over minima of a eta / 2 <= 1 + SHARPNESS_TOL (a <= (2/eta)(1 + tol))."""
    ratios = [m.sharpness / wu2018.sharpness_bound(m.eta) for m in minima]
    worst = max(range(len(minima)), key=lambda j: ratios[j])
    return Statement.at_most(
        name,
        f"max over minima of a*eta/2 <= 1 + {SHARPNESS_TOL:g}, i.e. a <= 2/eta (Wu et al. 2018 "
        "linear stability analysis; GD stability)",
        ratios[worst], 1.0 + SHARPNESS_TOL,
        detail="a*eta/2 = "
        + ", ".join(f"{m.label}: {r:.4f}" for m, r in zip(minima, ratios, strict=True)),
    )  # fmt: skip


def sgd_condition_statements(minima: list[Minimum], n: int, c_b_fn) -> list[Statement]:
    out = [sharpness_statement(minima, "sgd_conditions_sharpness")]
    ratios = [m.s / wu2018.nonuniformity_bound(m.eta, n, m.batch) for m in minima]
    worst = max(range(len(minima)), key=lambda j: ratios[j])
    out.append(
        Statement.at_most(
            "sgd_conditions_nonuniformity",
            f"max over SGD minima of s / (sqrt(B(n-1)/(n-B))/eta) <= 1 + {NONUNIFORMITY_TOL:g} "
            "(Wu et al. 2018; exact in 1-D, approximate in d > 1)",
            ratios[worst], 1.0 + NONUNIFORMITY_TOL,
            detail=", ".join(f"{m.label}: s={m.s:.4g}, ratio {r:.4f}"
                             for m, r in zip(minima, ratios, strict=True)),
        )
    )  # fmt: skip
    radii = [operator_radius(m.factors, m.eta, m.batch, n, c_b_fn)[0] for m in minima]
    worst = max(range(len(minima)), key=lambda j: radii[j])
    out.append(
        Statement.at_most(
            "sgd_conditions_exact",
            f"max over SGD minima of rho(T(eta, B)) <= 1 + {SPECTRAL_RADIUS_TOL:g} (the exact "
            "mean-square condition in any dimension; tolerance: one converged run is not an "
            "ensemble)",
            radii[worst], 1.0 + SPECTRAL_RADIUS_TOL,
            detail=", ".join(f"{m.label}: {r:.5f}" for m, r in zip(minima, radii, strict=True)),
        )
    )  # fmt: skip
    return out


def enumerate_batch_second_moment(hessians: torch.Tensor, batch: int) -> torch.Tensor:
    """E[H_B^2] over all C(n, B) batches, by exact enumeration (hessians (n, r, r))."""
    combos = torch.tensor(list(itertools.combinations(range(hessians.shape[0]), batch)))
    HB = hessians[combos].mean(dim=1)  # (C, r, r)
    return (HB @ HB).mean(dim=0)


def sampling_identity_statement(factors: torch.Tensor, report: Report) -> Statement:
    """max_B ||E_enum[H_B^2] - (H^2 + c_B Sigma)||_F / ||E_enum[H_B^2]||_F over B = 1..n_e."""
    hessians = sample_hessians(factors[:IDENTITY_SAMPLES])
    count = hessians.shape[0]
    H = hessians.mean(dim=0)
    sigma = (hessians @ hessians).mean(dim=0) - H @ H
    errors = []
    for batch in range(1, count + 1):
        exact = enumerate_batch_second_moment(hessians, batch)
        predicted = H @ H + wu2018.batch_factor(count, batch) * sigma
        errors.append(float((exact - predicted).norm() / exact.norm()))
    report.quantities["sampling_identity_errors"] = errors
    return Statement.at_most(
        "sampling_identity",
        "max_B ||E[H_B^2] - (H^2 + (n-B)/(B(n-1)) Sigma)||_F / ||E[H_B^2]||_F <= "
        f"{IDENTITY_TOL:g} (exact enumeration of all batches; Wu et al. 2018)",
        max(errors), IDENTITY_TOL,
        detail=f"n = {count} samples of the GD minimum at eta (per-sample Gauss-Newton H_i), "
        f"every B = 1..{count}, {2**count - 1} batches in all",
    )  # fmt: skip


def mean_square_statements(minimum, p: Params, n, c_b_fn, generator, report) -> list[Statement]:
    """Grid (eta, B): rho(T) (theory) vs the growth rate of SGD on the Gauss-Newton quadratic.

    Each grid point starts from covariance M_0 = the Perron eigenmatrix of T, for which the
    theory predicts E||e_t||^2 = rho(T)^t E||e_0||^2 exactly (no transient); the measured rate
    is (mean ||e_t||^2 / mean ||e_0||^2)^(1/t) over ``runs`` independent runs.
    """
    grid = [(f * p.eta, b) for f in GRID_ETA_FACTORS for b in p.ladder]
    radii, covariances = [], []
    for eta, batch in grid:
        rho, M = operator_radius(minimum.factors, eta, batch, n, c_b_fn)
        radii.append(rho)
        covariances.append(M)
    t, horizon = p.ms_steps, VERDICT_FACTOR * p.ms_steps
    growth, stderr, late, late_se = simulate_second_moment(
        minimum.factors, [g[0] for g in grid], [g[1] for g in grid], covariances, p.runs,
        horizon, generator, t,
    )  # fmt: skip
    ratio = growth[t]
    rates = ratio.clamp_min(0).pow(1.0 / t)
    rate_se = rates * stderr / (ratio.clamp_min(1e-300) * t)
    # Verdict: the growth rate over the second half of the long horizon. Whatever the start,
    # SGD noise feeds every direction of the range, so an unstable mode shows there even if the
    # theory under test chose a start that hides it (theory="gd" starts in its flattest mode).
    window = horizon - horizon // 2
    z, agree_outside, inside, rows = [], [], [], []
    for j, (eta, batch) in enumerate(grid):
        rate, se, rho = float(rates[j]), float(rate_se[j]), radii[j]
        z.append(abs(rate - rho) / (se + RATE_FLOOR * max(rho, 1.0)))
        q_late, q_se = float(late[j]), float(late_se[j])
        if math.isfinite(q_late) and q_late > 0:
            late_rate = q_late ** (1.0 / window)
            late_rate_se = late_rate * q_se / (q_late * window)
        else:  # overflowed: unstable by any measure
            late_rate, late_rate_se = math.inf, 0.0
        if abs(late_rate - 1.0) <= BOUNDARY_Z * late_rate_se + RATE_FLOOR:
            inside.append(f"(eta={eta:.4g}, B={batch})")
        else:
            agree_outside.append((rho > 1.0) == (late_rate > 1.0))
        rows.append({"eta": eta, "batch": batch, "rho": rho, "rate": rate, "rate_se": se,
                     "z": z[-1], "late_rate": late_rate, "late_rate_se": late_rate_se})  # fmt: skip
    report.series["mean_square"] = rows
    report.quantities["mean_square_boundary_points"] = inside
    worst = max(range(len(grid)), key=lambda j: z[j])
    disagreements = sum(1 for ok in agree_outside if not ok)
    theory = "c_B = (n-B)/(B(n-1))" if p.theory == "wu2018" else "c_B = 0 (GD control)"
    return [
        Statement.at_most(
            "mean_square_prediction",
            f"max over the (eta, B) grid of |rate - rho(T)| / MC stderr <= {MEAN_SQUARE_Z:g}, "
            f"T = (I-eta H)(x)(I-eta H) + eta^2 c_B (S2 - H(x)H), {theory} (Wu et al. 2018)",
            z[worst], MEAN_SQUARE_Z,
            detail=f"worst at eta={grid[worst][0]:.4g}, B={grid[worst][1]}: rate "
            f"{float(rates[worst]):.5g} vs rho {radii[worst]:.5g}; {len(grid)} points, "
            f"{p.runs} runs, {t} steps, at the GD minimum for eta={minimum.eta:.4g}",
        ),
        Statement.at_most(
            "mean_square_verdicts",
            "grid points where the measured stable/unstable verdict (growth rate of "
            f"E||e_t||^2 over steps {horizon // 2}..{horizon} <= 1) disagrees with rho(T) <= 1, "
            f"outside the margin |rate - 1| <= {BOUNDARY_Z:g} MC stderr of that rate",
            disagreements, 0,
            detail=f"{len(agree_outside)} points decided; inside the margin: "
            + (", ".join(inside) if inside else "none"),
        ),
    ]  # fmt: skip


def escape_statements(spec, gd_min, sgd_minima, p, X, y, ctx, report) -> list[Statement]:
    """SGD(eta, smallest B) from the GD minimum at eta (predicted unstable) leaves it; from the
    minimum SGD found with that batch (predicted stable) it stays; GD at a step with a > 2/eta
    leaves the flattest SGD minimum (the sharp-minimum control)."""
    n, out = p.n, []
    c_b = wu2018.batch_factor
    rho_small, _ = operator_radius(gd_min.factors, p.eta, p.batch_size, n, c_b)
    q = report.quantities
    q["escape_rho_small_batch"] = rho_small
    if p.batch_size < n and rho_small > 1.0:
        growth, final = perturbation_growth(spec, gd_min.theta, X, y, p.eta, p.batch_size,
                                            p.escape_steps, ctx, "escape")  # fmt: skip
        q["escape_growth"] = growth
        out.append(
            Statement.at_least(
                "escape",
                f"SGD (B={p.batch_size}) from the GD minimum (a={gd_min.sharpness:.4g}, "
                f"s={gd_min.s:.4g}; rho(T)={rho_small:.4g} > 1): median max_t "
                f"||x_t-x*||/||x_0-x*|| >= {ESCAPE_FACTOR:g} (Wu et al. 2018, escape experiments)",
                growth, ESCAPE_FACTOR,
                detail=f"{ESCAPE_RUNS} runs, perturbation {PERTURBATION:g}, {p.escape_steps} steps",
            )
        )  # fmt: skip
        if final is not None:
            settle(spec, final, X, y, p, ctx, report)
        else:
            q["escape_settled"] = False
    else:
        out.append(
            Statement.at_least(
                "escape", "SGD leaves a GD minimum that violates the SGD condition",
                math.nan, ESCAPE_FACTOR,
                detail=f"not testable: the GD minimum at eta satisfies the condition for "
                f"B={p.batch_size} (rho(T) = {rho_small:.4g})",
            )
        )  # fmt: skip
    # The contrast: the minimum SGD itself found with the smallest batch satisfies the
    # condition at the same (eta, B) and is kept from the same kind of perturbation.
    own = next((m for m in sgd_minima if m.batch == p.batch_size), None)
    rho_own = operator_radius(own.factors, p.eta, own.batch, n, c_b)[0] if own else math.nan
    if own is not None and rho_own <= 1.0 + SPECTRAL_RADIUS_TOL:
        growth, _ = perturbation_growth(spec, own.theta, X, y, p.eta, own.batch, p.escape_steps,
                                        ctx, "kept")  # fmt: skip
        q["kept_growth"] = growth
    else:
        growth = math.nan
    out.append(
        Statement.at_most(
            "escape_control_kept",
            f"SGD (B={p.batch_size}) from the minimum SGD found with that batch (rho(T) = "
            f"{rho_own:.4g} <= 1 + {SPECTRAL_RADIUS_TOL:g}) stays: median max_t "
            f"||x_t-x*||/||x_0-x*|| < {ESCAPE_FACTOR:g}",
            growth, ESCAPE_FACTOR, strict=True,
            detail="" if growth == growth else "not testable: the SGD minimum has rho(T) > "
            f"1 + {SPECTRAL_RADIUS_TOL:g} for B={p.batch_size}",
        )
    )  # fmt: skip
    # Sharp-minimum control: GD with a step 1.25x past the minimum's threshold 2/a.
    flat = min(sgd_minima, key=lambda m: m.sharpness) if sgd_minima else gd_min
    eta_c = 1.25 * wu2018.sharpness_bound(flat.sharpness)  # 2/eta_c = a / 1.25 < a
    growth, _ = perturbation_growth(spec, flat.theta, X, y, eta_c, n, p.escape_steps, ctx,
                                    "control")  # fmt: skip
    rho_c, _ = operator_radius(flat.factors, eta_c, n, n, c_b)
    q.update(control_eta=eta_c, control_sharpness=flat.sharpness, control_rho=rho_c,
             control_growth=growth)  # fmt: skip
    out.append(
        Statement.at_least(
            "sharp_minimum_control",
            f"GD with eta={eta_c:.4g} at a minimum with a={flat.sharpness:.4g} > 2/eta "
            f"(predicted rho={rho_c:.4g} > 1): median max_t ||x_t-x*||/||x_0-x*|| >= "
            f"{ESCAPE_FACTOR:g}",
            growth, ESCAPE_FACTOR,
        )
    )  # fmt: skip
    return out


def settle(spec, theta, X, y, p, ctx, report) -> None:
    """Continue SGD from an escaped run until a global minimum; record where it settles."""
    etas = ctx.to(torch.tensor([p.eta], dtype=torch.float64))
    try:
        result = train(spec, theta[None], X, y, etas, [p.batch_size], p.max_steps,
                       ctx.generator("settle"), loss_tol=p.loss_tol)  # fmt: skip
    except Inconclusive as exc:  # the escaping run may still be mid-flight and blow up
        report.quantities.update(escape_settled=False, escape_settle_failure=str(exc))
        return
    q = report.quantities
    q["escape_settled"] = result.reached_at[0] >= 0
    if result.reached_at[0] >= 0:
        m = Minimum("escaped", p.eta, p.batch_size, result.theta[0], float(result.loss[-1, 0]),
                    result.reached_at[0])  # fmt: skip
        measure_curvature(spec, m, X, y)
        q.update(escape_settled_sharpness=m.sharpness, escape_settled_s=m.s,
                 escape_settled_loss=m.loss)  # fmt: skip


def edge_of_stability_statements(p: Params, ctx: Context, report: Report) -> list[Statement]:
    """Full-batch GD on Cohen et al.'s Chebyshev problem, sharpness tracked by Lanczos."""
    X, y = cohen2021.chebyshev_problem(EOS_POINTS)
    X, y = ctx.to(X), ctx.to(y)
    spec = MLPSpec((1, EOS_WIDTH, 1), "tanh")
    theta = init_params(spec, ctx, "eos_init", scale=EOS_INIT_SCALE)[None]
    eta = p.eos_eta
    threshold = wu2018.sharpness_bound(eta)
    etas = ctx.to(torch.tensor([eta], dtype=torch.float64))
    gen = ctx.generator("eos")
    steps, sharpness, losses, start = [], [], [], None
    for k in range(0, p.eos_steps + 1, EOS_EVERY):
        top = eigenpairs(mean_hvp_fn(spec, theta[0], X, y), spec.num_params, v0=start,
                         tol=LANCZOS_TOL, like=theta)  # fmt: skip
        start = top.vector
        steps.append(k)
        sharpness.append(top.value)
        if k == p.eos_steps:
            losses.append(float(0.5 * (forward(spec, theta[0], X) - y).pow(2).mean()))
            break
        result = train(spec, theta, X, y, etas, [EOS_POINTS], EOS_EVERY, gen,
                       stop_when_reached=False)  # fmt: skip
        losses.extend(result.loss[:-1, 0].tolist())
        theta = result.theta
    ratio = [a / threshold for a in sharpness]
    report.series["edge_of_stability"] = {
        "step": steps, "sharpness": sharpness, "threshold": threshold,
        "loss_step": list(range(len(losses))), "loss": losses,
    }  # fmt: skip
    q = report.quantities
    q.update(eos_initial_sharpness=sharpness[0], eos_threshold=threshold)
    report.hypotheses.append(
        Hypothesis(
            "eos_starts_below_edge",
            "the edge-of-stability run starts with a < (1 - arrival) 2/eta (so sharpening is seen)",
            bool(ratio[0] < 1 - EOS_ARRIVAL),
            f"a(0) = {sharpness[0]:.4g}, 2/eta = {threshold:.4g}",
            required=True,
        )
    )  # fmt: skip
    arrived = [j for j, r in enumerate(ratio) if r >= 1 - EOS_ARRIVAL]
    out = [
        Statement.at_least(
            "edge_of_stability_sharpening",
            f"max_t a(t) eta/2 >= {1 - EOS_ARRIVAL:g}: sharpness rises from a(0) to 2/eta "
            "(progressive sharpening; Cohen et al. 2021)",
            max(ratio), 1 - EOS_ARRIVAL,
            detail=f"a(0) = {sharpness[0]:.4g}; arrival at step "
            + (str(steps[arrived[0]]) if arrived else "never") + f" of {p.eos_steps}",
        )
    ]  # fmt: skip
    if not arrived or arrived[0] == len(ratio) - 1:
        q["eos_arrival_step"] = None
        return out
    first = arrived[0]
    after = ratio[first:]
    q["eos_arrival_step"] = steps[first]
    q["eos_band_after_arrival"] = [min(after), max(after)]
    out.append(
        Statement.at_most(
            "edge_of_stability",
            f"after arrival, max_t |a(t) eta/2 - 1| <= {EOS_BAND:g}: sharpness hovers at 2/eta "
            "(Cohen et al. 2021)",
            max(abs(r - 1) for r in after), EOS_BAND,
            detail=f"a eta/2 in [{min(after):.4f}, {max(after):.4f}] over steps "
            f"{steps[first]}..{p.eos_steps}",
        )
    )  # fmt: skip
    # The loss at the edge is spiky (catapults: short excursions up to ~100x), so compare
    # medians: the last 10% of steps against an equally long window right after arrival.
    start = steps[first]
    window = max(1, (p.eos_steps - start) // 10)
    early = statistics.median(losses[start : start + window])
    late = statistics.median(losses[-window:])
    tail = losses[start:]
    rises = sum(1 for j in range(1, len(tail)) if tail[j] > tail[j - 1])
    q["eos_loss_increases_after_arrival"] = rises
    out.append(
        Statement.at_most(
            "edge_of_stability_loss",
            "median loss over the last 10% of steps / median over as many steps after arrival "
            "<= 1: the loss keeps decreasing over the long run, non-monotonically (Cohen et al. "
            "2021)",
            late / early, 1.0,
            detail=f"median loss {early:.3g} after arrival (step {start}), {late:.3g} at the end; "
            f"{rises} step-to-step increases after arrival",
        )
    )  # fmt: skip
    return out


def plot(report: Report, path: str) -> None:
    from ..plots.sgd_stability import draw

    draw(report, path)


CLAIM = Claim(
    name="sgd_stability",
    summary="GD/SGD minima satisfy the linear-stability conditions on sharpness and "
    "non-uniformity; GD runs at the edge of stability (Wu, Ma & E 2018; Cohen et al. 2021)",
    params=Params,
    run=run,
    estimate_bytes=estimate_bytes,
    plot=plot,
)

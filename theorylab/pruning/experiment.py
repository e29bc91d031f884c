"""The measurements of the ``pruning`` claim (theorylab/claims/pruning.py): what is measured,
never compared. The claim's ``simulate`` calls :func:`measure`; its ``compare`` turns the
:class:`PruningMeasurement` into statements.

1. The setting: a random depth-L target, a random depth-2L network with ``candidates``
   intermediate neurons per target weight, pruned by subset sums or single products.
2. The sup error |f_hat - f| over the unit ball (test set on the sphere, refined by ascent),
   the errors at the first test points (for the pointwise bound), every gadget's sup error on
   a grid of [-1, 1] through the masked network itself (brute force, for Pensia et al.'s case
   split), and the exact worst case the propagation lemma allows at the same points and at the
   all-active input (:mod:`.adversarial`, depth <= 2), for e in (per-weight tolerance, 1).
3. The figure's series: a chord of the ball, sup error against candidates.
4. The eps ladder (candidates needed for a success rate, both constructions) and the size
   ladder (median width factor for whole targets of growing d L), in two lanes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..runtime import Context, run_in_lanes
from ..theory import malach2020
from . import LADDER_WEIGHT_MAX, adversarial, malach, pensia, propagation, scaling, two_hop
from .masked import random_network
from .sup_error import sphere_points, sup_error
from .target import TargetNetwork, random_target, target_dims

LADDER_TOP_EPS = 0.1
SIZE_LADDER_START = 2
WEIGHT_MAX = LADDER_WEIGHT_MAX
# Subset-sum ladder: candidates drawn per trial (the per-sign pool is searched exhaustively up
# to scaling's pool cap of 24).
SUBSET_LADDER_CANDIDATES = 56
# Single-product ladder draws this multiple of the closed-form prediction at the smallest eps.
SINGLE_LADDER_MARGIN = 3
# The size ladder compares medians over random targets: the width factor a whole target needs
# is a maximum over all its weights, whose upper tail runs past the candidates drawn (censored)
# at a few targets per size; the median is uncensored and carries the same law.
SIZE_SUCCESS_RATE = 0.5
SLICE_POINTS = 201
CURVE_TEST_POINTS = 2000
POINTWISE_POINTS = 4096
GADGET_GRID = 201
# The lemma is exact (not first order), so its worst case is measured at the tolerance the
# construction uses and at e = 1, where the second-order terms are as large as the first.
ADVERSARIAL_LARGE_ERROR = 1.0
CURVE_GRIDS = {"subset_sum": [1, 2, 4, 8, 12, 16, 24, 32],
               "single_product": [1, 4, 16, 64, 256, 1024]}  # fmt: skip


@dataclass
class PruningMeasurement:
    """Everything the pruning claim measures (tensors stay tensors; compare reads them)."""

    target: TargetNetwork
    per_weight_tolerance: float
    gadget_errors: list[torch.Tensor]  # per pair (d_out, d_in): max(|A+ - w|, |A- - w|)
    sums_plus: list[torch.Tensor]
    sums_minus: list[torch.Tensor]
    gadget_grid_errors: list[torch.Tensor]  # per pair: brute-force sup over a grid of [-1, 1]
    operator_norms: list[float]
    first_layers_one_input: bool
    depth: int
    kept_weights: int
    total_weights: int
    keep_fraction: float
    network_widths: list[int]
    sup_error: float
    sup_error_test_set: float
    points: torch.Tensor  # (K, d): first test points and the sup-error maximiser
    point_errors: torch.Tensor  # (K,): |f_hat - f| there
    adversarial_points: torch.Tensor | None = None  # (K', d)
    adversarial_errors: dict[float, torch.Tensor] = field(default_factory=dict)  # e -> (K',)
    all_active: bool = False  # adversarial_points[0] has every hidden unit active
    slice: dict[str, Any] = field(default_factory=dict)
    error_curves: dict[str, Any] = field(default_factory=dict)
    eps_ladder: dict[str, list[float]] | None = None
    size_ladder: dict[str, list[float]] | None = None
    rounding: float = 1e-9  # float64 (or float32) rounding allowed in the exact inequalities

    @property
    def layer_errors(self) -> list[float]:
        return [float(e.max()) for e in self.gadget_errors]


def selector(construction: str, subset_search: str):
    if construction == "single_product":
        return malach.single_product_selector
    return pensia.subset_sum_selector(subset_search)


def build(p, ctx: Context, candidates: int | None = None, construction: str | None = None,
          subset_search: str | None = None):  # fmt: skip
    """(target, pruned network, per-pair results) for these parameters."""
    n = candidates or p.candidates
    dims = target_dims(p.input_dim, p.target_width, p.depth)
    target = random_target(dims, ctx, stream="target")
    net = random_network(two_hop.pair_widths(dims, n), p.distribution, ctx, f"network/{n}")
    chosen = selector(construction or p.construction, subset_search or p.subset_search)
    pairs = two_hop.prune(net, target.weights, n, chosen)
    return target, net, pairs


def measure(p, ctx: Context) -> PruningMeasurement:
    """Every measurement; the size ladder runs in a second lane (:func:`run_in_lanes`: its own
    random streams, so the results do not depend on the scheduling)."""
    tasks = {"network": lambda: measure_network(p, ctx)}
    if p.scaling:
        tasks["size"] = lambda: size_ladder(p, ctx)
    results = run_in_lanes(tasks)
    m = results["network"]
    m.size_ladder = results.get("size")
    return m


def measure_network(p, ctx: Context) -> PruningMeasurement:
    """The pruned network's measurements, the figure's series and the eps ladder."""
    target, net, pairs = build(p, ctx)
    sup = sup_error(target, net, p.input_dim, ctx, p.test_points, p.ascent_steps)
    points = torch.cat([sphere_points(min(p.test_points, POINTWISE_POINTS), p.input_dim, ctx,
                                      "sup_error/test_set"), sup.point[None]])  # fmt: skip
    with torch.no_grad():
        point_errors = (net(points) - target(points)).abs().amax(dim=1)
    m = PruningMeasurement(
        target=target,
        per_weight_tolerance=propagation.per_weight_tolerance(target, p.eps),
        gadget_errors=[r.gadget_error for r in pairs],
        sums_plus=[r.sum_plus for r in pairs],
        sums_minus=[r.sum_minus for r in pairs],
        gadget_grid_errors=[
            two_hop.gadget_errors_on_grid(net, i, W, GADGET_GRID)
            for i, W in enumerate(target.weights)
        ],  # fmt: skip
        operator_norms=[
            float(torch.linalg.matrix_norm(W.double(), ord=2)) for W in target.weights
        ],  # fmt: skip
        first_layers_one_input=all(
            int(net.masks[2 * i].sum(dim=1).max()) <= 1 for i in range(p.depth)
        ),  # fmt: skip
        depth=net.depth,
        kept_weights=net.kept_weights,
        total_weights=net.total_weights,
        keep_fraction=net.keep_fraction,
        network_widths=net.widths,
        sup_error=sup.value,
        sup_error_test_set=sup.test_set_max,
        points=points,
        point_errors=point_errors,
    )
    measure_worst_case(m, points)
    m.slice = chord(target, net, p, ctx)
    m.error_curves = error_curves(p, ctx)
    if p.scaling:
        m.eps_ladder = eps_ladder(p, ctx)
    return m


def measure_worst_case(m: PruningMeasurement, points: torch.Tensor) -> None:
    """The exact worst case of the propagation lemma (depth <= 2, one output) at the
    all-active input (first row, when one exists) and the pointwise-bound points."""
    target = m.target
    if target.depth > adversarial.MAX_DEPTH or target.dims[-1] != 1:
        return
    active = adversarial.all_active_point(target)
    m.all_active = active is not None
    rows = points if active is None else torch.cat([active[None].to(points), points])
    m.adversarial_points = rows
    for e in (m.per_weight_tolerance, ADVERSARIAL_LARGE_ERROR):
        m.adversarial_errors[e] = adversarial.worst_case_error(target, [e] * target.depth, rows)


def chord(target, net, p, ctx: Context) -> dict:
    """Target and pruned network on the chord x(s) = s a + b/2 (a, b orthonormal, |s|<=0.866)."""
    g = ctx.randn(2, p.input_dim, stream="slice")
    a = g[0] / g[0].norm()
    b = g[1] - (g[1] @ a) * a if p.input_dim > 1 else torch.zeros_like(a)
    b = b / b.norm().clamp_min(1e-300)
    half = math.sqrt(1 - 0.25) if p.input_dim > 1 else 1.0
    s = torch.linspace(-half, half, SLICE_POINTS, dtype=torch.float64)
    x = ctx.to(s[:, None]) * a + 0.5 * b
    with torch.no_grad():
        return {"s": s.tolist(), "target": target(x)[:, 0].tolist(),
                "pruned": net(x)[:, 0].tolist()}  # fmt: skip


def error_curves(p, ctx: Context) -> dict:
    """Sup error (test set only) against candidates per weight, both constructions.

    Subset sums are searched exactly by meet in the middle (pools <= 32 at n <= 32; the figure
    never waits on MILP), or by MILP up to n = 16 when the run asked for MILP.
    """
    search = "meet_in_the_middle" if p.subset_search == "auto" else p.subset_search
    curves = {}
    for kind, grid in CURVE_GRIDS.items():
        values = []
        for n in grid:
            if kind == "subset_sum" and search == "milp" and n > 16:
                break
            target, net, _ = build(p, ctx, candidates=n, construction=kind, subset_search=search)
            values.append(sup_error(target, net, p.input_dim, ctx, CURVE_TEST_POINTS, 0).value)
        curves[kind] = {"candidates": grid[: len(values)], "sup_error": values}
    return curves


def eps_ladder(p, ctx: Context) -> dict[str, list[float]]:
    """Candidates needed per weight at each eps of the ladder, both constructions. The
    single-product draws are sized from the closed form (SINGLE_LADDER_MARGIN times its
    largest prediction), so a trial is censored only far beyond the prediction."""
    eps = p.eps_ladder
    predicted = [malach2020.candidates_needed(e, WEIGHT_MAX, p.success_rate) for e in eps]
    single_max = int(SINGLE_LADDER_MARGIN * max(predicted))
    measured = {}
    for kind, max_n in (("subset_sum", SUBSET_LADDER_CANDIDATES), ("single_product", single_max)):
        row = []
        for k, e in enumerate(eps):
            needed = scaling.scalar_trials(kind, e, p.ladder_trials, max_n, WEIGHT_MAX, ctx,
                                           f"ladder/{kind}/{k}")  # fmt: skip
            row.append(scaling.quantile_needed(needed, p.success_rate, max_n + 1))
        measured[kind] = row
    return {"eps": eps, **measured}


def size_ladder(p, ctx: Context) -> dict[str, list[float]]:
    """Median width factor needed for whole targets of growing size d L (subset sum)."""
    sizes = p.size_ladder
    needs, tolerances = [], []
    for d in sizes:
        needed, tols = scaling.network_candidates_needed(
            d, p.depth, p.eps, p.size_trials, p.size_max_candidates, ctx, f"size/{d}"
        )
        needs.append(scaling.quantile_needed(needed, SIZE_SUCCESS_RATE, p.size_max_candidates + 1))
        tolerances.append(float(np.mean(tols)))
    return {"d": list(sizes), "needed": needs, "per_weight_tolerance": tolerances}

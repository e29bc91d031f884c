"""lottery_ticket: iterative magnitude pruning finds sparse subnetworks that train to full
accuracy from their original initialisation, and its controls do not.

Statements (Frankle & Carbin, ICLR 2019; Frankle, Dziugaite, Roy & Carbin, ICML 2020; Morcos,
Yu, Paganini & Tian, NeurIPS 2019), each a paired comparison over ``seeds`` networks (seed s:
one theta_0, one data order, shared by the ticket and its controls) with a one-sided Student-t
bound at ``confidence`` (:mod:`theorylab.sparse.stats`) against a minimum effect or margin
declared below, before any tested run:

- ``ticket_matches_dense``: at the sparsest round with density >= MATCH_DENSITY, the ticket's
  test accuracy (at its early-stopping iteration) is not below the dense network's by more than
  MATCH_MARGIN (lower bound of ticket - dense >= -MATCH_MARGIN);
- ``beats_random_reinit`` / ``beats_random_mask``: over the rounds with density <= BEATS_DENSITY,
  the ticket beats the same mask on fresh weights / a random mask with the same per-layer counts
  on theta_0 (lower bound of the seed-mean gain >= MIN_GAIN);
- ``learns_faster``: over the rounds with density in LEARNS_FASTER_BAND, the re-initialised
  network converges later than the ticket by at least one evaluation interval (lower bound of
  reinit - ticket >= eval_every steps). The convergence step is the first at which the
  validation loss is within 20% of its minimum (:func:`theorylab.sparse.training.
  converged_index`); the early-stopping step (Frankle & Carbin's measure, the argmin) is
  reported beside it: on digits the validation loss is flat for 100-300 steps around its
  minimum, and on pilot seeds 100-103 the argmin wandered with a seed spread of 60-120 steps,
  against 10-35 steps for the convergence step, for differences of 40-100 steps;
- ``weights_move_more``: in the dense training, the weights the ticket keeps at the match round
  moved further (mean |theta_final - theta_0|, geometric mean of the per-layer ratios) than the
  pruned ones (lower bound of the ratio >= MOVEMENT_RATIO);
- ``larger_nets_better_tickets``: at an equal number of remaining weights, tickets from the base
  network beat tickets (and the dense net) of a network NARROW_RATIO as wide (base accuracy
  interpolated in log weight count at each of the narrow net's rounds; lower bound of the mean
  gain >= MIN_GAIN);
- ``late_resetting``: rewinding to theta_k (IMP with rewinding, k = ``rewind_step``) matches or
  beats resetting to theta_0 over the BEATS band (lower bound >= -MATCH_MARGIN). Expected
  direction, stated before measuring: *matches* (Frankle et al. 2020 find LeNet-300-100 on MNIST
  stable at k = 0, so rewinding neither helps nor hurts at this scale); the report says which;
- ``linear_mode_connectivity``: two copies of the dense network trained from theta_0 with
  different data orders have an error barrier (>= 21 alphas, test split) whose upper bound is
  below STABILITY_THRESHOLD = 2% (Frankle et al. 2020); the barrier of the tickets at every
  round, and whether matching coincides with stability, are reported;
- ``ticket_transfer``: tickets (mask and theta_0) re-trained on a second data set (the examples
  re-rendered with random small translations and noise,
  :func:`theorylab.sparse.datasets.shifted_inputs`) beat random masks of the same counts there
  (Morcos et al. 2019);
  ``ticket_transfer_optimizer``: tickets found with one optimiser (Adam / SGD) and re-trained
  with the other beat random masks trained with it.

Setting (docs/claims/lottery_ticket.md, docs/sparse.md): LeNet-300-100 scaled by
``width_factor`` (default 0.25: 64-75-25-10 on digits), Glorot-normal init, minibatch 60,
prune 20% of the hidden layers' and 10% of the output layer's remaining weights per round.
Every round trains the ticket, its rewound twin, its re-initialised and random-mask controls
and its second data-order copy for all seeds as one batched population
(:mod:`theorylab.sparse`).

Negative control: ``--mask-criterion random`` (the "ticket" mask comes from random scores):
``beats_random_reinit`` and ``beats_random_mask`` fail, the verdict is "violated" (exit 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import UsageError
from ...registry import Claim, Mutant, param

DATASETS = ("digits", "mnist1d")
CRITERIA = ("magnitude", "random", "smallest")
OPTIMIZERS = ("adam", "sgd")
MODES = ("layerwise", "global")
INPUT_DIMS = {"digits": 64, "mnist1d": 40}
TRAIN_SIZES = {"digits": 1258, "mnist1d": 2800}
BASE_HIDDEN = (300, 100)
CLASSES = 10
# Learning rates and budgets chosen on pilot runs with run seeds 100 and 101 (never tested):
# at Frankle & Carbin's Adam 1.2e-3 the validation loss of digits' 1258 training images is still
# falling after 1000 steps, so the early-stopping iteration would sit at the end of training;
# at 6e-3 the dense net reaches its validation minimum in ~300 of 400 steps (MNIST-1D: ~500 of
# 800). SGD (momentum 0.9) at 0.03 trains digits to the same accuracy in 400 steps.
DEFAULT_LR = {"adam": 6e-3, "sgd": 0.03}
DEFAULT_STEPS = {"digits": 400, "mnist1d": 800}

# Declared before any tested run (reasoning, and pilot seeds 100-101 where stated):
# - MATCH_DENSITY: Frankle & Carbin's abstract finds tickets "less than 10-20% of the size" of
#   the original nets; our default network has 6925 weights, ~38x fewer than LeNet-300-100, so
#   the statement takes the upper end of that range (the weakest version of the claim). The
#   sparsest density at which the ticket still matches is reported beside it.
MATCH_DENSITY = 0.2
# - MATCH_MARGIN: 1 percentage point, ~3.6 test images of digits' 359: well above the rounding
#   of one image (0.28 pp) and below the 2-10 pp losses of random masks at <= 10% density.
MATCH_MARGIN = 0.01
# - BEATS_DENSITY: the "densities <= ~10%", where Frankle & Carbin's controls lose
#   accuracy (their Fig. 3-4).
BEATS_DENSITY = 0.1
# - MIN_GAIN: a gain smaller than MATCH_MARGIN would count as "matching", so "beats" needs more.
MIN_GAIN = MATCH_MARGIN
# - LEARNS_FASTER_BAND: at <= 10% density our nets (< 700 weights) stop over-fitting digits
#   within the budget, so every variant's validation minimum sits at the last evaluations
#   (censored; pilot seeds); above 50% the ticket and its re-initialisation are both nearly the
#   dense net. The minimum effect is one evaluation interval (the grid cannot resolve less).
#   The convergence step is used for the check, the early-stopping step reported (see above).
LEARNS_FASTER_BAND = (0.1, 0.5)
# - MOVEMENT_RATIO: kept weights must have moved at least 25% further than pruned ones. Note:
#   selecting the largest |theta_final| favours large |theta_final - theta_0| even for a random
#   walk, so the statement checks the direction with a modest margin only.
MOVEMENT_RATIO = 1.25
# - NARROW_RATIO: the smaller network of larger_nets_better_tickets is a quarter as wide,
#   compared at every round whose weight count the base net's rounds bracket. On pilot seeds
#   100-101 a half-width net came within 0.2-0.6 pp of the base at equal counts (inside
#   MATCH_MARGIN: no contrast to test at this scale), a quarter-width one 2-6 pp below.
NARROW_RATIO = 0.25
# - STABILITY_THRESHOLD: Frankle et al. (2020), Sec. 2: stable when the barrier is below 2%.
STABILITY_THRESHOLD = 0.02
# - TRANSFER_ROUNDS: transfer is re-trained at (at most) this many rounds of the BEATS band:
#   the densest, the sparsest and one between.
TRANSFER_ROUNDS = 3


@dataclass(frozen=True)
class Params:
    dataset: str = param("digits", "data set: digits (scikit-learn, 64 inputs) or mnist1d "
                         "(Greydanus 2020, 40 inputs)", choices=DATASETS)  # fmt: skip
    seeds: int = param(8, "networks per variant (paired over seeds: theta_0 and data order)",
                       minimum=2, maximum=256)  # fmt: skip
    rounds: int = param(17, "IMP rounds after the dense training (17 at 20%: ~2.8% of the "
                        "weights remain)", minimum=1, maximum=200)  # fmt: skip
    prune_rate: float = param(0.2, "fraction of each hidden layer's remaining weights pruned "
                              "per round, in (0, 1)")  # fmt: skip
    output_prune_rate: float | None = param(
        None, "output layer's rate per round, in (0, 1) (default: prune_rate / 2, the paper's)"
    )
    pruning: str = param("layerwise", "layerwise rates, or one global magnitude cutoff at "
                         "prune_rate over all layers", choices=MODES)  # fmt: skip
    mask_criterion: str = param(
        "magnitude", "weights kept each round: magnitude (IMP), random scores or smallest "
        "magnitudes (negative controls)", choices=CRITERIA,
    )  # fmt: skip
    width_factor: float = param(0.25, "hidden widths 300 and 100 times this factor")
    optimizer: str = param("adam", "optimiser for finding and training tickets",
                           choices=OPTIMIZERS)  # fmt: skip
    lr: float | None = param(None, "learning rate (default: 6e-3 for adam, 0.03 for sgd)",
                             above=0.0)  # fmt: skip
    steps: int | None = param(None, "training steps per network (default: 400 digits, 800 "
                              "mnist1d)", minimum=1, maximum=10**6)  # fmt: skip
    batch_size: int = param(60, "minibatch size (Frankle & Carbin: 60)", minimum=1,
                            maximum=2800)  # fmt: skip
    eval_every: int = param(10, "steps between validation evaluations (early stopping)",
                            minimum=1, maximum=10**6)  # fmt: skip
    rewind_step: int = param(20, "k of the rewound tickets (late resetting to theta_k)",
                             minimum=0, maximum=10**6)  # fmt: skip
    interpolation_points: int = param(21, "alphas on the segment for linear mode connectivity",
                                      minimum=21, maximum=1001)  # fmt: skip
    confidence: float = param(0.95, "confidence of the one-sided t bounds over seeds",
                              minimum=0.5, maximum=0.999)  # fmt: skip

    @property
    def train_steps(self) -> int:
        return DEFAULT_STEPS[self.dataset] if self.steps is None else self.steps

    @property
    def learning_rate(self) -> float:
        return DEFAULT_LR[self.optimizer] if self.lr is None else self.lr

    @property
    def output_rate(self) -> float:
        return self.prune_rate / 2 if self.output_prune_rate is None else self.output_prune_rate

    @property
    def other_optimizer(self) -> str:
        return "sgd" if self.optimizer == "adam" else "adam"

    @property
    def sizes(self) -> tuple[int, ...]:
        return _sizes(INPUT_DIMS[self.dataset], self.width_factor)

    @property
    def narrow_sizes(self) -> tuple[int, ...]:
        return _sizes(INPUT_DIMS[self.dataset], self.width_factor * NARROW_RATIO)

    def validate(self) -> None:
        if not 0 < self.prune_rate < 1:
            raise UsageError(f"prune_rate must be in (0, 1), got {self.prune_rate}")
        if not 0 < self.output_rate < 1:
            raise UsageError(f"output_prune_rate must be in (0, 1), got {self.output_rate}")
        if not 0 < self.width_factor <= 16:
            raise UsageError(f"width_factor must be in (0, 16], got {self.width_factor}")
        if self.rewind_step >= self.train_steps:
            raise UsageError(f"rewind_step must be < steps ({self.train_steps}), got "
                             f"{self.rewind_step}")  # fmt: skip
        if self.batch_size > TRAIN_SIZES[self.dataset]:
            raise UsageError(f"batch_size must be <= the {TRAIN_SIZES[self.dataset]} training "
                             f"examples of {self.dataset}, got {self.batch_size}")  # fmt: skip
        most, where, n, rate = max_rounds(self)
        if self.rounds > most:
            left = n * (1 - rate) ** self.rounds
            raise UsageError(
                f"rounds={self.rounds} leaves {left:.2g} < 1 weight in {where} ({n} x "
                f"{1 - rate:g}^{self.rounds}); at most {most} rounds at these rates"
            )


def _sizes(d: int, factor: float) -> tuple[int, ...]:
    return (d, *[max(1, round(h * factor)) for h in BASE_HIDDEN], CLASSES)


def max_rounds(p: Params) -> tuple[int, str, int, float]:
    """The most rounds that leave (nominally, n (1 - rate)^r >= 1) a weight in every layer of
    the base and the narrow network: (rounds, which layer, its weights, its rate).

    >>> max_rounds(Params())[:2]
    (21, 'layer 2 of the narrow network')
    """
    limits = []
    for label, sizes in (("network", p.sizes), ("narrow network", p.narrow_sizes)):
        counts = [a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        if p.pruning == "global":
            layers = [("the " + label, sum(counts), p.prune_rate)]
        else:
            rates = [p.prune_rate] * (len(counts) - 1) + [p.output_rate]
            layers = [(f"layer {k + 1} of the {label}", n, rate)
                      for k, (n, rate) in enumerate(zip(counts, rates, strict=True))]  # fmt: skip
        for where, n, rate in layers:
            most = 0
            while n * (1 - rate) ** (most + 1) >= 1:
                most += 1
            limits.append((most, where, n, rate))
    return min(limits)


def estimate_bytes(p: Params) -> float:
    """Largest batched population (5 variants x seeds): weights, masks, gradients, Adam's two
    moments, the best copy and snapshots (~10 copies), activations of a minibatch and of the
    evaluation sets, and the data orders."""
    sizes = p.sizes
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    members = 5 * p.seeds
    evaluation = 2 * TRAIN_SIZES[p.dataset] // 3 + p.batch_size
    activations = members * evaluation * sum(sizes[1:]) * 3
    orders = 2 * p.seeds * (p.train_steps + p.rewind_step) * p.batch_size
    return 8.0 * (10 * members * weights + activations + orders)


def simulate(p: Params, ctx):
    from . import experiment

    return experiment.simulate(p, ctx)


def compare(m, p: Params):
    from . import comparison

    return comparison.compare(m, p)


def _fresh_reset(start, masks):
    """Mutant: survivors get freshly drawn weights (a new draw per call) instead of theta_0."""
    import torch

    from ...sparse import masked_mlp

    seed = 7919 + int(sum(float(m.sum()) for m in masks))
    gens = [torch.Generator().manual_seed(seed + i) for i in range(start.members)]
    w = start.weights[0]
    fresh = masked_mlp.init_stack(start.sizes, gens, dtype=w.dtype, device=w.device)
    return fresh.with_masks(masks)


def _largest_pruned(weights):
    """Mutant: IMP prunes the largest magnitudes (scores -|w|)."""
    return [-w.abs() for w in weights]


def _last_step(val_loss):
    """Mutant: the early-stopping iteration is always the last evaluation."""
    import torch

    return torch.full((val_loss.shape[1],), val_loss.shape[0] - 1, dtype=torch.long)


def _last_step_converged(val_loss, tolerance=0.2):
    """Mutant: the convergence iteration is always the last evaluation."""
    return _last_step(val_loss)


def _independent_copy(start, independent):
    """Mutant: the second copy of linear mode connectivity starts from other weights."""
    return independent


def _narrow_as_wide(sizes):
    """Mutant: the 'narrow' network of larger_nets_better_tickets is as wide as the base."""
    return tuple(sizes)


MUTANTS = (
    Mutant("reset_to_fresh_weights", "survivors of each round are reset to freshly drawn weights "
           "instead of theta_0 (the ticket becomes a re-initialisation)",
           {"theorylab.sparse.pruning.reset_to": _fresh_reset}),
    Mutant("prune_largest", "IMP prunes the largest magnitudes instead of the smallest",
           {"theorylab.sparse.pruning.magnitude_scores": _largest_pruned}),
    Mutant("converged_at_last_step", "the convergence iteration is the last step instead of the "
           "first within 20% of the minimum validation loss",
           {"theorylab.sparse.training.converged_index": _last_step_converged}),
    Mutant("early_stop_at_last_step", "the early-stopping iteration is the last step instead of "
           "the step of minimum validation loss: accuracies are then read after the last step, "
           "which on the digits plateau differ by tenths of a point (a documented blind spot)",
           {"theorylab.sparse.training.early_stop_index": _last_step}, caught=False),
    Mutant("lmc_independent_copies", "the two copies of linear mode connectivity start from "
           "different initialisations instead of the same theta_0",
           {"theorylab.claims.lottery_ticket.experiment.lmc_partner": _independent_copy}),
    Mutant("narrow_as_wide", "the smaller network of larger_nets_better_tickets has the base "
           "width (the comparison loses its contrast)",
           {"theorylab.claims.lottery_ticket.experiment.narrow_sizes": _narrow_as_wide}),
)  # fmt: skip

# Small settings for the default test suite (about 10 s of CPU): rate 0.5 reaches 7% density in
# 4 rounds. Four seeds and one round per band are too few for every statement to hold at every
# seed (pilot seeds 100 and 102: 2-4 of the 10 missed their margins), so quick runs test the
# machinery and the large effects only; the power audit runs at the defaults (power_params).
QUICK = dict(seeds=4, rounds=4, prune_rate=0.5, steps=200, eval_every=10, rewind_step=10)

CLAIM = Claim(
    name="lottery_ticket",
    summary="iterative magnitude pruning finds sparse subnetworks that train from their "
    "original initialisation to the dense accuracy, beat re-initialised and random-mask "
    "controls, learn faster, rewind and transfer (Frankle & Carbin 2019; Frankle et al. 2020; "
    "Morcos et al. 2019)",
    params=Params,
    simulate=simulate,
    compare=compare,
    estimate_bytes=estimate_bytes,
    mutants=MUTANTS,
    quick=QUICK,
    power_params={},
    negative_control={"mask_criterion": "random"},
    citation="Frankle & Carbin (ICLR 2019); Frankle, Dziugaite, Roy & Carbin (ICML 2020); "
    "Morcos, Yu, Paganini & Tian (NeurIPS 2019)",
)

"""early_learning: with noisy labels a network fits the clean-labelled points first and
memorises the noisy ones later; early stopping at the validation optimum beats training to zero
training error, and without noise the gain disappears.

Statement (Arpit et al., "A closer look at memorization in deep networks", ICML 2017, Sec. 3-4;
Xia et al., "Robust early-learning: hindering the memorization of noisy labels", ICLR 2021,
Sec. 1-2): trained on data whose labels are partly corrupted, networks first fit the patterns
shared by the correctly labelled points and only later memorise the corrupted ones; test
accuracy peaks during the first phase and falls as the noise is memorised.

Setting: scikit-learn's digits (default) or MNIST-1D, split per seed into train / validation /
test; symmetric label noise: each training and validation label is, with probability
``label_noise``, replaced by one of the other 9 classes uniformly (the "noisy" points are exactly
the corrupted ones; test labels stay clean). Two-layer ReLU nets x -> V relu(U x) (module
``generalization_bounds.training``), full-batch GD with momentum 0.9, trained until every given
training label is fitted (zero training error), batched over seeds and over the noisy and the
noise-free (control) data. Every step records the accuracy on the clean-labelled training
points (against their labels), on the noisy ones (against their *corrupted* labels:
memorisation), on the validation split (noisy labels: all a practitioner has) and on the test
split (true labels).

Statements (docs/claims/early_learning.md), all paired over seeds with two-sided 95% t intervals
(the margins below are declared constants, fixed before any run):

- ``clean_before_noisy``: t_noisy / t_clean, the steps at which the noisy and the clean points
  reach FIT_LEVEL accuracy, lower limit >= FIT_TIME_RATIO;
- ``peak_before_memorisation``: t_noisy / (the step of peak test accuracy), lower limit >= 1;
- ``early_stopping_gain``: test accuracy at the validation optimum minus at zero training error,
  lower limit >= MIN_GAIN;
- ``zero_noise_control``: the same gain without noise, upper limit <= MIN_GAIN (it disappears).

Negative control: ``control=random_labels`` draws every training and validation label uniformly
at random and marks a random (1 - label_noise) fraction of the training points "clean": the two
groups are exchangeable, fit at the same time, and ``clean_before_noisy`` fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import UsageError
from ..registry import Claim, Comparison, Mutant, param
from ..report import Hypothesis, Statement

if TYPE_CHECKING:
    from ..runtime import Context

DATASETS = ("digits", "mnist1d")
POOL_SIZES = {"digits": 1797, "mnist1d": 4000}
CONTROLS = ("none", "random_labels")
CLASSES = 10
MIN_TEST_POINTS = 100
MOMENTUM = 0.9
CONFIDENCE = 0.95
# A group "is fit" when this fraction of its points carry their given label: half, midway
# between chance (0.1) and a full fit. Not higher: on MNIST-1D a two-layer net reaches only ~50%
# test accuracy, so the clean training points too reach 90% only by memorisation (seen on
# exploration seeds, never on the seeds the tests run); 0.5 is reached by learning alone.
FIT_LEVEL = 0.5
# "Before" means two separate phases, not a tie broken by a step: the noisy points must take
# at least twice as many steps as the clean ones to reach FIT_LEVEL (lower 95% limit over seeds
# of the paired ratio). Chosen from the statement, not from runs.
FIT_TIME_RATIO = 2.0
# Early stopping must beat zero training error by at least 2 points of test accuracy (lower 95%
# limit over seeds); without noise the gain's upper limit must stay below the same 2 points.
# Reasoning, not tuning: ~700 test digits resolve one accuracy to ~1 point (binomial standard
# deviation), so 2 points is the smallest gain a paired comparison over a few seeds can claim,
# and a gain that "disappears" is one below it.
MIN_GAIN = 0.02


@dataclass(frozen=True)
class Params:
    dataset: str = param("digits", "data set", choices=DATASETS)
    label_noise: float = param(
        0.4, "fraction of training and validation labels flipped to another class (symmetric "
        "noise; Arpit et al. and Xia et al. use 0.2-0.6)", minimum=0.0, maximum=1.0,
    )  # fmt: skip
    train_size: int = param(800, "training points per seed", minimum=20)
    val_size: int = param(300, "validation points per seed (noisy labels, choose the stopping "
                          "step)", minimum=10)  # fmt: skip
    width: int = param(256, "hidden units of the two-layer ReLU net", minimum=1)
    seeds: int = param(5, "independent splits, corruptions and initialisations", minimum=3)
    lr: float = param(0.5, "learning rate of full-batch GD with momentum 0.9", above=0.0)
    max_steps: int = param(3000, "most GD steps (a net that has not fitted every training label "
                           "by then makes the run inconclusive)", minimum=1)  # fmt: skip
    monitor_every: int = param(5, "steps between validation/test evaluations", minimum=1)
    control: str = param(
        "none", "random_labels: every label uniformly random and a random 'clean' subset "
        "(negative control)", choices=CONTROLS,
    )  # fmt: skip

    def validate(self) -> None:
        if not 0 < self.label_noise < 1:
            raise UsageError(
                f"label_noise must be in (0, 1) (the claim compares clean and noisy points; the "
                f"noise-free control runs alongside), got {self.label_noise!r}"
            )
        limit = POOL_SIZES[self.dataset] - MIN_TEST_POINTS
        if self.train_size + self.val_size > limit:
            raise UsageError(
                f"train_size + val_size must be <= {limit} for {self.dataset} (leaves "
                f"{MIN_TEST_POINTS} test points), got {self.train_size + self.val_size}"
            )


def estimate_bytes(p: Params) -> float:
    """Float64 activations (train and monitored points) and weights of 2 x seeds nets, with a
    factor 4 for gradients, momentum and temporaries, plus the per-step correctness of every
    training point (one byte each)."""
    pool = POOL_SIZES[p.dataset]
    groups = 2 * p.seeds
    d = 66 if p.dataset == "digits" else 42
    nets = groups * p.width * (pool + 2 * d + 2 * CLASSES)
    return 8.0 * 4 * nets + (p.max_steps + 1) * groups * p.train_size


@dataclass
class Measurement:
    steps: np.ndarray  # (S,) recorded training steps (every step)
    clean: np.ndarray  # (G, S) accuracy of clean-labelled training points on their labels
    noisy: np.ndarray  # (G, S) accuracy of noisy-labelled training points on their labels
    monitor_steps: np.ndarray  # (R,) steps of the validation/test evaluations
    val: np.ndarray  # (G, R) validation accuracy (noisy labels)
    test: np.ndarray  # (G, R) test accuracy (true labels)
    fit_step: np.ndarray  # (G,) step of zero training error (-1: not reached)
    noise: np.ndarray  # (G,) noise level of each group: label_noise, then 0 (control)
    seeds: int
    noisy_fraction: np.ndarray  # (G,) realised fraction of noisy training labels


# Measurement helpers (module attributes: the mutants patch them) -------------------------------
def split_accuracy(correct, noisy_mask):
    """(accuracy on the clean points, accuracy on the noisy points) from per-point correctness
    (G, n) booleans and the noisy mask (G, n); nan where a group has no such points."""
    import torch

    correct = correct.to(torch.float64)
    noisy_mask = noisy_mask.to(torch.float64)
    clean_mask = 1.0 - noisy_mask
    clean = (correct * clean_mask).sum(1) / clean_mask.sum(1)
    noisy = (correct * noisy_mask).sum(1) / noisy_mask.sum(1)
    return clean, noisy


def fit_time(curve: np.ndarray, steps: np.ndarray, level: float) -> float:
    """First step at which ``curve`` >= level; inf if never (censored).

    Example:
        >>> fit_time(np.array([0.1, 0.6, 0.9]), np.arange(3.0), 0.5)
        1.0
    """
    hit = np.nonzero(np.asarray(curve) >= level)[0]
    return float(steps[hit[0]]) if hit.size else math.inf


def validation_optimum(val: np.ndarray) -> int:
    """Index of the first maximum of the validation accuracy curve."""
    return int(np.argmax(val))


def simulate(p: Params, ctx: Context) -> Measurement:
    import dataclasses

    import torch

    from .generalization_bounds import experiments

    key = ("early_learning", tuple(sorted(dataclasses.asdict(p).items())), ctx.seed, ctx.device,
           ctx.dtype)  # fmt: skip
    run = experiments.cached(key, lambda: _train(p, ctx))
    T, G, n = run["correct"].shape
    clean, noisy = split_accuracy(run["correct"].reshape(T * G, n),
                                  run["noisy"].repeat(T, 1))  # fmt: skip
    S = p.seeds
    return Measurement(
        steps=np.arange(T, dtype=np.float64),
        clean=clean.reshape(T, G).T.numpy(),
        noisy=noisy.reshape(T, G).T.numpy(),
        monitor_steps=np.asarray(run["monitor_steps"], dtype=np.float64),
        val=torch.stack(run["val"], 1).numpy(),
        test=torch.stack(run["test"], 1).numpy(),
        fit_step=run["fit_step"].numpy(),
        noise=np.array([p.label_noise] * S + [0.0] * S),
        seeds=S,
        noisy_fraction=run["noisy"].to(torch.float64).mean(1).numpy(),
    )


def _train(p: Params, ctx: Context) -> dict:
    """Train the 2 x seeds nets; per step the per-point correctness of the training predictions
    against the given labels (steps, G, n) and, every ``monitor_every`` steps and at the end, the
    validation and test accuracies. Cached: the mutants change only what is computed from it."""
    import torch

    from .generalization_bounds import experiments, training

    X, y = experiments.load_pool(p.dataset)
    N, d = X.shape
    S, n, nv = p.seeds, p.train_size, p.val_size
    G = 2 * S  # groups: seed s with noise (row s) and without (row S + s)
    orders = torch.stack([torch.randperm(N, generator=ctx.generator(f"split/{s}"))
                          for s in range(S)])  # fmt: skip
    train, val, test = orders[:, :n], orders[:, n : n + nv], orders[:, n + nv :]
    ytr_list, yval_list, noisy_list = [], [], []
    for g in range(G):
        s = g % S
        rate, control = (p.label_noise, p.control) if g < S else (0.0, "none")
        gen = ctx.generator(f"noise/{g}")
        ytr, noisy = _corrupt(y[train[s]], rate, gen, control, p.label_noise)
        yv, _ = _corrupt(y[val[s]], rate, gen, control, p.label_noise)
        ytr_list.append(ytr)
        yval_list.append(yv)
        noisy_list.append(noisy)
    ytr, yval, noisy = torch.stack(ytr_list), torch.stack(yval_list), torch.stack(noisy_list)
    group_seed = torch.arange(G) % S
    device, dtype = ctx.torch_device, ctx.torch_dtype
    Xd = X.to(device=device, dtype=dtype)
    Xtr = Xd[train[group_seed].to(device)]
    Xval, Xte = Xd[val[group_seed].to(device)], Xd[test[group_seed].to(device)]
    yte = y[test[group_seed]]
    nets = training.init_nets(G, (p.width,), d, CLASSES, ctx.generator("init"), dtype, device)
    ytr_d = ytr.to(device)
    correct, val_curve, test_curve, monitor_steps = [], [], [], []

    def monitor(step: int) -> None:
        with torch.no_grad():
            pv = nets.logits(Xval)[:, :, 0].argmax(-1).cpu()
            pt = nets.logits(Xte)[:, :, 0].argmax(-1).cpu()
        val_curve.append((pv == yval).to(torch.float64).mean(1))
        test_curve.append((pt == yte).to(torch.float64).mean(1))
        monitor_steps.append(step)

    def record(step: int, logits) -> None:
        correct.append((logits[:, :, 0].argmax(-1) == ytr_d).cpu())
        if step % p.monitor_every == 0:
            monitor(step)

    result = training.train(nets, Xtr, ytr_d, lr=p.lr, momentum=MOMENTUM, max_steps=p.max_steps,
                            target_accuracy=1.0, callback=record)  # fmt: skip
    if monitor_steps[-1] != len(correct) - 1:  # the end of training is always evaluated
        monitor(len(correct) - 1)
    return {"correct": torch.stack(correct), "noisy": noisy, "val": val_curve,
            "test": test_curve, "monitor_steps": monitor_steps,
            "fit_step": result.steps[:, 0]}  # fmt: skip


def _corrupt(labels, rate: float, gen, control: str, nominal: float):
    """Symmetric noise: with probability ``rate`` a label moves to one of the other classes,
    uniformly; returns (labels, noisy mask). ``control="random_labels"``: every label uniform
    over the 10 classes, and a random ``nominal`` fraction marked noisy."""
    import torch

    m = labels.numel()
    if control == "random_labels":
        random = torch.randint(0, CLASSES, (m,), generator=gen)
        return random, torch.rand(m, generator=gen) < nominal
    flip = torch.rand(m, generator=gen) < rate
    shift = torch.randint(1, CLASSES, (m,), generator=gen)
    return torch.where(flip, (labels + shift) % CLASSES, labels), flip


# compare ---------------------------------------------------------------------------------------
def _t_interval(values) -> tuple[float, float, float]:
    from scipy.stats import t

    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2 or not np.isfinite(values).all():
        return mean, math.nan, math.nan
    half = float(t.ppf(0.5 + CONFIDENCE / 2, values.size - 1) * values.std(ddof=1)
                 / math.sqrt(values.size))  # fmt: skip
    return mean, mean - half, mean + half


def compare(m: Measurement, p: Params) -> Comparison:
    S = m.seeds
    noisy_rows, clean_rows = range(S), range(S, 2 * S)
    statements: list[Statement] = []
    quantities: dict[str, Any] = {}
    last = int(m.steps[-1])

    fit_done = m.fit_step >= 0
    hypotheses = [
        Hypothesis(
            "zero_training_error", f"every net fitted every given training label within "
            f"{p.max_steps} steps (the 'train to zero loss' end point exists)",
            bool(fit_done.all()), f"steps to zero training error: {m.fit_step.tolist()}",
            required=True,
        )
    ]  # fmt: skip

    t_clean = np.array([fit_time(m.clean[g], m.steps, FIT_LEVEL) for g in noisy_rows])
    t_noisy = np.array([fit_time(m.noisy[g], m.steps, FIT_LEVEL) for g in noisy_rows])
    # A noisy group never fitted is censored at one step past the end (conservative).
    t_noisy_c = np.where(np.isfinite(t_noisy), t_noisy, last + 1)
    ratio = np.log2(np.maximum(t_noisy_c, 1) / np.maximum(t_clean, 1))
    mean, lower, upper = _t_interval(ratio)
    s = Statement.at_least(
        "clean_before_noisy",
        f"steps for the noisy-labelled points to reach {FIT_LEVEL:g} accuracy on their labels "
        f"/ steps for the clean ones, paired over {S} seeds: lower 95% limit >= "
        f"{FIT_TIME_RATIO:g}", 2.0**lower, FIT_TIME_RATIO, power="bound",
        detail=f"ratio {2.0**mean:.3g} [{2.0**lower:.3g}, {2.0**upper:.3g}]; t_clean "
        f"{t_clean.tolist()}, t_noisy {t_noisy.tolist()}",
    )  # fmt: skip
    if not np.isfinite(t_clean).all():
        s.mark_not_evaluable(f"the clean points never reached {FIT_LEVEL:g}")
    statements.append(s)
    quantities.update(fit_time_ratio=2.0**mean, fit_time_ratio_interval=[2.0**lower, 2.0**upper],
                      t_clean=t_clean.tolist(), t_noisy=t_noisy.tolist())  # fmt: skip

    best = np.array([validation_optimum(m.val[g]) for g in range(2 * S)])
    best_step = m.monitor_steps[best]
    peak_step = m.monitor_steps[np.argmax(m.test[list(noisy_rows)], axis=1)]
    peak = np.log2(np.maximum(t_noisy_c, 1) / np.maximum(peak_step, 1))
    pmean, plower, pupper = _t_interval(peak)
    statements.append(
        Statement.at_least(
            "peak_before_memorisation",
            f"steps for the noisy points to reach {FIT_LEVEL:g} / the step of peak test accuracy, "
            "paired over seeds: lower 95% limit >= 1 (test accuracy peaks before the noisy "
            "points are fit)", 2.0**plower, 1.0, power="bound",
            detail=f"ratio {2.0**pmean:.3g} [{2.0**plower:.3g}, {2.0**pupper:.3g}]; peak steps "
            f"{peak_step.tolist()}",
        )
    )  # fmt: skip

    at_best = m.test[np.arange(2 * S), best]
    at_end = m.test[:, -1]
    gain = at_best - at_end
    gmean, glower, gupper = _t_interval(gain[list(noisy_rows)])
    statements.append(
        Statement.at_least(
            "early_stopping_gain",
            f"test accuracy at the validation optimum minus at zero training error (noise "
            f"{p.label_noise:g}), paired over seeds: lower 95% limit >= {MIN_GAIN:g}",
            glower, MIN_GAIN,
            detail=f"gain {gmean:+.4f} [{glower:+.4f}, {gupper:+.4f}]; test accuracy "
            f"{np.mean(at_best[list(noisy_rows)]):.4f} (early) vs "
            f"{np.mean(at_end[list(noisy_rows)]):.4f} (end)",
        )
    )  # fmt: skip
    cmean, clower, cupper = _t_interval(gain[list(clean_rows)])
    statements.append(
        Statement.within(
            "zero_noise_control",
            f"the same gain without label noise: upper 95% limit <= {MIN_GAIN:g} (the gap "
            "disappears)", cupper, (-1.0, MIN_GAIN), power="bound",
            detail=f"gain {cmean:+.4f} [{clower:+.4f}, {cupper:+.4f}]; test accuracy "
            f"{np.mean(at_best[list(clean_rows)]):.4f} (early) vs "
            f"{np.mean(at_end[list(clean_rows)]):.4f} (end)",
        )
    )  # fmt: skip
    quantities.update(
        early_stopping_gain=gmean, early_stopping_gain_interval=[glower, gupper],
        zero_noise_gain=cmean, zero_noise_gain_interval=[clower, cupper],
        test_accuracy_early=float(np.mean(at_best[list(noisy_rows)])),
        test_accuracy_end=float(np.mean(at_end[list(noisy_rows)])),
        test_accuracy_clean_end=float(np.mean(at_end[list(clean_rows)])),
        noisy_fraction=float(np.mean(m.noisy_fraction[list(noisy_rows)])),
        steps_to_zero_error=m.fit_step.tolist(),
    )  # fmt: skip

    thin = max(1, len(m.steps) // 400)
    series = {
        "steps": m.steps[::thin].tolist(),
        "clean": m.clean[list(noisy_rows)][:, ::thin].tolist(),
        "noisy": m.noisy[list(noisy_rows)][:, ::thin].tolist(),
        "monitor_steps": m.monitor_steps.tolist(),
        "test": m.test[list(noisy_rows)].tolist(),
        "val": m.val[list(noisy_rows)].tolist(),
        "test_no_noise": m.test[list(clean_rows)].tolist(),
        "t_clean": t_clean.tolist(),
        "t_noisy": t_noisy.tolist(),
        "best_step": best_step[list(noisy_rows)].tolist(),
        "peak_step": peak_step.tolist(),
        "fit_level": FIT_LEVEL,
    }
    return Comparison(statements, hypotheses, quantities, series)


# Mutants ---------------------------------------------------------------------------------------
_split_accuracy = split_accuracy  # the original, for the mutant


def _swapped_split(correct, noisy_mask):
    clean, noisy = _split_accuracy(correct, noisy_mask)
    return noisy, clean


def _last_step_optimum(val: np.ndarray) -> int:
    return len(val) - 1


def _fit_time_at_half(curve, steps, level):
    hit = np.nonzero(np.asarray(curve) >= level / 2)[0]
    return float(steps[hit[0]]) if hit.size else math.inf


MUTANTS = (
    Mutant("clean_noisy_swapped", "the clean and noisy masks exchanged when the per-group "
           "accuracies are computed", {"theorylab.claims.early_learning.split_accuracy":
                                       _swapped_split}),
    Mutant("stop_at_last_step", "the 'validation optimum' taken as the last step (no early "
           "stopping)", {"theorylab.claims.early_learning.validation_optimum":
                         _last_step_optimum}),
    Mutant("fit_level_halved", "fit times read at half the stated level: both phases "
           "start sooner; the ratio stays large, so the check does not see it",
           {"theorylab.claims.early_learning.fit_time": _fit_time_at_half}, caught=False),
)  # fmt: skip


CLAIM = Claim(
    name="early_learning",
    summary="with noisy labels nets fit the clean points before memorising the noisy ones; "
    "early stopping beats zero training error, and the gain disappears without noise "
    "(Arpit et al. 2017; Xia et al. 2021)",
    params=Params,
    simulate=simulate,
    compare=compare,
    estimate_bytes=estimate_bytes,
    mutants=MUTANTS,
    quick=dict(train_size=300, val_size=300, width=64, seeds=4, monitor_every=2),
    negative_control=dict(control="random_labels"),
    citation="Arpit et al. (ICML 2017); Xia et al. (ICLR 2021)",
)
